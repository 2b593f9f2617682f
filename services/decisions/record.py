"""The published record of the assembly's outcome, in a reader's language: the minutes
(会議結果) per day and item, and each decided decision with its date, frozen attendance, tally
(or "adopted by consensus") and signatories. Read by the report and the public page alike.

Call inside services.i18n.in_language(lang) so that the labels are translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Assembly,
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    MemberCity,
    Minutes,
    MinutesPoint,
    MinutesPointKind,
    ProgrammeItem,
    localized,
)
from models.languages import LANGUAGES
from services.attendance import quorum_label
from services.i18n import _

PUBLISHED = (DecisionStatus.ADOPTED, DecisionStatus.REJECTED)


@dataclass(frozen=True)
class SpeakerLine:
    city: str
    name: str  # Latin script, in the person's order
    name_local: str
    title: str
    shown: str = ""  # the name as the reader's script writes it (舛添 要一 for Japanese)


@dataclass(frozen=True)
class PointLine:
    kind: str
    title: str
    text: str
    cities: str  # "Tokyo, Ulaanbaatar"
    note: str  # "reporting: Tokyo, Ulaanbaatar" for a report, the cities otherwise


@dataclass(frozen=True)
class MinutesLine:
    day: date
    item: str
    summary: str
    speakers: list[SpeakerLine]
    points: list[PointLine]


@dataclass(frozen=True)
class DecisionLine:
    id: int
    kind: str
    title: str
    texts: list[tuple[str, str]]  # (language, text): the reader's first, then the others
    status: str
    adopted: bool
    day: date | None
    place: str
    result: str  # "adopted by consensus" or the tally and outcome
    attendance: str  # the frozen picture in one line
    present: list[str]
    represented: list[tuple[str, str]]  # (city, holder)
    signatories: list[SpeakerLine]


def kind_label(kind: DecisionKind) -> str:
    return {DecisionKind.RESOLUTION: _("Resolution"), DecisionKind.DECLARATION: _("Declaration"),
            DecisionKind.ELECTION: _("Election"),
            DecisionKind.PROCEDURAL: _("Procedural decision")}[kind]


def status_label(status: DecisionStatus) -> str:
    return {DecisionStatus.DRAFT: _("Draft"), DecisionStatus.OPEN: _("Under decision"),
            DecisionStatus.ADOPTED: _("Adopted"), DecisionStatus.REJECTED: _("Rejected"),
            DecisionStatus.WITHDRAWN: _("Withdrawn")}[status]


def point_label(kind: MinutesPointKind) -> str:
    return {MinutesPointKind.STATEMENT: _("Statement"), MinutesPointKind.REPORT: _("Report"),
            MinutesPointKind.PROPOSAL: _("Proposal"), MinutesPointKind.OTHER: _("Other")}[kind]


def result_line(decision: Decision) -> str:
    if decision.status is DecisionStatus.ADOPTED and decision.method is DecisionMethod.CONSENSUS:
        return _("Adopted by consensus")
    if decision.yes_count is None:
        return status_label(decision.status)
    return _("Yes %(yes)d · no %(no)d · abstentions %(abstain)d — %(outcome)s",
             yes=decision.yes_count, no=decision.no_count or 0,
             abstain=decision.abstain_count or 0, outcome=status_label(decision.status))


def snapshot_line(snapshot: dict[str, Any] | None, names: dict[str, str]) -> str:
    if not snapshot:
        return ""
    quorum = snapshot["quorum"]
    represented = ", ".join(
        _("%(city)s by %(holder)s", city=names.get(p["city"], p["city"]),
          holder=names.get(p["holder"], p["holder"]) if p.get("holder") else _("the chair"))
        for p in snapshot["represented"])
    return _("Present %(present)d · represented %(represented)d%(by)s · absent %(absent)d · "
             "%(counted)d of %(members)d member cities, rule: %(rule)s (%(required)d needed) · "
             "%(result)s", present=len(snapshot["present"]),
             represented=len(snapshot["represented"]),
             by=f" ({represented})" if represented else "", absent=len(snapshot["absent"]),
             counted=quorum["counted"], members=quorum["members"],
             rule=quorum_label(quorum["rule"]), required=quorum["required"],
             result=_("quorum reached") if quorum["reached"] else _("quorum not reached"))


def _names(session: Session, assembly: Assembly, lang: str) -> dict[str, str]:
    return {city.code: city.display_name(lang) for city in session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}


def decision_line(decision: Decision, lang: str, names: dict[str, str]) -> DecisionLine:
    assembly = decision.assembly
    texts = [(lang, decision.text[lang])] if decision.text.get(lang) else []
    texts += [(code, decision.text[code]) for code in LANGUAGES
              if code != lang and decision.text.get(code)]
    snapshot = decision.snapshot or {}
    return DecisionLine(
        id=decision.id, kind=kind_label(decision.kind), title=decision.display_title(lang),
        texts=texts, status=status_label(decision.status),
        adopted=decision.status is DecisionStatus.ADOPTED,
        day=decision.decided_at.astimezone(assembly.zone).date() if decision.decided_at
        else None, place=assembly.host_city.display_name(lang), result=result_line(decision),
        attendance=snapshot_line(decision.snapshot, names),
        present=[names.get(code, code) for code in snapshot.get("present", [])],
        represented=[(names.get(p["city"], p["city"]),
                      names.get(p["holder"], p["holder"]) if p.get("holder")
                      else _("the chair")) for p in snapshot.get("represented", [])],
        signatories=[SpeakerLine(city=s.city.display_name(lang), name=s.name,
                                 name_local=s.name_local, title=localized(s.title, lang))
                     for s in decision.signatories])


def published_decisions(session: Session, assembly: Assembly, lang: str,
                        statuses: tuple[DecisionStatus, ...] = PUBLISHED,
                        names: dict[str, str] | None = None) -> list[DecisionLine]:
    """`names` (city code → name in `lang`) when the caller has them (the report does)."""
    names = names if names is not None else _names(session, assembly, lang)
    decisions = session.scalars(
        select(Decision).where(Decision.assembly_id == assembly.id,
                               Decision.status.in_(statuses))
        .options(selectinload(Decision.signatories))
        .order_by(Decision.decided_at, Decision.id))
    return [decision_line(d, lang, names) for d in decisions]


def _point(point: MinutesPoint, lang: str, names: dict[str, str]) -> PointLine:
    # The Japanese report lists cities with 、 (東京、ウランバートル).
    separator = "、" if lang in ("ja", "zh-Hant") else ", "
    cities = separator.join(names.get(code, code) for code in point.cities)
    note = (_("reporting: %(cities)s", cities=cities)
            if cities and point.kind is MinutesPointKind.REPORT else cities)
    return PointLine(kind=point_label(point.kind), title=localized(point.title, lang),
                     text=localized(point.text, lang), cities=cities, note=note)


def minutes_lines(session: Session, assembly: Assembly, lang: str,
                  names: dict[str, str] | None = None) -> list[MinutesLine]:
    names = names if names is not None else _names(session, assembly, lang)
    lines = []
    for minutes in session.scalars(
            select(Minutes).join(Minutes.item).where(Minutes.assembly_id == assembly.id)
            .options(selectinload(Minutes.speakers), selectinload(Minutes.points))
            .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)):
        item = minutes.item
        lines.append(MinutesLine(
            day=item.starts_at.astimezone(assembly.zone).date(), item=item.display_title(lang),
            summary=localized(minutes.summary, lang),
            speakers=[SpeakerLine(city=s.delegate.delegation.city.display_name(lang),
                                  name=s.delegate.full_name, name_local=s.delegate.name_local,
                                  title=localized(s.delegate.title, lang),
                                  shown=s.delegate.name_for(lang))
                      for s in minutes.speakers],
            points=[_point(p, lang, names) for p in minutes.points]))
    return lines
