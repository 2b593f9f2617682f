"""What an assembly decides: decisions (resolutions, declarations, elections, procedural
motions), the votes of member cities, the signatories of a declaration, and the minutes of
each programme item.

A decision put to the assembly carries the attendance picture frozen at that moment
(`snapshot`): who may vote, and for whom, is read from it, never from the live picture, so a
letter verified or revoked later does not change a vote already open.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, Localized, OfAssembly, enum_column, localized, utcnow
from models.delegation import Delegate
from models.network import MemberCity
from models.programme import ProgrammeItem


class DecisionKind(enum.StrEnum):
    RESOLUTION = "resolution"
    DECLARATION = "declaration"
    ELECTION = "election"
    PROCEDURAL = "procedural"


class DecisionMethod(enum.StrEnum):
    CONSENSUS = "consensus"  # adopted by the chair, no tally
    VOTE = "vote"


class Majority(enum.StrEnum):
    SIMPLE = "simple"  # more yes than no
    TWO_THIRDS = "two_thirds"  # yes at least two thirds of yes + no
    UNANIMOUS = "unanimous"  # no "no" at all

    def adopts(self, yes: int, no: int) -> bool:
        """Abstentions are not votes cast: only yes and no count."""
        if self is Majority.SIMPLE:
            return yes > no
        if self is Majority.TWO_THIRDS:
            return yes > 0 and 3 * yes >= 2 * (yes + no)
        return yes > 0 and no == 0


class DecisionStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # put to the assembly: attendance frozen, votes taken
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class VoteChoice(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Decision(OfAssembly, Base):
    __tablename__ = "decisions"

    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme_items.id", ondelete="SET NULL"))
    kind: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind, "decision_kind"),
                                               default=DecisionKind.RESOLUTION)
    title: Mapped[Localized]
    text: Mapped[Localized] = mapped_column(default=dict)
    method: Mapped[DecisionMethod] = mapped_column(
        enum_column(DecisionMethod, "decision_method"), default=DecisionMethod.VOTE)
    majority: Mapped[Majority] = mapped_column(enum_column(Majority, "decision_majority"),
                                               default=Majority.SIMPLE)
    status: Mapped[DecisionStatus] = mapped_column(
        enum_column(DecisionStatus, "decision_status"), default=DecisionStatus.DRAFT)
    # The attendance picture frozen when the decision was put to the assembly
    # (services.decisions.snapshot): basis, present, represented, absent, quorum.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    opened_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]  # adopted or rejected
    yes_count: Mapped[int | None]
    no_count: Mapped[int | None]
    abstain_count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()
    item: Mapped[ProgrammeItem | None] = relationship()
    votes: Mapped[list[Vote]] = relationship(back_populates="decision", order_by="Vote.id",
                                             cascade="all, delete-orphan", passive_deletes=True)
    signatories: Mapped[list[Signatory]] = relationship(
        back_populates="decision", order_by="Signatory.position",
        cascade="all, delete-orphan", passive_deletes=True)

    def display_title(self, lang: str) -> str:
        return localized(self.title, lang)

    def __repr__(self) -> str:
        return f"<Decision {self.id} {self.status}>"


class Vote(Base):
    """A member city's vote on a decision; a second vote for the city replaces the first
    (one row per city) until the vote closes."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("decision_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    choice: Mapped[VoteChoice] = mapped_column(enum_column(VoteChoice, "vote_choice"))
    # The city whose delegation cast it: the city itself when present, the holder of its
    # verified letter when represented (None: the chair holds the letter).
    cast_by_city_id: Mapped[int | None] = mapped_column(ForeignKey("member_cities.id"))
    by_proxy: Mapped[bool] = mapped_column(default=False)
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("proxy_letters.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)

    decision: Mapped[Decision] = relationship(back_populates="votes")
    city: Mapped[MemberCity] = relationship(foreign_keys=[city_id])
    cast_by: Mapped[MemberCity | None] = relationship(foreign_keys=[cast_by_city_id])


class Signatory(Base):
    """Who signed a declaration, with the name and title as of that day (kept, so a later
    change to the delegate does not rewrite what was signed)."""

    __tablename__ = "decision_signatories"
    # One signatory per city (a delegate belongs to one city, so once per delegate too).
    __table_args__ = (UniqueConstraint("decision_id", "city_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    delegate_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegates.id", ondelete="SET NULL"))
    city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300))  # Latin script, in the person's order
    name_local: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[Localized] = mapped_column(default=dict)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    decision: Mapped[Decision] = relationship(back_populates="signatories")
    city: Mapped[MemberCity] = relationship()
    delegate: Mapped[Delegate | None] = relationship()


class MinutesPointKind(enum.StrEnum):
    STATEMENT = "statement"  # an address or a city's statement
    REPORT = "report"  # a joint-project report, with its presenting cities
    PROPOSAL = "proposal"
    OTHER = "other"


class Minutes(OfAssembly, Base):
    """The record of one programme item: a summary per language, the speakers, and its
    points (statements, project reports with their presenting cities)."""

    __tablename__ = "minutes"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("programme_items.id", ondelete="CASCADE"), unique=True)
    summary: Mapped[Localized] = mapped_column(default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    item: Mapped[ProgrammeItem] = relationship()
    speakers: Mapped[list[MinutesSpeaker]] = relationship(
        order_by="MinutesSpeaker.position", cascade="all, delete-orphan", passive_deletes=True)
    points: Mapped[list[MinutesPoint]] = relationship(
        order_by="MinutesPoint.position", cascade="all, delete-orphan", passive_deletes=True)


class MinutesSpeaker(Base):
    __tablename__ = "minutes_speakers"
    __table_args__ = (UniqueConstraint("minutes_id", "delegate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)

    delegate: Mapped[Delegate] = relationship()


class MinutesPoint(Base):
    __tablename__ = "minutes_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[MinutesPointKind] = mapped_column(
        enum_column(MinutesPointKind, "minutes_point_kind"), default=MinutesPointKind.STATEMENT)
    title: Mapped[Localized] = mapped_column(default=dict)
    text: Mapped[Localized] = mapped_column(default=dict)
    # Member city codes: the presenting cities of a report, the speaking city of a statement.
    cities: Mapped[list[str]] = mapped_column(JSON, default=list)
