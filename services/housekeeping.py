"""Keeping the background honest: the sweep that beat runs every minute, and worker round
trips that show people the worker is alive.

The database is the truth for every job; the sweep re-enqueues work left pending by a lost
broker message or a dead worker, and sends the reminders that have fallen due. One failing
part does not stop the others.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import current_settings
from models import Heartbeat, WorkerCheck, utcnow
from services.background import ANSWER_WORKER_CHECK, enqueue_after_commit
from services.calendar.builds import rebuild_stale
from services.checkin.badges import requeue_badge_jobs
from services.mail.delivery import resend_pending
from services.reminders.sweep import send_due_reminders
from services.summaries.building import requeue_summaries

log = logging.getLogger(__name__)


def _reminders(session: Session) -> int:
    return send_due_reminders(session, current_settings())


# Each area that owns pending rows, and how to repair them (returns how many it re-enqueued).
SWEEPERS: dict[str, Callable[[Session], int]] = {
    "calendar": rebuild_stale,
    "mail": resend_pending,
    "reminders": _reminders,
    "summaries": requeue_summaries,
    "badges": requeue_badge_jobs,
}


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Run every area's repair; leave a heartbeat saying when and where it ran."""
    result: dict[str, int] = {}
    for name, repair in SWEEPERS.items():
        try:
            result[name] = repair(session)
        except Exception:
            log.exception("sweep: %s failed", name)
            session.rollback()
    beat = session.get(Heartbeat, "sweep") or Heartbeat(name="sweep")
    beat.seen_at = now or utcnow()
    beat.detail = f"swept by {socket.gethostname()}"
    session.add(beat)
    session.commit()
    return result


# --- worker round trips -------------------------------------------------------------------------


def request_worker_check(session: Session) -> WorkerCheck:
    """Write a check row and, once it is committed, ask a worker to answer it."""
    check = WorkerCheck()
    session.add(check)
    session.flush()
    enqueue_after_commit(session, ANSWER_WORKER_CHECK, check.id)
    return check


def latest_worker_check(session: Session) -> WorkerCheck | None:
    return session.scalar(select(WorkerCheck).order_by(WorkerCheck.id.desc()).limit(1))


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
