"""The attendance picture: per member city present / represented / undecided / absent, and
the quorum.

`presence_of` is the one rule that decides, used by attendance, reminders, the report (and
decisions and check-in): a city is present when its delegation attends; represented when it
does not attend and its proxy letter is verified and names a city that is present (or the
chair, where allowed); undecided while it has not answered and the assembly is not closed
(`is_final`); absent otherwise — so a city that never answered is absent only once the
assembly is closed, as in the final report. Participants are counted for present cities only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import (
    ACTIVE_PROXY_STATUSES,
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateRole,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProxyLetter,
    ProxyStatus,
    Quorum,
    participant_counts,
)
from models.delegation import COUNTED_STATUSES
from services.i18n import _


class Presence(enum.StrEnum):
    PRESENT = "present"
    REPRESENTED = "represented"
    UNDECIDED = "undecided"  # has not answered, and the assembly is not closed yet
    ABSENT = "absent"


@dataclass(frozen=True)
class CityAttendance:
    city: MemberCity
    presence: Presence
    delegation_status: DelegationStatus
    participants: int
    representative: Delegate | None
    letter: ProxyLetter | None  # the grantor's active letter, verified or not
    holder: MemberCity | None


@dataclass(frozen=True)
class Attendance:
    assembly: Assembly
    rows: list[CityAttendance]
    quorum: Quorum
    required: int

    def count(self, presence: Presence) -> int:
        return sum(1 for row in self.rows if row.presence is presence)

    @property
    def members(self) -> int:
        return len(self.rows)

    @property
    def present(self) -> int:
        return self.count(Presence.PRESENT)

    @property
    def represented(self) -> int:
        return self.count(Presence.REPRESENTED)

    @property
    def absent(self) -> int:
        return self.count(Presence.ABSENT)

    @property
    def undecided(self) -> int:
        return self.count(Presence.UNDECIDED)

    @property
    def final(self) -> bool:
        """Closed: nobody can answer any more, so silence counts as absence."""
        return is_final(self.assembly)

    @property
    def participants(self) -> int:
        return sum(row.participants for row in self.rows)

    @property
    def counted(self) -> int:
        """Cities present or represented: what the quorum is measured against."""
        return self.present + self.represented

    @property
    def quorum_reached(self) -> bool:
        return self.quorum.reached(self.counted, self.members)


def is_final(assembly: Assembly) -> bool:
    """Whether undecided cities now count as absent: once the assembly is closed."""
    return assembly.status is AssemblyStatus.CLOSED
def quorum_label(rule: str) -> str:
    """The quorum rule in words, the same on the attendance page, the report and a
    decision's frozen picture."""
    return {"none": _("no quorum"), "half": _("at least half"),
            "majority": _("more than half"), "two_thirds": _("at least two thirds")}[rule]


def presence_of(city_id: int, statuses: Mapping[int, DelegationStatus],
                letters: Mapping[int, ProxyLetter], proxy_to_chair_allowed: bool,
                *, final: bool = True) -> Presence:
    """The rule. `statuses`: delegation status per city id (a city without one has said
    nothing); `letters`: each grantor city's active letter; `final`: the assembly is closed
    (`is_final`), so a city that never answered is absent rather than undecided."""
    status = statuses.get(city_id, DelegationStatus.UNDECIDED)
    if status is DelegationStatus.ATTENDING:
        return Presence.PRESENT
    otherwise = (Presence.UNDECIDED if status is DelegationStatus.UNDECIDED and not final
                 else Presence.ABSENT)
    letter = letters.get(city_id)
    if letter is None or letter.status is not ProxyStatus.VERIFIED:
        return otherwise
    if letter.to_chair:
        return Presence.REPRESENTED if proxy_to_chair_allowed else otherwise
    holder_attends = statuses.get(letter.holder_city_id or -1) is DelegationStatus.ATTENDING
    return Presence.REPRESENTED if holder_attends else otherwise


def _statuses(session: Session, assembly: Assembly) -> dict[int, DelegationStatus]:
    rows = session.execute(select(Delegation.city_id, Delegation.status)
                           .where(Delegation.assembly_id == assembly.id))
    return {city_id: status for city_id, status in rows}


def _active_letters(session: Session, assembly: Assembly) -> dict[int, ProxyLetter]:
    return {letter.grantor_city_id: letter for letter in session.scalars(
        select(ProxyLetter).where(ProxyLetter.assembly_id == assembly.id,
                                  ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES)))}


def city_presences(session: Session, assembly: Assembly) -> dict[int, Presence]:
    """Presence per member city id, in two queries."""
    statuses, letters = _statuses(session, assembly), _active_letters(session, assembly)
    cities = session.scalars(select(MemberCity.id)
                             .where(MemberCity.network_id == assembly.network_id))
    final = is_final(assembly)
    return {city_id: presence_of(city_id, statuses, letters, assembly.proxy_to_chair_allowed,
                                 final=final)
            for city_id in cities}


def delegates_by_city() -> Select[int, Delegate]:
    """(city id, delegate) rows, to narrow with an assembly and a picture."""
    return (select(Delegation.city_id, Delegate)
            .join(Delegate, Delegate.delegation_id == Delegation.id))


def first_representatives(session: Session,
                          among: Select[int, Delegate]) -> dict[int, Delegate]:
    """The first counted representative of each city (by city id) among `among`, rows of
    delegates_by_city(): one rule for the registration and the check-in pictures."""
    representatives: dict[int, Delegate] = {}
    for city_id, delegate in session.execute(
            among.where(Delegate.role == DelegateRole.REPRESENTATIVE,
                        Delegate.status.in_(COUNTED_STATUSES))
            .order_by(Delegate.id)):
        representatives.setdefault(city_id, delegate)
    return representatives


def registered_representatives(session: Session, assembly: Assembly) -> dict[int, Delegate]:
    """The first registered representative of each city (by city id)."""
    return first_representatives(
        session, delegates_by_city().where(Delegation.assembly_id == assembly.id))


def compute_attendance(session: Session, assembly: Assembly, *,
                       statuses: Mapping[int, DelegationStatus] | None = None,
                       counts: Mapping[int, int] | None = None,
                       representatives: Mapping[int, Delegate] | None = None) -> Attendance:
    """The live picture in five queries, whatever the number of cities. Another basis (the
    check-in at the venue, services.checkin.presence) passes its own statuses, participant
    counts and representatives; the rule stays `presence_of`."""
    # In the report's order: by English name (Bangkok … Yangon), whatever the codes.
    cities = sorted(session.scalars(select(MemberCity)
                                    .where(MemberCity.network_id == assembly.network_id)),
                    key=lambda city: (city.name.get("en") or city.code).casefold())
    if statuses is None:
        statuses = _statuses(session, assembly)
    if counts is None:
        counts = participant_counts(session, assembly)
    if representatives is None:
        representatives = registered_representatives(session, assembly)
    letters = _active_letters(session, assembly)
    by_id = {city.id: city for city in cities}
    rows = []
    final = is_final(assembly)
    for city in cities:
        kind = presence_of(city.id, statuses, letters, assembly.proxy_to_chair_allowed,
                           final=final)
        letter = letters.get(city.id)
        rows.append(CityAttendance(
            city=city, presence=kind,
            delegation_status=statuses.get(city.id, DelegationStatus.UNDECIDED),
            participants=counts.get(city.id, 0) if kind is Presence.PRESENT else 0,
            representative=representatives.get(city.id) if kind is Presence.PRESENT else None,
            letter=letter,
            holder=by_id.get(letter.holder_city_id) if letter and letter.holder_city_id else None,
        ))
    return Attendance(assembly=assembly, rows=rows, quorum=assembly.quorum,
                      required=assembly.quorum.required(len(cities)))
