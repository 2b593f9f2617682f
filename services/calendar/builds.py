"""Keeping the stored feeds up to date: a change marks the assembly's feeds dirty (in the
caller's transaction) and, only when they were clean, enqueues one build after commit, so a
burst of edits coalesces into few builds. The build refreshes the per-item VEVENT fragments
that changed and assembles every feed from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Assembly,
    Delegate,
    FeedState,
    FeedToken,
    ItemFragment,
    ItemStatus,
    ProgrammeItem,
    utcnow,
)
from models.base import affected
from models.languages import REGISTRY, language_or_default
from services.background import BUILD_CALENDAR, dispatch, enqueue_after_commit
from services.calendar.content import (
    alarm_text,
    assemble,
    calendar_head,
    concerns,
    delegate_item_ids,
    feed_name,
    feed_window,
    fragment_stamp,
    item_event,
    whole_seconds,
    zone_text,
)
from services.calendar.store import (
    BuiltFeed,
    FeedStore,
    feed_store,
    forget_lookups,
    personal_key,
    public_key,
)

# A dirty assembly whose build message was lost is rebuilt by the sweep after this long.
STALE_BUILD = timedelta(seconds=30)
# Debounce: wait until the programme has been quiet this long (a burst of edits is one
# build), but never defer more than MAX_DEFERRALS times in a row.
QUIET = timedelta(seconds=0.3)
MAX_DEFERRALS = 10


def _feed_items(session: Session, assembly: Assembly, now: datetime) -> list[ProgrammeItem]:
    """The items a feed carries: cancelled ones stay (STATUS:CANCELLED) until they end."""
    return list(session.scalars(
        select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly.id,
            or_(ProgrammeItem.status == ItemStatus.SCHEDULED, ProgrammeItem.ends_at > now))
        .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)))


def refresh_fragments(session: Session, assembly: Assembly, items: list[ProgrammeItem],
                      languages: Iterable[str] = ()) -> dict[tuple[int, str], str]:
    """The VEVENT text per (item, language), rebuilding only those whose item changed."""
    wanted = set(languages or REGISTRY)
    rows = {(f.item_id, f.language): f for f in session.scalars(
        select(ItemFragment).where(ItemFragment.item_id.in_([i.id for i in items]),
                                   ItemFragment.language.in_(wanted)))} if items else {}
    texts: dict[tuple[int, str], str] = {}
    for item in items:
        stamp = fragment_stamp(item)
        for lang in wanted:
            row = rows.get((item.id, lang))
            if row is None:
                row = ItemFragment(item_id=item.id, language=lang, source_stamp="", text="")
                session.add(row)
            if row.source_stamp != stamp:
                row.text = item_event(item, assembly, lang).to_ical().decode()
                row.source_stamp = stamp
            texts[(item.id, lang)] = row.text
    return texts


def _last_modified(items: Iterable[ProgrammeItem], fallback: datetime) -> datetime:
    return max((i.updated_at for i in items), default=fallback)


def _put(store: FeedStore, key: str, body: bytes, last_modified: datetime,
         changed_at: datetime, delegate_id: int | None = None) -> BuiltFeed:
    previous = store.get(key)
    if previous is not None and previous.etag == hashlib.sha256(body).hexdigest():
        return previous
    if previous is not None and whole_seconds(last_modified) <= previous.last_modified:
        # Content changed without a newer row stamp (a sign-up removed, an alarm switched):
        # the time the change was recorded keeps If-Modified-Since honest.
        last_modified = max(changed_at, previous.last_modified + timedelta(seconds=1))
    feed = BuiltFeed.of(body, last_modified)
    store.put(key, feed, delegate_id)
    forget_lookups()
    return feed


@dataclass
class Builder:
    """Builds the feeds of one assembly from its fragments, sharing work between feeds."""

    session: Session
    assembly: Assembly
    store: FeedStore
    now: datetime

    def __post_init__(self) -> None:
        self.items = _feed_items(self.session, self.assembly, self.now)
        self.window = feed_window(self.assembly, self.items)
        self.texts = refresh_fragments(self.session, self.assembly, self.items)
        self.zone = zone_text(self.assembly, self.window)  # the same for every feed
        state = self.session.get(FeedState, self.assembly.id)
        self.changed_at = state.changed_at if state else self.now

    def public(self, lang: str) -> BuiltFeed:
        head = calendar_head(self.assembly, lang, feed_name(self.assembly, lang), self.window,
                             self.zone)
        body = assemble(head, (self.texts[(i.id, lang)] for i in self.items))
        return _put(self.store, public_key(self.assembly.id, lang), body,
                    _last_modified(self.items, self.assembly.updated_at), self.changed_at)

    def personal(self, token: FeedToken) -> BuiltFeed:
        delegate = token.delegate
        lang = language_or_default(delegate.language)
        signed_up = delegate_item_ids(self.session, delegate.id)
        mine = [i for i in self.items if concerns(i, signed_up)]
        head = calendar_head(self.assembly, lang, feed_name(self.assembly, lang, delegate),
                             self.window, self.zone)
        alarm = alarm_text(token.alarm_minutes, lang) if token.alarm_minutes else None
        body = assemble(head, (self.texts[(i.id, lang)] for i in mine), alarm)
        return _put(self.store, personal_key(delegate.id), body,
                    _last_modified(mine, self.assembly.updated_at), self.changed_at,
                    delegate.id)

    def everything(self) -> int:
        for lang in REGISTRY:
            self.public(lang)
        tokens = self.session.scalars(
            select(FeedToken).join(Delegate, Delegate.id == FeedToken.delegate_id)
            .where(Delegate.assembly_id == self.assembly.id, FeedToken.revoked_at.is_(None)))
        count = len(REGISTRY)
        for token in tokens:
            self.personal(token)
            count += 1
        return count


# --- debounce: mark dirty, build once ------------------------------------------------------


def feeds_changed(session: Session, assembly_id: int) -> bool:
    """Mark the assembly's feeds dirty in the caller's transaction; True when this change
    must enqueue a build (the feeds were clean), False when a build is already on its way."""
    now = utcnow()
    became_dirty = affected(session.execute(
        update(FeedState)
        .where(FeedState.assembly_id == assembly_id,
               FeedState.wanted_version <= FeedState.built_version)
        .values(wanted_version=FeedState.wanted_version + 1, changed_at=now)))
    if became_dirty:
        return True
    still_dirty = affected(session.execute(
        update(FeedState).where(FeedState.assembly_id == assembly_id)
        .values(wanted_version=FeedState.wanted_version + 1, changed_at=now)))
    if still_dirty:
        return False
    session.add(FeedState(assembly_id=assembly_id, wanted_version=1, built_version=0,
                          changed_at=now))
    session.flush()
    return True


def build_pending(session: Session, assembly_id: int, store: FeedStore,
                  now: datetime | None = None) -> bool:
    """Rebuild the assembly's feeds if they are older than the last change. Returns whether
    another build is wanted (changes arrived meanwhile). Idempotent."""
    state = session.get(FeedState, assembly_id)
    assembly = session.get(Assembly, assembly_id)
    if state is None or assembly is None or state.built_version >= state.wanted_version:
        session.commit()
        return False
    target = state.wanted_version
    Builder(session, assembly, store, now or utcnow()).everything()
    if getattr(store, "behind", False):
        # Stored in the database (served from there meanwhile) but not in Redis: the
        # assembly stays dirty, and the sweep builds it again once Redis answers.
        session.commit()
        return False
    session.execute(update(FeedState)
                    .where(FeedState.assembly_id == assembly_id,
                           FeedState.built_version < target)
                    .values(built_version=target, builds=FeedState.builds + 1,
                            built_at=utcnow()))
    session.commit()
    wanted = session.scalar(select(FeedState.wanted_version)
                            .where(FeedState.assembly_id == assembly_id))
    session.commit()
    return (wanted or 0) > target


def still_changing(session: Session, assembly_id: int, quiet: timedelta) -> bool:
    """Dirty, and changed less than `quiet` ago (more edits are probably coming)."""
    changed_at = session.scalar(select(FeedState.changed_at).where(
        FeedState.assembly_id == assembly_id,
        FeedState.wanted_version > FeedState.built_version))
    session.commit()
    return changed_at is not None and utcnow() - changed_at < quiet


def assemblies_with_ended_cancellations(session: Session, now: datetime) -> list[int]:
    """Assemblies whose feeds still carry a cancelled item that has ended since the last
    build: the next build drops it."""
    return list(session.scalars(
        select(ProgrammeItem.assembly_id).distinct()
        .join(FeedState, FeedState.assembly_id == ProgrammeItem.assembly_id)
        .where(ProgrammeItem.status == ItemStatus.CANCELLED, ProgrammeItem.ends_at <= now,
               FeedState.built_at.is_not(None), ProgrammeItem.ends_at > FeedState.built_at)))


def stale_assemblies(session: Session, older_than: timedelta) -> list[int]:
    return list(session.scalars(select(FeedState.assembly_id).where(
        FeedState.wanted_version > FeedState.built_version,
        FeedState.changed_at < utcnow() - older_than)))


def request_rebuild(session: Session, assembly_id: int) -> None:
    """Call in the transaction that changes the programme, sign-ups or a feed preference."""
    if feeds_changed(session, assembly_id):
        enqueue_after_commit(session, BUILD_CALENDAR, assembly_id)


def build_calendar(session: Session, assembly_id: int, redis_url: str | None,
                   deferrals: int = MAX_DEFERRALS) -> bool:
    """The worker's job: rebuild the assembly's feeds if they are behind; True if another
    pass was queued."""
    if deferrals < MAX_DEFERRALS and still_changing(session, assembly_id, QUIET):
        dispatch(BUILD_CALENDAR, assembly_id, deferrals + 1, countdown=QUIET.total_seconds())
        return True
    store = feed_store(session, redis_url)
    try:
        again = build_pending(session, assembly_id, store)
    except IntegrityError:
        # Another build of the same assembly stored its fragments first: try again shortly.
        session.rollback()
        dispatch(BUILD_CALENDAR, assembly_id, MAX_DEFERRALS, countdown=QUIET.total_seconds())
        return True
    if again:  # changes arrived during the build and did not enqueue: one more pass
        dispatch(BUILD_CALENDAR, assembly_id)
    return again


def rebuild_stale(session: Session) -> int:
    """For the sweep: builds lost with their broker message, and feeds still showing a
    cancelled item that has ended (cancelled items stay in calendars until they end, then
    leave)."""
    for assembly_id in assemblies_with_ended_cancellations(session, utcnow()):
        request_rebuild(session, assembly_id)
    session.commit()
    stale = stale_assemblies(session, STALE_BUILD)
    session.commit()
    for assembly_id in stale:
        dispatch(BUILD_CALENDAR, assembly_id)
    return len(stale)
