"""Where built feeds are kept: the calendar_feeds table (REDIS_URL unset) or Redis, with
their ETag and Last-Modified, and what each web process remembers of them.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Protocol, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from models import StoredFeed, utcnow
from services.calendar.content import whole_seconds

log = logging.getLogger(__name__)
T = TypeVar("T")


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
                   etag=hashlib.sha256(body).hexdigest(),
                   last_modified=whole_seconds(last_modified))


class FeedStore(Protocol):
    def etag(self, key: str) -> str | None: ...
    def get(self, key: str) -> BuiltFeed | None: ...
    def put(self, key: str, feed: BuiltFeed, delegate_id: int | None = None) -> None: ...
    def forget(self, key: str) -> None: ...


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

    def forget(self, key: str) -> None:
        self.session.execute(delete(StoredFeed).where(StoredFeed.key == key))


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

    def forget(self, key: str) -> None:
        self.database.forget(key)
        # Best effort: a key Redis keeps while it is down is never served for a revoked
        # token, and `sokai restore` clears the feed keys.
        self._redis(lambda: self.client.delete(self.PREFIX + key),  # type: ignore[attr-defined]
                    lambda: None)


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


# A token's delegate and feed ETag, remembered this long per web process: a revoked token or
# a rebuilt feed is seen by every process within LOOKUP_TTL (at once by the process that made
# the change), and a busy feed costs one query per process per LOOKUP_TTL, not per request.
LOOKUP_TTL = 1.0
RECENT_LOOKUPS: dict[str, tuple[float, int, str | None]] = {}


def forget_lookups() -> None:
    """This process changed a feed or a token: its memos of lookups are out of date."""
    RECENT_LOOKUPS.clear()
    for forget in OTHER_MEMOS:
        forget()


# Other memos to clear with the lookups (registered by the modules that keep them).
OTHER_MEMOS: list[Callable[[], None]] = []
