"""The assembly report (報告書) and attendance summary: what goes into it, read from the
database in a fixed order, so that the same data always gives the same report.

The small parts (overview, per-city attendance, representatives, programme, proxies, side
events) are read at once; the full participant list is streamed (`participant_rows`), so that
the writers never hold an assembly's delegates in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from models import (
    Assembly,
    CheckIn,
    Decision,
    Delegate,
    DelegateRole,
    Delegation,
    DelegationStatus,
    ItemStatus,
    MemberCity,
    Minutes,
    ProgrammeItem,
    ProxyLetter,
    SideEvent,
    SideEventContribution,
    Signatory,
    Vote,
    localized,
)
from models.delegation import COUNTED_STATUSES
from models.languages import DEFAULT_LANGUAGE
from models.names import latin_name
from services.attendance import (
    Attendance,
    CityAttendance,
    Presence,
    compute_attendance,
    quorum_label,
)
from services.decisions.record import (
    DecisionLine,
    MinutesLine,
    minutes_lines,
    published_decisions,
)
from services.i18n import _, in_language, show_date, show_days

# The order a delegation is shown in: the representative first (DelegateRole's order).
ROLE_RANK = {role: rank for rank, role in enumerate(DelegateRole)}
_role_order = case({role.value: rank for role, rank in ROLE_RANK.items()}, value=Delegate.role)


def data_version(session: Session, assembly: Assembly) -> str:
    """A fingerprint of everything the report is made from: row counts and the latest change
    of each table involved. Any edit, addition or removal gives another version."""
    parts: list[object] = [assembly.id, assembly.updated_at.isoformat()]

    def stamp(model: type, *where: Any, changed: Any) -> None:
        count, latest = session.execute(select(func.count(), func.max(changed)).select_from(model)
                                        .where(*where)).one()
        parts.extend([model.__name__, count, latest.isoformat() if latest else ""])

    stamp(MemberCity, MemberCity.network_id == assembly.network_id,
          changed=MemberCity.created_at)
    stamp(Delegation, Delegation.assembly_id == assembly.id, changed=Delegation.updated_at)
    stamp(Delegate, Delegate.assembly_id == assembly.id, changed=Delegate.updated_at)
    stamp(ProgrammeItem, ProgrammeItem.assembly_id == assembly.id,
          changed=ProgrammeItem.updated_at)
    stamp(ProxyLetter, ProxyLetter.assembly_id == assembly.id, changed=ProxyLetter.updated_at)
    stamp(SideEvent, SideEvent.assembly_id == assembly.id, changed=SideEvent.updated_at)
    stamp(SideEventContribution,
          SideEventContribution.side_event_id.in_(
              select(SideEvent.id).where(SideEvent.assembly_id == assembly.id)),
          changed=SideEventContribution.updated_at)
    decisions = select(Decision.id).where(Decision.assembly_id == assembly.id)
    stamp(Decision, Decision.assembly_id == assembly.id, changed=Decision.updated_at)
    stamp(Vote, Vote.decision_id.in_(decisions), changed=Vote.cast_at)
    stamp(Signatory, Signatory.decision_id.in_(decisions), changed=Signatory.signed_at)
    stamp(Minutes, Minutes.assembly_id == assembly.id, changed=Minutes.updated_at)
    stamp(CheckIn, CheckIn.assembly_id == assembly.id, changed=CheckIn.recorded_at)
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


# --- the parts of the report, as plain values in the report's language -----------------------


@dataclass(frozen=True)
class VenueLine:
    code: str
    name: str
    registered: int
    checked_in: int


@dataclass(frozen=True)
class CityLine:
    code: str
    name: str
    presence: Presence
    participants: int
    mark: str  # "", "欠席", "欠席 ※委任状提出"
    holder: str


@dataclass(frozen=True)
class PersonLine:
    city_code: str
    city: str
    role: str
    name: str  # Latin: "Yoichi MASUZOE"
    name_local: str
    title: str
    lang: str = ""  # the person's language: which forms their local-script name takes


@dataclass(frozen=True)
class RollEntry:
    """One city of the representatives' roll, as the seed prints it: the city in two
    languages, then the representative in English (honorific, Latin name, English title) and
    in the second language (local-script name, title):

        【バンコク / Bangkok】
        Ms. Nitaya JESSADACHATR (Minister of Royal Thai Embassy)
        ニタヤ・ジェサダチャル 在ロシア・タイ大使館公使
    """

    city_code: str
    heading: str
    english: str
    second: str  # "" when there is nothing in a second language
    second_lang: str


@dataclass(frozen=True)
class ProgrammeLine:
    day: date
    host_time: str
    home_time: str
    title: str
    location: str
    cancelled: bool


@dataclass(frozen=True)
class ProxyLine:
    grantor: str
    holder: str
    status: str
    signatory: str
    submitted: str


@dataclass(frozen=True)
class SideEventLine:
    kind: str
    title: str
    venue: str
    dates: str
    contributions: list[tuple[str, str, int | None]]  # (city, description, count)
    total: int | None


@dataclass(frozen=True)
class Report:
    assembly: Assembly
    language: str
    title: str
    network: str
    dates: str  # the programme's span
    sitting: str  # the days the assembly itself sits
    venue: str
    host: str  # the host organisation (トムスク州), else the host city
    host_zone: str
    home_zone: str
    cities: list[CityLine]
    attendance: Attendance
    representatives: list[PersonLine]
    roll: list[RollEntry]
    programme: list[ProgrammeLine]
    proxies: list[ProxyLine]
    side_events: list[SideEventLine]
    minutes: list[MinutesLine]  # 会議結果
    decisions: list[DecisionLine]  # adopted or rejected, e.g. the declaration (別紙1)
    # Registered and checked in per city, once check-in at the venue has started.
    at_venue: list[VenueLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.attendance.participants

    @property
    def quorum_line(self) -> str:
        a = self.attendance
        if a.undecided:  # before the assembly is closed, silence is not yet absence
            return _("Members %(members)d · present %(present)d · represented %(represented)d "
                     "· undecided %(undecided)d · absent %(absent)d · rule: %(rule)s "
                     "(%(required)d needed) · %(result)s",
                     members=a.members, present=a.present, represented=a.represented,
                     undecided=a.undecided, absent=a.absent,
                     rule=quorum_label(a.quorum.value), required=a.required,
                     result=_("quorum reached") if a.quorum_reached
                     else _("quorum not reached"))
        return _("Members %(members)d · present %(present)d · represented %(represented)d · "
                 "absent %(absent)d · rule: %(rule)s (%(required)d needed) · %(result)s",
                 members=a.members, present=a.present, represented=a.represented,
                 absent=a.absent, rule=quorum_label(a.quorum.value), required=a.required,
                 result=_("quorum reached") if a.quorum_reached else _("quorum not reached"))

    @property
    def participant_count(self) -> int:
        return self.attendance.participants


def role_label(role: DelegateRole) -> str:
    return {DelegateRole.REPRESENTATIVE: _("Representative"), DelegateRole.DELEGATE: _("Delegate"),
            DelegateRole.STAFF: _("Staff"), DelegateRole.PERFORMER: _("Performer"),
            DelegateRole.INTERPRETER: _("Interpreter"), DelegateRole.PRESS: _("Press"),
            DelegateRole.OBSERVER: _("Observer")}[role]


def side_event_kind_label(kind: str) -> str:
    return {"exhibition_booth": _("Exhibition booths"),
            "stage_performance": _("Stage performances"),
            "children_paintings": _("Children's paintings"),
            "joint_project_exhibition": _("Joint project exhibition"),
            "other": _("Other")}[kind]


def proxy_status_label(status: str) -> str:
    return {"submitted": _("submitted, not yet verified"), "verified": _("verified"),
            "rejected": _("rejected"), "superseded": _("superseded"), "revoked": _("revoked"),
            "withdrawn": _("withdrawn")}.get(status, status)


def city_mark(row: CityAttendance) -> str:
    """The report's marks: 欠席 for an absent city, ※委任状提出 when it sent a proxy letter."""
    if row.presence is Presence.PRESENT:
        return ""
    if row.presence is Presence.UNDECIDED:  # only before the assembly is closed
        return _("Undecided (no answer yet)")
    if row.presence is Presence.REPRESENTED:
        return _("Absent") + " " + _("※ proxy letter submitted")
    if row.letter is not None:
        return _("Absent") + " " + _("※ proxy letter submitted (not verified)")
    return _("Absent")


def roll_entry(row: CityAttendance, lang: str) -> RollEntry:
    """The city's entry of the representatives' roll, in English and in the reader's language
    (an English reader's second language is the representative's own)."""
    person = row.representative
    second = lang if lang != DEFAULT_LANGUAGE else (
        person.language if person is not None else DEFAULT_LANGUAGE)
    city_en = localized(row.city.name, DEFAULT_LANGUAGE)
    city_second = localized(row.city.name, second)
    heading = f"【{city_second} / {city_en}】" if city_second != city_en else f"【{city_en}】"
    if person is None:
        with in_language(DEFAULT_LANGUAGE):
            english = (_("Unable to attend") if row.presence is not Presence.PRESENT
                       else _("No representative named"))
        mark = city_mark(row)
        if lang != DEFAULT_LANGUAGE and mark:
            english += f" ({mark})"
        return RollEntry(row.city.code, heading, english, "", lang)
    title_en = (person.title or {}).get(DEFAULT_LANGUAGE, "")
    latin = " ".join(filter(None, [person.honorific.strip(), person.full_name]))
    english = f"{latin} ({title_en})" if title_en else latin
    parts = []
    if second != DEFAULT_LANGUAGE:
        name = person.name_for(second)
        parts = [name if name != person.full_name else "",
                 (person.title or {}).get(second, "")]
    return RollEntry(row.city.code, heading, english, " ".join(filter(None, parts)), second)


def build_report(session: Session, assembly: Assembly, language: str) -> Report:
    """Everything but the full participant list, in the report's order and language.

    Call inside services.i18n.in_language(language) so that the labels are translated."""
    attendance = compute_attendance(session, assembly)
    # The report lists the member cities by their English names (Bangkok … Yangon).
    attendance = replace(attendance, rows=sorted(attendance.rows, key=_city_order))
    lang = language
    names = {row.city.id: row.city.display_name(lang) for row in attendance.rows}
    by_code = {row.city.code: names[row.city.id] for row in attendance.rows}
    cities = []
    for row in attendance.rows:
        holder = ""
        if row.letter is not None:
            holder = (row.holder.display_name(lang) if row.holder is not None
                      else _("the chair") if row.letter.to_chair else "")
        cities.append(CityLine(code=row.city.code, name=names[row.city.id],
                               presence=row.presence, participants=row.participants,
                               mark=city_mark(row), holder=holder))
    representative = role_label(DelegateRole.REPRESENTATIVE)
    representatives = [
        PersonLine(city_code=row.city.code, city=names[row.city.id], role=representative,
                   name=row.representative.full_name,
                   name_local=row.representative.name_local,
                   title=localized(row.representative.title, lang),
                   lang=row.representative.language)
        if row.representative is not None else
        PersonLine(city_code=row.city.code, city=names[row.city.id], role="",
                   name="", name_local="", title=city_mark(row) or _("No representative named"))
        for row in attendance.rows
    ]
    host_zone, home_zone = ZoneInfo(assembly.timezone), ZoneInfo(assembly.home_timezone)
    programme = [
        ProgrammeLine(day=item.starts_at.astimezone(host_zone).date(),
                      host_time=f"{item.starts_at.astimezone(host_zone):%H:%M}",
                      home_time=f"{item.starts_at.astimezone(home_zone):%H:%M}",
                      title=item.display_title(lang), location=localized(item.location, lang),
                      cancelled=item.status is ItemStatus.CANCELLED)
        for item in session.scalars(select(ProgrammeItem)
                                    .where(ProgrammeItem.assembly_id == assembly.id)
                                    .order_by(ProgrammeItem.starts_at, ProgrammeItem.id))
    ]
    proxies = [
        ProxyLine(grantor=names.get(letter.grantor_city_id, "?"),
                  holder=(names.get(letter.holder_city_id, "?") if letter.holder_city_id
                          else _("the chair")),
                  status=proxy_status_label(letter.status.value),
                  # "Name, Title", as a signature block reads (never run together).
                  signatory=", ".join(filter(None, [letter.signatory_name.strip(),
                                                    letter.signatory_title.strip()])),
                  submitted=f"{letter.submitted_at.astimezone(host_zone):%Y-%m-%d %H:%M} "
                            f"{assembly.timezone}")
        for letter in session.scalars(select(ProxyLetter)
                                      .where(ProxyLetter.assembly_id == assembly.id)
                                      .order_by(ProxyLetter.submitted_at, ProxyLetter.id))
    ]
    codes = {row.city.id: row.city.code for row in attendance.rows}
    side_events = []
    for event in session.scalars(select(SideEvent).where(SideEvent.assembly_id == assembly.id)
                                 .options(selectinload(SideEvent.contributions))
                                 .order_by(SideEvent.starts_on, SideEvent.id)):
        parts = sorted(event.contributions, key=lambda c: codes.get(c.city_id, ""))
        counts = [c.count for c in parts if c.count is not None]
        side_events.append(SideEventLine(
            kind=side_event_kind_label(event.kind.value), title=event.display_title(lang),
            venue=localized(event.venue, lang), dates=_date_span(event.starts_on, event.ends_on),
            contributions=[(names.get(c.city_id, "?"), localized(c.description, lang), c.count)
                           for c in parts],
            total=sum(counts) if counts else None))
    return Report(
        assembly=assembly, language=lang, title=assembly.display_title(lang),
        network=localized(assembly.network.name, lang),
        dates=_date_span(assembly.starts_on, assembly.ends_on),
        sitting=show_days(assembly.sitting),
        venue=localized(assembly.venue, lang), host=assembly.host_for(lang),
        host_zone=assembly.timezone, home_zone=assembly.home_timezone,
        cities=cities, attendance=attendance, representatives=representatives,
        roll=[roll_entry(row, lang) for row in attendance.rows],
        programme=programme, proxies=proxies, side_events=side_events,
        minutes=minutes_lines(session, assembly, lang, by_code),
        decisions=published_decisions(session, assembly, lang, names=by_code),
        at_venue=venue_lines(session, assembly, lang))


def venue_lines(session: Session, assembly: Assembly, lang: str) -> list[VenueLine]:
    """Registered and checked-in participants per city; none before check-in starts."""
    from services.checkin.desk import checkin_counts
    from services.checkin.presence import checkin_started

    if not checkin_started(session, assembly):
        return []
    return [VenueLine(code=c.city.code, name=c.city.display_name(lang),
                      registered=c.registered, checked_in=c.checked_in)
            for c in checkin_counts(session, assembly).cities]


def _city_order(row: CityAttendance) -> tuple[str, str]:
    return (localized(row.city.name, "en").casefold(), row.city.code)


def _date_span(first: date | None, last: date | None) -> str:
    if first is None:
        return ""
    if last is None or last == first:
        return show_date(first)
    return f"{show_date(first)} – {show_date(last)}"


def _participants(assembly: Assembly) -> Any:
    return (select(Delegation.city_id, Delegate.role, Delegate.given_name, Delegate.family_name,
                   Delegate.name_local, Delegate.title, Delegate.language, Delegate.name_order)
            .join(Delegation, Delegate.delegation_id == Delegation.id)
            .where(Delegate.assembly_id == assembly.id,
                   Delegation.status == DelegationStatus.ATTENDING,
                   Delegate.status.in_(COUNTED_STATUSES)))


def participant_count(session: Session, assembly: Assembly) -> int:
    """How many rows participant_rows() gives, counted by the database."""
    return session.scalar(select(func.count()).select_from(
        _participants(assembly).subquery())) or 0


def participant_rows(session: Session, assembly: Assembly, language: str,
                     batch: int = 2000, *, offset: int = 0, limit: int | None = None,
                     cities: Sequence[MemberCity] | None = None) -> Iterator[PersonLine]:
    """Every participant of an attending city, by city (English name, as in the report),
    role (representative first) and registration order; streamed from a server-side cursor
    in batches. offset and limit cut one page of the list (the report page); `cities`, the
    network's cities in that order, when the caller has them (a built report's rows)."""
    if cities is None:
        cities = sorted(session.scalars(select(MemberCity)
                                        .where(MemberCity.network_id == assembly.network_id)),
                        key=lambda city: (localized(city.name, "en").casefold(), city.code))
    names = {city.id: (city.code, city.display_name(language)) for city in cities}
    city_rank = case({city.id: rank for rank, city in enumerate(cities)},
                     value=Delegation.city_id, else_=len(cities))
    roles = {role.value: role_label(role) for role in DelegateRole}
    query = (
        _participants(assembly)
        .order_by(city_rank, _role_order, Delegate.id)
        .offset(offset or None).limit(limit)
        .execution_options(yield_per=batch, stream_results=True)
    )
    for city_id, role, given, family, local, title, person_lang, order in session.execute(query):
        code, city = names[city_id]
        yield PersonLine(city_code=code, city=city, role=roles[str(role)],
                         name=latin_name(given, family, order), name_local=local,
                         title=localized(title, language), lang=person_lang)


def generated_stamp(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"
