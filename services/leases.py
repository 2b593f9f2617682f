"""Leases in the database: a second scheduler started by mistake waits instead of sending
every periodic task twice. Works the same on SQLite and PostgreSQL: taking or renewing is
one conditional UPDATE (or the first INSERT), so two contenders can never both win."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import affected, utcnow
from models.lease import Lease


def hold(session: Session, name: str, holder: str, ttl: float,
         now: datetime | None = None) -> bool:
    """Take or renew lease `name` for `holder` for `ttl` seconds; False if another holds it.
    Commits (the lease must be visible to the other contenders at once)."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    taken = affected(session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=expires)))
    if taken:
        session.commit()
        return True
    if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
        session.rollback()
        return False
    session.add(Lease(name=name, holder=holder, expires_at=expires))
    try:
        session.commit()
    except IntegrityError:  # another contender inserted it first
        session.rollback()
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up (a clean stop) so that a standby takes over without waiting."""
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()


def holder_of(session: Session, name: str) -> str | None:
    lease = session.get(Lease, name)
    if lease is None or lease.expires_at < utcnow():
        return None
    return lease.holder
