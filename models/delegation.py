"""A member city's delegation to an assembly, and the people in it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from models.assembly import Assembly
from models.base import Base, Localized, enum_column, utcnow
from models.names import NameOrder, latin_name, name_for
from models.network import MemberCity
from models.user import normalise_email


class DelegationStatus(enum.StrEnum):
    UNDECIDED = "undecided"
    ATTENDING = "attending"
    ABSENT = "absent"


class DelegateRole(enum.StrEnum):
    # Listed in the order a delegation is shown: the representative first.
    REPRESENTATIVE = "representative"
    DELEGATE = "delegate"
    STAFF = "staff"
    PERFORMER = "performer"
    INTERPRETER = "interpreter"
    PRESS = "press"
    OBSERVER = "observer"


class DelegateStatus(enum.StrEnum):
    REGISTERED = "registered"  # entered by the city's liaison
    CONFIRMED = "confirmed"  # the delegate checked their own details
    CANCELLED = "cancelled"


# Who counts as a participant: anyone registered and not cancelled.
COUNTED_STATUSES = (DelegateStatus.REGISTERED, DelegateStatus.CONFIRMED)


class Delegation(Base):
    __tablename__ = "delegations"
    __table_args__ = (UniqueConstraint("assembly_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    status: Mapped[DelegationStatus] = mapped_column(
        enum_column(DelegationStatus, "delegation_status"), default=DelegationStatus.UNDECIDED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()
    city: Mapped[MemberCity] = relationship()
    delegates: Mapped[list[Delegate]] = relationship(back_populates="delegation",
                                                     order_by="Delegate.id")


class Delegate(Base):
    __tablename__ = "delegates"
    # NULL emails do not collide, on SQLite and PostgreSQL alike.
    __table_args__ = (UniqueConstraint("assembly_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"))
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"),
                                               index=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100), default="")
    name_local: Mapped[str] = mapped_column(String(200), default="")
    # How the person writes their name (set from the city's country when not given).
    name_order: Mapped[NameOrder] = mapped_column(enum_column(NameOrder, "name_order"),
                                                  default=NameOrder.GIVEN_FIRST)
    # "Mr.", "Ms.", "H.E.", "Dr." …: how the person is addressed in Latin script.
    honorific: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[Localized] = mapped_column(default=dict)
    role: Mapped[DelegateRole] = mapped_column(enum_column(DelegateRole, "delegate_role"),
                                               default=DelegateRole.DELEGATE)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[DelegateStatus] = mapped_column(enum_column(DelegateStatus, "delegate_status"),
                                                   default=DelegateStatus.REGISTERED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set when the personal data was removed (retention period over, or erased on request).
    anonymised_at: Mapped[datetime | None]

    delegation: Mapped[Delegation] = relationship(back_populates="delegates")

    @validates("email")
    def _normalise(self, _key: str, value: str | None) -> str | None:
        return normalise_email(value) if value else None

    @property
    def full_name(self) -> str:
        """In Latin script, in the person's order: "LE Hong Son", "Yoichi MASUZOE"."""
        return latin_name(self.given_name, self.family_name, self.name_order)

    def name_for(self, reader_language: str) -> str:
        """The local-script name for a reader of its script (舛添 要一), else full_name."""
        return name_for(reader_language, given=self.given_name, family=self.family_name,
                        local=self.name_local, order=self.name_order)

    def addressed_as(self, reader_language: str) -> str:
        """The name a message addresses: name_for, with the honorific (Mr., Dr.) before a
        Latin name in English; other languages address with their own word (様, 님)."""
        name = self.name_for(reader_language)
        if self.honorific.strip() and reader_language == "en":
            return f"{self.honorific.strip()} {name}"
        return name


def participant_counts(session: Session, assembly: Assembly) -> dict[int, int]:
    """Participants per city id, counting only cities whose delegation attends."""
    rows = session.execute(
        select(Delegation.city_id, func.count(Delegate.id))
        .join(Delegate, Delegate.delegation_id == Delegation.id)
        .where(Delegation.assembly_id == assembly.id,
               Delegation.status == DelegationStatus.ATTENDING,
               Delegate.status.in_(COUNTED_STATUSES))
        .group_by(Delegation.city_id)
    )
    return {city_id: count for city_id, count in rows}
