"""Operations: the processes as commands, exactly-once scheduling with two beats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from config import Settings
from models import Lease, utcnow
from services.leases import hold, holder_of, release
from services.reminders.defaults import create_default_reminders
from tests.conftest import SmtpSink, wait_for
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
