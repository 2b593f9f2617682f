"""The mail outbox: every email is a row, written in the transaction that causes it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from config import current_settings
from models.base import Base, enum_column, utcnow


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent (or to be retried at next_attempt_at)
    SENDING = "sending"  # claimed by a worker at claimed_at
    SENT = "sent"
    FAILED = "failed"  # gave up after the retry limit; last_error says why


def new_message_id(domain: str | None = None) -> str:
    # Set once when the row is written and reused on every resend, so that a receiver can
    # drop a duplicate. The domain is the sender's (MAIL_FROM) or Sokai's public host.
    if domain is None:
        try:
            domain = current_settings().message_id_domain
        except RuntimeError:  # outside any app (a script): still a valid, unowned domain
            domain = "sokai.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True, default=new_message_id)
    kind: Mapped[str] = mapped_column(String(40))  # invitation, proxy_decision, reminder, …
    assembly_id: Mapped[int | None] = mapped_column(
        ForeignKey("assemblies.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    to_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    subject: Mapped[str] = mapped_column(String(400))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # [{"filename": …, "content_type": …, "content_b64": …}], e.g. the delegate's .ics
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus, "mail_status"),
                                               default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
