"""Side events (exhibition booths, stage performances, children's paintings) and each city's
part in them: the secretariat's editor and the Tomsk 2014 example (the report's 別紙2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Assembly,
    MemberCity,
    SideEvent,
    SideEventContribution,
    SideEventKind,
)
from models.base import Localized
from models.errors import DomainError
from services.i18n import _


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid_side_event", status=422, field=field)


def side_events(session: Session, assembly: Assembly) -> list[SideEvent]:
    return list(session.scalars(select(SideEvent).where(SideEvent.assembly_id == assembly.id)
                                .options(selectinload(SideEvent.contributions)
                                         .selectinload(SideEventContribution.city))
                                .order_by(SideEvent.starts_on, SideEvent.id)))


def save_side_event(session: Session, assembly: Assembly, *, kind: SideEventKind | str,
                    title: Localized, venue: Localized | None = None,
                    starts_on: date | None = None, ends_on: date | None = None,
                    event: SideEvent | None = None) -> SideEvent:
    """Add a side event, or change `event`; flushes, the caller commits."""
    title = {k: v.strip() for k, v in title.items() if v and v.strip()}
    if not title:
        raise _invalid("title.en", _("Give a title in English or Japanese."))
    if starts_on and ends_on and ends_on < starts_on:
        raise _invalid("ends_on", _("The last day cannot be before the first day."))
    event = event or SideEvent(assembly_id=assembly.id)
    event.kind = SideEventKind(kind)
    event.title = title
    event.venue = {k: v.strip() for k, v in (venue or {}).items() if v and v.strip()}
    event.starts_on, event.ends_on = starts_on, ends_on
    session.add(event)
    session.flush()
    return event


def save_contribution(session: Session, event: SideEvent, city: MemberCity, *,
                      description: Localized | None = None,
                      count: int | None = None) -> SideEventContribution:
    """A city's part in a side event; a second entry for the same city replaces the first."""
    if city.network_id != event.assembly.network_id:
        raise _invalid("city", _("Choose a member city of this network."))
    if count is not None and count < 0:
        raise _invalid("count", _("The count cannot be negative."))
    contribution = session.scalar(select(SideEventContribution).where(
        SideEventContribution.side_event_id == event.id,
        SideEventContribution.city_id == city.id))
    if contribution is None:
        contribution = SideEventContribution(side_event_id=event.id, city_id=city.id)
    contribution.description = {k: v.strip() for k, v in (description or {}).items()
                                if v and v.strip()}
    contribution.count = count
    session.add(contribution)
    session.flush()
    return contribution


# --- the Tomsk 2014 example (the report's 別紙2) -----------------------------------------------

CULTURAL_CENTRE = {"en": "International Cultural Centre", "ja": "国際文化センター"}
EXHIBITION_DAYS = (date(2014, 9, 4), date(2014, 9, 6))

TOMSK_2014_SIDE_EVENTS: tuple[dict[str, Any], ...] = (
    {"kind": SideEventKind.JOINT_PROJECT_EXHIBITION,
     "title": {"en": "Joint project exhibition", "ja": "共同事業展示"},
     "cities": {"TYO": ({"en": "Exhibition of nine joint projects (as secretariat)",
                         "ja": "共同事業の展示（幹事都市）"}, None)}},
    {"kind": SideEventKind.EXHIBITION_BOOTH,
     "title": {"en": "City PR booths", "ja": "都市PR展示"},
     "cities": {code: ({"en": "City PR booth", "ja": "都市PRブース"}, None)
                for code in ("BKK", "HAN", "SEL", "TYO", "TOF")}
     | {"TYO": ({"en": "Tokyo booth (about 12 m²): tourism panels, kendama, origami",
                 "ja": "東京ブース（約12㎡）：観光パネル、けん玉・折り紙体験"}, None)}},
    {"kind": SideEventKind.STAGE_PERFORMANCE,
     "title": {"en": "Stage performances", "ja": "催事（ステージパフォーマンス）"},
     "cities": {"SEL": ({"en": "Traditional performance", "ja": "伝統芸能"}, None),
                "TYO": ({"en": "Heaven Artists (acrobatics, juggling) and koto", "ja":
                         "ヘブンアーティスト（曲芸・ジャグリング）、琴の演奏"}, 5),
                "TOF": ({"en": "Folk ensemble", "ja": "民族芸能"}, None)}},
    {"kind": SideEventKind.CHILDREN_PAINTINGS,
     "title": {"en": "Asian children's paintings: “My dream for the future”",
               "ja": "アジアの子供の絵（テーマ：「私の将来の夢」）"},
     "cities": {code: ({"en": "Paintings", "ja": "絵画"}, count) for code, count in
                (("HAN", 10), ("TYO", 27), ("TOF", 10), ("ULN", 24), ("RGN", 20))}},
    {"kind": SideEventKind.OTHER,
     "title": {"en": "University exhibition", "ja": "大学展示"},
     "cities": {"TOF": ({"en": "Tomsk Polytechnic University", "ja": "トムスク工科大学の概要説明"},
                        None)}},
)


def load_tomsk_2014_side_events(session: Session, assembly: Assembly) -> list[SideEvent]:
    """The ANMC21 exhibition of 4-6 September 2014 at the International Cultural Centre."""
    cities = {c.code: c for c in session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id))}
    events = []
    for spec in TOMSK_2014_SIDE_EVENTS:
        event = save_side_event(session, assembly, kind=spec["kind"], title=spec["title"],
                                venue=CULTURAL_CENTRE, starts_on=EXHIBITION_DAYS[0],
                                ends_on=EXHIBITION_DAYS[1])
        for code, (description, count) in sorted(spec["cities"].items()):
            save_contribution(session, event, cities[code], description=description,
                              count=count)
        events.append(event)
    return events
