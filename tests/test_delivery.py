"""Mail delivery that loses nothing: a real SMTP server, real workers (a thread, a killed
subprocess), a Redis broker restarted without persistence."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import Settings
from models import MailStatus, OutboxMessage
from services.housekeeping import sweep
from services.mail.delivery import DeliveryPolicy, deliver_batch, resend
from services.mail.outbox import Draft, queue_message, queue_messages
from tests.conftest import SmtpSink, free_port, service_env, wait_for
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def status_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.status, func.count(OutboxMessage.id))
                                  .group_by(OutboxMessage.status)).all()
        db.session.commit()
        return {status.value: count for status, count in rows}


def outbox_rows(session: object, count: int) -> list[int]:
    """Rows written without enqueueing, so that the test decides which worker gets them."""
    rows = [OutboxMessage(kind="test", to_address=f"person{n:03d}@example.org",
                          to_name=f"Person {n}", subject=f"Message {n}",
                          text_body=f"Body {n}") for n in range(count)]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def test_smtp_down_then_back_the_message_retries_and_is_delivered_once(
        app: Flask, session: object, celery_worker: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there yet
    monkeypatch.setitem(app.config, "SOKAI_SETTINGS", dataclasses.replace(
        app.config["SOKAI_SETTINGS"], smtp_url=f"smtp://127.0.0.1:{port}",
        mail_retry_base_seconds=0.3, mail_retry_cap_seconds=2, mail_max_attempts=100))
    message = queue_message(session, kind="test", to_address="kul@example.org",
                            subject="Retry me", text_body="…")
    session.commit()

    def retried() -> OutboxMessage | None:
        with app.app_context():
            row = db.session.get(OutboxMessage, message.id)
            db.session.refresh(row)
            return row if row.attempts >= 2 else None

    row = wait_for(retried)
    assert row is not None and row.status in (MailStatus.PENDING, MailStatus.SENDING)
    assert "Connection refused" in row.last_error or "Errno" in row.last_error
    sink = SmtpSink(port=port).start()
    try:
        assert wait_for(lambda: status_counts(app).get("sent") == 1)
        assert sink.message_ids() == [message.message_id]
    finally:
        sink.stop()


def test_a_row_is_sent_by_one_worker_at_a_time(app: Flask, session: object,
                                                smtp_sink: SmtpSink) -> None:
    ids = outbox_rows(session, 60)
    settings: Settings = app.config["SOKAI_SETTINGS"]
    barrier = threading.Barrier(3)

    def work() -> None:
        with app.app_context():
            barrier.wait()
            deliver_batch(db.session, ids, settings, "Sokai <sokai@sokai.test>",
                          DeliveryPolicy(flush_every=5))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert status_counts(app) == {"sent": 60}
    assert len(smtp_sink.message_ids()) == 60 == len(set(smtp_sink.message_ids()))


def test_a_failed_message_is_resent_with_the_same_message_id(
        app: Flask, session: object, celery_worker: object, smtp_sink: SmtpSink) -> None:
    (message_id,) = outbox_rows(session, 1)
    row = session.get(OutboxMessage, message_id)
    row.status, row.attempts, row.last_error = MailStatus.FAILED, 8, "SMTPDataError: 554"
    session.commit()
    assert resend(session, message_id)
    session.commit()
    assert wait_for(lambda: status_counts(app).get("sent") == 1)
    assert smtp_sink.message_ids() == [row.message_id]
    assert not resend(session, message_id)  # only a failed message is resent


def test_a_permanent_refusal_fails_at_once_with_the_error(app: Flask, session: object,
                                                          smtp_sink: SmtpSink) -> None:
    from services.mail.outbox import HeaderInjectionError

    (message_id,) = outbox_rows(session, 1)
    row = session.get(OutboxMessage, message_id)
    row.to_address = "refused@example.org"  # the server refuses the address with a 5xx
    session.commit()
    deliver_batch(session, [message_id], app.config["SOKAI_SETTINGS"], "s@sokai.test")
    session.expire_all()
    row = session.get(OutboxMessage, message_id)
    assert row.status is MailStatus.FAILED and row.last_error
    with pytest.raises(HeaderInjectionError):
        queue_messages(session, [Draft(kind="t", to_address="a@b.c", subject="x\ny",
                                       text_body="")])


@pytest.fixture
def worker_process(settings: Settings) -> Iterator[object]:
    """Starts `celery worker` subprocesses on a private queue; kills what is left at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(queue: str, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, **service_env(settings.instance_path), **extra_env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--pool", "solo",
             "-Q", queue, "--without-heartbeat", "--without-mingle", "--without-gossip",
             "-l", "WARNING"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(
        app: Flask, session: object, celery_worker: object, worker_process: object,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sink = SmtpSink(delay=0.15).start()
    try:
        ids = outbox_rows(session, 40)
        proc = worker_process("sokai-kill-test", {"SMTP_URL": sink.url})  # type: ignore[operator]
        celery = app.extensions["celery"]
        celery.tasks["sokai.deliver_mail_batch"].apply_async(args=[ids],
                                                             queue="sokai-kill-test")
        assert wait_for(lambda: len(sink.messages) >= 8, timeout=60), "the worker never sent"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        counts = status_counts(app)
        assert counts.get("sending", 0) > 0, counts  # the dead worker's claim is left behind

        # The sweep, with a short stale-claim window, hands the rest to the live worker.
        sink.delay = 0
        monkeypatch.setitem(app.config, "SOKAI_SETTINGS", dataclasses.replace(
            app.config["SOKAI_SETTINGS"], smtp_url=sink.url, mail_stale_claim_seconds=0,
            mail_resend_after_seconds=0))
        time.sleep(0.05)
        assert sweep(session)["mail"] > 0
        assert wait_for(lambda: status_counts(app) == {"sent": 40}, timeout=60), \
            status_counts(app)
        received: dict[str, set[str]] = defaultdict(set)
        for message in list(sink.messages):
            received[message["To"].addresses[0].addr_spec].add(message["Message-ID"])
        rows = {r.to_address: r.message_id for r in session.scalars(select(OutboxMessage))}
        assert set(received) == set(rows)  # every recipient got it
        # Any duplicate carries the same Message-ID, so the receiver can drop it.
        assert all(ids_seen == {rows[address]} for address, ids_seen in received.items())
    finally:
        sink.stop()


def test_a_redis_restart_without_persistence_loses_no_mail(
        app: Flask, settings: Settings, redis_server: object, worker_process: object) -> None:
    import redis

    from webapp import create_app

    sink = SmtpSink().start()
    broker_url = redis_server.url  # type: ignore[attr-defined]
    other = create_app(dataclasses.replace(settings, broker_url=broker_url, smtp_url=sink.url,
                                           mail_resend_after_seconds=0), TESTING=True)
    try:
        with other.app_context():
            for n in range(5):
                queue_message(db.session, kind="test", to_address=f"r{n}@example.org",
                              subject=f"Pending {n}", text_body="…")
            db.session.commit()
        broker = redis.Redis.from_url(broker_url)
        assert broker.llen("sokai") == 5  # the messages wait in Redis, no worker yet
        redis_server.stop()  # type: ignore[attr-defined]
        redis_server.start()  # type: ignore[attr-defined]
        assert broker.llen("sokai") == 0  # …and are gone

        # A worker process on the restarted broker (a second in-process worker would share
        # Celery's global worker state with the suite's).
        worker_process("sokai", {"CELERY_BROKER_URL": broker_url,  # type: ignore[operator]
                                 "SMTP_URL": sink.url})
        time.sleep(1)
        assert status_counts(other) == {"pending": 5}
        with other.app_context():
            assert sweep(db.session)["mail"] == 5
        assert wait_for(lambda: status_counts(other) == {"sent": 5}, timeout=60)
        assert len(sink.message_ids()) == 5 == len(set(sink.message_ids()))
    finally:
        sink.stop()
        with other.app_context():
            db.engine.dispose()
        # Give the default Celery app back to the suite's app.
        app.extensions["celery"].set_default()
        app.extensions["celery"].set_current()


def test_a_row_that_cannot_become_a_message_fails_with_the_reason(
        app: Flask, session: object, smtp_sink: SmtpSink) -> None:
    ids = outbox_rows(session, 2)
    broken = session.get(OutboxMessage, ids[0])
    broken.attachments = [{"filename": "x.ics", "content_type": "text/calendar",
                           "content_b64": "not base64!"}]
    session.commit()
    deliver_batch(session, ids, app.config["SOKAI_SETTINGS"], "s@sokai.test")
    session.expire_all()
    assert session.get(OutboxMessage, ids[0]).status is MailStatus.FAILED
    assert "cannot build the message" in session.get(OutboxMessage, ids[0]).last_error
    assert session.get(OutboxMessage, ids[1]).status is MailStatus.SENT
    assert len(smtp_sink.messages) == 1
