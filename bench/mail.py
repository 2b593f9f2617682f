"""Benchmark: 10,000 reminder emails through the real path vs a bare smtplib loop.

    python bench/mail.py                 # embedded: SQLite + filesystem broker in a temp dir
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sokai_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 python bench/mail.py

The real path: the sweep task on a Celery worker process finds the due reminder, writes one
delivery row and one outbox row per recipient in one transaction, then the worker delivers
them in claimed batches over SMTP to a local aiosmtpd sink. The baseline sends the same
messages (the outbox rows, built beforehand) with smtplib over one connection to the same sink.
The sink counts by Message-ID: zero lost and zero duplicated, or the run fails.
The figures are written to docs/benchmarks.md. THE DATABASE IS WIPED: use a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402  (bench/ is on sys.path when run)

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


class Sink:
    """An aiosmtpd server that counts what it receives by Message-ID."""

    def __init__(self) -> None:
        self.counts: Counter[bytes] = Counter()
        self.total = 0
        self.first: float | None = None  # when the first message arrived (perf_counter)
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.counts[found.group(1) if found else b"?"] += 1
            self.total += 1
            if self.first is None:
                self.first = time.perf_counter()
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.total = 0
            self.first = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--no-write", action="store_true", help="do not update the docs")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    sink = Sink()
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_url = f"smtp://127.0.0.1:{port}"

    instance = Path(tempfile.mkdtemp(prefix="sokai-bench-"))
    env = {**os.environ, "SOKAI_INSTANCE_PATH": str(instance), "SMTP_URL": smtp_url,
           "SECRET_KEY": "bench", "SOKAI_BASE_URL": "https://sokai.example.org"}
    os.environ.update(env)

    from sqlalchemy import create_engine, func, inspect, select

    from config import load_settings
    from models import Base, MailStatus, OutboxMessage
    from models.migrate import upgrade
    from webapp import create_app
    from webapp.extensions import db

    settings = load_settings()
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    upgrade(settings.database_url)
    app = create_app(settings)
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        conn.default_channel.queue_purge(celery.conf.task_default_queue)

    with app.app_context():
        seed(db.session, args.messages)

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--concurrency",
         str(args.concurrency), "--without-heartbeat", "--without-mingle", "--without-gossip",
         "-l", os.environ.get("BENCH_LOGLEVEL", "WARNING")], cwd=ROOT, env=env)
    try:
        wait_for_worker(app)
        print(f"database {settings.database_url.split('@')[-1]}, broker "
              f"{settings.broker_url}, {args.concurrency} worker processes, sink on {port}")

        # The real path: the sweep on the worker, the outbox, batched delivery over SMTP.
        from tasks.housekeeping import sweep_task

        started = time.perf_counter()
        with app.app_context():
            celery.tasks[sweep_task.name].delay()
        deadline = time.monotonic() + 1800
        while sink.total < args.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        real_seconds = time.perf_counter() - started
        time.sleep(2)  # anything duplicated late would show up now
        with app.app_context():
            statuses = dict(db.session.execute(
                select(OutboxMessage.status, func.count(OutboxMessage.id))
                .group_by(OutboxMessage.status)).all())
            ids = {row.message_id.encode() for row in db.session.scalars(select(OutboxMessage))}
        real_lost = len(ids - set(sink.counts))
        real_dupes = sum(c - 1 for c in sink.counts.values() if c > 1)
        first = (sink.first or started) - started
        print(f"real path: {sink.total} received in {real_seconds:.2f} s "
              f"({args.messages / real_seconds:.0f}/s; the first after {first:.2f} s, then "
              f"{args.messages / max(real_seconds - first, 1e-9):.0f}/s); lost {real_lost}, "
              f"duplicated {real_dupes}; outbox {dict((k.value, v) for k, v in statuses.items())}")

        # The baseline: the same messages, built beforehand, over one smtplib connection.
        from services.mail.delivery import build_email, mail_sender

        with app.app_context():
            sender = mail_sender(settings)
            emails = [build_email(row, sender) for row in db.session.scalars(
                select(OutboxMessage).order_by(OutboxMessage.id))]
        sink.reset()
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as client:
            for email in emails:
                client.send_message(email)
        bare_seconds = time.perf_counter() - started
        bare_ok = sink.total == len(emails)
        print(f"bare smtplib: {sink.total} in {bare_seconds:.2f} s "
              f"({len(emails) / bare_seconds:.0f}/s)")
    finally:
        worker.terminate()
        worker.wait(30)
        controller.stop()

    ratio = bare_seconds / real_seconds
    ok = (real_lost == 0 and real_dupes == 0 and bare_ok
          and statuses.get(MailStatus.SENT) == args.messages)
    # Issue 16's targets: 0.8 on PostgreSQL + Redis, 0.6 on the embedded default.
    target = 0.6 if settings.broker_is_embedded else 0.8
    print(f"ratio real/bare: {ratio:.2f} (target >= {target}, "
          f"{'met' if ratio >= target else 'MISSED'}); "
          f"{'zero lost, zero duplicated' if ok else 'FAILED'}")
    if not args.no_write:
        write_results(args, settings, real_seconds, bare_seconds, ratio, real_lost, real_dupes)
    return 0 if ok else 1


def seed(session: Any, count: int) -> None:
    """A network with five attending cities and `count` delegates; one due reminder."""
    from sqlalchemy import insert

    from models import (
        Assembly,
        AssemblyStatus,
        Delegate,
        Delegation,
        DelegationStatus,
        MemberCity,
        Network,
        utcnow,
    )
    from services.reminders.editing import create_reminder

    network = Network(code="BENCH", name={"en": "Bench network", "ja": "ベンチ"},
                      secretariat_email="sec@example.org", home_timezone="Asia/Tokyo")
    zones = ["Asia/Tokyo", "Asia/Tomsk", "Asia/Seoul", "Asia/Bangkok", "Asia/Jakarta"]
    cities = [MemberCity(network=network, code=f"C{n}", name={"en": f"City {n}",
                                                              "ja": f"都市{n}"},
                         country="JP", timezone=zone) for n, zone in enumerate(zones)]
    now = utcnow()
    assembly = Assembly(network=network, slug="bench", title={"en": "Bench assembly",
                                                              "ja": "ベンチ総会"},
                        host_city=cities[1], venue={"en": "Hall", "ja": "ホール"},
                        timezone="Asia/Tomsk", home_timezone="Asia/Tokyo",
                        starts_on=date.today() + timedelta(days=30),
                        ends_on=date.today() + timedelta(days=32),
                        registration_deadline=now + timedelta(days=1, minutes=-1),
                        proxy_deadline=now + timedelta(days=20), status=AssemblyStatus.OPEN)
    delegations = [Delegation(assembly=assembly, city=c, status=DelegationStatus.ATTENDING)
                   for c in cities]
    session.add_all([network, *cities, assembly, *delegations])
    session.flush()
    session.execute(insert(Delegate), [
        {"assembly_id": assembly.id, "delegation_id": delegations[n % 5].id,
         "family_name": f"Family{n}", "given_name": f"Given{n}",
         "email": f"delegate{n:05d}@example.org", "language": "ja" if n % 3 == 0 else "en"}
        for n in range(count)])
    create_reminder(
        session, assembly, anchor="registration_deadline", offset="-P1D", audience="delegates",
        subject={"en": "{{ assembly_title }}: registration closes {{ deadline }}",
                 "ja": "{{ assembly_title }}：登録締切 {{ deadline }}"},
        body={"en": "Dear {{ recipient_name }},\n\nRegistration for {{ assembly_title }} "
                    "closes on {{ deadline }} (at the venue: {{ deadline_host }}).\n\n"
                    "{{ assembly_url }}\n\nThe secretariat",
              "ja": "{{ recipient_name }} 様\n\n{{ assembly_title }}の登録締切は{{ deadline }}"
                    "（開催地時間：{{ deadline_host }}）です。\n\n{{ assembly_url }}\n\n事務局"})
    session.commit()


def wait_for_worker(app: Any) -> None:
    from models import WorkerCheck
    from services.housekeeping import request_worker_check
    from webapp.extensions import db

    with app.app_context():
        check_id = request_worker_check(db.session).id
        db.session.commit()
        for _ in range(600):
            db.session.expire_all()
            if db.session.get(WorkerCheck, check_id).answered_at is not None:
                db.session.commit()
                return
            db.session.commit()
            time.sleep(0.1)
    raise SystemExit("the worker did not answer within a minute")


def write_results(args: Any, settings: Any, real: float, bare: float, ratio: float,
                  lost: int, dupes: int) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    database = settings.database_url.split("+")[0].split(":")[0]
    broker = settings.broker_url.split(":")[0]
    n = args.messages
    row = (f"| {time.strftime('%Y-%m-%d', time.gmtime())} | {database} + {broker}, "
           f"{args.concurrency} worker processes | {n:,} | {real:.1f} s ({n / real:.0f}/s) | "
           f"{bare:.1f} s ({n / bare:.0f}/s) | **{ratio:.2f}** | {lost} | {dupes} |")
    header = (
        "## Mail (`bench/mail.py`)\n\n"
        "10,000 reminder emails to a local aiosmtpd sink through the real path (the sweep task "
        "on a Celery worker process fans a due reminder out into delivery and outbox rows, 250 "
        "recipients per transaction on PostgreSQL so that the first batches leave while the "
        "rest are written, the whole audience at once on SQLite, which has one writer; the "
        "workers deliver them in claimed batches of 200 over one SMTP connection each, writing "
        "outcomes every 100 messages) against a bare `smtplib` loop sending the same messages, "
        "built beforehand, over one connection. Lost and duplicated are counted by Message-ID "
        "at the sink.\n\n"
        f"Machine: {describe()}.\n"
        "Run: `python bench/mail.py` (embedded) or with `DATABASE_URL=postgresql+psycopg://… "
        "CELERY_BROKER_URL=redis://…` (the database is wiped).\n\n"
        "The real-path time runs from enqueueing the sweep to the last message at the sink, "
        "so it includes the fan-out (rendering 10,000 bilingual messages). The sink shares the "
        "two cores with the workers. This virtual machine's speed varies from run to run: the "
        "bare loop alone took from 16 to 25 s for the same 10,000 messages on a quiet machine, "
        "which moves the ratio by ±0.1; the latest run of each is recorded. Targets: ≥ 0.8 on "
        "PostgreSQL + Redis, ≥ 0.6 on the embedded default (SQLite, one writer at a time, and "
        "the filesystem broker polled every 0.1 s).\n\n"
        "| date | database + broker | messages | real path | bare smtplib | ratio | lost | "
        "duplicated |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
    text = docs.read_text()
    marker = "## Mail (`bench/mail.py`)"
    if marker in text:
        before, _, rest = text.partition(marker)
        section, sep, after = rest.partition("\n## ")
        rows = [line for line in section.splitlines() if line.startswith("| 20")]
        rows = [r for r in rows if f"{database} + {broker}," not in r]
        text = before + header + "\n".join([*rows, row]) + "\n" + (sep + after if sep else "")
    else:
        text = text.rstrip() + "\n\n" + header + row + "\n"
    docs.write_text(text)
    print(f"written to {docs.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    raise SystemExit(main())
