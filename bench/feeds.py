"""Benchmark: serving calendar feeds (issue 4). One command: `python bench/feeds.py`.

Serves the app with gunicorn on a free port, on a prepared SQLite database (or the scratch
database in BENCH_DATABASE_URL, which is wiped) holding a 500-item programme, with a Celery
worker on the embedded broker. A load generator in other processes (Debian's `wrk` when
installed, `apt-get install wrk`; else a small multi-process Python client) measures requests
per second for
  (a) a delegate's personal feed answered 200,
  (b) the same feed answered 304 (If-None-Match),
  (c) a bare Flask endpoint returning the same bytes under the same server,
reported as ratios, then the time from an edit to the rebuilt feed being served. The figures
are written to docs/benchmarks.md (section "Calendar feeds").
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402  (bench/ is on sys.path when run)
from sqlalchemy import create_engine, inspect  # noqa: E402

from config import load_settings  # noqa: E402
from models import (  # noqa: E402
    Assembly,
    AssemblyStatus,
    Base,
    Delegate,
    Delegation,
    DelegationStatus,
    ItemKind,
    MemberCity,
    Network,
    ProgrammeItem,
    Signup,
)
from models.migrate import upgrade  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wipe(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()


def prepare(app: object, items: int) -> tuple[int, int, str]:
    """A 500-item programme over five days in Tokyo, one delegate with a feed token."""
    from services.calendar.builds import build_pending, request_rebuild
    from services.calendar.store import feed_store
    from services.calendar.tokens import issue_token
    from webapp.extensions import db

    tokyo = ZoneInfo("Asia/Tokyo")
    with app.app_context():  # type: ignore[attr-defined]
        network = Network(code="BENCH", name={"en": "Bench network", "ja": "ベンチ"},
                          secretariat_email="office@bench.example.org",
                          home_timezone="Asia/Tokyo")
        city = MemberCity(network=network, code="SYD", name={"en": "Sydney"}, country="AU",
                          timezone="Australia/Sydney")
        deadline = datetime(2026, 12, 1, tzinfo=UTC)
        assembly = Assembly(network=network, slug="bench", title={"en": "Bench assembly"},
                            host_city=city, venue={"en": "Hall"}, timezone="Australia/Sydney",
                            home_timezone="Asia/Tokyo", starts_on=date(2027, 3, 1),
                            ends_on=date(2027, 3, 5), registration_deadline=deadline,
                            proxy_deadline=deadline, status=AssemblyStatus.OPEN)
        db.session.add_all([network, city, assembly])
        db.session.flush()
        rows = []
        for n in range(items):
            start = datetime(2027, 3, 1 + n % 5, 8, tzinfo=tokyo) + timedelta(minutes=n // 5 * 2)
            rows.append(ProgrammeItem(
                assembly=assembly, title={"en": f"Session {n}: urban policy dialogue",
                                          "ja": f"セッション{n}：都市政策対話"},
                starts_at=start.astimezone(UTC),
                ends_at=(start + timedelta(hours=1)).astimezone(UTC),
                kind=ItemKind.PLENARY if n % 10 else ItemKind.FIELD_TRIP,
                capacity=None if n % 10 else 30, location={"en": f"Room {n % 12}"},
                latitude=-33.87, longitude=151.21))
        db.session.add_all(rows)
        delegation = Delegation(assembly=assembly, city=city, status=DelegationStatus.ATTENDING)
        delegate = Delegate(assembly_id=assembly.id, delegation=delegation, family_name="Bench",
                            given_name="Delegate", email="delegate@bench.example.org")
        db.session.add_all([delegation, delegate])
        db.session.flush()
        db.session.add_all(Signup(delegate_id=delegate.id, item_id=r.id) for r in rows[::20])
        secret = issue_token(db.session, delegate)
        request_rebuild(db.session, assembly.id)
        db.session.commit()
        store = feed_store(db.session, app.config["SOKAI_SETTINGS"].redis_url)  # type: ignore[attr-defined]
        build_pending(db.session, assembly.id, store)
        first_item = rows[0].id
        delegate_id = delegate.id
        db.session.remove()
    return delegate_id, first_item, secret


# --- load generation --------------------------------------------------------------------------


def _client(port: int, path: str, headers: dict[str, str], seconds: float,
            counter: object, errors: object) -> None:
    done = bad = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            done += 1
            if response.status not in (200, 304):
                bad += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        except (OSError, http.client.HTTPException):
            bad += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    with counter.get_lock():  # type: ignore[attr-defined]
        counter.value += done  # type: ignore[attr-defined]
        errors.value += bad  # type: ignore[attr-defined]


def python_load(port: int, path: str, headers: dict[str, str], seconds: float,
                connections: int) -> float:
    counter, errors = multiprocessing.Value("l", 0), multiprocessing.Value("l", 0)
    procs = [multiprocessing.Process(target=_client,
                                     args=(port, path, headers, seconds, counter, errors))
             for _ in range(connections)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    if errors.value:
        raise SystemExit(f"{errors.value} failed requests on {path}")
    return counter.value / max(elapsed, seconds)


def wrk_load(port: int, path: str, headers: dict[str, str], seconds: float,
             connections: int) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], check=True,
                         capture_output=True, text=True).stdout
    if "Non-2xx or 3xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors under load on {path}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def fetch(port: int, path: str, headers: dict[str, str] | None = None
          ) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def wait_up(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if fetch(port, path).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not come up")


def edit_latency(app: object, port: int, item_id: int, path: str, rounds: int) -> list[float]:
    """Seconds from the commit of an edit to the rebuilt feed being served."""
    from models import ProgrammeItem as Item
    from services.programme import draft_of, update_item
    from webapp.extensions import db

    results = []
    for _ in range(rounds):
        etag = fetch(port, path).getheader("ETag")
        with app.app_context():  # type: ignore[attr-defined]
            item = db.session.get(Item, item_id)
            draft = draft_of(item)
            draft.starts_at += timedelta(minutes=5)
            draft.ends_at += timedelta(minutes=5)
            update_item(db.session, item, draft)
            db.session.commit()
            started = time.monotonic()
            db.session.remove()
        while fetch(port, path, {"If-None-Match": etag}).status == 304:
            if time.monotonic() - started > 60:
                raise SystemExit("the edit was not served within a minute")
            time.sleep(0.02)
        results.append(time.monotonic() - started)
        time.sleep(0.5)
    return results


def write_doc(text: str, label: str) -> None:
    """Replace this configuration's block in docs/benchmarks.md (or append it)."""
    begin, end = f"<!-- bench/feeds.py {label}: begin -->", f"<!-- bench/feeds.py {label}: end -->"
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
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="repeat (a)(b)(c); best kept")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="sokai-bench-feeds-"))
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

    from webapp import create_app

    app = create_app(settings)
    delegate_id, item_id, secret = prepare(app, args.items)
    env["BENCH_FEED_KEY"] = f"delegate:{delegate_id}"
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}

    port = free_port()
    py = sys.executable
    server = subprocess.Popen(
        [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "gthread", "--threads", "4", "--pythonpath", str(ROOT / "bench"),
         "--log-level", "warning", "feeds_wsgi:app"], env=child_env, cwd=ROOT)
    worker = subprocess.Popen(
        [py, "-m", "celery", "-A", "tasks.worker", "worker", "--pool", "threads",
         "--concurrency", "2", "--loglevel", "WARNING"], env=child_env, cwd=ROOT)
    feed_path = f"/calendar/p/{secret}.ics"
    try:
        wait_up(port, feed_path)
        full = fetch(port, feed_path)
        etag = full.getheader("ETag")
        bare = fetch(port, "/bench/bare.ics")
        assert bare.body == full.body, "the bare endpoint must return the same bytes"  # type: ignore[attr-defined]
        assert fetch(port, feed_path, {"If-None-Match": etag}).status == 304
        size = len(full.body)  # type: ignore[attr-defined]
        events = full.body.count(b"BEGIN:VEVENT")  # type: ignore[attr-defined]

        load = wrk_load if shutil.which("wrk") else python_load
        tool = "wrk 4 (2 threads)" if load is wrk_load else "Python http.client processes"
        scenarios = {"c": ("/bench/bare.ics", {}), "a": (feed_path, {}),
                     "b": (feed_path, {"If-None-Match": etag})}
        best = dict.fromkeys(scenarios, 0.0)
        for path, headers in scenarios.values():  # warm up
            load(port, path, headers, 2, args.connections)
        for _ in range(args.rounds):
            for key, (path, headers) in scenarios.items():
                best[key] = max(best[key], load(port, path, headers, args.seconds,
                                                args.connections))
        latencies = edit_latency(app, port, item_id, feed_path, 5)
    finally:
        for proc in (server, worker):
            proc.terminate()
        for proc in (server, worker):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(instance, ignore_errors=True)

    a, b, c = best["a"], best["b"], best["c"]
    backend = settings.database_url.split(":", 1)[0].split("+")[0]
    stored = "redis" if settings.redis_url else "database"
    lines = [
        f"### Calendar feeds (`bench/feeds.py`): {backend}, feeds stored in "
        f"{'Redis' if settings.redis_url else 'the database'}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {describe()}.",
        f"gunicorn, 2 gthread workers × 4 threads; load by {tool}, {args.connections} "
        f"connections, {args.seconds:g} s per case, best of {args.rounds}; database "
        f"{backend}, broker {settings.broker_url.split(':', 1)[0]}, feeds stored in "
        f"{'Redis' if settings.redis_url else 'the database'}; "
        f"a personal feed of {events} events ({size / 1024:.0f} KiB) from a "
        f"{args.items}-item programme.",
        "",
        "| case | requests/s | ratio to (c) | target |",
        "| --- | ---: | ---: | --- |",
        f"| (c) bare Flask endpoint, same bytes | {c:,.0f} | 1.00 | |",
        f"| (a) personal feed, 200 | {a:,.0f} | {a / c:.2f} | ≥ 0.8 |",
        f"| (b) personal feed, 304 (If-None-Match) | {b:,.0f} | {b / c:.2f} | ≥ 0.9 |",
        "",
        f"Edit to rebuilt feed served (commit → worker build → new ETag served), 5 edits: "
        f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
        f"(includes the {0.3:.1f} s debounce quiet period).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_doc(text, f"{backend}-{stored}")


if __name__ == "__main__":
    main()
