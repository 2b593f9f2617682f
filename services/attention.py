"""What needs the secretariat's attention, per assembly: the dashboard's "Needs attention"
section and the counts on the navigation links. Each entry counts something a person has to
act on, says what it is in words, and names the page where it is done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegation,
    DelegationStatus,
    MailStatus,
    MemberCity,
    OutboxMessage,
    ProxyLetter,
    ProxyStatus,
    Reminder,
    ReminderAudience,
    ReminderStatus,
    Role,
    SummaryJob,
    SummaryStatus,
    User,
)
from models.base import utcnow
from services.attendance import Presence, city_presences
from services.reminders.audience import audience_size


@dataclass(frozen=True)
class EmptyAudience:
    """An active reminder that would reach nobody now, and why."""
    reminder: Reminder
    # Why, when someone can fix it (the page words each one): "no_liaison_accounts" (the
    # cities in the audience have no liaison account) or "no_email_addresses" (the delegates
    # have none). An audience empty because nobody is in it (all have answered) is fine.
    reason: str




@dataclass(frozen=True)
class Attention:
    assembly: Assembly
    letters_to_verify: int
    first_letter_id: int | None
    undecided: list[MemberCity]
    deadline: datetime | None  # the registration deadline, while it is ahead
    failed_mail: int
    failed_jobs: int
    empty_reminders: list[EmptyAudience] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (self.letters_to_verify + len(self.undecided) + self.failed_mail
                + self.failed_jobs + len(self.empty_reminders))

    def time_left(self, now: datetime | None = None) -> timedelta | None:
        if self.deadline is None:
            return None
        return self.deadline - (now or utcnow())


def needs_attention(session: Session, assembly: Assembly) -> Attention:
    now = utcnow()
    waiting = session.scalars(select(ProxyLetter.id).where(
        ProxyLetter.assembly_id == assembly.id, ProxyLetter.status == ProxyStatus.SUBMITTED)
        .order_by(ProxyLetter.submitted_at, ProxyLetter.id)).all()
    undecided: list[MemberCity] = []
    if assembly.status is not AssemblyStatus.CLOSED:
        answered = select(Delegation.city_id).where(
            Delegation.assembly_id == assembly.id,
            Delegation.status != DelegationStatus.UNDECIDED)
        undecided = sorted(session.scalars(select(MemberCity).where(
            MemberCity.network_id == assembly.network_id, MemberCity.id.not_in(answered))),
            key=lambda city: (city.name.get("en") or city.code).casefold())
    failed_mail = session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.assembly_id == assembly.id,
        OutboxMessage.status == MailStatus.FAILED)) or 0
    # A failed job counts until a later one of the same assembly has succeeded.
    last_done = session.scalar(select(func.max(SummaryJob.id)).where(
        SummaryJob.assembly_id == assembly.id, SummaryJob.status == SummaryStatus.DONE)) or 0
    failed_jobs = session.scalar(select(func.count(SummaryJob.id)).where(
        SummaryJob.assembly_id == assembly.id, SummaryJob.status == SummaryStatus.FAILED,
        SummaryJob.id > last_done)) or 0
    deadline = assembly.registration_deadline
    return Attention(
        assembly=assembly, letters_to_verify=len(waiting),
        first_letter_id=waiting[0] if waiting else None, undecided=undecided,
        deadline=deadline if deadline is not None and deadline > now else None,
        failed_mail=failed_mail, failed_jobs=failed_jobs,
        empty_reminders=empty_audiences(session, assembly))


def empty_audiences(session: Session, assembly: Assembly) -> list[EmptyAudience]:
    """Active reminders that would reach nobody if they were sent now, with the reason."""
    found = []
    for reminder in session.scalars(select(Reminder).where(
            Reminder.assembly_id == assembly.id, Reminder.status == ReminderStatus.ACTIVE)
            .order_by(Reminder.id)):
        if audience_size(session, reminder):
            continue
        reason = _why_empty(session, assembly, reminder)
        if reason is not None:
            found.append(EmptyAudience(reminder, reason))
    return found


def _why_empty(session: Session, assembly: Assembly, reminder: Reminder) -> str | None:
    if reminder.audience in (ReminderAudience.UNDECIDED_LIAISONS,
                             ReminderAudience.ABSENT_WITHOUT_PROXY):
        statuses = dict(session.execute(select(Delegation.city_id, Delegation.status).where(
            Delegation.assembly_id == assembly.id)).all())
        cities = session.scalars(select(MemberCity.id).where(
            MemberCity.network_id == assembly.network_id)).all()
        if reminder.audience is ReminderAudience.UNDECIDED_LIAISONS:
            targets = [c for c in cities if statuses.get(c, DelegationStatus.UNDECIDED)
                       is DelegationStatus.UNDECIDED]
        else:
            presences = city_presences(session, assembly)
            targets = [c for c in cities if statuses.get(c) is DelegationStatus.ABSENT
                       and presences.get(c) is not Presence.REPRESENTED]
        if targets and not session.scalar(select(func.count(User.id)).where(
                User.role == Role.LIAISON, User.is_active.is_(True), User.city_id.in_(targets))):
            return "no_liaison_accounts"
        return None
    attending = session.scalar(select(func.count(Delegation.id)).where(
        Delegation.assembly_id == assembly.id,
        Delegation.status == DelegationStatus.ATTENDING)) or 0
    if reminder.audience is ReminderAudience.DELEGATES and attending:
        return "no_email_addresses"
    return None


def navigation_counts(session: Session) -> dict[str, int]:
    """The counts on the secretariat's navigation links, in two small queries: letters
    waiting for verification and undelivered mail, over every assembly."""
    return {
        "letters": session.scalar(select(func.count(ProxyLetter.id)).where(
            ProxyLetter.status == ProxyStatus.SUBMITTED)) or 0,
        "mail": session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == MailStatus.FAILED)) or 0,
    }
