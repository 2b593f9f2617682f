"""What the live board polls: a version that changes with every check-in or undo, so a poll
that finds the same version costs nothing more.

The version is the newest check-in event's id. With REDIS_URL set, each change is written to
Redis after its commit and every web process reads it there (one GET, no database); without
Redis, or while it does not answer, the database gives the same number.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from config import current_settings
from models import CheckInEvent

log = logging.getLogger(__name__)

_KEY = "sokai:checkin:version:{}"
_PENDING = "sokai.checkin.versions"
_CLIENTS: dict[str, Any] = {}
_down_until: dict[str, float] = {}
RETRY_AFTER = 5.0


def _redis() -> Any | None:
    url = current_settings().redis_url
    if not url or _down_until.get(url, 0.0) > time.monotonic():
        return None
    client = _CLIENTS.get(url)
    if client is None:
        import redis

        client = _CLIENTS[url] = redis.Redis.from_url(url, socket_connect_timeout=1,
                                                      socket_timeout=1)
    return client


def _redis_failed(exc: Exception) -> None:
    url = current_settings().redis_url or ""
    log.warning("check-in board: Redis unreachable (%s); reading the database", exc)
    _down_until[url] = time.monotonic() + RETRY_AFTER


def announce_change(session: Session, assembly_id: int, event_id: int) -> None:
    """After the commit, the boards of this assembly see a new version."""
    session.info.setdefault(_PENDING, {})[assembly_id] = event_id


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    try:
        client = _redis()
    except RuntimeError:  # outside an app context: nobody reads Redis there
        return
    if client is None:
        return
    import redis

    try:
        for assembly_id, version in pending.items():
            # Never backwards: a slower commit of an older event must not hide a newer one.
            client.eval("local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
                        "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end",
                        1, _KEY.format(assembly_id), version)
    except redis.RedisError as exc:
        _redis_failed(exc)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _from_database(session: Session, assembly_id: int) -> int:
    return int(session.scalar(select(func.max(CheckInEvent.id))
                              .where(CheckInEvent.assembly_id == assembly_id)) or 0)


def board_version(session: Session, assembly_id: int) -> int:
    client = _redis()
    if client is None:
        return _from_database(session, assembly_id)
    import redis

    try:
        value = client.get(_KEY.format(assembly_id))
        if value is None:
            # First read since Redis started (or was emptied): seed it from the database.
            version = _from_database(session, assembly_id)
            client.set(_KEY.format(assembly_id), version, nx=True)
            return version
        return int(value)
    except redis.RedisError as exc:
        _redis_failed(exc)
        return _from_database(session, assembly_id)
