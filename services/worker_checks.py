"""A round trip through the broker, so people can see that the worker is alive."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import WorkerCheck
from tasks import enqueue_after_commit
from tasks.housekeeping import answer_worker_check_task


def request_worker_check(session: Session) -> WorkerCheck:
    """Write a check row and, once it is committed, ask a worker to answer it."""
    check = WorkerCheck()
    session.add(check)
    session.flush()
    enqueue_after_commit(session, answer_worker_check_task, check.id)
    return check


def latest_worker_check(session: Session) -> WorkerCheck | None:
    return session.scalar(select(WorkerCheck).order_by(WorkerCheck.id.desc()).limit(1))
