"""Summary jobs: the secretariat asks, a worker builds, the row tells everyone how it goes.

A request while the same data version is already queued or running joins that job; the
database's partial unique index makes this hold for two requests at the same instant.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import current_settings
from models import (
    ACTIVE_SUMMARY_STATUSES,
    SUMMARY_FORMATS,
    Assembly,
    SummaryJob,
    SummaryStatus,
    User,
    utcnow,
)
from models.base import affected
from models.errors import DomainError
from models.languages import REGISTRY, language_or_default
from services.audit import SYSTEM, record
from services.background import RENDER_SUMMARY, enqueue_after_commit
from services.i18n import _
from services.summaries.report import data_version

# A building worker writes a heartbeat this often (seconds), from a thread of its own.
HEARTBEAT_EVERY = 2.0
# A redelivered message takes over a running job whose heartbeat is this old: its worker died
# (SIGKILL, OOM) and Celery sent the message again (acks late, rejected on worker loss).
TAKEOVER = timedelta(seconds=8)
# The sweep puts back in the queue a running job whose heartbeat is this old (no message came
# back for it).
STALE_HEARTBEAT = timedelta(minutes=1)
# A queued job nobody picked up for this long lost its broker message.
LOST_MESSAGE = timedelta(minutes=2)
MAX_ATTEMPTS = 5


def request_summary(session: Session, assembly: Assembly, user: User,
                    language: str | None = None) -> tuple[SummaryJob, bool]:
    """A job for the assembly's current data in `language`, and whether it is new.

    Commits: the job must exist for everyone before its task is sent (after the commit)."""
    language = language or language_or_default(user.language)
    if language not in REGISTRY:
        raise DomainError(_("Unknown language %(language)s: use one of %(choices)s.",
                            language=language, choices=", ".join(REGISTRY)),
                          code="unknown_language", status=422, field="language")
    version = data_version(session, assembly)
    existing = _active_job(session, assembly, version, language)
    if existing is not None:
        session.commit()
        return existing, False
    job = SummaryJob(assembly_id=assembly.id, requested_by_id=user.id, data_version=version,
                     language=language)
    session.add(job)
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same job a moment ago: join it.
        session.rollback()
        existing = _active_job(session, assembly, version, language)
        if existing is None:  # it already finished in between: start afresh
            return request_summary(session, assembly, user, language)
        session.commit()
        return existing, False
    record(session, "summary.triggered", f"summary_job:{job.id}", None,
           {"assembly": assembly.slug, "language": language, "data_version": version}, user)
    enqueue_after_commit(session, RENDER_SUMMARY, job.id)
    session.commit()
    return job, True


def _active_job(session: Session, assembly: Assembly, version: str,
                language: str) -> SummaryJob | None:
    return session.scalar(select(SummaryJob).where(
        SummaryJob.assembly_id == assembly.id, SummaryJob.data_version == version,
        SummaryJob.language == language, SummaryJob.status.in_(ACTIVE_SUMMARY_STATUSES)))


def retry_summary(session: Session, job: SummaryJob, user: User) -> tuple[SummaryJob, bool]:
    """A failed job goes round again; its data version is taken afresh. If the same version
    is already being built, that job is returned instead. Commits."""
    if job.status is not SummaryStatus.FAILED:
        raise DomainError(_("Only a failed summary can be retried."), code="not_failed")
    assembly = session.get(Assembly, job.assembly_id)
    assert assembly is not None
    version = data_version(session, assembly)
    existing = _active_job(session, assembly, version, job.language)
    if existing is not None:
        session.commit()
        return existing, False
    record(session, "summary.triggered", f"summary_job:{job.id}",
           {"status": job.status.value, "data_version": job.data_version},
           {"status": SummaryStatus.QUEUED.value, "data_version": version, "retry": True}, user)
    job.data_version = version
    job.requested_by_id = user.id
    _requeue(job)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return request_summary(session, assembly, user, job.language)
    enqueue_after_commit(session, RENDER_SUMMARY, job.id)
    session.commit()
    return job, True


def _requeue(job: SummaryJob) -> None:
    job.status = SummaryStatus.QUEUED
    job.progress, job.stage, job.error, job.worker = 0, "queued", "", ""
    job.queued_at = utcnow()
    job.heartbeat_at = None


def summary_history(session: Session, assembly: Assembly, limit: int = 50) -> list[SummaryJob]:
    return list(session.scalars(select(SummaryJob).where(SummaryJob.assembly_id == assembly.id)
                                .order_by(SummaryJob.created_at.desc(), SummaryJob.id.desc())
                                .limit(limit)))


def forget_summary_files(session: Session, assembly: Assembly) -> int:
    """Names were removed (an erasure, the retention job): delete the assembly's summary
    files, which may carry them, and build the summary again without them; returns how many
    jobs it touched.

    Finished jobs lose their files (no more links; a download says the file is gone); for
    the newest of each language a new job is asked (the history shows both). A
    build under way goes back to the queue: its worker finds the job taken away at its next
    progress, and a late finish throws its files away (building._finish); a queued job reads
    the data when it runs. The files go before the commit: a rollback leaves a job without
    its files, never files with the names."""
    jobs = session.scalars(select(SummaryJob).where(
        SummaryJob.assembly_id == assembly.id,
        SummaryJob.status.in_((SummaryStatus.DONE, *ACTIVE_SUMMARY_STATUSES)))
        .order_by(SummaryJob.id.desc()).with_for_update()).all()
    instance = current_settings().instance_path
    touched, active, finished = 0, set[str](), list[str]()
    for job in jobs:
        if job.status is SummaryStatus.RUNNING:
            _requeue(job)
            enqueue_after_commit(session, RENDER_SUMMARY, job.id)
            touched += 1
        if job.status is not SummaryStatus.DONE:
            active.add(job.language)
            continue
        if not job.files:
            continue  # its files are already gone
        for entry in job.files:
            path = instance / entry["path"]
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # the job's folder, once empty
                path.parent.rmdir()
        job.files = []  # no links to files that are gone, on the page or in the API
        touched += 1
        if job.language not in finished:
            finished.append(job.language)
    session.flush()
    version = data_version(session, assembly)
    for language in finished:
        if language in active:
            continue  # a job in the queue builds from the data as it is now
        job = SummaryJob(assembly_id=assembly.id, data_version=version, language=language)
        session.add(job)
        session.flush()
        record(session, "summary.triggered", f"summary_job:{job.id}", None,
               {"assembly": assembly.slug, "language": language, "data_version": version,
                "because": "personal data removed"}, SYSTEM)
        enqueue_after_commit(session, RENDER_SUMMARY, job.id)
    return touched


# --- the worker's side: claim, report progress, finish once ----------------------------------


def claim(session: Session, job_id: int, worker: str) -> int | None:
    """Take a queued job for this worker, or a running one whose worker stopped beating (a
    redelivered message after a crash: taken over at once, not after the sweep's wait);
    returns the attempt number that is now ours, or None when another live worker has it or
    it is finished. One conditional UPDATE: of two claims at once, one wins. Commits."""
    now = utcnow()
    silent = ((SummaryJob.status == SummaryStatus.RUNNING)
              & (SummaryJob.heartbeat_at < now - TAKEOVER)
              & (SummaryJob.attempts < MAX_ATTEMPTS))
    claimed = affected(session.execute(
        update(SummaryJob)
        .where(SummaryJob.id == job_id, (SummaryJob.status == SummaryStatus.QUEUED) | silent)
        .values(status=SummaryStatus.RUNNING, attempts=SummaryJob.attempts + 1, worker=worker,
                started_at=now, heartbeat_at=now, stage="starting", progress=1, error="")
    ))
    session.commit()
    if not claimed:
        return None
    return session.scalar(select(SummaryJob.attempts).where(SummaryJob.id == job_id))


def still_ours(job_id: int, attempt: int) -> ColumnElement[bool]:
    """The WHERE clause that keeps a worker the sweep gave up on from writing to the job."""
    return ((SummaryJob.id == job_id) & (SummaryJob.status == SummaryStatus.RUNNING)
            & (SummaryJob.attempts == attempt))


def report_progress(session: Session, job_id: int, attempt: int, stage: str,
                    percent: int) -> bool:
    """Write the stage, percent and heartbeat; False when the job is no longer ours."""
    done = affected(session.execute(update(SummaryJob).where(still_ours(job_id, attempt))
                           .values(stage=stage, progress=max(1, min(99, percent)),
                                   heartbeat_at=utcnow())))
    session.commit()
    return bool(done)


def heartbeat(session: Session, job_id: int, attempt: int) -> bool:
    """Only the heartbeat (the beating thread); False when the job is no longer ours."""
    done = affected(session.execute(update(SummaryJob).where(still_ours(job_id, attempt))
                                    .values(heartbeat_at=utcnow())))
    session.commit()
    return bool(done)


def requeue_stuck(session: Session, now: datetime | None = None) -> list[int]:
    """Jobs to send to a worker again: running ones whose worker went silent (put back in the
    queue), queued ones whose broker message was lost. Too many attempts: failed. Commits."""
    now = now or utcnow()
    stale = session.scalars(select(SummaryJob).where(
        SummaryJob.status == SummaryStatus.RUNNING,
        SummaryJob.heartbeat_at < now - STALE_HEARTBEAT)).all()
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = SummaryStatus.FAILED, now
            job.error = f"gave up after {job.attempts} attempts: the worker stopped each time"
        else:
            _requeue(job)
            job.queued_at = now - LOST_MESSAGE  # send it at once, below
    session.flush()
    lost = session.scalars(select(SummaryJob.id).where(
        SummaryJob.status == SummaryStatus.QUEUED,
        SummaryJob.queued_at <= now - LOST_MESSAGE)).all()
    for job_id in lost:
        session.execute(update(SummaryJob).where(SummaryJob.id == job_id).values(queued_at=now))
    session.commit()
    return list(lost)


# Media types without parameters: Werkzeug adds "; charset=utf-8" to text/* itself.
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class SummaryFile:
    path: Path
    filename: str
    content_type: str
    sha256: str


def summary_file(job: SummaryJob, fmt: str) -> SummaryFile:
    """One built file of a job: 404 for an unknown format or a file that is gone, 409 while
    the job is not done."""
    if fmt not in SUMMARY_FORMATS:
        raise DomainError(_("There is no format %(format)s: use csv, xlsx or pdf.", format=fmt),
                          code="unknown_format", status=404)
    if job.status is not SummaryStatus.DONE:
        raise DomainError(_("This summary is %(status)s: its files are not ready.",
                            status=job.status.value), code="not_ready", status=409)
    entry = job.file(fmt)  # None: removed with personal data (forget_summary_files)
    instance = current_settings().instance_path.resolve()
    path = (instance / entry["path"]).resolve() if entry is not None else instance
    if entry is None or not path.is_relative_to(instance) or not path.is_file():
        raise DomainError(_("The file is gone; generate the summary again."),
                          code="file_gone", status=404)
    return SummaryFile(path=path, filename=entry["filename"], content_type=CONTENT_TYPES[fmt],
                       sha256=entry["sha256"])
