"""Side events of an assembly (別紙2): exhibition booths, stage performances, children's
paintings, and each member city's part in them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, Localized, OfAssembly, enum_column, localized, utcnow
from models.network import MemberCity


class SideEventKind(enum.StrEnum):
    EXHIBITION_BOOTH = "exhibition_booth"
    STAGE_PERFORMANCE = "stage_performance"
    CHILDREN_PAINTINGS = "children_paintings"
    JOINT_PROJECT_EXHIBITION = "joint_project_exhibition"
    OTHER = "other"


class SideEvent(OfAssembly, Base):
    __tablename__ = "side_events"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="dates_in_order"),
    )

    kind: Mapped[SideEventKind] = mapped_column(enum_column(SideEventKind, "side_event_kind"),
                                                default=SideEventKind.OTHER)
    title: Mapped[Localized]
    venue: Mapped[Localized] = mapped_column(default=dict)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()
    contributions: Mapped[list[SideEventContribution]] = relationship(
        back_populates="side_event", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SideEventContribution.id")

    def display_title(self, lang: str) -> str:
        return localized(self.title, lang)


class SideEventContribution(Base):
    """A city's part in a side event: what it showed and, where it counts, how many
    (e.g. 27 paintings from Tokyo)."""

    __tablename__ = "side_event_contributions"
    __table_args__ = (
        UniqueConstraint("side_event_id", "city_id"),
        CheckConstraint("count IS NULL OR count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    side_event_id: Mapped[int] = mapped_column(
        ForeignKey("side_events.id", ondelete="CASCADE"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    description: Mapped[Localized] = mapped_column(default=dict)
    count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    side_event: Mapped[SideEvent] = relationship(back_populates="contributions")
    city: Mapped[MemberCity] = relationship()
