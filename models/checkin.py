"""The venue day: badge codes, check-ins (one per delegate), their history, badge PDF jobs and
the door staff's assignments to assemblies."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, OfAssembly, enum_column, utcnow
from models.delegation import Delegate
from models.user import User

_ACTIVE_BADGE = text("revoked_at IS NULL")


def new_badge_code() -> str:
    # 24 random bytes = 192 bits, URL-safe: what the QR code carries. Unique in the table, so
    # a revoked code is never handed out again.
    return secrets.token_urlsafe(24)


class Badge(OfAssembly, Base):
    __tablename__ = "badges"
    __table_args__ = (
        # One live badge per delegate; revoked ones stay (a scan of one answers 404).
        Index("uq_badges_active_delegate", "delegate_id", unique=True,
              sqlite_where=_ACTIVE_BADGE, postgresql_where=_ACTIVE_BADGE),
    )

    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64), unique=True, default=new_badge_code)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    delegate: Mapped[Delegate] = relationship()


class CheckIn(OfAssembly, Base):
    """A delegate at the venue: at most one row per delegate (the unique key makes two
    simultaneous scans one check-in)."""

    __tablename__ = "checkins"

    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"),
                                             unique=True)
    # When the badge was scanned (a phone that was offline sends its own time), and when the
    # server wrote it down.
    checked_in_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(16), default="code")  # code | delegate (search)

    delegate: Mapped[Delegate] = relationship()


class CheckInAction(enum.StrEnum):
    CHECK_IN = "check_in"
    UNDO = "undo"


class CheckInEvent(OfAssembly, Base):
    """Append-only history of check-ins and undos; its newest id is the board's version."""

    __tablename__ = "checkin_events"

    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id", ondelete="CASCADE"))
    action: Mapped[CheckInAction] = mapped_column(enum_column(CheckInAction, "checkin_action"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class BadgeLayout(enum.StrEnum):
    SHEET = "sheet"  # A4, several badges with cut marks
    SINGLE = "single"  # one badge per page, for badge printers


class BadgeJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BadgeJob(OfAssembly, Base):
    __tablename__ = "badge_jobs"

    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[BadgeJobStatus] = mapped_column(
        enum_column(BadgeJobStatus, "badge_job_status"), default=BadgeJobStatus.QUEUED,
        index=True)
    layout: Mapped[BadgeLayout] = mapped_column(enum_column(BadgeLayout, "badge_layout"),
                                                default=BadgeLayout.SHEET)
    # {"city": "TYO"} or {"delegates": [1, 2]} or {} (everyone registered)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    badges: Mapped[int] = mapped_column(default=0)
    path: Mapped[str] = mapped_column(String(500), default="")
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    assembly: Mapped[Assembly] = relationship()
    requested_by: Mapped[User | None] = relationship()


class StaffAssignment(Base):
    """A door-staff account may check in for the assemblies it is assigned to, and no other."""

    __tablename__ = "staff_assignments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"),
                                             primary_key=True)
