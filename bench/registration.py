"""Benchmark of registration: the live attendance picture and the concurrent limits.

    python bench/registration.py                      # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sokai_bench \\
        python bench/registration.py                  # PostgreSQL (the database is wiped)

Prints the figures recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, inspect, select  # noqa: E402

from config import load_settings  # noqa: E402
from models import (  # noqa: E402
    Assembly,
    AssemblyStatus,
    Base,
    Delegate,
    Delegation,
    DelegationStatus,
    MemberCity,
    Network,
    ProgrammeItem,
    Role,
    User,
)
from models.errors import DomainError  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from services.accounts import create_user, issue_token  # noqa: E402
from services.demo import load_tomsk_2014  # noqa: E402
from services.programme import sign_up  # noqa: E402
from services.proxies import Document, submit_letter  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.extensions import db  # noqa: E402


def _one_page_pdf() -> bytes:
    """A real PDF: the upload check parses what it is given."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _one_page_pdf()
THREADS = 50


def fresh(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    upgrade(url)


def together(work, n: int = THREADS) -> tuple[list[str], float]:
    barrier = threading.Barrier(n)
    results = [""] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def main() -> None:
    instance = Path(tempfile.mkdtemp(prefix="sokai-bench-"))
    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"}
    if os.environ.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    settings = load_settings(env)
    fresh(settings.database_url)
    app = create_app(settings)
    print(f"database: {settings.database_url.split(':')[0]}")

    with app.app_context():
        load_tomsk_2014(db.session)
        create_user(db.session, "sec@example.org", Role.SECRETARIAT, "bench password 1")
        secret = issue_token(db.session, "sec@example.org")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    url = "/api/v1/assemblies/anmc21-tomsk-2014/attendance"
    for _ in range(10):
        client.get(url, headers=headers)
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    print(f"GET attendance (13 cities, 107 participants), 200 requests: "
          f"median {statistics.median(timings):.1f} ms, p95 {timings[189]:.1f} ms")
    page_timings = []
    from tests.conftest import csrf_token  # the same helper the tests use

    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "sec@example.org", "password": "bench password 1",
                                "csrf_token": csrf_token(page)})
    for _ in range(100):
        started = time.perf_counter()
        assert client.get("/secretariat/assemblies/anmc21-tomsk-2014/attendance").status_code == 200
        page_timings.append((time.perf_counter() - started) * 1000)
    print(f"attendance page, 100 requests: median {statistics.median(page_timings):.1f} ms")

    # 50 letters naming one holder at the same moment (limit 2).
    with app.app_context():
        network = Network(code="LOAD", name={"en": "Load"}, secretariat_email="s@example.org",
                          home_timezone="Asia/Tokyo")
        cities = [MemberCity(network=network, code=f"C{i:03d}", name={"en": f"C{i}"},
                             country="JP", timezone="Asia/Tokyo") for i in range(THREADS + 1)]
        assembly = Assembly(network=network, slug="load", title={"en": "Load"},
                            host_city=cities[0], venue={}, timezone="Asia/Tokyo",
                            home_timezone="Asia/Tokyo", starts_on=date(2030, 1, 1),
                            ends_on=date(2030, 1, 2), status=AssemblyStatus.OPEN,
                            registration_deadline=datetime.now(UTC) + timedelta(days=9),
                            proxy_deadline=datetime.now(UTC) + timedelta(days=9),
                            max_proxies_per_holder=2)
        db.session.add_all([network, *cities, assembly])
        for i, city in enumerate(cities):
            db.session.add(Delegation(assembly=assembly, city=city, status=(
                DelegationStatus.ATTENDING if i == 0 else DelegationStatus.ABSENT)))
        item = ProgrammeItem(assembly=assembly, title={"en": "Trip"}, capacity=10,
                             starts_at=datetime(2030, 1, 1, 1, tzinfo=UTC),
                             ends_at=datetime(2030, 1, 1, 3, tzinfo=UTC))
        db.session.add(item)
        db.session.flush()
        host = db.session.scalar(select(Delegation).where(Delegation.city == cities[0]))
        people = [Delegate(assembly_id=assembly.id, delegation=host, family_name=f"P{i}")
                  for i in range(THREADS)]
        db.session.add_all(people)
        db.session.commit()
        ids = (assembly.id, item.id, [p.id for p in people])

    def letter(i: int) -> str:
        with app.app_context():
            session = db.session
            user = session.scalar(select(User).where(User.email == "sec@example.org"))
            found = {c.code: c for c in session.scalars(select(MemberCity).where(
                MemberCity.code.like("C%")))}
            try:
                submit_letter(session, session.get(Assembly, ids[0]), found[f"C{i + 1:03d}"],
                              found["C000"], signatory_name="Mayor", user=user,
                              document=Document(PDF, "l.pdf"))
                session.commit()
                return "ok"
            except DomainError as exc:
                session.rollback()
                return exc.code

    results, seconds = together(letter)
    print(f"{THREADS} concurrent letters to one holder (limit 2): {results.count('ok')} "
          f"accepted, {results.count('holder_limit')} refused, {seconds:.2f} s")

    def place(i: int) -> str:
        with app.app_context():
            session = db.session
            try:
                sign_up(session, session.get(Delegate, ids[2][i]),
                        session.get(ProgrammeItem, ids[1]))
                session.commit()
                return "ok"
            except DomainError as exc:
                session.rollback()
                return exc.code

    results, seconds = together(place)
    print(f"{THREADS} concurrent sign-ups for 10 places: {results.count('ok')} taken, "
          f"{results.count('full')} full, {seconds:.2f} s")


if __name__ == "__main__":
    main()
