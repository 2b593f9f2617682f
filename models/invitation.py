"""Invitations: a liaison's one-time link to set a password, a delegate's personal link.

Only the SHA-256 of a token is stored; the token itself travels once, in the email.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column, utcnow
from models.delegation import Delegate
from models.network import MemberCity
from models.user import User


class InvitationKind(enum.StrEnum):
    LIAISON = "liaison"  # one-time: set a password, then log in as usual
    DELEGATE = "delegate"  # the delegate's page, usable until it expires


class InvitationState(enum.StrEnum):
    SENT = "sent"
    OPENED = "opened"  # the link was followed at least once
    ACCEPTED = "accepted"  # a liaison set a password; a delegate confirmed their details
    EXPIRED = "expired"
    VOIDED = "voided"  # the secretariat (or a resend) withdrew the link


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvitationKind] = mapped_column(enum_column(InvitationKind, "invitation_kind"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    city_id: Mapped[int] = mapped_column(ForeignKey("member_cities.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delegate_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegates.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]

    city: Mapped[MemberCity] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    delegate: Mapped[Delegate | None] = relationship()

    def state(self, now: datetime | None = None) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.voided_at is not None:
            return InvitationState.VOIDED
        if self.expires_at < (now or utcnow()):
            return InvitationState.EXPIRED
        return InvitationState.OPENED if self.opened_at is not None else InvitationState.SENT
