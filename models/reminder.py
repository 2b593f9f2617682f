"""Reminders: a message sent at a moment relative to an assembly's anchor, once per recipient."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, Localized, OfAssembly, enum_column, utcnow
from models.programme import ProgrammeItem


class ReminderAnchor(enum.StrEnum):
    REGISTRATION_DEADLINE = "registration_deadline"
    PROXY_DEADLINE = "proxy_deadline"
    ASSEMBLY_START = "assembly_start"
    ITEM_START = "item_start"  # with the reminder's item


class ReminderAudience(enum.StrEnum):
    UNDECIDED_LIAISONS = "undecided_liaisons"  # liaisons of cities that have not said yet
    ABSENT_WITHOUT_PROXY = "absent_without_proxy"  # absent cities without a verified letter
    DELEGATES = "delegates"  # registered delegates of attending cities
    ITEM_SIGNUPS = "item_signups"  # delegates signed up to the reminder's item


class ReminderStatus(enum.StrEnum):
    ACTIVE = "active"  # will be sent when due
    PAUSED = "paused"  # kept, not sent
    SENT = "sent"  # turned into outbox rows at sent_at
    SKIPPED = "skipped"  # its moment passed by more than the grace window: not sent late
    FAILED = "failed"  # could not be turned into messages; note says why (others went out)


class Reminder(OfAssembly, Base):
    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint("(anchor = 'item_start') = (item_id IS NOT NULL)",
                        name="item_for_item_anchor"),
    )

    anchor: Mapped[ReminderAnchor] = mapped_column(enum_column(ReminderAnchor, "reminder_anchor"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="CASCADE"))
    # ISO 8601 duration as the secretariat wrote it ("-P7D", "-PT72H"); negative is before.
    offset: Mapped[str] = mapped_column(String(40))
    # The same offset in seconds: the due instant is anchor + offset, computed on each sweep
    # so that a reminder moves with its anchor.
    offset_seconds: Mapped[int]
    audience: Mapped[ReminderAudience] = mapped_column(
        enum_column(ReminderAudience, "reminder_audience"))
    subject: Mapped[Localized]
    body: Mapped[Localized]
    # Attach the delegate's programme as an .ics (the assembly-start reminder).
    attach_programme: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus, "reminder_status"),
                                                   default=ReminderStatus.ACTIVE)
    sent_at: Mapped[datetime | None]
    recipient_count: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(400), default="")  # why skipped or failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()
    item: Mapped[ProgrammeItem | None] = relationship()


class ReminderDelivery(Base):
    """One recipient of one reminder. The unique constraint is what makes a reminder reach a
    recipient once, whatever number of sweeps run at the same time or after a crash."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("reminder_id", "to_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    to_address: Mapped[str] = mapped_column(String(254))
    # The Message-ID of the outbox row written in the same transaction.
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
