"""Personal feed links: the secret in a delegate's link is derived from SECRET_KEY and a
random nonce kept with the token (only its hash is stored), so the same working link can be
put in every mail; a new link is a new nonce."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import current_settings
from models import Delegate, FeedToken, utcnow
from models.calendar import derive_feed_secret, hash_feed_token
from services.calendar.builds import request_rebuild
from services.calendar.store import feed_store, forget_lookups, personal_key


def token_for(session: Session, secret: str) -> FeedToken | None:
    """The active token with this secret, or None (unknown and revoked alike)."""
    if not secret or len(secret) > 100:
        return None
    return session.scalar(select(FeedToken).where(
        and_(FeedToken.token_hash == hash_feed_token(secret), FeedToken.revoked_at.is_(None))))


def feed_key() -> bytes:
    """The key feed secrets are derived with: the app's SECRET_KEY."""
    return current_settings().secret_key.encode()


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
    tokens = _tokens(session, wanted)
    missing = wanted - set(tokens)
    if missing:
        _new_tokens(session, key, missing)
        tokens |= _tokens(session, missing)
    found: dict[int, str] = {}
    for delegate_id in sorted(wanted):
        token = tokens[delegate_id]
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


def _tokens(session: Session, delegate_ids: set[int]) -> dict[int, FeedToken]:
    found: dict[int, FeedToken] = {}
    ids = sorted(delegate_ids)
    for start in range(0, len(ids), 1000):  # within every database's parameter limit
        found.update((t.delegate_id, t) for t in session.scalars(
            select(FeedToken).where(FeedToken.delegate_id.in_(ids[start:start + 1000]))))
    return found


def _new_tokens(session: Session, key: bytes, delegate_ids: set[int]) -> None:
    """Tokens for delegates who have none, in one statement; where a concurrent transaction
    made one first, that one stays (its secret derives the same way)."""
    now = utcnow()
    rows = []
    for delegate_id in sorted(delegate_ids):
        nonce = secrets.token_hex(16)
        rows.append({"delegate_id": delegate_id, "nonce": nonce, "created_at": now,
                     "token_hash": hash_feed_token(derive_feed_secret(key, delegate_id,
                                                                      nonce))})
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(cast(Table, FeedToken.__table__)).on_conflict_do_nothing(
        index_elements=["delegate_id"]), rows)
    forget_lookups()


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


def forget_personal_feed(session: Session, delegate: Delegate, redis_url: str | None) -> None:
    """Erasure: the delegate's link stops working and the stored feed, which carries their
    name, is deleted (a later build makes none for a revoked link)."""
    revoke_token(session, delegate)
    feed_store(session, redis_url).forget(personal_key(delegate.id))
    forget_lookups()


def choose_alarm(session: Session, token: FeedToken, minutes: int | None) -> None:
    """The delegate's choice of a reminder (VALARM) in their feed; the feed is rebuilt."""
    token.alarm_minutes = minutes or None
    request_rebuild(session, token.delegate.assembly_id)


def new_link(session: Session, delegate: Delegate) -> str:
    """A new private link for the delegate (the old one stops working); returns its secret."""
    secret = issue_token(session, delegate)
    request_rebuild(session, delegate.assembly_id)
    return secret


def issue_all_links(session: Session, assembly_id: int, base_url: str
                    ) -> list[tuple[Delegate, str]]:
    """Every delegate of the assembly with their working private page link, issuing one for
    each delegate who has none (a revoked link stays revoked: that delegate is left out).
    One click for the secretariat instead of one per delegate."""
    delegates = list(session.scalars(select(Delegate).where(
        Delegate.assembly_id == assembly_id).order_by(Delegate.delegation_id, Delegate.id)))
    secrets = current_secrets(session, [d.id for d in delegates])
    request_rebuild(session, assembly_id)
    base = base_url.rstrip("/")
    return [(d, base + personal_page_path(secrets[d.id])) for d in delegates if d.id in secrets]
