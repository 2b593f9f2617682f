"""Operations: the processes as commands, exactly-once scheduling with two beats."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.signals import task_prerun
from click.testing import CliRunner
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from config import Settings
from models import Heartbeat, Lease, OutboxMessage, utcnow
from services.background import ANSWER_WORKER_CHECK, dispatch
from services.housekeeping import request_worker_check
from services.leases import hold, holder_of, release
from services.operations import note_worker_alive
from services.reminders.defaults import create_default_reminders
from tasks.metrics import request_id_of
from tests.conftest import SmtpSink, csrf_token, login, wait_for
from tests.test_reminders import _sent, open_assembly
from webapp.cli import main


@pytest.mark.parametrize("command", ["web", "worker", "beat", "run"])
def test_each_process_has_a_command(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_a_lease_has_one_holder_until_it_expires_or_is_released(session: Any) -> None:
    now = utcnow()
    assert hold(session, "job", "a", 30, now=now)
    assert not hold(session, "job", "b", 30, now=now + timedelta(seconds=10))
    assert hold(session, "job", "a", 30, now=now + timedelta(seconds=10))  # renewed
    assert holder_of(session, "job") == "a"
    # A holder that stopped renewing loses it once the lease ran out.
    assert hold(session, "job", "b", 30, now=now + timedelta(seconds=41))
    assert not hold(session, "job", "a", 30, now=now + timedelta(seconds=42))
    release(session, "job", "b")
    assert holder_of(session, "job") is None
    assert hold(session, "job", "a", 30)
    assert session.scalar(select(Lease.holder)) == "a"


def _beat_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "SOKAI_INSTANCE_PATH": str(settings.instance_path),
           "SECRET_KEY": "test-secret", "DATABASE_URL": settings.database_url,
           "SOKAI_SWEEP_SECONDS": "1", "SOKAI_BEAT_LEASE_SECONDS": "3"}
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


def _sends(log: Path) -> int:
    return log.read_text(errors="replace").count("Sending due task sweep")


def test_two_beats_send_each_periodic_task_once_and_each_reminder_once(
        app: Flask, settings: Settings, session: Any, celery_worker: object,
        smtp_sink: SmtpSink, tmp_path: Path) -> None:
    assembly = open_assembly(session)
    # The -3 d reminder fell due a minute ago: the sweeps the beats send will find it.
    assembly.registration_deadline = utcnow() + timedelta(days=3) - timedelta(minutes=1)
    create_default_reminders(session, assembly)
    session.commit()

    env = _beat_env(settings)
    logs = [tmp_path / "beat-a.log", tmp_path / "beat-b.log"]
    beats = [subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "beat", "--schedule", str(tmp_path / f"s{i}")],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        for i, log in enumerate(logs)]
    try:
        # Both are up: one sends, the other says it stands by.
        assert wait_for(lambda: all("lease" in log.read_text(errors="replace")
                                    for log in logs), timeout=120)
        assert wait_for(lambda: max(_sends(log) for log in logs) >= 4, timeout=60)
        assert wait_for(lambda: _sent(app) == 2, timeout=60)
        counts = [_sends(log) for log in logs]
        leader = 0 if counts[0] else 1
        assert counts[1 - leader] == 0, "the standing-by beat sent periodic tasks too"
        assert "standing by" in logs[1 - leader].read_text()

        # The leader stops (cleanly: it gives the lease up); the other takes over.
        beats[leader].send_signal(signal.SIGTERM)
        beats[leader].wait(timeout=60)
        assert wait_for(lambda: _sends(logs[1 - leader]) >= 2, timeout=60)
        assert "holds the lease" in logs[1 - leader].read_text()
    finally:
        for beat in beats:
            if beat.poll() is None:
                beat.send_signal(signal.SIGTERM)
        for beat in beats:
            try:
                beat.wait(timeout=30)
            except subprocess.TimeoutExpired:
                beat.kill()
    time.sleep(2)  # let the worker finish the last sweeps before the tables are emptied
    # Dozens of sweeps by two beats, and each recipient got the reminder once.
    assert _sent(app) == 2
    assert len(smtp_sink.messages) == 2


# --- metrics, request ids, the Background work panel -------------------------------------------

TOKEN = "metrics-secret-token"


@pytest.fixture
def metrics_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    settings = app.config["SOKAI_SETTINGS"]
    monkeypatch.setitem(app.config, "SOKAI_SETTINGS", replace(settings, metrics_token=TOKEN))
    return TOKEN


def _scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_answer_only_with_the_token(app: Flask, client: Any) -> None:
    assert client.get("/metrics").status_code == 404  # no token configured: nothing there
    settings = app.config["SOKAI_SETTINGS"]
    app.config["SOKAI_SETTINGS"] = replace(settings, metrics_token=TOKEN)
    try:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}
                          ).status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
                          ).status_code == 200
    finally:
        app.config["SOKAI_SETTINGS"] = settings


def test_a_failing_task_counts_as_failed_and_requests_are_timed(
        app: Flask, client: Any, session: Any, celery_worker: object, metrics_token: str
) -> None:
    task = ANSWER_WORKER_CHECK
    client.get("/healthz")
    before = _scrape(client)
    # Sent without its argument: the task raises in the real worker.
    dispatch(task)
    failed = ("sokai_task_failed_total", (("task", task),))
    assert wait_for(lambda: _scrape(client).get(failed, 0) == before.get(failed, 0) + 1)
    after = _scrape(client)
    started = ("sokai_task_started_total", (("task", task),))
    assert after[started] >= before.get(started, 0) + 1
    assert after[("sokai_task_duration_seconds_count", (("task", task),))] >= 1
    # A task that works counts as succeeded.
    request_worker_check(session)
    session.commit()
    ok = ("sokai_task_succeeded_total", (("task", task),))
    assert wait_for(lambda: _scrape(client).get(ok, 0) >= before.get(ok, 0) + 1)
    # Every request is timed under its endpoint's name.
    health = ("sokai_http_request_duration_seconds_count",
              (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))
    assert after[health] >= 1


def test_outbox_sweep_and_worker_figures_in_metrics_and_in_words(
        app: Flask, client: Any, session: Any, make_user: Any, metrics_token: str) -> None:
    samples = _scrape(client)
    assert samples[("sokai_outbox_waiting", ())] == 0
    assert samples[("sokai_last_sweep_age_seconds", ())] == -1
    for minutes in (2, 1):
        session.add(OutboxMessage(kind="test", to_address=f"p{minutes}@example.org",
                                  subject="s", text_body="b",
                                  created_at=utcnow() - timedelta(minutes=minutes, seconds=5)))
    session.add(Heartbeat(name="sweep", seen_at=utcnow() - timedelta(seconds=40)))
    note_worker_alive(session, "host-a:42", force=True)
    session.commit()
    samples = _scrape(client)
    assert samples[("sokai_outbox_waiting", ())] == 2
    assert 120 <= samples[("sokai_outbox_oldest_waiting_age_seconds", ())] < 600
    assert 40 <= samples[("sokai_last_sweep_age_seconds", ())] < 600
    assert 0 <= samples[("sokai_worker_heartbeat_age_seconds", ())] < 600

    make_user("ops.sec@example.org")
    login(client, "ops.sec@example.org")
    page = client.get("/secretariat/").get_data(as_text=True)
    assert re.search(r'data-testid="mail-backlog">2 mails waiting, oldest 2 min<', page), page
    assert re.search(r'data-testid="sweep-age">Last sweep \d+ (sec|min) ago<', page)
    assert "host-a:42" in page


def test_the_request_id_travels_into_the_task_it_enqueued(
        app: Flask, client: Any, make_user: Any, celery_worker: object) -> None:
    seen: list[str | None] = []

    def remember(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "name", "") == ANSWER_WORKER_CHECK:
            seen.append(request_id_of(sender))

    task_prerun.connect(remember, weak=False)
    try:
        make_user("ops.rid@example.org")
        login(client, "ops.rid@example.org")
        page = client.get("/secretariat/").get_data(as_text=True)
        response = client.post("/secretariat/worker-check",
                               data={"csrf_token": csrf_token(page)},
                               headers={"X-Request-ID": "req-0123456789"})
        assert response.status_code == 302
        assert response.headers["X-Request-ID"] == "req-0123456789"
        assert wait_for(lambda: seen)
        assert seen == ["req-0123456789"]
    finally:
        task_prerun.disconnect(remember)


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    script = (
        "import logging\n"
        "from webapp import create_app\n"
        "from services.observability import set_request_id\n"
        "app = create_app()\n"
        "app.test_client().get('/healthz', headers={'X-Request-ID': 'req-fromproxy1'})\n"
        "set_request_id('req-abcdef123')\n"
        "logging.getLogger('sokai.test').warning('hello %s', 'there')\n")
    env = {**os.environ, "SOKAI_INSTANCE_PATH": str(tmp_path / "i"), "LOG_FORMAT": "json",
           "SECRET_KEY": "x"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("logger") == "sokai.test"]
    assert mine and mine[0]["message"] == "hello there"
    assert mine[0]["request_id"] == "req-abcdef123" and mine[0]["level"] == "WARNING"
    # Each request is one line with its endpoint, status, duration and the proxy's id.
    requests = [line for line in lines if line.get("logger") == "sokai.requests"]
    assert requests and requests[0]["endpoint"] == "health.healthz"
    assert requests[0]["request_id"] == "req-fromproxy1" and "duration_ms" in requests[0]


def test_migration_0020_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from models.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)

    def shape() -> tuple[set[str], set[str]]:
        engine = create_engine(url)
        with engine.connect() as conn:
            found = inspect(conn)
            result = (set(found.get_table_names()),
                      {c["name"] for c in found.get_columns("delegates")})
        engine.dispose()
        return result

    tables, columns = shape()
    assert {"leases", "audit_entries"} <= tables and "anonymised_at" in columns
    command.downgrade(alembic_config(url), "0018")
    tables, columns = shape()
    assert not {"leases", "audit_entries"} & tables and "anonymised_at" not in columns
    upgrade(url)
    tables, columns = shape()
    assert {"leases", "audit_entries"} <= tables and "anonymised_at" in columns
