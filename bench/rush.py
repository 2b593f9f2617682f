"""Benchmark: the registration rush — the last hour before a deadline compressed into minutes.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sokai_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 REDIS_URL=redis://127.0.0.1:6379/10 \\
        python bench/rush.py [--minutes 5] [--no-write]

Prepares an open assembly of 200 member cities (one liaison account each, deadline in an hour)
with 2,000 invited delegates and five optional visits, starts `sokai run` (gunicorn, a Celery
worker and beat, as in production) and lets Locust (headless, in this machine's other
processes) play the people: each liaison logs in, opens My city, declares, adds delegates or
imports a file, or (one city in ten) declares absent and uploads a proxy letter, then looks
at My city again every 10–30 s; each delegate opens the personal link, confirms and picks a
visit. Then it measures the delegate-registration API call back to back against the floor of
the same stack (Sokai's app under the same gunicorn settings with one extra endpoint doing one
INSERT per request through Sokai's session) and, for comparison, a separate bare Flask app
doing the same INSERT (bench/rush_floor.py). Targets: 0 errors, p95 ≤ 300 ms for every page
and call, registration ≥ 0.5× the floor. Figures go to docs/benchmarks.md. THE DATABASE IS
WIPED: use a scratch one.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from feeds import free_port, wipe  # noqa: E402
from machine import describe  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
PASSWORD = "rush password 1"
P95_MS = 300.0
FLOOR_RATIO = 0.5


def _pdf() -> str:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue().decode("latin-1")


def prepare(env: dict[str, str], cities: int, per_city: int) -> dict[str, object]:
    """The network, the assembly, the liaisons and the invited delegates."""
    from config import load_settings
    from models import (
        Assembly,
        AssemblyStatus,
        Delegate,
        Delegation,
        DelegationStatus,
        MemberCity,
        Network,
        ProgrammeItem,
        Role,
    )
    from models.migrate import upgrade
    from services.accounts import create_user, issue_token
    from services.invitations import invite_delegate
    from webapp import create_app
    from webapp.extensions import db

    settings = load_settings(env)
    wipe(settings.database_url)
    upgrade(settings.database_url)
    app = create_app(settings)
    now = datetime.now(UTC)
    data: dict[str, object] = {"slug": "rush", "password": PASSWORD, "pdf": _pdf()}
    with app.app_context():
        session = db.session
        network = Network(code="RUSH", name={"en": "Rush network"},
                          secretariat_email="sec@example.org", home_timezone="Asia/Tokyo")
        towns = [MemberCity(network=network, code=f"C{i:03d}", name={"en": f"City {i}"},
                            country="JP", timezone="Asia/Tokyo") for i in range(cities)]
        assembly = Assembly(network=network, slug="rush", title={"en": "The rush assembly"},
                            host_city=towns[0], venue={"en": "Hall"}, timezone="Asia/Tokyo",
                            home_timezone="Asia/Tokyo", starts_on=date.today() + timedelta(30),
                            ends_on=date.today() + timedelta(32), status=AssemblyStatus.OPEN,
                            registration_deadline=now + timedelta(hours=1),
                            proxy_deadline=now + timedelta(hours=1), max_proxies_per_holder=3)
        session.add_all([network, *towns, assembly])
        delegations = [Delegation(assembly=assembly, city=town,
                                  status=DelegationStatus.UNDECIDED) for town in towns]
        session.add_all(delegations)
        start = datetime.combine(assembly.starts_on, datetime.min.time(), tzinfo=UTC)
        items = [ProgrammeItem(assembly=assembly, title={"en": f"Visit {n}"}, capacity=600,
                               starts_at=start + timedelta(hours=2 + 3 * n),
                               ends_at=start + timedelta(hours=4 + 3 * n)) for n in range(5)]
        session.add_all(items)
        secretariat = create_user(session, "sec@example.org", Role.SECRETARIAT, PASSWORD)
        session.flush()
        liaisons = []
        for i, town in enumerate(towns):
            email = f"liaison.{town.code.lower()}@example.org"
            create_user(session, email, Role.LIAISON, PASSWORD, city_code=town.code)
            absent = i % 10 == 9
            liaisons.append({"email": email, "code": town.code, "absent": absent,
                             "holder": towns[i - 1].code, "imports": i % 4 == 1})
        people = []
        for delegation in delegations:
            for n in range(per_city):
                person = Delegate(assembly_id=assembly.id, delegation=delegation,
                                  family_name=f"Person{n}", given_name=delegation.city.code,
                                  email=f"p{n}.{delegation.city.code.lower()}@example.org")
                people.append(person)
        session.add_all(people)
        session.flush()
        delegates = []
        for person in people:
            _invitation, token = invite_delegate(session, person, secretariat)
            delegates.append({"token": token, "family_name": person.family_name,
                              "given_name": person.given_name, "email": person.email})
        session.commit()
        data |= {"liaisons": liaisons, "delegates": delegates,
                 "items": [item.id for item in items],
                 "attending": [t["code"] for t in liaisons if not t["absent"]],
                 "api_token": issue_token(session, "sec@example.org", "rush")}
        session.commit()
    return data


def wait_up(url: str, timeout: float = 90, expect: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status in expect:
                    return
        except urllib.error.HTTPError as answer:
            if answer.code in expect:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def locust(host: str, data_file: Path, mode: str, users: int, rate: float, seconds: int,
           out: Path) -> list[dict[str, str]]:
    prefix = out / mode
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "rush_locust.py"),
         "--headless", "--host", host, "--users", str(users), "--spawn-rate", str(rate),
         "--run-time", f"{seconds}s", "--csv", str(prefix), "--only-summary",
         "--loglevel", "WARNING", "--stop-timeout", "30"],
        env={**os.environ, "RUSH_DATA": str(data_file), "RUSH_MODE": mode}, check=False,
        stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--delegates-per-city", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--floor-seconds", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--skip-rush", action="store_true",
                        help="only the registration call against the floors (nothing written)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        raise SystemExit("set DATABASE_URL (PostgreSQL, wiped), CELERY_BROKER_URL and REDIS_URL")

    instance = Path(tempfile.mkdtemp(prefix="sokai-rush-"))
    port, stack_port, bare_port = free_port(), free_port(), free_port()
    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "rush",
           "SOKAI_BASE_URL": f"http://127.0.0.1:{port}",
           **{k: os.environ[k] for k in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
              if os.environ.get(k)}}
    started = time.monotonic()
    data = prepare(env, args.cities, args.delegates_per_city)
    print(f"prepared {args.cities} cities and {len(data['delegates'])} invited delegates "  # type: ignore[arg-type]
          f"in {time.monotonic() - started:.0f} s")
    data_file = instance / "rush.json"
    data_file.write_text(json.dumps(data))
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    log = open(instance / "sokai-run.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "run", "--host", "127.0.0.1",
                               "--port", str(port)], env=child_env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    floors = {name: subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{floor_port}", "--workers",
         "2", "--threads", "4", "--access-logfile", "-", "--pythonpath", str(ROOT / "bench"),
         target],
        env={**child_env, "RUSH_FLOOR_DATABASE_URL": env["DATABASE_URL"]}, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT)
        for name, target, floor_port in (("stack", "rush_floor:stack_app()", stack_port),
                                          ("bare", "rush_floor:app", bare_port))}
    out = instance / "locust"
    out.mkdir()
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz")
        host = f"http://127.0.0.1:{port}"
        people = len(data["liaisons"]) + len(data["delegates"])  # type: ignore[arg-type]
        seconds = int(args.minutes * 60)
        for floor_port in (stack_port, bare_port):
            wait_up(f"http://127.0.0.1:{floor_port}/healthz" if floor_port == stack_port
                    else f"http://127.0.0.1:{floor_port}/nothing", expect=(200, 404))
        rush = (locust(host, data_file, "rush", people, people / (seconds * 0.8), seconds, out)
                if not args.skip_rush else [])
        # Throughput: the registration call and the two floors, alternating, twice each.
        rates: dict[str, list[float]] = {"register": [], "stack": [], "bare": []}
        for _ in range(2):
            for name, mode, target in (("register", "register", host),
                                       ("stack", "floor", f"http://127.0.0.1:{stack_port}"),
                                       ("bare", "floor", f"http://127.0.0.1:{bare_port}")):
                rows = locust(target, data_file, mode, 16, 16, args.floor_seconds, out)
                total = next(r for r in rows if r["Name"] == "Aggregated")
                rates[name].append(float(total["Requests/s"]))
                if int(total["Failure Count"]):
                    print(f"{name}: {total['Failure Count']} failures", file=sys.stderr)
    finally:
        for proc in (server, *floors.values()):
            proc.terminate()
        for proc in (server, *floors.values()):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()

    register, stack, bare = (max(rates[k]) for k in ("register", "stack", "bare"))
    ratio = register / stack
    throughput = (
        f"Registration call back to back (16 users, {args.floor_seconds} s each, alternating, "
        f"best of 2): **{register:,.0f}/s**. The floor on the same stack (Sokai's app, its "
        f"middleware and session, one INSERT per request, `rush_floor:stack_app()`): "
        f"{stack:,.0f}/s, ratio **{ratio:.2f}** (target ≥ {FLOOR_RATIO}). For comparison, a "
        f"separate bare Flask app with its own engine doing the same INSERT "
        f"(`rush_floor:app`): {bare:,.0f}/s, ratio {register / bare:.2f}.")
    if args.skip_rush:
        print(throughput)
        return 0
    rows = [r for r in rush if r["Name"] != "Aggregated"]
    total = next(r for r in rush if r["Name"] == "Aggregated")
    errors = int(total["Failure Count"])
    worst = max(float(r["95%"]) for r in rows)
    met = errors == 0 and worst <= P95_MS and ratio >= FLOOR_RATIO
    lines = [
        "### Registration rush (`bench/rush.py`)", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {describe()}; `sokai run` on "
        f"PostgreSQL + Redis (gunicorn 2 workers × 4 threads, a Celery worker, beat); Locust "
        f"{_locust_version()} headless on the same machine. {args.cities} cities' liaisons and "
        f"{len(data['delegates'])} delegates in {args.minutes:g} minutes; "  # type: ignore[arg-type]
        f"{total['Request Count']} requests, {errors} errors.", "",
        "| request | count | median ms | p95 ms | max ms |", "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {r['Type']} {r['Name'].split(' ', 1)[-1]} | {r['Request Count']} | "
          f"{r['50%']} | {r['95%']} | {float(r['Max Response Time']):.0f} |"
          for r in sorted(rows, key=lambda r: r["Name"])],
        "", throughput, "",
        f"Targets (0 errors, every p95 ≤ {P95_MS:.0f} ms, ratio ≥ {FLOOR_RATIO}): "
        f"{'all met' if met else 'NOT all met'} (worst p95 {worst:.0f} ms).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        _write(text)
    return 0 if met else 1


def _locust_version() -> str:
    import locust

    return locust.__version__


def _write(text: str) -> None:
    begin, end = "<!-- bench/rush.py: begin -->", "<!-- bench/rush.py: end -->"
    current = DOC.read_text()
    block = f"{begin}\n{text}\n{end}"
    if begin in current:
        current = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, current,
                         flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(current)


if __name__ == "__main__":
    sys.exit(main())
