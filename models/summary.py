"""Summary jobs: the secretariat's request for the attendance summary and the assembly report,
built by a worker into files (CSV, XLSX, PDF). The row is the truth about the job."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.assembly import Assembly
from models.base import Base, OfAssembly, enum_column, utcnow
from models.delegation import Delegate
from models.user import User


class SummaryStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_SUMMARY_STATUSES = (SummaryStatus.QUEUED, SummaryStatus.RUNNING)
_ACTIVE_SQL = text("status IN ('queued', 'running')")

SUMMARY_FORMATS = ("csv", "xlsx", "pdf")


class SummaryJob(OfAssembly, Base):
    __tablename__ = "summary_jobs"
    __table_args__ = (
        # One job in flight per assembly, data version and language: a second click (even at
        # the same instant, from another web process) joins the first.
        Index("uq_summary_jobs_active_version", "assembly_id", "data_version", "language",
              unique=True, sqlite_where=_ACTIVE_SQL, postgresql_where=_ACTIVE_SQL),
        Index("ix_summary_jobs_status", "status"),
    )

    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[SummaryStatus] = mapped_column(enum_column(SummaryStatus, "summary_status"),
                                                  default=SummaryStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    stage: Mapped[str] = mapped_column(String(40), default="queued")
    # A fingerprint of the data that goes into the report (see services.report).
    data_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    error: Mapped[str] = mapped_column(Text, default="")
    # [{"format": "csv", "path": …, "filename": …, "sha256": …, "size": …}, …]
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    assembly: Mapped[Assembly] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_SUMMARY_STATUSES

    def file(self, fmt: str) -> dict[str, Any] | None:
        return next((f for f in self.files if f.get("format") == fmt), None)


# The attendance picture and the report look up each city's representative among all of an
# assembly's delegates; with this index that is a lookup per delegation, not a scan.
Index("ix_delegates_delegation_role", Delegate.delegation_id, Delegate.role)
