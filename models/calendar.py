"""Calendar feeds: delegates' feed tokens, per-item fragments, build state and stored feeds."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.delegation import Delegate


def hash_feed_token(token: str) -> str:
    # 32 random bytes: a fast hash is enough and lets us look the token up by its hash.
    return hashlib.sha256(token.encode()).hexdigest()


class FeedToken(Base):
    """The secret in a delegate's personal feed URL; only its hash is stored.

    One row per delegate: rotating replaces the hash (the old URL stops working), revoking
    sets revoked_at (the URL answers 404) until the secretariat issues a new one.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"),
                                             unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Minutes before each item for a VALARM in the personal feed; None: no alarm.
    alarm_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    delegate: Mapped[Delegate] = relationship()

    def new_secret(self) -> str:
        """Give this row a fresh secret; returns it (shown once, never stored)."""
        secret = secrets.token_urlsafe(32)
        self.token_hash = hash_feed_token(secret)
        self.revoked_at = None
        return secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class FeedState(Base):
    """Debounce of an assembly's feed builds: changes raise `wanted`, builds reach it."""

    __tablename__ = "feed_states"

    assembly_id: Mapped[int] = mapped_column(
        ForeignKey("assemblies.id", ondelete="CASCADE"), primary_key=True)
    wanted_version: Mapped[int] = mapped_column(default=1)
    built_version: Mapped[int] = mapped_column(default=0)
    builds: Mapped[int] = mapped_column(default=0)  # how many builds ran (seen by tests)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]


class ItemFragment(Base):
    """One item's VEVENT in one language, as folded iCalendar text, rebuilt when it changes."""

    __tablename__ = "calendar_fragments"
    __table_args__ = (UniqueConstraint("item_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("programme_items.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    # The item's updated_at and sequence when the text was made: stale when they differ.
    source_stamp: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class StoredFeed(Base):
    """Built ICS bytes, their strong ETag and Last-Modified (when REDIS_URL is unset)."""

    __tablename__ = "calendar_feeds"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Set on personal feeds, so that one query checks a token and finds its feed's ETag.
    delegate_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegates.id", ondelete="CASCADE"), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    gzip_body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))
    last_modified: Mapped[datetime]
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
