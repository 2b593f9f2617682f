"""Serving feeds: stored bytes only (a never-built feed is built once), with the lookups a
busy feed needs kept to one small query per process and second."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Assembly, FeedToken, StoredFeed, utcnow
from models.calendar import hash_feed_token
from services.calendar.builds import Builder
from services.calendar.store import (
    LOOKUP_TTL,
    OTHER_MEMOS,
    RECENT_LOOKUPS,
    BuiltFeed,
    FeedStore,
    RedisFeedStore,
    personal_key,
    public_key,
)
from services.calendar.tokens import token_for

# The last bytes served per key: the store is asked only for the (small) ETag on each request.
_SERVED: dict[str, BuiltFeed] = {}
# A public feed's key per (slug, language), remembered LOOKUP_TTL like the personal lookups:
# within that second a request is answered from _SERVED without asking the database.
PUBLIC_LOOKUPS: dict[tuple[str, str], tuple[float, str]] = {}
OTHER_MEMOS.append(PUBLIC_LOOKUPS.clear)


def known_public(slug: str, lang: str) -> BuiltFeed | None:
    """The public feed's bytes if this process served them less than LOOKUP_TTL ago."""
    recent = PUBLIC_LOOKUPS.get((slug, lang))
    if recent is None or recent[0] <= time.monotonic():
        return None
    return _SERVED.get(recent[1])


def known_personal(secret: str) -> BuiltFeed | None:
    """A personal feed's bytes if this process looked its token up less than LOOKUP_TTL ago
    and holds the bytes of the ETag it found then (None: ask the database)."""
    if not secret or len(secret) > 100:
        return None
    recent = RECENT_LOOKUPS.get(hash_feed_token(secret))
    if recent is None or recent[0] <= time.monotonic() or recent[2] is None:
        return None
    cached = _SERVED.get(personal_key(recent[1]))
    return cached if cached is not None and cached.etag == recent[2] else None


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
    if len(PUBLIC_LOOKUPS) > 10_000:
        PUBLIC_LOOKUPS.clear()
    PUBLIC_LOOKUPS[(assembly.slug, lang)] = (time.monotonic() + LOOKUP_TTL, key)
    _SERVED[key] = feed
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
    recent = RECENT_LOOKUPS.get(token_hash)
    if recent is not None and recent[0] > now:
        delegate_id, etag = recent[1], recent[2]
    else:
        # A pooled connection of its own: cheaper than the ORM session's transaction.
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        with engine.connect() as conn:
            row = conn.execute(_PERSONAL_LOOKUP, {"token_hash": token_hash}).first()
        if row is None:
            RECENT_LOOKUPS.pop(token_hash, None)
            return None
        delegate_id, etag = row
        if isinstance(store, RedisFeedStore):
            etag = store.etag(personal_key(delegate_id))
        if len(RECENT_LOOKUPS) > 10_000:
            RECENT_LOOKUPS.clear()
        RECENT_LOOKUPS[token_hash] = (now + LOOKUP_TTL, delegate_id, etag)
    key = personal_key(delegate_id)
    cached = _SERVED.get(key)
    if cached is not None and etag is not None and cached.etag == etag:
        return cached
    token = token_for(session, secret)
    if token is None:
        return None
    feed = personal_feed(session, store, token)
    # Remember what was served (a first build forgets every lookup, this one included).
    RECENT_LOOKUPS[token_hash] = (time.monotonic() + LOOKUP_TTL, delegate_id, feed.etag)
    return feed


def personal_feed(session: Session, store: FeedStore, token: FeedToken) -> BuiltFeed:
    key = personal_key(token.delegate_id)
    feed = stored_feed(store, key)
    if feed is None:
        assembly = session.get(Assembly, token.delegate.assembly_id)
        assert assembly is not None
        feed = _build_once(session, store, key,
                           lambda: Builder(session, assembly, store, utcnow()).personal(token))
        _SERVED[key] = feed
    return feed

