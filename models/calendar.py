"""Calendar feeds: delegates' feed tokens, per-item fragments, build state and stored feeds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.delegation import Delegate
from models.user import hash_token

# A feed secret is 32 bytes of MAC: the API tokens' fast hash is enough and lets us look the
# token up by its hash.
hash_feed_token = hash_token


def derive_feed_secret(key: bytes, delegate_id: int, nonce: str) -> str:
    """The secret of a personal feed URL: HMAC-SHA256 (keyed with the app's SECRET_KEY) of the
    delegate and the token's random nonce, URL-safe base64 (43 characters). The server can
    derive it again to put the link in a reminder; nobody without the key can."""
    mac = hmac.new(key, f"sokai-feed:{delegate_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class FeedToken(Base):
    """The secret in a delegate's personal feed URL: derived from the SECRET_KEY, the delegate
    and `nonce`; only its hash is stored (the lookup key).

    One row per delegate: rotating draws a new nonce (the old URL stops working), revoking
    sets revoked_at (the URL answers 404) until the secretariat issues a new one.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"),
                                             unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Random per token; "" on rows made before secrets were derived (re-issued when needed).
    nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Minutes before each item for a VALARM in the personal feed; None: no alarm.
    alarm_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    delegate: Mapped[Delegate] = relationship()

    def new_secret(self, key: bytes, delegate_id: int) -> str:
        """Give this row a fresh secret (a new nonce) and return it; only its hash is
        stored."""
        self.nonce = secrets.token_hex(16)
        secret = derive_feed_secret(key, delegate_id, self.nonce)
        self.token_hash = hash_feed_token(secret)
        self.revoked_at = None
        return secret

    def secret(self, key: bytes) -> str | None:
        """The current secret, derived again; None when it cannot be (a row from before
        derivation, or a changed SECRET_KEY): the caller issues a new one."""
        if not self.nonce:
            return None
        secret = derive_feed_secret(key, self.delegate_id, self.nonce)
        return secret if hmac.compare_digest(hash_feed_token(secret), self.token_hash) else None

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
