"""Tasks go to the broker only after commit, and a real worker runs them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery.signals import task_received
from flask import Flask

from models import WorkerCheck
from services.housekeeping import request_worker_check
from tests.conftest import wait_for
from webapp.extensions import db


@pytest.fixture
def received() -> Iterator[list[str]]:
    """Names and arguments of every task the worker receives during the test."""
    seen: list[str] = []

    def record(sender: object = None, request: object = None, **_: object) -> None:
        seen.append(f"{request.name}{tuple(request.args)}")  # type: ignore[attr-defined]

    task_received.connect(record, weak=False)
    yield seen
    task_received.disconnect(record)


def answered(app: Flask, check_id: int) -> WorkerCheck | None:
    with app.app_context():
        check = db.session.get(WorkerCheck, check_id)
        return check if check is not None and check.answered_at is not None else None


def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs(
        app: Flask, celery_worker: object, received: list[str]) -> None:
    with app.app_context():
        doomed = request_worker_check(db.session)
        doomed_id = doomed.id
        db.session.rollback()
        kept = request_worker_check(db.session)
        db.session.commit()
        kept_id = kept.id
    # The committed check is answered, so the worker has drained what came before it.
    assert wait_for(lambda: answered(app, kept_id) is not None)
    time.sleep(0.5)
    assert f"sokai.answer_worker_check({kept_id},)" in received
    if doomed_id != kept_id:  # PostgreSQL does not reuse the id; SQLite may
        assert f"sokai.answer_worker_check({doomed_id},)" not in received
    assert len([name for name in received if name.startswith("sokai.answer_worker_check")]) == 1


def test_a_task_enqueued_after_commit_runs_on_the_worker_and_sees_the_row(
        app: Flask, celery_worker: object, received: list[str]) -> None:
    with app.app_context():
        check = request_worker_check(db.session)
        db.session.flush()
        time.sleep(0.5)
        # Nothing is sent before the commit: the worker could not see the row yet.
        assert not [name for name in received if name.startswith("sokai.answer_worker_check")]
        db.session.commit()
        check_id = check.id
    assert wait_for(lambda: answered(app, check_id) is not None)
    check = answered(app, check_id)
    assert check is not None and check.answered_by.startswith("celery@")
    assert check.round_trip_seconds is not None and check.round_trip_seconds >= 0


def test_a_task_announced_inside_a_savepoint_waits_for_the_outer_commit(
        app: Flask, celery_worker: object, received: list[str]) -> None:
    """SQLAlchemy fires after_commit when a SAVEPOINT is released: a task sent then ran before
    its row was visible (five liaisons invited in bulk, two invitations never mailed). A
    savepoint rolled back drops what it announced, and only that."""
    with app.app_context():
        outer = request_worker_check(db.session)
        with db.session.begin_nested():
            inner = request_worker_check(db.session)  # released: still the outer's to commit
        savepoint = db.session.begin_nested()
        dropped = request_worker_check(db.session)
        dropped_id = dropped.id
        savepoint.rollback()
        time.sleep(0.5)
        assert not [name for name in received if name.startswith("sokai.answer_worker_check")]
        db.session.commit()
        outer_id, inner_id = outer.id, inner.id
    assert wait_for(lambda: answered(app, outer_id) is not None
                    and answered(app, inner_id) is not None)
    time.sleep(0.5)
    checks = [name for name in received if name.startswith("sokai.answer_worker_check")]
    assert sorted(checks) == sorted([f"sokai.answer_worker_check({outer_id},)",
                                     f"sokai.answer_worker_check({inner_id},)"])
    assert f"sokai.answer_worker_check({dropped_id},)" not in received


def test_the_sweep_runs_on_the_worker(app: Flask, celery_worker: object) -> None:
    from models import Heartbeat
    from tasks.housekeeping import sweep_task

    sweep_task.delay()

    def swept() -> bool:
        with app.app_context():
            return db.session.get(Heartbeat, "sweep") is not None

    assert wait_for(swept)
    beat_schedule = app.extensions["celery"].conf.beat_schedule
    assert beat_schedule["sweep"]["task"] == "sokai.sweep"
    assert beat_schedule["sweep"]["schedule"] == 60.0
