"""The audit trail: one row per action that changed the assembly's outcome or someone's
data. Rows are only ever added (services.audit.record); nothing updates or deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),
                      Index("ix_audit_entries_action", "action"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # A dotted name from services.audit.ACTIONS, e.g. "proxy.verified".
    action: Mapped[str] = mapped_column(String(64))
    # What was acted on, "kind:id" (e.g. "proxy_letter:12", "user:sec@example.org").
    subject: Mapped[str] = mapped_column(String(200), index=True)
    # Who: an account's e-mail, or "system" / "cli" for work nobody clicked.
    actor: Mapped[str] = mapped_column(String(254), index=True)
    # From where: the client's address, or "worker" / "cli".
    origin: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
