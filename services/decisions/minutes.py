"""Minutes of a programme item: a summary per language, the speakers (delegates, so their
city and title follow) and the points (statements, project reports with their presenting
cities), entered by the secretariat during or after the session. A PUT replaces them whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Delegate,
    MemberCity,
    Minutes,
    MinutesPoint,
    MinutesPointKind,
    MinutesSpeaker,
    ProgrammeItem,
    User,
    utcnow,
)
from models.errors import DomainError
from services.access import require_secretariat
from services.i18n import _
from services.text import checked_localized


@dataclass
class PointDraft:
    kind: MinutesPointKind
    title: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    cities: list[str] = field(default_factory=list)


@dataclass
class MinutesDraft:
    summary: dict[str, str] = field(default_factory=dict)
    speakers: list[int] = field(default_factory=list)  # delegate ids, in speaking order
    points: list[PointDraft] = field(default_factory=list)


def minutes_of(session: Session, item: ProgrammeItem) -> Minutes | None:
    return session.scalar(select(Minutes).where(Minutes.item_id == item.id))


def write_minutes(session: Session, item: ProgrammeItem, draft: MinutesDraft,
                  user: User) -> Minutes:
    require_secretariat(user)
    assembly = item.assembly
    speakers: list[Delegate] = []
    for index, delegate_id in enumerate(draft.speakers):
        delegate = session.get(Delegate, delegate_id)
        if delegate is None or delegate.assembly_id != assembly.id:
            raise DomainError(_("Speaker %(id)s is not a delegate of this assembly.",
                                id=delegate_id), code="unknown_delegate", status=422,
                              field=f"speakers.{index}")
        if delegate_id in [s.id for s in speakers]:
            raise DomainError(_("A speaker is listed twice."), code="duplicate_speaker",
                              status=422, field=f"speakers.{index}")
        speakers.append(delegate)
    codes = set(session.scalars(select(MemberCity.code)
                                .where(MemberCity.network_id == assembly.network_id)))
    for index, point in enumerate(draft.points):
        unknown = [code for code in point.cities if code.upper() not in codes]
        if unknown:
            raise DomainError(_("Unknown member city %(code)s.", code=unknown[0]),
                              code="unknown_city", status=422,
                              field=f"points.{index}.cities")
    minutes = minutes_of(session, item)
    if minutes is None:
        try:  # one row per item: a second writer at the same moment takes the first's row
            with session.begin_nested():
                minutes = Minutes(assembly_id=assembly.id, item_id=item.id)
                session.add(minutes)
        except IntegrityError:
            minutes = minutes_of(session, item)
            assert minutes is not None
    minutes.summary = checked_localized("summary", draft.summary, max_length=20000,
                                        multiline=True)
    # Old rows go first: the same speaker again would collide with its own earlier row.
    minutes.speakers, minutes.points = [], []
    session.flush()
    minutes.speakers = [MinutesSpeaker(delegate=d, position=i) for i, d in enumerate(speakers)]
    minutes.points = [
        MinutesPoint(position=i, kind=p.kind,
                     title=checked_localized(f"points.{i}.title", p.title, max_length=300),
                     text=checked_localized(f"points.{i}.text", p.text, max_length=20000,
                                            multiline=True),
                     cities=[c.upper() for c in p.cities])
        for i, p in enumerate(draft.points)]
    minutes.updated_by_id = user.id
    minutes.updated_at = utcnow()
    session.flush()
    return minutes
