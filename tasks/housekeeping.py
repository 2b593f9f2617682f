"""Worker round trips and the periodic sweep."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime

from celery import shared_task
from sqlalchemy.orm import Session

from models import Heartbeat, WorkerCheck, utcnow
from webapp.extensions import db

log = logging.getLogger(__name__)

Sweeper = Callable[[Session], int]
# Each area that owns pending rows (outbox, feeds, summaries) registers how to repair them.
SWEEPERS: dict[str, Sweeper] = {}


def sweeper(name: str) -> Callable[[Sweeper], Sweeper]:
    def register(func: Sweeper) -> Sweeper:
        SWEEPERS[name] = func
        return func

    return register


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
    """Re-enqueue work left pending by a lost broker message or a dead worker.

    One failing area does not stop the others; each returns how many rows it re-enqueued.
    """
    result: dict[str, int] = {}
    for name, func in SWEEPERS.items():
        try:
            result[name] = func(session)
        except Exception:
            log.exception("sweep: %s failed", name)
            session.rollback()
    beat = session.get(Heartbeat, "sweep") or Heartbeat(name="sweep")
    beat.seen_at = now or utcnow()
    beat.detail = f"swept by {socket.gethostname()}"
    session.add(beat)
    session.commit()
    return result


@shared_task(name="sokai.answer_worker_check")
def answer_worker_check_task(check_id: int) -> None:
    answer_worker_check(db.session, check_id, f"celery@{socket.gethostname()}")


@shared_task(name="sokai.sweep")
def sweep_task() -> dict[str, int]:
    return sweep(db.session)
