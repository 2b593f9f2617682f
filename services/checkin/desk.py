"""The check-in desk: a badge code or a delegate checks in once (a second scan, even at the
same instant from another phone, finds the first check-in), an undo, the search for people
without their badge, and the counts per city."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from models import (
    Assembly,
    Badge,
    CheckIn,
    CheckInAction,
    CheckInEvent,
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    User,
    utcnow,
)
from models.delegation import COUNTED_STATUSES
from models.errors import DomainError
from services.attendance import delegates_by_city, first_representatives
from services.audit import record
from services.checkin.board import announce_change
from services.i18n import _, show_time, utc_offset

# A phone's clock may run a little ahead; a scan claimed further in the future is refused.
CLOCK_SLACK = timedelta(minutes=5)
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    delegate: Delegate
    already: bool
    # What the desk shows, taken before the commit (which expires the rows).
    shown: dict[str, object]


def _with_city() -> Any:
    return joinedload(Delegate.delegation).joinedload(Delegation.city)


def delegate_for_code(session: Session, assembly: Assembly, code: str) -> Delegate:
    """The delegate whose live badge carries `code`; 404 for an unknown or revoked code."""
    delegate = session.scalar(
        select(Delegate).join(Badge, Badge.delegate_id == Delegate.id)
        .where(Badge.code == code.strip(), Badge.assembly_id == assembly.id,
               Badge.revoked_at.is_(None)).options(_with_city()))
    if delegate is None:
        raise DomainError(_("No valid badge has this code (unknown or revoked)."),
                          code="unknown_badge", status=404, field="code")
    return delegate


def delegate_of(session: Session, assembly: Assembly, delegate_id: int) -> Delegate:
    delegate = session.get(Delegate, delegate_id, options=[_with_city()])
    if delegate is None or delegate.assembly_id != assembly.id:
        raise DomainError(_("There is no delegate %(id)s in this assembly.", id=delegate_id),
                          code="unknown_delegate", status=404, field="delegate")
    return delegate


def _scan_time(at: datetime | None) -> datetime:
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(_("The scan time needs a zone (an offset or Z)."), code="naive_time",
                          status=422, field="at")
    if at > now + CLOCK_SLACK:
        raise DomainError(_("The scan time is in the future."), code="future_time", status=422,
                          field="at")
    return at


def check_in(session: Session, assembly: Assembly, user: User | None, *,
             code: str | None = None, delegate_id: int | None = None,
             at: datetime | None = None) -> CheckInResult:
    """Check a delegate in by badge code or by id (the search). Idempotent: the same person
    again answers the existing check-in with `already`. Commits (the unique key on the
    delegate decides between two simultaneous scans)."""
    if code:
        delegate, via = delegate_for_code(session, assembly, code), "code"
    elif delegate_id is not None:
        delegate, via = delegate_of(session, assembly, delegate_id), "delegate"
    else:
        raise DomainError(_("Give a badge code or a delegate."), code="code_required",
                          status=422, field="code")
    if delegate.status is DelegateStatus.CANCELLED:
        raise DomainError(_("%(name)s's registration was cancelled: they cannot be checked in.",
                            name=delegate.full_name), code="cancelled", status=409,
                          field="delegate")
    scanned = _scan_time(at)
    by = user.id if user else None
    row = CheckIn(assembly_id=assembly.id, delegate_id=delegate.id, checked_in_at=scanned,
                  by_user_id=by, via=via)
    try:
        # Insert first (the usual case at the door is a first scan); the unique key on the
        # delegate answers a repeat, or the other of two simultaneous scans.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = session.scalar(select(CheckIn).where(CheckIn.delegate_id == delegate.id))
        if existing is None:
            raise
        shown = describe(session, assembly, delegate, existing, already=True)
        session.rollback()
        return CheckInResult(existing, delegate, True, shown)
    event = CheckInEvent(assembly_id=assembly.id, delegate_id=delegate.id,
                         action=CheckInAction.CHECK_IN, by_user_id=by)
    session.add(event)
    session.flush()
    record(session, "checkin.recorded", f"delegate:{delegate.id}", {"checked_in_at": None},
           {"checked_in_at": scanned.isoformat(), "via": via}, user)
    announce_change(session, assembly.id, event.id)
    shown = describe(session, assembly, delegate, row, already=False)
    session.commit()
    return CheckInResult(row, delegate, False, shown)


def undo_check_in(session: Session, assembly: Assembly, user: User | None,
                  delegate_id: int) -> Delegate:
    delegate = delegate_of(session, assembly, delegate_id)
    row = session.scalar(select(CheckIn).where(CheckIn.delegate_id == delegate.id))
    if row is None:
        raise DomainError(_("%(name)s is not checked in.", name=delegate.full_name),
                          code="not_checked_in", status=404, field="delegate")
    checked_in_at = row.checked_in_at
    session.delete(row)
    event = CheckInEvent(assembly_id=assembly.id, delegate_id=delegate.id,
                         action=CheckInAction.UNDO, by_user_id=user.id if user else None)
    session.add(event)
    session.flush()
    record(session, "checkin.undone", f"delegate:{delegate.id}",
           {"checked_in_at": checked_in_at.isoformat()}, {"checked_in_at": None}, user)
    announce_change(session, assembly.id, event.id)
    session.commit()
    return delegate


def checkin_of(session: Session, delegate: Delegate) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(CheckIn.delegate_id == delegate.id))


def search_delegates(session: Session, assembly: Assembly, query: str,
                     limit: int = SEARCH_LIMIT) -> list[tuple[Delegate, CheckIn | None]]:
    """People whose name (Latin or local script) or city matches every word of `query`,
    case-insensitively; cancelled people are listed too (the desk must see why)."""
    words = query.split()
    if not words:
        return []
    cities = list(session.scalars(select(MemberCity)
                                  .where(MemberCity.network_id == assembly.network_id)))
    conditions = []
    for word in words[:6]:
        folded = word.casefold()
        city_ids = [c.id for c in cities
                    if folded == c.code.casefold()
                    or any(folded in (name or "").casefold() for name in c.name.values())]
        pattern = f"%{word.lower()}%"
        matches = [func.lower(Delegate.family_name).like(pattern),
                   func.lower(Delegate.given_name).like(pattern),
                   func.lower(Delegate.name_local).like(pattern)]
        # A local name is often written without a space ("舛添要一" for "舛添 要一").
        matches.append(func.replace(Delegate.name_local, " ", "").like(
            f"%{word.replace(' ', '')}%"))
        if city_ids:
            matches.append(Delegation.city_id.in_(city_ids))
        conditions.append(or_(*matches))
    rows = session.execute(
        select(Delegate, CheckIn)
        .join(Delegation, Delegation.id == Delegate.delegation_id)
        .outerjoin(CheckIn, CheckIn.delegate_id == Delegate.id)
        .where(Delegate.assembly_id == assembly.id, and_(*conditions))
        .order_by(Delegate.family_name, Delegate.given_name, Delegate.id)
        .limit(limit))
    return [(delegate, checkin) for delegate, checkin in rows]


@dataclass(frozen=True)
class CityCount:
    city: MemberCity
    registered: int
    checked_in: int
    representatives: int  # representatives checked in


@dataclass(frozen=True)
class CheckInCounts:
    cities: list[CityCount]

    @property
    def registered(self) -> int:
        return sum(c.registered for c in self.cities)

    @property
    def checked_in(self) -> int:
        return sum(c.checked_in for c in self.cities)


def checked_in_per_city(session: Session, assembly: Assembly) -> dict[int, int]:
    rows = session.execute(
        select(Delegation.city_id, func.count(CheckIn.id))
        .join(Delegate, Delegate.delegation_id == Delegation.id)
        .join(CheckIn, CheckIn.delegate_id == Delegate.id)
        .where(CheckIn.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES))
        .group_by(Delegation.city_id))
    return {city_id: n for city_id, n in rows}


def checked_in_representatives(session: Session, assembly: Assembly) -> dict[int, Delegate]:
    return first_representatives(session, delegates_by_city()
                                 .join(CheckIn, CheckIn.delegate_id == Delegate.id)
                                 .where(CheckIn.assembly_id == assembly.id))


def _pairs(rows: Any) -> dict[int, int]:
    return {key: value for key, value in rows}


def checkin_counts(session: Session, assembly: Assembly) -> CheckInCounts:
    """Per member city: registered (not cancelled, delegation attending), checked in, and
    representatives checked in; three queries."""
    cities = sorted(session.scalars(select(MemberCity)
                                    .where(MemberCity.network_id == assembly.network_id)),
                    key=lambda city: (city.name.get("en") or city.code).casefold())
    registered: dict[int, int] = _pairs(session.execute(
        select(Delegation.city_id, func.count(Delegate.id))
        .join(Delegate, Delegate.delegation_id == Delegation.id)
        .where(Delegation.assembly_id == assembly.id,
               Delegation.status == DelegationStatus.ATTENDING,
               Delegate.status.in_(COUNTED_STATUSES))
        .group_by(Delegation.city_id)))
    checked = checked_in_per_city(session, assembly)
    reps: dict[int, int] = _pairs(session.execute(
        select(Delegation.city_id, func.count(CheckIn.id))
        .join(Delegate, Delegate.delegation_id == Delegation.id)
        .join(CheckIn, CheckIn.delegate_id == Delegate.id)
        .where(CheckIn.assembly_id == assembly.id,
               Delegate.role == DelegateRole.REPRESENTATIVE,
               Delegate.status.in_(COUNTED_STATUSES))
        .group_by(Delegation.city_id)))
    return CheckInCounts([CityCount(city, registered.get(city.id, 0), checked.get(city.id, 0),
                                    reps.get(city.id, 0)) for city in cities])


def describe(session: Session, assembly: Assembly, delegate: Delegate,
             checkin: CheckIn | None, already: bool = False) -> dict[str, object]:
    """What the desk shows and the API answers about a person at the door."""
    city = delegate.delegation.city
    zone = assembly.timezone
    return {
        "delegate": {"id": delegate.id, "name": delegate.full_name,
                     "name_local": delegate.name_local, "family_name": delegate.family_name,
                     "given_name": delegate.given_name, "role": delegate.role.value,
                     "status": delegate.status.value},
        "city": city.code, "city_name": city.name,
        "checked_in": checkin is not None,
        "checked_in_at": checkin.checked_in_at if checkin else None,
        # "09:12 Asia/Tomsk (UTC+07:00)": the desk reads the venue's time with its zone.
        "checked_in_at_text": (f"{show_time(checkin.checked_in_at, zone)} {zone} "
                               f"({utc_offset(checkin.checked_in_at, zone)})"
                               if checkin else ""),
        "already": already,
    }
