"""The programme (日程表) of an assembly: its items, stored as UTC instants."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, Localized, OfAssembly, enum_column, localized, utcnow


class ItemKind(enum.StrEnum):
    CEREMONY = "ceremony"
    PLENARY = "plenary"
    POLICY_DIALOGUE = "policy_dialogue"
    FIELD_TRIP = "field_trip"
    RECEPTION = "reception"
    MEAL = "meal"
    PRESS_CONFERENCE = "press_conference"
    MEETING = "meeting"
    SIDE_EVENT = "side_event"
    OTHER = "other"


class ItemStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def new_uid() -> str:
    # Random and host-free: a calendar UID must never change once published.
    return f"{uuid.uuid4()}@sokai"


class ProgrammeItem(OfAssembly, Base):
    __tablename__ = "programme_items"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("capacity IS NULL OR signup_count <= capacity", name="within_capacity"),
    )

    uid: Mapped[str] = mapped_column(String(64), unique=True, default=new_uid)
    title: Mapped[Localized]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[Localized] = mapped_column(default=dict)
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind, "item_kind"),
                                           default=ItemKind.PLENARY)
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, "item_status"),
                                               default=ItemStatus.SCHEDULED)
    # Raised on every change of time, place or status (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    # Set for optional items people sign up to (field-trip sites); None means no sign-up.
    capacity: Mapped[int | None]
    # Kept in step with the sign-ups by a conditional UPDATE, so capacity holds under
    # concurrent sign-ups on any database.
    signup_count: Mapped[int] = mapped_column(default=0)
    all_day: Mapped[bool] = mapped_column(default=False)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()

    def display_title(self, lang: str) -> str:
        return localized(self.title, lang)

    def __repr__(self) -> str:
        return f"<ProgrammeItem {self.id} {self.starts_at:%Y-%m-%dT%H:%MZ}>"


class Signup(Base):
    """A delegate's place on an optional item (a field-trip site)."""

    __tablename__ = "signups"
    __table_args__ = (UniqueConstraint("delegate_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("programme_items.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[ProgrammeItem] = relationship()
