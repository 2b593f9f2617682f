"""Building calendar feeds in the background, debounced per assembly."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import utcnow
from services.calendar import (
    assemblies_with_ended_cancellations,
    build_pending,
    feed_store,
    feeds_changed,
    stale_assemblies,
    still_changing,
)
from tasks import enqueue_after_commit
from tasks.housekeeping import sweeper
from webapp.extensions import db

# A dirty assembly whose build message was lost is rebuilt by the sweep after this long.
STALE_BUILD = timedelta(seconds=30)
# Debounce: wait until the programme has been quiet this long (a burst of edits is one
# build), but never defer more than MAX_DEFERRALS times in a row.
QUIET = timedelta(seconds=0.3)
MAX_DEFERRALS = 10


def request_rebuild(session: Session, assembly_id: int) -> None:
    """Call in the transaction that changes the programme, sign-ups or a feed preference."""
    if feeds_changed(session, assembly_id):
        enqueue_after_commit(session, build_calendar_task, assembly_id)


def build_calendar(session: Session, assembly_id: int, redis_url: str | None,
                   deferrals: int = MAX_DEFERRALS) -> bool:
    """Rebuild the assembly's feeds if they are behind; True if another pass was queued."""
    if deferrals < MAX_DEFERRALS and still_changing(session, assembly_id, QUIET):
        build_calendar_task.apply_async((assembly_id, deferrals + 1),
                                        countdown=QUIET.total_seconds())
        return True
    store = feed_store(session, redis_url)
    try:
        again = build_pending(session, assembly_id, store)
    except IntegrityError:
        # Another build of the same assembly stored its fragments first: try again shortly.
        session.rollback()
        build_calendar_task.apply_async((assembly_id, MAX_DEFERRALS),
                                        countdown=QUIET.total_seconds())
        return True
    if again:  # changes arrived during the build and did not enqueue: one more pass
        build_calendar_task.delay(assembly_id)
    return again


@sweeper("feeds")
def rebuild_stale(session: Session) -> int:
    """Builds lost with their broker message, and feeds still showing a cancelled item that
    has ended (cancelled items stay in calendars until they end, then leave)."""
    for assembly_id in assemblies_with_ended_cancellations(session, utcnow()):
        request_rebuild(session, assembly_id)
    session.commit()
    stale = stale_assemblies(session, STALE_BUILD)
    session.commit()
    for assembly_id in stale:
        build_calendar_task.delay(assembly_id)
    return len(stale)


@shared_task(name="sokai.build_calendar")
def build_calendar_task(assembly_id: int, deferrals: int = 0) -> bool:
    return build_calendar(db.session, assembly_id,
                          current_app.config["SOKAI_SETTINGS"].redis_url, deferrals)
