"""Calendar feeds: what every feed contains, and how the stored bytes are kept up to date.

A change to the programme or to a delegate's sign-ups marks the assembly's feeds dirty (in the
caller's transaction) and, only when they were clean, enqueues one rebuild after commit: a
burst of edits coalesces into few builds. The build refreshes the per-item VEVENT fragments
that changed and assembles every feed from them; the web side serves only stored bytes.
Output depends on the data alone (DTSTAMP and LAST-MODIFIED come from the rows), so unchanged
data gives byte-identical files and the same ETag.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Protocol, TypeVar

from flask import current_app
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from models import (
    Assembly,
    Delegate,
    FeedState,
    FeedToken,
    ItemFragment,
    ItemStatus,
    ProgrammeItem,
    Signup,
    StoredFeed,
    localized,
    utcnow,
)
from models.base import LANGUAGES
from models.calendar import hash_feed_token

log = logging.getLogger(__name__)
T = TypeVar("T")

PRODID = "-//Sokai//Sokai calendar feeds 1.0//EN"
# How often clients should poll: Google and Apple honour one of these two.
REFRESH = timedelta(hours=1)
# The VTIMEZONE covers the assembly with this margin on each side.
ZONE_MARGIN = timedelta(days=7)
END_CALENDAR = "END:VCALENDAR\r\n"
ALARM_CHOICES = (10, 15, 30, 60)


# --- what goes into a feed ----------------------------------------------------------------


def _stamp(moment: datetime) -> datetime:
    # Whole seconds in UTC: iCalendar has no fractions, and the output must be reproducible.
    return moment.astimezone(UTC).replace(microsecond=0)


def item_event(item: ProgrammeItem, assembly: Assembly, lang: str) -> Event:
    """One item as a VEVENT: times in the host zone with TZID, stamps from the row."""
    zone = assembly.zone
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", _stamp(item.updated_at))
    event.add("created", _stamp(item.created_at))
    event.add("last-modified", _stamp(item.updated_at))
    event.add("sequence", item.sequence)
    if item.all_day:
        first = item.starts_at.astimezone(zone).date()
        last = (item.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))  # DTEND of a DATE is exclusive
    else:
        event.add("dtstart", item.starts_at.astimezone(zone).replace(microsecond=0))
        event.add("dtend", item.ends_at.astimezone(zone).replace(microsecond=0))
    event.add("summary", item.display_title(lang))
    place = localized(item.location, lang)
    if place:
        event.add("location", place)
    if item.latitude is not None and item.longitude is not None:
        event.add("geo", (item.latitude, item.longitude))
    home = item.starts_at.astimezone(assembly.home_zone)
    # The secretariat's time too, as the printed programme gives it (language-neutral).
    event.add("description", f"{home:%Y-%m-%d %H:%M} {assembly.home_timezone}")
    event.add("categories", [item.kind.value.replace("_", " ")])
    event.add("status", "CANCELLED" if item.status is ItemStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    network = assembly.network
    organizer = vCalAddress(f"mailto:{network.secretariat_email}")
    organizer.params["cn"] = localized(network.name, lang)
    event.add("organizer", organizer)
    return event


def fragment_stamp(item: ProgrammeItem) -> str:
    return f"{item.updated_at.isoformat()}#{item.sequence}"


def feed_window(assembly: Assembly, items: Iterable[ProgrammeItem]) -> tuple[date, date]:
    days = [assembly.starts_on, assembly.ends_on]
    for item in items:
        days += [item.starts_at.date(), item.ends_at.date()]
    return min(days) - ZONE_MARGIN, max(days) + ZONE_MARGIN


def zone_text(assembly: Assembly, window: tuple[date, date]) -> str:
    """The host zone's VTIMEZONE with the rules in force around the assembly (Asia/Tomsk was
    UTC+7 in September 2014), as Calendar.add_missing_timezones() would add it for this
    window."""
    return Timezone.from_tzid(assembly.timezone, first_date=window[0],
                              last_date=window[1]).to_ical().decode()


def calendar_head(assembly: Assembly, lang: str, name: str, window: tuple[date, date],
                  zone: str | None = None) -> str:
    """Everything before the events: calendar properties and the host zone's VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", assembly.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    text = calendar.to_ical().decode()
    assert text.endswith(END_CALENDAR)
    return text[: -len(END_CALENDAR)] + (zone or zone_text(assembly, window))


def alarm_text(minutes: int, lang: str, title: str = "") -> str:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(minutes=-minutes))
    alarm.add("description", title or ("Reminder" if lang == "en" else "リマインダー"))
    return alarm.to_ical().decode()


def assemble(head: str, fragments: Iterable[str], alarm: str | None = None) -> bytes:
    parts = [head]
    for text in fragments:
        if alarm:
            text = text.replace("END:VEVENT\r\n", alarm + "END:VEVENT\r\n")
        parts.append(text)
    parts.append(END_CALENDAR)
    return "".join(parts).encode()


# --- the stored bytes -------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltFeed:
    body: bytes
    gzip_body: bytes
    etag: str  # sha256 of the bytes, unquoted
    last_modified: datetime

    # Header values, computed once per stored feed rather than once per request.
    @cached_property
    def etag_header(self) -> str:
        return f'"{self.etag}"'

    @cached_property
    def last_modified_header(self) -> str:
        return http_date(self.last_modified)

    def headers(self, cache_control: str) -> list[tuple[str, str]]:
        return [("ETag", self.etag_header), ("Last-Modified", self.last_modified_header),
                ("Cache-Control", cache_control), ("Vary", "Accept-Encoding")]

    @classmethod
    def of(cls, body: bytes, last_modified: datetime) -> BuiltFeed:
        return cls(body=body, gzip_body=gzip.compress(body, compresslevel=6, mtime=0),
                   etag=hashlib.sha256(body).hexdigest(), last_modified=_stamp(last_modified))


class FeedStore(Protocol):
    def etag(self, key: str) -> str | None: ...
    def get(self, key: str) -> BuiltFeed | None: ...
    def put(self, key: str, feed: BuiltFeed, delegate_id: int | None = None) -> None: ...


class DatabaseFeedStore:
    """Feeds in the calendar_feeds table (REDIS_URL unset). Writes join the caller's
    transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def etag(self, key: str) -> str | None:
        return self.session.scalar(select(StoredFeed.etag).where(StoredFeed.key == key))

    def get(self, key: str) -> BuiltFeed | None:
        row = self.session.get(StoredFeed, key)
        if row is None:
            return None
        return BuiltFeed(body=row.body, gzip_body=row.gzip_body, etag=row.etag,
                         last_modified=row.last_modified)

    def put(self, key: str, feed: BuiltFeed, delegate_id: int | None = None) -> None:
        row = self.session.get(StoredFeed, key)
        if row is None:
            row = StoredFeed(key=key, delegate_id=delegate_id)
            self.session.add(row)
        elif row.etag == feed.etag:
            return
        row.body, row.gzip_body, row.etag = feed.body, feed.gzip_body, feed.etag
        row.last_modified, row.built_at = feed.last_modified, utcnow()


class RedisFeedStore:
    """Feeds in Redis (REDIS_URL set): one hash per feed, written through to the database.

    The database copy is what keeps feeds served while Redis does not answer: reads fall back
    to it, and a build that could not reach Redis says so (`behind`), so that the assembly
    stays dirty and the sweep writes the feeds into Redis once it is back. After a failure
    Redis is left alone for RETRY_AFTER seconds, so an outage costs no time per request.
    """

    PREFIX = "sokai:feed:"
    RETRY_AFTER = 5.0
    _down_until: dict[int, float] = {}  # per client

    def __init__(self, client: object, session: Session) -> None:
        self.client = client
        self.database = DatabaseFeedStore(session)
        self.behind = False  # some read or write missed Redis

    def _redis(self, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        import redis

        if self._down_until.get(id(self.client), 0.0) > time.monotonic():
            self.behind = True
            return fallback()
        try:
            return call()
        except redis.RedisError as exc:
            log.warning("feeds: Redis unreachable (%s); using the database copy", exc)
            self._down_until[id(self.client)] = time.monotonic() + self.RETRY_AFTER
            self.behind = True
            return fallback()

    def etag(self, key: str) -> str | None:
        def from_redis() -> str | None:
            value = self.client.hget(self.PREFIX + key, "etag")  # type: ignore[attr-defined]
            return value.decode() if value else None

        return self._redis(from_redis, lambda: self.database.etag(key))

    def get(self, key: str) -> BuiltFeed | None:
        def from_redis() -> BuiltFeed | None:
            fields = self.client.hgetall(self.PREFIX + key)  # type: ignore[attr-defined]
            if not fields:
                return None
            return BuiltFeed(body=fields[b"body"], gzip_body=fields[b"gzip"],
                             etag=fields[b"etag"].decode(),
                             last_modified=datetime.fromisoformat(
                                 fields[b"last_modified"].decode()))

        return self._redis(from_redis, lambda: self.database.get(key))

    def put(self, key: str, feed: BuiltFeed, delegate_id: int | None = None) -> None:
        self.database.put(key, feed, delegate_id)

        def to_redis() -> None:
            self.client.hset(self.PREFIX + key, mapping={  # type: ignore[attr-defined]
                "body": feed.body, "gzip": feed.gzip_body, "etag": feed.etag,
                "last_modified": feed.last_modified.isoformat()})

        self._redis(to_redis, lambda: None)


_REDIS_CLIENTS: dict[str, object] = {}


def feed_store(session: Session, redis_url: str | None) -> FeedStore:
    if not redis_url:
        return DatabaseFeedStore(session)
    client = _REDIS_CLIENTS.get(redis_url)
    if client is None:
        import redis

        # Short timeouts: a Redis that does not answer falls back to the database quickly.
        client = _REDIS_CLIENTS[redis_url] = redis.Redis.from_url(
            redis_url, socket_connect_timeout=1, socket_timeout=1)
    return RedisFeedStore(client, session)


def public_key(assembly_id: int, lang: str) -> str:
    return f"public:{assembly_id}:{lang}"


def personal_key(delegate_id: int) -> str:
    return f"delegate:{delegate_id}"


# --- building ---------------------------------------------------------------------------------


def _feed_items(session: Session, assembly: Assembly, now: datetime) -> list[ProgrammeItem]:
    """The items a feed carries: cancelled ones stay (STATUS:CANCELLED) until they end."""
    return list(session.scalars(
        select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly.id,
            or_(ProgrammeItem.status == ItemStatus.SCHEDULED, ProgrammeItem.ends_at > now))
        .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)))


def refresh_fragments(session: Session, assembly: Assembly, items: list[ProgrammeItem],
                      languages: Iterable[str] = LANGUAGES) -> dict[tuple[int, str], str]:
    """The VEVENT text per (item, language), rebuilding only those whose item changed."""
    wanted = set(languages)
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


def feed_name(assembly: Assembly, lang: str, delegate: Delegate | None = None) -> str:
    title = assembly.display_title(lang)
    if delegate is None:
        return title
    return f"{title} — {delegate.full_name}"


def delegate_item_ids(session: Session, delegate_id: int) -> set[int]:
    return set(session.scalars(select(Signup.item_id).where(Signup.delegate_id == delegate_id)))


def concerns(item: ProgrammeItem, signed_up: set[int]) -> bool:
    """Items for everyone (no capacity) and the optional ones the delegate signed up for."""
    return item.capacity is None or item.id in signed_up


def _last_modified(items: Iterable[ProgrammeItem], fallback: datetime) -> datetime:
    return max((i.updated_at for i in items), default=fallback)


def _put(store: FeedStore, key: str, body: bytes, last_modified: datetime,
         changed_at: datetime, delegate_id: int | None = None) -> BuiltFeed:
    previous = store.get(key)
    if previous is not None and previous.etag == hashlib.sha256(body).hexdigest():
        return previous
    if previous is not None and _stamp(last_modified) <= previous.last_modified:
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
        lang = delegate.language if delegate.language in LANGUAGES else "en"
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
        for lang in LANGUAGES:
            self.public(lang)
        tokens = self.session.scalars(
            select(FeedToken).join(Delegate, Delegate.id == FeedToken.delegate_id)
            .where(Delegate.assembly_id == self.assembly.id, FeedToken.revoked_at.is_(None)))
        count = len(LANGUAGES)
        for token in tokens:
            self.personal(token)
            count += 1
        return count


# --- debounce: mark dirty, build once ------------------------------------------------------


def feeds_changed(session: Session, assembly_id: int) -> bool:
    """Mark the assembly's feeds dirty in the caller's transaction; True when this change
    must enqueue a build (the feeds were clean), False when a build is already on its way."""
    now = utcnow()
    became_dirty = session.execute(
        update(FeedState)
        .where(FeedState.assembly_id == assembly_id,
               FeedState.wanted_version <= FeedState.built_version)
        .values(wanted_version=FeedState.wanted_version + 1, changed_at=now)).rowcount
    if became_dirty:
        return True
    still_dirty = session.execute(
        update(FeedState).where(FeedState.assembly_id == assembly_id)
        .values(wanted_version=FeedState.wanted_version + 1, changed_at=now)).rowcount
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


# --- serving: stored bytes only, a never-built feed built once ---------------------------------

# The last bytes served per key: the store is asked only for the (small) ETag on each request.
_SERVED: dict[str, BuiltFeed] = {}


def stored_feed(store: FeedStore, key: str) -> BuiltFeed | None:
    cached = _SERVED.get(key)
    etag = store.etag(key)
    if etag is None:
        return None
    if cached is not None and cached.etag == etag:
        return cached
    feed = store.get(key)
    if feed is not None:
        _SERVED[key] = feed
    return feed


def public_feed(session: Session, store: FeedStore, assembly: Assembly, lang: str) -> BuiltFeed:
    key = public_key(assembly.id, lang)
    feed = stored_feed(store, key)
    if feed is None:
        feed = _build_once(session, store, key,
                           lambda: Builder(session, assembly, store, utcnow()).public(lang))
    return feed


def _build_once(session: Session, store: FeedStore, key: str,
                build: Callable[[], BuiltFeed]) -> BuiltFeed:
    """Build a never-built feed and store it; if a concurrent request or the worker stored it
    first (a unique-key clash), serve theirs."""
    try:
        feed = build()
        session.commit()
        return feed
    except IntegrityError:
        session.rollback()
        stored = store.get(key)
        if stored is None:
            raise
        return stored


# A token's delegate and feed ETag, remembered this long per web process: a revoked token or
# a rebuilt feed is seen by every process within LOOKUP_TTL (at once by the process that made
# the change), and a busy feed costs one query per process per LOOKUP_TTL, not per request.
LOOKUP_TTL = 1.0
_RECENT_LOOKUPS: dict[str, tuple[float, int, str | None]] = {}


def forget_lookups() -> None:
    _RECENT_LOOKUPS.clear()


# Checks the token and finds the stored ETag in one round trip; built once, reused per request.
_PERSONAL_LOOKUP = (
    select(FeedToken.delegate_id, StoredFeed.etag)
    .outerjoin(StoredFeed, StoredFeed.delegate_id == FeedToken.delegate_id)
    .where(FeedToken.token_hash == bindparam("token_hash"), FeedToken.revoked_at.is_(None))
)


def personal_feed_for(session: Session, store: FeedStore, secret: str) -> BuiltFeed | None:
    """The stored personal feed for this secret; None for unknown and revoked tokens alike.
    The hot path of feed serving: one query, then bytes from memory when the ETag matches."""
    if not secret or len(secret) > 100:
        return None
    token_hash = hash_feed_token(secret)
    now = time.monotonic()
    recent = _RECENT_LOOKUPS.get(token_hash)
    if recent is not None and recent[0] > now:
        delegate_id, etag = recent[1], recent[2]
    else:
        # A pooled connection of its own: cheaper than the ORM session's transaction.
        with session.get_bind().connect() as conn:
            row = conn.execute(_PERSONAL_LOOKUP, {"token_hash": token_hash}).first()
        if row is None:
            _RECENT_LOOKUPS.pop(token_hash, None)
            return None
        delegate_id, etag = row
        if isinstance(store, RedisFeedStore):
            etag = store.etag(personal_key(delegate_id))
        if len(_RECENT_LOOKUPS) > 10_000:
            _RECENT_LOOKUPS.clear()
        _RECENT_LOOKUPS[token_hash] = (now + LOOKUP_TTL, delegate_id, etag)
    key = personal_key(delegate_id)
    cached = _SERVED.get(key)
    if cached is not None and etag is not None and cached.etag == etag:
        return cached
    token = token_for(session, secret)
    if token is None:
        return None
    return personal_feed(session, store, token)


def personal_feed(session: Session, store: FeedStore, token: FeedToken) -> BuiltFeed:
    key = personal_key(token.delegate_id)
    feed = stored_feed(store, key)
    if feed is None:
        assembly = session.get(Assembly, token.delegate.assembly_id)
        assert assembly is not None
        feed = _build_once(session, store, key,
                           lambda: Builder(session, assembly, store, utcnow()).personal(token))
    return feed


# --- tokens -----------------------------------------------------------------------------------


def token_for(session: Session, secret: str) -> FeedToken | None:
    """The active token with this secret, or None (unknown and revoked alike)."""
    if not secret or len(secret) > 100:
        return None
    return session.scalar(select(FeedToken).where(
        and_(FeedToken.token_hash == hash_feed_token(secret), FeedToken.revoked_at.is_(None))))


def feed_key() -> bytes:
    """The key feed secrets are derived with: the app's SECRET_KEY."""
    return str(current_app.config["SECRET_KEY"]).encode()


def issue_token(session: Session, delegate: Delegate) -> str:
    """A new secret for the delegate's feed (replacing any older or revoked one)."""
    token = session.scalar(select(FeedToken).where(FeedToken.delegate_id == delegate.id))
    if token is None:
        token = FeedToken(delegate=delegate)
        session.add(token)
    else:
        token.rotated_at = utcnow()
    secret = token.new_secret(feed_key(), delegate.id)
    session.flush()
    forget_lookups()
    return secret


def current_secrets(session: Session, delegate_ids: Iterable[int]) -> dict[int, str]:
    """The secret of each delegate's personal feed as it works now, issuing one for a
    delegate who has none (in the caller's transaction). A revoked link stays revoked: that
    delegate is left out. One query for all, for a reminder to every delegate."""
    wanted = set(delegate_ids)
    if not wanted:
        return {}
    key = feed_key()
    tokens = {t.delegate_id: t for t in session.scalars(
        select(FeedToken).where(FeedToken.delegate_id.in_(wanted)))}
    found: dict[int, str] = {}
    for delegate_id in sorted(wanted):
        token = tokens.get(delegate_id)
        if token is None:
            token = _new_token(session, delegate_id)
        if token.revoked_at is not None:
            continue
        secret = token.secret(key)
        if secret is None:  # a link made before secrets were derived: replaced
            token.rotated_at = utcnow()
            secret = token.new_secret(key, delegate_id)
            session.flush()
            forget_lookups()
        found[delegate_id] = secret
    return found


def _new_token(session: Session, delegate_id: int) -> FeedToken:
    """A token for a delegate who has none; if a concurrent transaction made one first, that
    one (whose secret derives the same way)."""
    try:
        with session.begin_nested():
            token = FeedToken(delegate_id=delegate_id)
            token.new_secret(feed_key(), delegate_id)
            session.add(token)
    except IntegrityError:
        theirs = session.scalar(select(FeedToken).where(FeedToken.delegate_id == delegate_id))
        assert theirs is not None
        return theirs
    forget_lookups()
    return token


def personal_feed_path(secret: str) -> str:
    """GET /calendar/p/{secret}.ics: the feed a calendar app subscribes to."""
    return f"/calendar/p/{secret}.ics"


def personal_page_path(secret: str) -> str:
    """GET /calendar/p/{secret}: the delegate's programme page with the subscribe links."""
    return f"/calendar/p/{secret}"


def personal_feed_url(session: Session, delegate_id: int, base_url: str) -> str | None:
    """The delegate's personal feed URL as it works now (a token is issued if the delegate
    has none); None when the secretariat revoked the link."""
    secret = current_secrets(session, [delegate_id]).get(delegate_id)
    return base_url.rstrip("/") + personal_feed_path(secret) if secret else None


def personal_page_url(session: Session, delegate_id: int, base_url: str) -> str | None:
    """The delegate's personal programme and calendar page; None when the link is revoked."""
    secret = current_secrets(session, [delegate_id]).get(delegate_id)
    return base_url.rstrip("/") + personal_page_path(secret) if secret else None


def revoke_token(session: Session, delegate: Delegate) -> bool:
    token = session.scalar(select(FeedToken).where(FeedToken.delegate_id == delegate.id))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.flush()
    forget_lookups()
    return True

