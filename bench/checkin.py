"""Benchmark of the venue day: scans per second at the door, scan-to-board latency, and the
badge PDF for 2,000 delegates.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sokai_bench \\
    REDIS_URL=redis://127.0.0.1:6379/4 python bench/checkin.py     # the target set-up
    python bench/checkin.py                                         # SQLite, no Redis

The web side runs as `sokai run` serves it (gunicorn, 2 workers x 4 threads). Scans are sent
open-loop at --rate per second for --seconds (each on its own thread, as phones would), each
a new delegate; a board client polls like the board page (every 0.5 s, with the version it
has). A scan counts as shown when a board answer has at least as many check-ins as scans
answered up to it. The badge PDF is built by the worker's function in this process; its peak
RSS is this process's. The figures replace this set-up's block in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "benchmarks.md"

from sqlalchemy import create_engine, inspect, select  # noqa: E402

from config import load_settings  # noqa: E402
from models import (  # noqa: E402
    Assembly,
    AssemblyStatus,
    Base,
    Delegate,
    DelegateRole,
    Delegation,
    Role,
)
from models.migrate import upgrade  # noqa: E402

PASSWORD = "bench password 1"
SLUG = "anmc21-tomsk-2014"


def wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(app: object, delegates: int) -> tuple[list[str], str]:
    """Tomsk 2014 grown to `delegates` people (spread over the six attending cities), badge
    codes for all, a door-staff token; returns (codes, staff token)."""
    from services.accounts import create_user, issue_token
    from services.checkin.badges import live_badges
    from services.checkin.staff import assign_staff
    from services.demo import load_tomsk_2014
    from webapp.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        session = db.session
        assembly = load_tomsk_2014(session)
        assembly.status = AssemblyStatus.OPEN
        session.flush()
        delegations = list(session.scalars(select(Delegation).where(
            Delegation.assembly_id == assembly.id, Delegation.status == "attending")))
        have = len(list(session.scalars(select(Delegate.id))))
        for i in range(delegates - have):
            delegation = delegations[i % len(delegations)]
            session.add(Delegate(assembly_id=assembly.id, delegation_id=delegation.id,
                                 family_name=f"GUEST{i:05d}", given_name="Bench",
                                 name_local=f"来賓 {i}", role=DelegateRole.DELEGATE))
        session.flush()
        people = list(session.scalars(select(Delegate).where(
            Delegate.assembly_id == assembly.id)))
        codes = [b.code for b in live_badges(session, assembly, people).values()]
        create_user(session, "sec@bench.example", Role.SECRETARIAT, PASSWORD)
        staff = create_user(session, "door@bench.example", Role.STAFF, PASSWORD)
        assign_staff(session, staff, SLUG)
        session.commit()
        token = issue_token(session, "door@bench.example")
        session.commit()
        return codes, token


def badge_pdf(app: object) -> tuple[float, int, int, int]:
    """(seconds, badges, bytes, peak RSS in MB) for everyone's badges on A4 sheets."""
    from services.checkin.badges import build_badges, request_badges
    from webapp.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        assembly = db.session.scalar(select(Assembly))
        job = request_badges(db.session, assembly, None)
        db.session.commit()
        started = time.perf_counter()
        status = build_badges(db.session, job.id, app.config["SOKAI_SETTINGS"])  # type: ignore[attr-defined]
        took = time.perf_counter() - started
        db.session.refresh(job)
        assert status == "done", job.error
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        return took, job.badges, job.size, peak


def gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--access-logfile", os.devnull, "--log-level", "warning",
         "webapp.wsgi:app"], env=env, cwd=ROOT)


def wait_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit("the web server did not start")


def board_client(base: str) -> urllib.request.OpenerDirector:
    """A logged-in secretariat session (the board page's cookies)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"email": "sec@bench.example", "password": PASSWORD,
                                   "csrf_token": token.group(1)}).encode()
    opener.open(base + "/login", data=form)
    return opener


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) >= 20 else max(values)


def run(base: str, codes: list[str], token: str, rate: float, seconds: float
        ) -> dict[str, object]:
    url = f"{base}/api/v1/assemblies/{SLUG}/checkins"
    answered: list[tuple[float, float]] = []  # (answered at, request seconds)
    sent_at: dict[int, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    board_seen: list[tuple[float, int]] = []
    stop = threading.Event()
    opener = board_client(base)

    def board() -> None:
        version = -1
        while not stop.is_set():
            try:
                with opener.open(f"{base}/secretariat/assemblies/{SLUG}/board.json?v={version}",
                                 timeout=5) as response:
                    data = json.loads(response.read())
                if data["changed"]:
                    version = data["version"]
                    board_seen.append((time.perf_counter(), data["checked_in"]))
            except Exception as exc:
                failures.append(f"board: {exc}")
            time.sleep(0.5)

    def scan(i: int) -> None:
        request = urllib.request.Request(url, data=json.dumps({"code": codes[i]}).encode(),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        started = time.perf_counter()
        sent_at[i] = started
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except Exception as exc:
            failures.append(f"scan {i}: {exc}")
            return
        done = time.perf_counter()
        if status != 201:
            failures.append(f"scan {i}: {status}")
        with lock:
            answered.append((done, done - started))

    watcher = threading.Thread(target=board, daemon=True)
    watcher.start()
    total = min(len(codes), int(rate * seconds))
    threads = []
    start = time.perf_counter()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=scan, args=(i,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 10
    while (not board_seen or board_seen[-1][1] < len(answered)) and time.perf_counter() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join(5)
    answered.sort()
    to_board = []
    for rank, (done, took) in enumerate(answered, start=1):
        shown = next((at for at, count in board_seen if count >= rank and at >= done - took),
                     None)
        if shown is not None:
            to_board.append(shown - (done - took))
    requests = [took for _, took in answered]
    return {"scans": total, "answered": len(answered), "elapsed": elapsed,
            "rate": len(answered) / elapsed, "failures": failures[:5],
            "n_failures": len(failures),
            "request_median": statistics.median(requests), "request_p95": p95(requests),
            "board_median": statistics.median(to_board) if to_board else float("nan"),
            "board_p95": p95(to_board) if to_board else float("nan"),
            "shown": len(to_board)}


def write_doc(text: str, label: str) -> None:
    begin = f"<!-- bench/checkin.py {label}: begin -->"
    end = f"<!-- bench/checkin.py {label}: end -->"
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text}\n{end}"
    if begin in current:
        current = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, current,
                         flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="scans per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--delegates", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="sokai-bench-checkin-"))
    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
           "SOKAI_BASE_URL": "http://127.0.0.1"}
    if os.environ.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    settings = load_settings(env)
    if "DATABASE_URL" in env:
        wipe(settings.database_url)
    upgrade(settings.database_url)
    os.environ.update(env)
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        for key in client.scan_iter("sokai:checkin:version:*"):
            client.delete(key)

    from webapp import create_app

    app = create_app(settings)
    codes, token = prepare(app, args.delegates)
    took, badges, size, peak = badge_pdf(app)
    print(f"badge PDF: {badges} badges in {took:.1f} s, {size / 1e6:.1f} MB, "
          f"peak RSS {peak} MB")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = gunicorn(port, {**os.environ, **env, "PYTHONPATH": str(ROOT)})
    try:
        wait_up(base)
        result = run(base, codes, token, args.rate, args.seconds)
    finally:
        server.terminate()
        server.wait(20)
    print(json.dumps(result, indent=1))
    kind = settings.database_url.split(":", 1)[0].split("+")[0]
    label = f"{kind}{' + redis' if settings.redis_url else ''}"
    load = os.getloadavg()[0]
    text = (
        f"### Check-in (`bench/checkin.py`): {label}\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; gunicorn 2 workers × 4 "
        f"threads; load average at the end {load:.1f} (2 cores shared with other sessions).\n\n"
        "| measure | result | target |\n| --- | ---: | --- |\n"
        f"| scans sent open-loop | {result['scans']} at {args.rate:g}/s for {args.seconds:g} s "
        f"→ {result['rate']:.1f}/s answered, {result['n_failures']} failures | 20/s for 60 s |\n"
        f"| check-in request (POST …/checkins) | median "
        f"{result['request_median'] * 1000:.0f} ms, p95 {result['request_p95'] * 1000:.0f} ms "
        "| p95 ≤ 100 ms |\n"
        f"| scan → board shows it (board polls every 0.5 s) | median "
        f"{result['board_median'] * 1000:.0f} ms, p95 {result['board_p95'] * 1000:.0f} ms "
        f"({result['shown']} of {result['answered']}) | p95 ≤ 1 s |\n"
        f"| badge PDF, everyone ({badges} badges, A4 sheets) | {took:.1f} s, "
        f"{size / 1e6:.1f} MB file, peak RSS {peak} MB | ≤ 60 s, ≤ 500 MB |\n")
    if not args.no_write:
        write_doc(text, label)
    print(text)


if __name__ == "__main__":
    main()
