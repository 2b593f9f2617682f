"""The audit trail: who did what, when, from where, with the values before and after.

Use cases call `record(...)` in the same transaction as the change it describes, so an entry
exists exactly when the change was committed. Entries are only added: there is no function
that changes or removes one (retention erases people's data elsewhere, never this history's
existence). Where the request came from is set once per request by the web app (and as
"worker" / "cli" by the other processes), so use cases need not carry it around.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from models import AuditEntry, User
from models.errors import DomainError
from services.i18n import _

# Every action the trail knows (the page's filter and the tests are generated from it).
# A new area adds its actions here (docs/operations.md).
ACTIONS: tuple[str, ...] = (
    "proxy.submitted", "proxy.verified", "proxy.rejected",
    "delegation.status_changed",
    "delegate.added", "delegate.changed", "delegate.cancelled",
    "reminder.triggered", "summary.triggered",
    "login.succeeded", "login.failed",
    "delegate.erased", "retention.anonymised",
    "decision.opened", "decision.voted", "decision.closed", "decision.adopted",
    "decision.withdrawn",
    "checkin.recorded", "checkin.undone",
)

SYSTEM = "system"
# Into the table itself, built once: a Core INSERT (no ORM bulk step, no RETURNING of an id
# nobody reads); the values are the execution's parameters.
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))

_origin: ContextVar[str] = ContextVar("sokai_audit_origin", default="system")


def set_origin(origin: str) -> None:
    """Where the actions of this request or task come from (an address, "worker", "cli")."""
    _origin.set(origin[:100])


def actor_of(user: User | None) -> str:
    return user.email if user is not None else SYSTEM


def record(session: Session, action: str, subject: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None, actor: User | str | None,
           origin: str | None = None) -> None:
    """Append one entry in the caller's transaction (committed by the caller). A plain
    INSERT into the table: an entry is never read back or changed in the transaction that
    writes it, and the ORM's machinery would cost more than the insert (a registration
    writes one)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to services.audit.ACTIONS")
    who = actor if isinstance(actor, str) else actor_of(actor)
    session.execute(_INSERT_ENTRY, {
        "action": action, "subject": subject[:200], "actor": who[:254],
        "origin": (origin or _origin.get())[:100], "before": before, "after": after})


def redact(session: Session, subject: str, fields: tuple[str, ...]) -> int:
    """Blank the personal values (`fields`) in the entries about `subject`: the only change
    an entry ever sees (retention and erasure); the entry itself, its action, actor and
    time stay."""
    changed = 0
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.subject == subject)):
        for side in ("before", "after"):
            values = getattr(entry, side)
            if values and any(f in values for f in fields):
                setattr(entry, side, {k: (None if k in fields else v)
                                      for k, v in values.items()})
                changed += 1
    return changed


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    subject: str | None = None  # "proxy_letter" (every letter) or "proxy_letter:12"
    since: datetime | None = None
    until: datetime | None = None


def entries(session: Session, where: AuditFilter, limit: int = 200,
            before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; `before_id` pages back from an entry."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor.strip().lower())
    if where.subject:
        subject = where.subject.strip()
        query = query.where(AuditEntry.subject == subject if ":" in subject
                            else AuditEntry.subject.startswith(subject + ":"))
    if where.since:
        query = query.where(AuditEntry.at >= where.since)
    if where.until:
        query = query.where(AuditEntry.at < where.until)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))


def _instant(values: Mapping[str, str], name: str) -> datetime | None:
    raw = (values.get(name) or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError(_("%(value)s is not a date or an instant (e.g. 2014-09-04 or "
                            "2014-09-04T16:00+07:00).", value=raw),
                          code="invalid_instant", status=422, field=name) from None
    if len(raw) == 10:  # a day: from its start, in UTC
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise DomainError(_("Give the instant with its offset (e.g. 2014-09-04T16:00+07:00)."),
                          code="naive_instant", status=422, field=name)
    return moment


def parse_filter(values: Mapping[str, str]) -> AuditFilter:
    """The filter from a query string (the page and the API); 422 names the bad field."""
    action = (values.get("action") or "").strip() or None
    if action is not None and action not in ACTIONS:
        raise DomainError(_("Unknown action %(action)s.", action=action),
                          code="unknown_action", status=422, field="action")
    return AuditFilter(action=action, actor=(values.get("actor") or "").strip() or None,
                       subject=(values.get("subject") or "").strip() or None,
                       since=_instant(values, "since"), until=_instant(values, "until"))
