"""Who a reminder goes to now, one entry per address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Delegate,
    Delegation,
    DelegationStatus,
    MemberCity,
    Reminder,
    ReminderAudience,
    Role,
    Signup,
    User,
)
from models.delegation import COUNTED_STATUSES
from models.languages import language_or_default
from models.names import name_for
from services.attendance import Presence, city_presences
from services.i18n import gettext, in_language


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    language: str
    timezone: str
    city: MemberCity | None = None
    delegate_id: int | None = None


def _liaisons(session: Session, city_ids: Sequence[int]) -> list[Recipient]:
    users = session.scalars(select(User).where(
        User.role == Role.LIAISON, User.is_active.is_(True), User.city_id.in_(city_ids))
        .order_by(User.city_id, User.id))
    return [Recipient(address=u.email, name=u.display_name or u.email,
                      language=language_or_default(u.language),
                      timezone=u.timezone or (u.city.timezone if u.city else "UTC"), city=u.city)
            for u in users]


_DELEGATE_COLUMNS = (Delegate.id, Delegate.email, Delegate.given_name, Delegate.family_name,
                     Delegate.name_local, Delegate.name_order, Delegate.language,
                     Delegation.city_id)


def _delegates(session: Session, query: Any) -> list[Recipient]:
    # Plain columns, not ORM objects: a reminder to every delegate may load thousands.
    cities = {c.id: c for c in session.scalars(select(MemberCity))}
    return [Recipient(address=email,
                      name=name_for(language_or_default(language), given=given, family=family,
                                    local=local, order=order),
                      language=language_or_default(language),
                      timezone=cities[city_id].timezone, city=cities[city_id],
                      delegate_id=delegate_id)
            for delegate_id, email, given, family, local, order, language, city_id
            in session.execute(query) if email]


def recipients(session: Session, reminder: Reminder) -> list[Recipient]:
    """Who the reminder goes to now (one entry per address)."""
    assembly = reminder.assembly
    statuses = dict(session.execute(select(Delegation.city_id, Delegation.status)
                                    .where(Delegation.assembly_id == assembly.id)).all())
    cities = session.scalars(select(MemberCity.id)
                             .where(MemberCity.network_id == assembly.network_id)).all()
    people: list[Recipient]
    match reminder.audience:
        case ReminderAudience.UNDECIDED_LIAISONS:
            # A city without a delegation row has not said anything yet.
            undecided = [c for c in cities
                         if statuses.get(c, DelegationStatus.UNDECIDED)
                         is DelegationStatus.UNDECIDED]
            people = _liaisons(session, undecided)
        case ReminderAudience.ABSENT_WITHOUT_PROXY:
            # Absent and not represented, by the one rule attendance uses: a verified letter
            # whose holder no longer attends represents nobody.
            presences = city_presences(session, assembly)
            absent = [c for c in cities if statuses.get(c) is DelegationStatus.ABSENT
                      and presences.get(c) is not Presence.REPRESENTED]
            people = _liaisons(session, absent)
        case ReminderAudience.DELEGATES:
            people = _delegates(session, select(*_DELEGATE_COLUMNS).join(Delegation).where(
                Delegate.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id))
        case ReminderAudience.ITEM_SIGNUPS:
            people = _delegates(session, select(*_DELEGATE_COLUMNS).join(Delegation)
                                .join(Signup, Signup.delegate_id == Delegate.id).where(
                Signup.item_id == reminder.item_id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id))
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.address not in seen:
            seen.add(person.address)
            unique.append(person)
    return unique


def sample_recipient(session: Session, reminder: Reminder, language: str) -> Recipient:
    """Someone to preview the reminder for: a real recipient when there is one."""
    real = recipients(session, reminder)
    chosen = next((p for p in real if p.language == language), real[0] if real else None)
    if chosen is not None:
        return Recipient(address=chosen.address, name=chosen.name, language=language,
                         timezone=chosen.timezone, city=chosen.city, delegate_id=chosen.delegate_id)
    assembly = reminder.assembly
    with in_language(language):
        # TRANSLATORS: a sample person's name, as people of your language write one.
        name = gettext("Hanako YAMADA")
    return Recipient(address="someone@example.org", name=name,
                     language=language, timezone=assembly.home_timezone, city=assembly.host_city)
