"""Where built feeds are kept: the calendar_feeds table (REDIS_URL unset) or Redis, with
their ETag and Last-Modified, and what each web process remembers of them.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.http import http_date

from models import StoredFeed, utcnow
from services.calendar.content import whole_seconds


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
    """Feeds in Redis (REDIS_URL set): one hash per feed."""

    PREFIX = "sokai:feed:"

    def __init__(self, client: object) -> None:
        self.client = client

    def etag(self, key: str) -> str | None:
        value = self.client.hget(self.PREFIX + key, "etag")  # type: ignore[attr-defined]
        return value.decode() if value else None

    def get(self, key: str) -> BuiltFeed | None:
        fields = self.client.hgetall(self.PREFIX + key)  # type: ignore[attr-defined]
        if not fields:
            return None
        return BuiltFeed(body=fields[b"body"], gzip_body=fields[b"gzip"],
                         etag=fields[b"etag"].decode(),
                         last_modified=datetime.fromisoformat(fields[b"last_modified"].decode()))

    def put(self, key: str, feed: BuiltFeed, delegate_id: int | None = None) -> None:
        self.client.hset(self.PREFIX + key, mapping={  # type: ignore[attr-defined]
            "body": feed.body, "gzip": feed.gzip_body, "etag": feed.etag,
            "last_modified": feed.last_modified.isoformat()})


_REDIS_CLIENTS: dict[str, object] = {}


def feed_store(session: Session, redis_url: str | None) -> FeedStore:
    if not redis_url:
        return DatabaseFeedStore(session)
    client = _REDIS_CLIENTS.get(redis_url)
    if client is None:
        import redis

        client = _REDIS_CLIENTS[redis_url] = redis.Redis.from_url(redis_url)
    return RedisFeedStore(client)


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
    RECENT_LOOKUPS.clear()
