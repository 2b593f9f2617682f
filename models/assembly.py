"""An assembly of the network: dates, place, zones, deadlines and its rules."""

from __future__ import annotations

import enum
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, Localized, enum_column, localized, utcnow, validate_timezone
from models.network import MemberCity, Network


class AssemblyStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Quorum(enum.StrEnum):
    """How many member cities must be present or represented."""

    NONE = "none"
    HALF = "half"  # at least half
    MAJORITY = "majority"  # more than half
    TWO_THIRDS = "two_thirds"  # at least two thirds

    def required(self, members: int) -> int:
        """The smallest count of cities present or represented that reaches this quorum."""
        if self is Quorum.NONE or members == 0:
            return 0
        if self is Quorum.MAJORITY:
            return members // 2 + 1
        share = Fraction(1, 2) if self is Quorum.HALF else Fraction(2, 3)
        needed = share * members
        return int(needed) if needed.denominator == 1 else int(needed) + 1

    def reached(self, counted: int, members: int) -> bool:
        return counted >= self.required(members)


class Assembly(Base):
    __tablename__ = "assemblies"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("max_proxies_per_holder >= 1", name="proxy_limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    number: Mapped[int | None]
    title: Mapped[Localized]
    host_city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    venue: Mapped[Localized]
    # Who hosts, when not the host city itself (主催 トムスク州 / Tomsk Oblast).
    host_organisation: Mapped[Localized] = mapped_column(default=dict)
    # The days the assembly itself sits (ISO dates), within the programme's span
    # (starts_on … ends_on); empty: every day of it.
    sitting_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str] = mapped_column(String(64))
    home_timezone: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    registration_deadline: Mapped[datetime]
    proxy_deadline: Mapped[datetime]
    quorum: Mapped[Quorum] = mapped_column(enum_column(Quorum, "quorum_rule"),
                                           default=Quorum.MAJORITY)
    max_proxies_per_holder: Mapped[int] = mapped_column(default=1)
    proxy_to_chair_allowed: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AssemblyStatus] = mapped_column(enum_column(AssemblyStatus, "assembly_status"),
                                                   default=AssemblyStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    network: Mapped[Network] = relationship()
    host_city: Mapped[MemberCity] = relationship()

    @validates("timezone", "home_timezone")
    def _check_zone(self, _key: str, value: str) -> str:
        return validate_timezone(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def home_zone(self) -> ZoneInfo:
        return ZoneInfo(self.home_timezone)

    def display_title(self, lang: str) -> str:
        return localized(self.title, lang)

    def host_for(self, lang: str) -> str:
        """The host organisation in `lang`, else the host city's name."""
        return localized(self.host_organisation, lang) or self.host_city.display_name(lang)

    @property
    def sitting(self) -> list[date]:
        """The days the assembly sits, in order: the recorded ones, else the whole span."""
        if self.sitting_days:
            return sorted(date.fromisoformat(day) for day in self.sitting_days)
        return [date.fromordinal(n) for n in range(self.starts_on.toordinal(),
                                                    self.ends_on.toordinal() + 1)]

    def __repr__(self) -> str:
        return f"<Assembly {self.slug}>"
