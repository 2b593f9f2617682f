"""Worker round trips and the periodic sweep."""

from __future__ import annotations

import socket
from datetime import datetime

from celery import shared_task
from sqlalchemy.orm import Session

from models import Heartbeat, WorkerCheck, utcnow
from webapp.extensions import db


def answer_worker_check(session: Session, check_id: int, worker: str) -> WorkerCheck | None:
    """Record that a worker received check `check_id` (idempotent: the first answer stays)."""
    check = session.get(WorkerCheck, check_id)
    if check is None:
        return None
    if check.answered_at is None:
        check.answered_at = utcnow()
        check.answered_by = worker
    session.commit()
    return check


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue work left pending by a lost message or a dead worker.

    Each area that owns pending rows (outbox, feeds, summaries) adds its part here; for now
    the sweep only leaves its heartbeat so the health page can tell that beat is alive.
    """
    now = now or utcnow()
    beat = session.get(Heartbeat, "sweep") or Heartbeat(name="sweep")
    beat.seen_at = now
    beat.detail = f"swept by {socket.gethostname()}"
    session.add(beat)
    session.commit()
    return {}


@shared_task(name="sokai.answer_worker_check")
def answer_worker_check_task(check_id: int) -> None:
    answer_worker_check(db.session, check_id, f"celery@{socket.gethostname()}")


@shared_task(name="sokai.sweep")
def sweep_task() -> dict[str, int]:
    return sweep(db.session)
