"""Who a reminder goes to now, one entry per address."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select
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


def _liaison_query(city_ids: Sequence[int]) -> Any:
    return select(User).where(User.role == Role.LIAISON, User.is_active.is_(True),
                              User.city_id.in_(city_ids))


_DELEGATE_COLUMNS = (Delegate.id, Delegate.email, Delegate.given_name, Delegate.family_name,
                     Delegate.name_local, Delegate.name_order, Delegate.language,
                     Delegation.city_id)


def _delegate_rows(session: Session, query: Any) -> Iterator[Any]:
    """The rows of delegates with an address, the first of each address only."""
    seen: set[str] = set()
    result = session.execute(query.execution_options(yield_per=500))
    try:
        for row in result:
            if row.email and row.email not in seen:
                seen.add(row.email)
                yield row
    finally:  # a caller may stop at the first row it wants
        result.close()


def _delegates(session: Session, rows: Iterable[Any]) -> list[Recipient]:
    # Plain columns, not ORM objects: a reminder to every delegate may load thousands.
    cities = {c.id: c for c in session.scalars(select(MemberCity))}
    return [Recipient(address=email,
                      name=name_for(language_or_default(language), given=given, family=family,
                                    local=local, order=order),
                      language=language_or_default(language),
                      timezone=cities[city_id].timezone, city=cities[city_id],
                      delegate_id=delegate_id)
            for delegate_id, email, given, family, local, order, language, city_id in rows]


def _audience(session: Session, reminder: Reminder) -> tuple[Any, bool]:
    """The query of the reminder's audience and whether it selects delegates (rows of
    _DELEGATE_COLUMNS) rather than liaisons (User objects)."""
    assembly = reminder.assembly
    match reminder.audience:
        case ReminderAudience.DELEGATES:
            return select(*_DELEGATE_COLUMNS).join(Delegation).where(
                Delegate.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id), True
        case ReminderAudience.ITEM_SIGNUPS:
            return select(*_DELEGATE_COLUMNS).join(Delegation).join(
                Signup, Signup.delegate_id == Delegate.id).where(
                Signup.item_id == reminder.item_id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id), True
    statuses = dict(session.execute(select(Delegation.city_id, Delegation.status)
                                    .where(Delegation.assembly_id == assembly.id)).all())
    cities = session.scalars(select(MemberCity.id)
                             .where(MemberCity.network_id == assembly.network_id)).all()
    if reminder.audience is ReminderAudience.UNDECIDED_LIAISONS:
        # A city without a delegation row has not said anything yet.
        targets = [c for c in cities
                   if statuses.get(c, DelegationStatus.UNDECIDED) is DelegationStatus.UNDECIDED]
    else:
        # Absent and not represented, by the one rule attendance uses: a verified letter
        # whose holder no longer attends represents nobody.
        presences = city_presences(session, assembly)
        targets = [c for c in cities if statuses.get(c) is DelegationStatus.ABSENT
                   and presences.get(c) is not Presence.REPRESENTED]
    return _liaison_query(targets), False


def recipients(session: Session, reminder: Reminder) -> list[Recipient]:
    """Who the reminder goes to now (one entry per address)."""
    query, delegates = _audience(session, reminder)
    if delegates:
        return _delegates(session, _delegate_rows(session, query))
    seen: set[str] = set()
    unique = []
    for person in _liaisons_of(session, query):
        if person.address not in seen:
            seen.add(person.address)
            unique.append(person)
    return unique


def _liaisons_of(session: Session, query: Any) -> list[Recipient]:
    return [Recipient(address=u.email, name=u.display_name or u.email,
                      language=language_or_default(u.language),
                      timezone=u.timezone or (u.city.timezone if u.city else "UTC"), city=u.city)
            for u in session.scalars(query.order_by(User.city_id, User.id))]


def audience_size(session: Session, reminder: Reminder) -> int:
    """len(recipients()), counted by the database: lists show it for every reminder, and an
    audience of every delegate is thousands of people."""
    query, delegates = _audience(session, reminder)
    address = Delegate.email if delegates else User.email
    addresses = (query.order_by(None).with_only_columns(address)
                 .where(address.is_not(None), address != "").subquery())
    return session.scalar(select(func.count(distinct(addresses.c.email)))) or 0


def sample_recipient(session: Session, reminder: Reminder, language: str) -> Recipient:
    """Someone to preview the reminder for: a real recipient when there is one."""
    query, delegates = _audience(session, reminder)
    chosen: Recipient | None
    if delegates:  # only the chosen row becomes a Recipient: the audience may be thousands
        first = match = None
        for row in _delegate_rows(session, query):
            first = first or row
            if language_or_default(row.language) == language:
                match = row
                break
        chosen = next(iter(_delegates(session, [match or first])), None) if first else None
    else:
        real = _liaisons_of(session, query)
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
