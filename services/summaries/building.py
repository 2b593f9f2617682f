"""Building the summary files (CSV, XLSX, PDF) for a summary job, on a worker.

render_report() is the worker's job (tests call it without a worker too). The job is claimed
with a conditional UPDATE so one worker builds it; progress and
heartbeat go through their own short transactions so the page can follow along; the job ends
"done" exactly once (a worker the sweep gave up on cannot overwrite a newer attempt), and the
requester gets one email with the links.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from models import Assembly, SummaryJob, SummaryStatus, User, utcnow
from models.base import affected
from models.languages import language_or_default
from services.background import RENDER_SUMMARY, dispatch
from services.digests import sha256_of
from services.i18n import _, in_language, salutation, show_instant
from services.mail.outbox import one_line, queue_message
from services.summaries.files import write_csv, write_pdf, write_xlsx
from services.summaries.jobs import (
    HEARTBEAT_EVERY,
    TAKEOVER,
    claim,
    heartbeat,
    report_progress,
    requeue_stuck,
    still_ours,
)
from services.summaries.report import build_report, generated_stamp, participant_rows

log = logging.getLogger(__name__)

# (format, stage, first percent, last percent, writer)
STAGES: tuple[tuple[str, int, int, Any], ...] = (
    ("csv", 5, 30, write_csv),
    ("xlsx", 30, 60, write_xlsx),
    ("pdf", 60, 98, write_pdf),
)


class JobTakenAway(Exception):
    """The sweep gave this attempt up (its heartbeat went stale); another one owns the job."""


def summaries_folder(settings: Settings) -> Path:
    return settings.instance_path / "summaries"


def file_name(assembly: Assembly, language: str, fmt: str) -> str:
    return f"{assembly.slug}-report-{language}.{fmt}"


def render_report(session: Session, job_id: int, settings: Settings,
                  worker: str | None = None) -> str:
    """Build the job's files; returns the job's status afterwards."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    attempt = claim(session, job_id, worker)
    if attempt is None:
        attempt = _take_over_if_silent(session, job_id, worker)
    job = session.get(SummaryJob, job_id)
    if job is None:
        return "missing"
    if attempt is None:
        return job.status.value
    progress_session = Session(session.get_bind())
    beating = Heartbeat(Session(session.get_bind()), job_id, attempt)
    beating.start()
    try:
        files = _build(session, progress_session, job, attempt, settings)
    except JobTakenAway:
        session.rollback()
        log.warning("summary %s: attempt %s was given up by the sweep", job_id, attempt)
        return "taken_away"
    except Exception as exc:
        session.rollback()
        log.exception("summary %s failed", job_id)
        session.execute(update(SummaryJob).where(still_ours(job_id, attempt)).values(
            status=SummaryStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=utcnow(), stage="failed"))
        session.commit()
        return SummaryStatus.FAILED.value
    finally:
        beating.stop()
        progress_session.close()
    return _finish(session, job, attempt, files, settings)


class Heartbeat(threading.Thread):
    """Writes the job's heartbeat every HEARTBEAT_EVERY seconds while the build runs (a long
    stage writes no progress for a while): a redelivered message can then tell a dead worker
    (no beat for TAKEOVER) from a busy one."""

    def __init__(self, session: Session, job_id: int, attempt: int) -> None:
        super().__init__(name=f"summary-{job_id}-heartbeat", daemon=True)
        self.session, self.job_id, self.attempt = session, job_id, attempt
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_EVERY):
                try:
                    if not heartbeat(self.session, self.job_id, self.attempt):
                        return  # taken over: the build notices at its next progress
                except Exception:  # a busy database: the next beat tries again
                    self.session.rollback()
                    log.warning("summary %s: heartbeat not written", self.job_id,
                                exc_info=True)
        finally:
            self.session.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def _take_over_if_silent(session: Session, job_id: int, worker: str) -> int | None:
    """A message for a running job: a duplicate while its worker lives, or the redelivery
    after its worker was killed (Celery sends it again at once, before the heartbeat is old).
    Watch the heartbeat for as long as a live worker needs to beat again: if it moves, the
    job is in good hands; if it stays still, take the job over."""
    def beat() -> Any:
        session.expire_all()
        row = session.execute(select(SummaryJob.status, SummaryJob.heartbeat_at)
                              .where(SummaryJob.id == job_id)).one_or_none()
        session.commit()
        return row

    first = beat()
    if first is None or first[0] is not SummaryStatus.RUNNING:
        return None
    deadline = time.monotonic() + TAKEOVER.total_seconds() + 2 * HEARTBEAT_EVERY
    while time.monotonic() < deadline:
        time.sleep(HEARTBEAT_EVERY / 2)
        if beat() != first:
            return None  # it beat (or finished): a live worker has it
        attempt = claim(session, job_id, worker)
        if attempt is not None:
            log.warning("summary %s: took over from a silent worker", job_id)
            return attempt
    return None


def _build(session: Session, progress_session: Session, job: SummaryJob, attempt: int,
           settings: Settings) -> list[dict[str, Any]]:
    job_id, language = job.id, job.language  # plain values: the row is not reloaded
    assembly = session.get(Assembly, job.assembly_id)
    assert assembly is not None
    delay = settings.summary_stage_delay

    def progress(stage: str, percent: int) -> None:
        if not report_progress(progress_session, job_id, attempt, stage, percent):
            raise JobTakenAway

    def pause(stage: str, percent: int) -> None:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            time.sleep(min(0.5, delay))
            progress(stage, percent)

    work = _attempt_folder(settings, job_id, attempt)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    files: list[dict[str, Any]] = []
    with in_language(language):
        progress("collecting", 2)
        report = build_report(session, assembly, language)
        total = max(report.participant_count, 1)
        session.commit()  # no transaction held between stages
        pause("collecting", 4)
        stamp = generated_stamp(utcnow(), assembly.home_timezone)
        for fmt, first, last, writer in STAGES:
            progress(fmt, first)

            def tick(done: int, first: int = first, last: int = last, fmt: str = fmt) -> None:
                progress(fmt, first + (last - first) * min(done, total) // total)

            path = work / file_name(assembly, language, fmt)
            rows = participant_rows(session, assembly, language)
            if fmt == "pdf":
                writer(report, rows, path, tick, generated=stamp)
            else:
                writer(report, rows, path, tick)
            session.commit()
            files.append({"format": fmt, "filename": path.name, "size": path.stat().st_size,
                          "sha256": sha256_of(path)})
            pause(fmt, last)
    return files


def _attempt_folder(settings: Settings, job_id: int, attempt: int) -> Path:
    """Where one attempt builds its files, apart from the job's folder until it finishes."""
    return summaries_folder(settings) / f".{job_id}-attempt-{attempt}"


def _finish(session: Session, job: SummaryJob, attempt: int, files: list[dict[str, Any]],
            settings: Settings) -> str:
    """Mark the job done once and, in the same transaction, queue the requester's email.

    The files take the job's folder only once the attempt is known to be still ours (the
    row stays locked until the commit): a worker whose job was taken away meanwhile throws
    its files away instead of replacing those of the attempt that finished the job."""
    folder = summaries_folder(settings) / str(job.id)
    work = _attempt_folder(settings, job.id, attempt)
    for entry in files:
        entry["path"] = str((folder / entry["filename"]).relative_to(settings.instance_path))
    done = affected(session.execute(update(SummaryJob).where(still_ours(job.id, attempt)).values(
        status=SummaryStatus.DONE, progress=100, stage="done", files=files,
        finished_at=utcnow(), heartbeat_at=utcnow(), error="")))
    if not done:
        session.rollback()
        shutil.rmtree(work, ignore_errors=True)
        return "taken_away"
    # A retry rebuilds everything: the new files replace the old ones in one step.
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    for leftover in folder.parent.glob(f".{job.id}-attempt-*"):  # from a worker that died
        shutil.rmtree(leftover, ignore_errors=True)
    requester = session.get(User, job.requested_by_id) if job.requested_by_id else None
    if requester is not None:
        try:  # the files are built: a mail that cannot be written never keeps the job open
            with session.begin_nested():
                _queue_done_mail(session, job, requester, files, settings)
        except Exception:
            log.exception("summary %s: the 'ready' mail could not be queued", job.id)
    session.commit()
    return SummaryStatus.DONE.value


def _queue_done_mail(session: Session, job: SummaryJob, user: User,
                     files: list[dict[str, Any]], settings: Settings) -> None:
    assembly = session.get(Assembly, job.assembly_id)
    assert assembly is not None
    language = language_or_default(user.language)
    base = settings.base_url
    history = f"{base}/secretariat/assemblies/{assembly.slug}/summaries"
    with in_language(language):
        title = one_line(assembly.display_title(language))  # a subject is one clean line
        subject = _("Summary ready: %(title)s", title=title)
        links = "\n".join(f"  {entry['format'].upper()}: "
                          f"{base}/secretariat/summaries/{job.id}/download/{entry['format']}"
                          for entry in files)
        body = "\n\n".join([
            salutation(user.display_name),
            _("The attendance summary and report you asked for are ready."),
            f"{title}\n" + _("Made from the data as it was at %(when)s.", when=show_instant(
                job.queued_at, assembly.home_timezone)),
            _("Download (log in as the secretariat):") + "\n" + links,
            _("All summaries of this assembly: %(url)s", url=history),
        ])
    queue_message(session, kind="summary_ready", to_address=user.email,
                  to_name=user.display_name, subject=subject, text_body=body + "\n",
                  language=language, assembly_id=assembly.id)


def requeue_summaries(session: Session, now: datetime | None = None) -> int:
    """For the sweep: nothing stays stuck. A dead worker's job goes back to the queue, a lost
    message is sent again (a duplicate is harmless: only one worker can claim the job)."""
    job_ids = requeue_stuck(session, now)
    for job_id in job_ids:
        dispatch(RENDER_SUMMARY, job_id)
    return len(job_ids)
