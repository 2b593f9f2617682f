"""Benchmark: every page of the secretariat and of a liaison on an assembly of 200 member
cities and 20,000 delegates.

    python bench/pages.py                                   # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sokai_bench \\
        python bench/pages.py                               # PostgreSQL (wiped)

Fills the database with bench/summary.py's large assembly (re-opened, with a liaison for its
first city), serves it with gunicorn as `sokai run` does, logs in as each role and requests
every GET page of that role's area (taken from the app's URL map, so new pages are measured
without editing this file) --requests times, one after the other. Target: p95 ≤ 300 ms per
page. Figures go to docs/benchmarks.md.

    python bench/pages.py --in-process --requests 3 --only minutes   # find slow pages cheaply

--in-process times the pages with Flask's test client in this process (no gunicorn, no
figures written); --only keeps the pages whose path contains one of the given strings.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from feeds import free_port  # noqa: E402
from machine import describe  # noqa: E402
from summary import populate  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
PASSWORD = "pages password 1"
P95_MS = 300.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
AREAS = {"secretariat": ("/secretariat/",), "liaison": ("/my/",)}


def prepare(env: dict[str, str], cities: int, delegates: int) -> dict[str, str]:
    """The large assembly, open, with a liaison for its first city; the values to put in the
    URL map's parameters."""
    from sqlalchemy import select

    from config import load_settings
    from models import (
        Assembly,
        AssemblyStatus,
        Delegate,
        Delegation,
        MemberCity,
        ProgrammeItem,
        ProxyLetter,
        Role,
        User,
    )
    from services.accounts import create_user, set_password
    from services.reminders.defaults import create_default_reminders
    from webapp import create_app
    from webapp.extensions import db

    populate(env["DATABASE_URL"], Path(env["SOKAI_INSTANCE_PATH"]), cities, delegates)
    app = create_app(load_settings(env))
    with app.app_context():
        session = db.session
        assembly = session.scalar(select(Assembly).where(Assembly.slug == "bench"))
        assert assembly is not None
        assembly.status = AssemblyStatus.OPEN
        later = datetime.now(UTC) + timedelta(days=20)
        assembly.registration_deadline = assembly.proxy_deadline = later
        secretariat = session.scalar(select(User).where(User.role == Role.SECRETARIAT))
        assert secretariat is not None
        secretariat.email = "sec@example.org"  # .local is refused by the login form
        set_password(secretariat, PASSWORD)
        city = session.scalar(select(MemberCity).where(MemberCity.code == "C000"))
        assert city is not None
        create_user(session, "liaison.c000@example.org", Role.LIAISON, PASSWORD,
                    city_code="C000")
        create_default_reminders(session, assembly)
        session.commit()
        delegate = session.scalar(select(Delegate).join(Delegation).where(
            Delegation.city_id == city.id).order_by(Delegate.id))
        item = session.scalar(select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly.id).order_by(ProgrammeItem.id))
        letter = session.scalar(select(ProxyLetter).order_by(ProxyLetter.id))
        from models import Reminder

        reminder = session.scalar(select(Reminder).where(
            Reminder.assembly_id == assembly.id).order_by(Reminder.id))
        return {"slug": "bench", "code": "C000", "city": "C000",
                "delegate_id": str(delegate.id if delegate else 1),
                "item_id": str(item.id if item else 1),
                "letter_id": str(letter.id if letter else 1),
                "reminder_id": str(reminder.id if reminder else 1)}


def pages(values: dict[str, str]) -> dict[str, list[str]]:
    """Every GET page of each role's area, its parameters filled in."""
    from config import load_settings
    from webapp import create_app

    app = create_app(load_settings({"SOKAI_INSTANCE_PATH": tempfile.mkdtemp(),
                                    "SECRET_KEY": "pages"}))
    found: dict[str, list[str]] = {role: [] for role in AREAS}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        for role, prefixes in AREAS.items():
            if not rule.rule.startswith(prefixes):
                continue
            path = rule.rule
            for name in rule.arguments:
                if name not in values:
                    break
                path = re.sub(rf"<(?:[^:<>]+:)?{name}>", values[name], path)
            else:
                found[role].append(path)
    return {role: sorted(paths) for role, paths in found.items()}


def login(base: str, email: str) -> requests.Session:
    client = requests.Session()
    page = client.get(f"{base}/login").text
    answer = client.post(f"{base}/login", data={
        "email": email, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
        allow_redirects=False)
    assert answer.status_code == 302, answer.text[answer.text.find('<main'):][:1500]
    return client


def in_process(env: dict[str, str], values: dict[str, str], repeat: int,
               only: list[str], profile: bool = False) -> int:
    """Each page's median and worst time through Flask's test client, with its size; with
    `profile`, where each page's CPU time goes (cProfile, the heaviest 25 calls)."""
    import cProfile
    import pstats

    from config import load_settings
    from webapp import create_app

    app = create_app(load_settings(env))
    app.config["WTF_CSRF_ENABLED"] = False
    clients = {}
    for role, email in (("secretariat", "sec@example.org"),
                        ("liaison", "liaison.c000@example.org")):
        clients[role] = app.test_client()
        clients[role].post("/login", data={"email": email, "password": PASSWORD})
    for role, paths in pages(values).items():
        for path in paths:
            if only and not any(part in path for part in only):
                continue
            client, timings = clients[role], []
            answer = client.get(path)  # warm
            profiler = cProfile.Profile(time.process_time) if profile else None
            for _ in range(repeat):
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                answer = client.get(path)
                if profiler:
                    profiler.disable()
                timings.append((time.perf_counter() - started) * 1000)
            if profiler:
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(25)
                if os.environ.get("PAGES_CALLEES"):
                    stats.print_callees(os.environ["PAGES_CALLEES"])
            print(f"{role:12} {path:70} {answer.status_code} median "
                  f"{statistics.median(timings):6.1f} ms  max {max(timings):6.1f} ms  "
                  f"{len(answer.data) // 1024} KB", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--delegates", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--in-process", action="store_true",
                        help="Flask test client instead of gunicorn; writes nothing")
    parser.add_argument("--profile", action="store_true",
                        help="with --in-process: where each page's CPU time goes")
    parser.add_argument("--only", nargs="*", default=[],
                        help="only the pages whose path contains one of these")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="sokai-pages-"))
    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "pages",
           "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
           or f"sqlite:///{instance / 'pages.sqlite3'}"}
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    values = prepare(env, args.cities, args.delegates)
    if args.in_process:
        return in_process(env, values, args.requests, args.only, args.profile)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--access-logfile", os.devnull, "webapp.wsgi:app"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    results: list[tuple[str, str, int, float, float]] = []
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        clients = {"secretariat": login(base, "sec@example.org"),
                   "liaison": login(base, "liaison.c000@example.org")}
        for role, paths in pages(values).items():
            for path in paths:
                if args.only and not any(part in path for part in args.only):
                    continue
                client, timings, status = clients[role], [], 0
                client.get(base + path)  # warm
                for _ in range(args.requests):
                    started = time.perf_counter()
                    status = client.get(base + path).status_code
                    timings.append((time.perf_counter() - started) * 1000)
                timings.sort()
                p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
                results.append((role, path, status, statistics.median(timings), p95))
                print(f"{role:12} {path:70} {status} median {statistics.median(timings):6.1f}"
                      f" ms  p95 {p95:6.1f} ms", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    backend = env["DATABASE_URL"].split(":", 1)[0].split("+")[0]
    worst = max(r[4] for r in results)
    met = worst <= P95_MS and all(r[2] == 200 for r in results)
    lines = [
        f"### Pages at scale (`bench/pages.py`): {backend}", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {describe()}; gunicorn 2 workers × 4 "
        f"threads; {args.cities} member cities, {args.delegates:,} delegates; each page "
        f"requested {args.requests} times after one warm-up, one after the other.", "",
        "| role | page | status | median ms | p95 ms |", "| --- | --- | ---: | ---: | ---: |",
        *[f"| {role} | `{path}` | {status} | {median:.0f} | {p95:.0f} |"
          for role, path, status, median, p95 in results],
        "", f"Target: every page 200 with p95 ≤ {P95_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'} (worst p95 {worst:.0f} ms).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write and not args.only:  # a partial table never replaces the full one
        begin, end = f"<!-- bench/pages.py {backend}: begin -->", \
            f"<!-- bench/pages.py {backend}: end -->"
        current = DOC.read_text()
        block = f"{begin}\n{text}\n{end}"
        if begin in current:
            current = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block,
                             current, flags=re.S)
        else:
            current = current.rstrip("\n") + "\n\n" + block + "\n"
        DOC.write_text(current)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
