"""Benchmark: the summary job on a large assembly (200 member cities, 100,000 delegates).

    python bench/summary.py                      # a fresh SQLite file in a temporary folder
    python bench/summary.py --database-url postgresql+psycopg://postgres@127.0.0.1/sokai_bench
    python bench/summary.py --write-docs         # also record the figures in docs/benchmarks.md

Reports the job's time per format (CSV, XLSX, PDF) and the worker process's peak memory (the
job runs in a fresh process; ru_maxrss), and the attendance computation against a single
SQL GROUP BY over the same rows, as a ratio. The database is wiped and rebuilt each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402  (bench/ is on sys.path when run)

TARGETS = {"formats_seconds": 60.0, "ratio": 2.0, "memory_mb": 500.0}


def _app(database_url: str, instance: Path):  # type: ignore[no-untyped-def]
    from config import load_settings
    from webapp import create_app

    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
           "DATABASE_URL": database_url, "SOKAI_BASE_URL": "http://bench.local"}
    settings = load_settings(env)
    return create_app(settings), settings


def populate(database_url: str, instance: Path, cities: int, delegates: int) -> dict[str, float]:
    """Wipe the database and insert the large assembly with bulk INSERTs."""
    from sqlalchemy import create_engine, insert, inspect

    from models import (
        Assembly,
        Base,
        Delegate,
        Delegation,
        MemberCity,
        Network,
        ProgrammeItem,
        ProxyLetter,
        SideEvent,
        SideEventContribution,
        User,
    )
    from models.migrate import upgrade

    engine = create_engine(database_url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    attending = int(cities * 0.75)
    with engine.begin() as conn:
        network_id = conn.execute(insert(Network).values(
            code="BENCH", name={"en": "Bench network", "ja": "ベンチ網"},
            secretariat_email="sec@bench.local", home_timezone="Asia/Tokyo",
            created_at=now).returning(Network.id)).scalar_one()
        conn.execute(insert(MemberCity), [
            {"network_id": network_id, "code": f"C{i:03d}",
             "name": {"en": f"City {i}", "ja": f"都市{i}"}, "country": "JP",
             "timezone": "Asia/Tokyo", "created_at": now} for i in range(cities)])
        city_ids = [row[0] for row in conn.exec_driver_sql(
            "SELECT id FROM member_cities ORDER BY code")]
        assembly_id = conn.execute(insert(Assembly).values(
            network_id=network_id, slug="bench", number=99,
            title={"en": "Bench assembly", "ja": "ベンチ総会"}, host_city_id=city_ids[0],
            venue={"en": "Hall", "ja": "会館"}, timezone="Asia/Tomsk",
            home_timezone="Asia/Tokyo", starts_on=date(2014, 9, 4), ends_on=date(2014, 9, 6),
            registration_deadline=now, proxy_deadline=now, quorum="majority",
            max_proxies_per_holder=3, proxy_to_chair_allowed=True, status="closed",
            created_at=now, updated_at=now).returning(Assembly.id)).scalar_one()
        conn.execute(insert(Delegation), [
            {"assembly_id": assembly_id, "city_id": city_id,
             "status": "attending" if i < attending else "absent",
             "created_at": now, "updated_at": now} for i, city_id in enumerate(city_ids)])
        delegation_ids = [row[0] for row in conn.exec_driver_sql(
            "SELECT id FROM delegations WHERE status = 'attending' ORDER BY id")]
        roles = ("delegate", "staff", "performer", "interpreter", "press", "observer")
        batch: list[dict[str, object]] = []
        for n in range(delegates):
            delegation = delegation_ids[n % len(delegation_ids)]
            first = n < len(delegation_ids)
            batch.append({
                "assembly_id": assembly_id, "delegation_id": delegation,
                "family_name": f"FAMILY{n}", "given_name": f"Given{n % 997}",
                "name_local": f"代表{n % 1000}・太郎", "title": {"en": f"Officer {n % 50}",
                                                          "ja": f"職員{n % 50}"},
                "role": "representative" if first else roles[n % len(roles)],
                "email": f"p{n}@bench.local", "language": "ja" if n % 3 else "en",
                "status": "confirmed", "created_at": now, "updated_at": now})
            if len(batch) == 5000:
                conn.execute(insert(Delegate), batch)
                batch = []
        if batch:
            conn.execute(insert(Delegate), batch)
        conn.execute(insert(ProgrammeItem), [
            {"assembly_id": assembly_id, "uid": f"bench-{i}@sokai",
             "title": {"en": f"Session {i}", "ja": f"会議{i}"},
             "starts_at": now + timedelta(hours=i), "ends_at": now + timedelta(hours=i, minutes=50),
             "location": {"en": "Hall"}, "kind": "plenary", "status": "scheduled",
             "sequence": 0, "signup_count": 0, "all_day": False,
             "created_at": now, "updated_at": now} for i in range(30)])
        absent = city_ids[attending:]
        conn.execute(insert(ProxyLetter), [
            {"assembly_id": assembly_id, "grantor_city_id": grantor,
             "holder_city_id": city_ids[i % attending], "to_chair": False,
             "signatory_name": f"Mayor {i}", "signatory_title": "Mayor", "instructions": "",
             "document_path": f"uploads/{i}.pdf", "document_sha256": "0" * 64,
             "document_size": 1000, "document_filename": "letter.pdf",
             "status": "verified" if i % 2 else "submitted", "rejection_reason": "",
             "submitted_at": now, "updated_at": now} for i, grantor in enumerate(absent[:40])])
        event_id = conn.execute(insert(SideEvent).values(
            assembly_id=assembly_id, kind="children_paintings",
            title={"en": "Paintings", "ja": "子供の絵"}, venue={}, created_at=now,
            updated_at=now).returning(SideEvent.id)).scalar_one()
        conn.execute(insert(SideEventContribution), [
            {"side_event_id": event_id, "city_id": city_id, "description": {"en": "Paintings"},
             "count": 10 + i % 20, "created_at": now, "updated_at": now}
            for i, city_id in enumerate(city_ids[:100])])
        conn.execute(insert(User).values(email="sec@bench.local", display_name="Bench",
                                         role="secretariat", language="ja", is_active=True,
                                         created_at=now))
    engine.dispose()
    return {"populate_seconds": time.perf_counter() - started}


def compare_attendance(database_url: str, instance: Path, repeat: int = 7) -> dict[str, float]:
    """compute_attendance() against the bare GROUP BY that counts participants per city."""
    from sqlalchemy import select, text

    from models import Assembly
    from services.attendance import compute_attendance
    from webapp.extensions import db

    app, _settings = _app(database_url, instance)
    bare = text("SELECT d.city_id, count(p.id) FROM delegates p "
                "JOIN delegations d ON d.id = p.delegation_id "
                "WHERE d.assembly_id = :a AND d.status = 'attending' "
                "AND p.status IN ('registered', 'confirmed') GROUP BY d.city_id")
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == "bench"))
        compute_times, bare_times = [], []
        for _ in range(repeat):
            db.session.expire_all()
            started = time.perf_counter()
            attendance = compute_attendance(db.session, assembly)
            compute_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            rows = db.session.execute(bare, {"a": assembly.id}).all()
            bare_times.append(time.perf_counter() - started)
        assert attendance.participants == sum(count for _, count in rows)
        # The fastest run of each: the least disturbed by whatever else the machine does.
        compute, bare_time = min(compute_times), min(bare_times)
        return {"attendance_seconds": compute, "group_by_seconds": bare_time,
                "ratio": compute / bare_time, "participants": attendance.participants}


def run_job(database_url: str, instance: Path) -> dict[str, float]:
    """In this (fresh) process: one summary job through render_report(), timed per format."""
    from sqlalchemy import select

    import services.summaries.building as summaries
    from models import Assembly, SummaryJob, User
    from services.summaries.report import data_version
    from webapp.extensions import db

    app, settings = _app(database_url, instance)
    timings: dict[str, float] = {}

    def timed(fmt: str, writer):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started, cpu = time.perf_counter(), time.process_time()
            writer(*args, **kwargs)
            timings[f"{fmt}_seconds"] = time.perf_counter() - started
            # CPU time of this process: what the writer costs when the machine is busy.
            timings[f"{fmt}_cpu_seconds"] = time.process_time() - cpu
        return wrapper

    summaries.STAGES = tuple((fmt, a, b, timed(fmt, writer))
                             for fmt, a, b, writer in summaries.STAGES)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == "bench"))
        user = db.session.scalar(select(User))
        job = SummaryJob(assembly_id=assembly.id, requested_by_id=user.id, language="ja",
                         data_version=data_version(db.session, assembly))
        db.session.add(job)
        db.session.commit()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        status = summaries.render_report(db.session, job.id, settings, worker="bench")
        timings["job_seconds"] = time.perf_counter() - started
        db.session.refresh(job)
        assert status == "done", job.error
        timings.update({f"{f['format']}_mb": f["size"] / 1e6 for f in job.files})
    timings["rss_before_mb"] = before
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--delegates", type=int, default=100_000)
    parser.add_argument("--write-docs", action="store_true",
                        help="append the figures to docs/benchmarks.md")
    parser.add_argument("--job", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.job:  # the child process: run the job and print its figures
        print(json.dumps(run_job(args.database_url, Path(args.instance))))
        return

    instance = Path(tempfile.mkdtemp(prefix="sokai-bench-"))
    database_url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    print(f"database: {database_url.split('@')[-1]}; {args.cities} cities, "
          f"{args.delegates} delegates")
    figures = populate(database_url, instance, args.cities, args.delegates)
    print(f"populated in {figures['populate_seconds']:.1f} s")
    child = subprocess.run([sys.executable, __file__, "--job", "--database-url", database_url,
                            "--instance", str(instance)], capture_output=True, text=True,
                           check=False, cwd=ROOT)
    if child.returncode != 0:
        print(child.stdout, child.stderr, file=sys.stderr)
        raise SystemExit("the summary job failed")
    figures.update(json.loads(child.stdout.strip().splitlines()[-1]))
    figures.update(compare_attendance(database_url, instance))
    formats = figures["csv_seconds"] + figures["xlsx_seconds"] + figures["pdf_seconds"]
    verdict = {
        "formats": formats <= TARGETS["formats_seconds"],
        "ratio": figures["ratio"] <= TARGETS["ratio"],
        "memory": figures["peak_rss_mb"] <= TARGETS["memory_mb"],
    }
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    def fmt(name: str) -> str:
        return (f"{figures[name + '_seconds']:.1f} s (CPU {figures[name + '_cpu_seconds']:.1f} s,"
                f" {figures[name + '_mb']:.1f} MB)")

    load = os.getloadavg()[0]
    lines = [
        f"| {backend} | {fmt('csv')} | {fmt('xlsx')} | {fmt('pdf')} "
        f"| {figures['job_seconds']:.1f} s | {figures['peak_rss_mb']:.0f} MB "
        f"(at start {figures['rss_before_mb']:.0f} MB) "
        f"| {figures['attendance_seconds'] * 1000:.0f} ms / "
        f"{figures['group_by_seconds'] * 1000:.0f} ms = {figures['ratio']:.2f}× | {load:.1f} |",
    ]
    print(json.dumps(figures, indent=2))
    print("targets:", ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in verdict.items()))
    print(lines[0])
    if args.write_docs:
        docs = ROOT / "docs" / "benchmarks.md"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        row = lines[0].replace(f"| {backend} |", f"| {stamp} | {backend} |", 1)
        text = docs.read_text()
        marker = "<!-- summary rows: bench/summary.py --write-docs adds a line below -->"
        if marker not in text:
            text += (f"\n## Summaries (bench/summary.py)\n\n{marker}\n")
        docs.write_text(text.replace(marker, f"{marker}\n{row}", 1))
        print(f"recorded in {docs} (machine: {describe()})")

if __name__ == "__main__":
    main()
