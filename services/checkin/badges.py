"""Badge codes and badge PDF jobs.

Every registered delegate gets a badge code (192 random bits, unique for ever: a revoked code
is never handed out again). The secretariat asks for badges (everyone, one city, or chosen
people; A4 sheets or one per page); a worker builds the PDF, with progress on the job row.

A badge PDF carries names, so erasure and the retention job remove the files that may show
the people concerned (`forget_badge_files`). Each build writes its own file and finishes only
while the job is still its claim, so a build under way when the names go is thrown away.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import Settings
from models import (
    Assembly,
    Badge,
    BadgeJob,
    BadgeJobStatus,
    BadgeLayout,
    Delegate,
    DelegateRole,
    Delegation,
    MemberCity,
    User,
    utcnow,
)
from models.base import affected
from models.delegation import COUNTED_STATUSES
from models.errors import DomainError
from services.background import BUILD_BADGES, enqueue_after_commit
from services.i18n import N_, _, in_language, show_date

log = logging.getLogger(__name__)

ROLE_WORDS = {
    DelegateRole.REPRESENTATIVE: N_("Representative"),
    DelegateRole.DELEGATE: N_("Delegate"),
    DelegateRole.STAFF: N_("Staff"),
    DelegateRole.PERFORMER: N_("Performer"),
    DelegateRole.INTERPRETER: N_("Interpreter"),
    DelegateRole.PRESS: N_("Press"),
    DelegateRole.OBSERVER: N_("Observer"),
}


def badges_folder(settings: Settings) -> Path:
    return settings.instance_path / "badges"


# --- codes ------------------------------------------------------------------------------------


def live_badges(session: Session, assembly: Assembly,
                delegates: Sequence[Delegate]) -> dict[int, Badge]:
    """The live badge of each delegate, issuing one to those who have none."""
    ids = [d.id for d in delegates]
    found: dict[int, Badge] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for badge in session.scalars(select(Badge).where(Badge.delegate_id.in_(chunk),
                                                         Badge.revoked_at.is_(None))):
            found[badge.delegate_id] = badge
    for delegate in delegates:
        if delegate.id not in found:
            found[delegate.id] = Badge(assembly_id=assembly.id, delegate_id=delegate.id)
            session.add(found[delegate.id])
    session.flush()
    return found


def revoke_badge(session: Session, assembly: Assembly, delegate: Delegate) -> Badge | None:
    """The delegate's live code stops working (a lost badge); returns the revoked badge, or
    None when there was none: revoking is idempotent, like every DELETE of the API."""
    badge = session.scalar(select(Badge).where(Badge.delegate_id == delegate.id,
                                               Badge.revoked_at.is_(None)))
    if badge is None:
        return None
    badge.revoked_at = utcnow()
    session.flush()
    return badge


def reissue_badge(session: Session, assembly: Assembly, delegate: Delegate) -> Badge:
    """Revoke the live code (if any) and issue a new one."""
    revoke_badge(session, assembly, delegate)
    return live_badges(session, assembly, [delegate])[delegate.id]


# --- jobs -------------------------------------------------------------------------------------


def request_badges(session: Session, assembly: Assembly, user: User | None, *,
                   layout: BadgeLayout | str = BadgeLayout.SHEET, city: str | None = None,
                   delegates: Sequence[int] | None = None) -> BadgeJob:
    """A badge job for everyone registered, one city or chosen delegates; built after commit."""
    try:
        layout = BadgeLayout(layout)
    except ValueError:
        raise DomainError(_("Unknown layout %(layout)s: use sheet or single.", layout=layout),
                          code="unknown_layout", status=422, field="layout") from None
    scope: dict[str, Any] = {}
    if city:
        found = session.scalar(select(MemberCity).where(
            MemberCity.code == city.upper(), MemberCity.network_id == assembly.network_id))
        if found is None:
            raise DomainError(_("There is no member city with code %(code)s.", code=city),
                              code="unknown_city", status=422, field="city")
        scope["city"] = found.code
    if delegates:
        ids = sorted(set(delegates))
        known = set(session.scalars(select(Delegate.id).where(
            Delegate.id.in_(ids), Delegate.assembly_id == assembly.id)))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise DomainError(_("These delegates are not in this assembly: %(ids)s.",
                                ids=", ".join(map(str, unknown))),
                              code="unknown_delegate", status=422, field="delegates")
        scope["delegates"] = ids
    job = BadgeJob(assembly_id=assembly.id, requested_by_id=user.id if user else None,
                   layout=layout, scope=scope)
    session.add(job)
    session.flush()
    enqueue_after_commit(session, BUILD_BADGES, job.id)
    return job


def _people(session: Session, assembly: Assembly, scope: dict[str, Any]
            ) -> list[tuple[Delegate, MemberCity]]:
    query = (select(Delegate, MemberCity)
             .join(Delegation, Delegation.id == Delegate.delegation_id)
             .join(MemberCity, MemberCity.id == Delegation.city_id)
             .where(Delegate.assembly_id == assembly.id,
                    Delegate.status.in_(COUNTED_STATUSES)))
    if scope.get("city"):
        query = query.where(MemberCity.code == scope["city"])
    if scope.get("delegates"):
        query = query.where(Delegate.id.in_(scope["delegates"]))
    rows = session.execute(query).tuples().all()
    order = list(DelegateRole)
    # By city (English name), the representative first, then by name: how they are handed out.
    return sorted(rows, key=lambda r: ((r[1].name.get("en") or r[1].code).casefold(),
                                       order.index(r[0].role), r[0].family_name.casefold(),
                                       r[0].id))


def _second_language(names: dict[str, str]) -> tuple[str, str]:
    for lang, value in names.items():
        if lang != "en" and value:
            return value, lang
    return "", "en"


def _role_word(role: DelegateRole, languages: Sequence[str]) -> str:
    words = []
    for lang in languages:
        with in_language(lang):
            word = _(ROLE_WORDS[role])
        if word not in words:
            words.append(word)
    return " · ".join(words)


def _faces(assembly: Assembly, people: list[tuple[Delegate, MemberCity]],
           badges: dict[int, Badge]) -> Iterator[Any]:
    from services.checkin.printing import BadgeFace

    title_local, title_lang = _second_language(assembly.title)
    title = assembly.title.get("en") or title_local
    languages = ["en"] + ([title_lang] if title_lang != "en" else [])
    with in_language("en"):
        dates = f"{show_date(assembly.starts_on)} – {show_date(assembly.ends_on)}"
    words = {role: _role_word(role, languages) for role in DelegateRole}
    for delegate, city in people:
        city_local, city_lang = _second_language(city.name)
        yield BadgeFace(
            code=badges[delegate.id].code, name_latin=delegate.full_name,
            name_local=delegate.name_local.strip(), name_lang=delegate.language,
            city=city.name.get("en") or city.code, city_local=city_local, city_lang=city_lang,
            role=delegate.role, role_word=words[delegate.role], title=title,
            title_local=title_local, title_lang=title_lang, dates=dates)


def _set(session: Session, job_id: int, started: datetime, **values: Any) -> bool:
    """Update the job while it is still this build's claim (running, started then); False
    once an erasure gave it back to the queue. Its own short transaction, so the page can
    follow the progress."""
    done = affected(session.execute(update(BadgeJob).where(
        BadgeJob.id == job_id, BadgeJob.status == BadgeJobStatus.RUNNING,
        BadgeJob.started_at == started).values(**values)))
    session.commit()
    return bool(done)


def build_badges(session: Session, job_id: int, settings: Settings) -> str:
    """The worker's job: issue missing codes, write the PDF; returns the job's status."""
    started = utcnow()
    claimed = affected(session.execute(
        update(BadgeJob).where(BadgeJob.id == job_id, BadgeJob.status == BadgeJobStatus.QUEUED)
        .values(status=BadgeJobStatus.RUNNING, started_at=started, progress=1)))
    session.commit()
    job = session.get(BadgeJob, job_id)
    if job is None:
        return "missing"
    if not claimed:
        return job.status.value  # done, or another worker has it
    from services.checkin.printing import write_badges

    # A name of its own: a rebuild after an erasure may run while this build still writes.
    final = badges_folder(settings) / f"badges-{job.id}-{secrets.token_hex(4)}.pdf"
    partial = final.with_suffix(".part")
    try:
        assembly = job.assembly
        people = _people(session, assembly, job.scope)
        badges = live_badges(session, assembly, [d for d, _ in people])
        session.commit()
        final.parent.mkdir(parents=True, exist_ok=True)
        total = len(people)

        def progress(done: int) -> None:
            _set(session, job_id, started, progress=max(1, min(99, done * 100 // total)))

        count = write_badges(partial, _faces(assembly, people, badges), job.layout, total,
                             progress, title=f"{assembly.slug} badges")
        os.replace(partial, final)
        finished = _set(session, job_id, started, status=BadgeJobStatus.DONE, progress=100,
                        badges=count, path=str(final), size=final.stat().st_size,
                        finished_at=utcnow())
    except Exception as exc:
        log.exception("badge job %s failed", job_id)
        session.rollback()
        partial.unlink(missing_ok=True)  # half a file of names
        _set(session, job_id, started, status=BadgeJobStatus.FAILED, error=str(exc)[:2000],
             finished_at=utcnow())
        return BadgeJobStatus.FAILED.value
    if not finished:
        # Names were erased while this build ran: its file may show them; the job was queued
        # again and is built anew.
        final.unlink(missing_ok=True)
        session.expire_all()
        job = session.get(BadgeJob, job_id)
        return job.status.value if job is not None else "missing"
    return BadgeJobStatus.DONE.value


def _may_show(job: BadgeJob, delegate: Delegate) -> bool:
    """Whether the job's PDF may carry the delegate (by its scope: at worst, one too many)."""
    scope = job.scope or {}
    if scope.get("delegates") and delegate.id not in scope["delegates"]:
        return False
    return not scope.get("city") or scope["city"] == delegate.delegation.city.code


def forget_badge_files(session: Session, assembly_id: int, delegate: Delegate | None = None,
                       rebuild: bool = True) -> int:
    """Names were removed (one delegate's, or everybody's with `delegate` None): delete the
    badge PDFs that may show them; returns how many jobs it touched. Finished jobs are built
    again without the names when `rebuild` (an erasure: the others' badges stay at hand),
    else left without a file (the retention job: the assembly is long over). A build under
    way goes back to the queue: its worker throws its file away (see `_set`).

    The rows are locked, so a build finishing meanwhile waits and then sees the change. The
    files go before the commit: a rollback leaves a job without its file, never a file with
    the names."""
    jobs = session.scalars(select(BadgeJob).where(
        BadgeJob.assembly_id == assembly_id,
        BadgeJob.status.in_((BadgeJobStatus.RUNNING, BadgeJobStatus.DONE)))
        .order_by(BadgeJob.id).with_for_update()).all()
    touched = 0
    for job in jobs:
        if delegate is not None and not _may_show(job, delegate):
            continue
        if job.status is BadgeJobStatus.DONE and not job.path:
            continue  # its file is already gone
        if job.path:
            Path(job.path).unlink(missing_ok=True)
        touched += 1
        if job.status is BadgeJobStatus.DONE and not rebuild:
            job.path, job.size = "", 0
            continue
        job.status, job.progress, job.badges, job.path, job.size = (
            BadgeJobStatus.QUEUED, 0, 0, "", 0)
        job.started_at = job.finished_at = None
        enqueue_after_commit(session, BUILD_BADGES, job.id)
    session.flush()
    return touched


def requeue_badge_jobs(session: Session) -> int:
    """The sweep's repair: queued jobs whose message was lost are sent again."""
    from services.background import dispatch

    # A minute's grace: a job queued just now is still on its way.
    ids = list(session.scalars(select(BadgeJob.id).where(
        BadgeJob.status == BadgeJobStatus.QUEUED,
        BadgeJob.created_at < utcnow() - timedelta(minutes=1))))
    for job_id in ids:
        dispatch(BUILD_BADGES, job_id)
    return len(ids)


def badge_file(session: Session, job: BadgeJob) -> Path:
    if job.status is not BadgeJobStatus.DONE or not job.path or not Path(job.path).is_file():
        raise DomainError(_("These badges are not ready."), code="not_ready", status=409)
    return Path(job.path)
