"""Proxy letters (委任状): an absent member city hands its voice to a city that attends."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, enum_column, utcnow
from models.network import MemberCity
from models.user import User


class ProxyStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the secretariat
    VERIFIED = "verified"
    REJECTED = "rejected"  # with a reason the liaison sees
    SUPERSEDED = "superseded"  # the grantor sent a newer letter
    REVOKED = "revoked"  # the grantor city switched to attending
    WITHDRAWN = "withdrawn"  # the grantor's liaison took it back


ACTIVE_PROXY_STATUSES = (ProxyStatus.SUBMITTED, ProxyStatus.VERIFIED)
_ACTIVE_SQL = text("status IN ('submitted', 'verified')")


class ProxyLetter(Base):
    __tablename__ = "proxy_letters"
    __table_args__ = (
        # One active letter per grantor, enforced by the database as well as the use case.
        Index("uq_proxy_letters_active_grantor", "assembly_id", "grantor_city_id", unique=True,
              sqlite_where=_ACTIVE_SQL, postgresql_where=_ACTIVE_SQL),
        Index("ix_proxy_letters_holder", "assembly_id", "holder_city_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"))
    grantor_city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    # None when the letter names the chair / secretariat (where the assembly allows it).
    holder_city_id: Mapped[int | None] = mapped_column(ForeignKey("member_cities.id"))
    to_chair: Mapped[bool] = mapped_column(default=False)
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    # The signed PDF, stored under a random name in the instance folder; never served to
    # other cities.
    document_path: Mapped[str] = mapped_column(String(200))
    document_sha256: Mapped[str] = mapped_column(String(64))
    document_size: Mapped[int]
    document_filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[ProxyStatus] = mapped_column(enum_column(ProxyStatus, "proxy_status"),
                                                default=ProxyStatus.SUBMITTED)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assembly: Mapped[Assembly] = relationship()
    grantor: Mapped[MemberCity] = relationship(foreign_keys=[grantor_city_id])
    holder: Mapped[MemberCity | None] = relationship(foreign_keys=[holder_city_id])
    # History rows go with their letter (ON DELETE CASCADE), never re-parented.
    events: Mapped[list[ProxyLetterEvent]] = relationship(
        back_populates="letter", order_by="ProxyLetterEvent.id", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PROXY_STATUSES

    def change_status(self, to: ProxyStatus, actor: User | None, action: str,
                      detail: dict[str, Any] | None = None) -> ProxyLetterEvent:
        """The one way a letter changes state: every change appends to its history."""
        event = ProxyLetterEvent(actor_id=actor.id if actor else None, action=action,
                                 from_status=self.status.value, to_status=to.value,
                                 detail=detail or {})
        self.events.append(event)  # saved with the letter (no cascade along a backref)
        self.status = to
        self.updated_at = utcnow()
        return event


class ProxyLetterEvent(Base):
    """Append-only history of a letter: who did what, when, from which status to which."""

    __tablename__ = "proxy_letter_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("proxy_letters.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    letter: Mapped[ProxyLetter] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
