"""What the background side is doing, in numbers: the same figures feed /metrics and the
secretariat's "Background work" panel (which says them in words)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Heartbeat, MailStatus, OutboxMessage, utcnow
from services.leases import holder_of

WORKER = "worker"
# A worker notes it is alive at most this often (each task would otherwise write a row).
WORKER_BEAT_EVERY = 15.0
_last_worker_beat = 0.0


@dataclass(frozen=True)
class BackgroundStatus:
    mail_waiting: int  # pending or being sent
    oldest_waiting_at: datetime | None
    mail_failed: int
    last_sweep_at: datetime | None
    worker_seen_at: datetime | None
    worker_seen_by: str
    scheduler: str | None  # the beat holding the lease, if one does
    now: datetime

    def age(self, moment: datetime | None) -> float | None:
        return None if moment is None else max(0.0, (self.now - moment).total_seconds())


def background_status(session: Session, now: datetime | None = None) -> BackgroundStatus:
    waiting = (MailStatus.PENDING, MailStatus.SENDING)
    count, oldest = session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(waiting))).one()
    failed = session.scalar(select(func.count(OutboxMessage.id))
                            .where(OutboxMessage.status == MailStatus.FAILED)) or 0
    sweep = session.get(Heartbeat, "sweep")
    worker = session.get(Heartbeat, WORKER)
    if oldest is not None and oldest.tzinfo is None:  # min() bypasses the column type
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return BackgroundStatus(
        mail_waiting=count or 0, oldest_waiting_at=oldest, mail_failed=failed,
        last_sweep_at=None if sweep is None else sweep.seen_at,
        worker_seen_at=None if worker is None else worker.seen_at,
        worker_seen_by="" if worker is None else worker.detail,
        scheduler=holder_of(session, "beat"), now=now or utcnow())


def note_worker_alive(session: Session, worker: str, force: bool = False) -> None:
    """Called by a worker after each task; writes at most every WORKER_BEAT_EVERY seconds."""
    global _last_worker_beat
    if not force and time.monotonic() - _last_worker_beat < WORKER_BEAT_EVERY:
        return
    _last_worker_beat = time.monotonic()
    beat = session.get(Heartbeat, WORKER) or Heartbeat(name=WORKER)
    beat.seen_at = utcnow()
    beat.detail = worker[:200]
    session.add(beat)
    session.commit()
