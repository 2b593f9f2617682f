"""Benchmark: serving calendar feeds. One command: `python bench/feeds.py`.

Serves Sokai as `sokai run` does (gunicorn webapp.wsgi:app, 2 workers × 4 threads, access log)
on a free port, on a prepared SQLite database (or the scratch database in BENCH_DATABASE_URL,
which is wiped; REDIS_URL and CELERY_BROKER_URL are passed on) holding a 500-item programme,
with a Celery worker; and, with the same gunicorn settings, a *separate* bare Flask app that
serves the same bytes (bench/feeds_bare.py). wrk (2 threads, 16 connections) measures requests
per second for the public and the personal feed, answered 200 and 304 (If-None-Match), on both
servers, alternating, three times; the medians give the ratios. Then the time from an edit to
the rebuilt feed being served. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
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


TARGETS = {"200": 0.9, "304": 0.95}


def gunicorn(port: int, app: str, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    """The web server as `sokai run` starts it (workers, threads, an access log)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--access-logfile", os.devnull, "--log-level", "warning", *extra,
         app], env=env, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs; medians kept")
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
    _delegate_id, item_id, secret = prepare(app, args.items)
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    personal, public = f"/calendar/p/{secret}.ics", "/calendar/bench.ics"
    port, bare_port = free_port(), free_port()
    server = gunicorn(port, "webapp.wsgi:app", child_env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--pool", "threads",
         "--concurrency", "2", "--loglevel", "WARNING"], env=child_env, cwd=ROOT)
    bare = None
    try:
        wait_up(port, personal)
        files = {}
        for name, path in (("personal", personal), ("public", public)):
            body = fetch(port, path).body  # type: ignore[attr-defined]
            (instance / f"{name}.ics").write_bytes(body)
            files[name] = f"/{name}.ics={instance / f'{name}.ics'}"
        bare = gunicorn(bare_port, "feeds_bare:app",
                        {**child_env, "BENCH_BARE_FILES": ",".join(files.values())},
                        "--pythonpath", str(ROOT / "bench"))
        wait_up(bare_port, "/personal.ics")
        cases: dict[str, tuple[int, str, dict[str, str]]] = {}
        for name, path, bare_path in (("personal", personal, "/personal.ics"),
                                      ("public", public, "/public.ics")):
            ours, floor = fetch(port, path), fetch(bare_port, bare_path)
            assert ours.body == floor.body, "the bare app must serve the same bytes"  # type: ignore[attr-defined]
            tags = {"sokai": ours.getheader("ETag"), "bare": floor.getheader("ETag")}
            assert fetch(port, path, {"If-None-Match": tags["sokai"]}).status == 304
            assert fetch(bare_port, bare_path, {"If-None-Match": tags["bare"]}).status == 304
            cases[f"sokai {name} 200"] = (port, path, {})
            cases[f"bare {name} 200"] = (bare_port, bare_path, {})
            cases[f"sokai {name} 304"] = (port, path, {"If-None-Match": tags["sokai"]})
            cases[f"bare {name} 304"] = (bare_port, bare_path, {"If-None-Match": tags["bare"]})
        size = len(fetch(port, personal).body)  # type: ignore[attr-defined]
        results: dict[str, list[float]] = {case: [] for case in cases}
        for target, path, headers in cases.values():  # warm up
            wrk_load(target, path, headers, 2, args.connections)
        for _ in range(args.runs):
            for case, (target, path, headers) in cases.items():  # Sokai and bare alternate
                results[case].append(wrk_load(target, path, headers, args.seconds,
                                              args.connections))
        latencies = edit_latency(app, port, item_id, personal, 5)
    finally:
        for proc in (server, worker, bare):
            if proc is not None:
                proc.terminate()
        for proc in (server, worker, bare):
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(instance, ignore_errors=True)

    median = {case: statistics.median(values) for case, values in results.items()}
    backend = settings.database_url.split(":", 1)[0].split("+")[0]
    stored = "redis" if settings.redis_url else "database"
    rows, met = [], True
    for name in ("public", "personal"):
        for status in ("200", "304"):
            ours, floor = median[f"sokai {name} {status}"], median[f"bare {name} {status}"]
            ratio = ours / floor
            met &= ratio >= TARGETS[status]
            rows.append(f"| {name} feed, {status} | {ours:,.0f} | {floor:,.0f} | {ratio:.2f} | "
                        f"≥ {TARGETS[status]} {'met' if ratio >= TARGETS[status] else 'MISSED'} |")
    lines = [
        f"### Calendar feeds (`bench/feeds.py`): {backend}, feeds stored in "
        f"{'Redis' if settings.redis_url else 'the database'}",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {describe()}.",
        f"Both servers: gunicorn, 2 workers × 4 threads, access log (as `sokai run`); wrk, 2 "
        f"threads, {args.connections} connections, {args.seconds:g} s per case, medians of "
        f"{args.runs} alternating runs; database {backend}, broker "
        f"{settings.broker_url.split(':', 1)[0]}; a personal feed of {size / 1024:.0f} KiB "
        f"from a {args.items}-item programme.",
        "",
        "| case | Sokai req/s | separate bare Flask app, same bytes | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
        f"Edit to rebuilt feed served (commit → worker build → new ETag served), 5 edits: "
        f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
        f"(includes the 0.3 s debounce quiet period).",
        "",
        f"Targets: {'all met' if met else 'NOT all met'}.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_doc(text, f"{backend}-{stored}")


if __name__ == "__main__":
    main()
