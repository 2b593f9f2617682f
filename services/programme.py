"""Editing the programme: items entered in the host's local time, stored as UTC instants.

Every change marks the assembly's calendar feeds dirty in the same transaction; a change of
time, place or status raises the item's SEQUENCE so that calendar clients take the update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Assembly, ItemKind, ItemStatus, ProgrammeItem
from models.base import LANGUAGES, Localized
from tasks.feeds import request_rebuild

# What can be wrong with an item, by code (the web side shows these in the user's language).
PROBLEMS = {
    "title_missing": "give a title in English or Japanese",
    "too_long": "at most 300 characters",
    "end_before_start": "the end must be after the start",
    "coordinates_pair": "give both latitude and longitude, or neither",
    "latitude_range": "between -90 and 90",
    "longitude_range": "between -180 and 180",
    "capacity_negative": "zero or more",
    "capacity_below_signups": "fewer places than people already signed up",
}


class ProgrammeError(ValueError):
    """Bad input for an item; `fields` maps a field name to a problem code (PROBLEMS)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {PROBLEMS.get(v, v)}" for k, v in fields.items()))
        self.fields = fields

    def messages(self) -> dict[str, list[str]]:
        return {name: [PROBLEMS.get(code, code)] for name, code in self.fields.items()}


class LocalTimeError(ValueError):
    """A wall-clock time that does not exist, or exists twice, in the zone (DST change)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def local_instant(naive: datetime, zone: str) -> datetime:
    """A wall-clock time in `zone` as an aware UTC instant; refuses DST gaps and overlaps."""
    tz = ZoneInfo(zone)
    naive = naive.replace(tzinfo=None)
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        # Either the clock jumps over this time (a gap) or passes it twice (an overlap).
        round_trip = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip != naive:
            raise LocalTimeError(
                "nonexistent_time",
                f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks jump forward "
                "then); choose another time")
        raise LocalTimeError(
            "ambiguous_time",
            f"{naive:%Y-%m-%d %H:%M} happens twice in {zone} (the clocks go back then); "
            "give the time with its UTC offset or choose another time")
    return early.astimezone(UTC)


def as_instant(value: datetime, zone: str) -> datetime:
    """With an offset: that instant. Without: the assembly's local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        return local_instant(value, zone)
    return value.astimezone(UTC)


@dataclass
class ItemDraft:
    """What the editor and the API submit for an item (times already aware)."""

    title: Localized
    starts_at: datetime
    ends_at: datetime
    kind: ItemKind = ItemKind.PLENARY
    location: Localized = field(default_factory=dict)
    latitude: float | None = None
    longitude: float | None = None
    capacity: int | None = None
    all_day: bool = False


# Changes to these fields are what calendar clients must see as an update (SEQUENCE).
SEQUENCED = ("starts_at", "ends_at", "location", "latitude", "longitude", "all_day", "status")
EDITABLE = ("title", "starts_at", "ends_at", "kind", "location", "latitude", "longitude",
            "capacity", "all_day")


def _clean_text(value: Localized | None) -> Localized:
    return {lang: text.strip() for lang, text in (value or {}).items()
            if lang in LANGUAGES and text and text.strip()}


def validate(draft: ItemDraft, item: ProgrammeItem | None = None) -> ItemDraft:
    errors: dict[str, str] = {}
    draft.title = _clean_text(draft.title)
    draft.location = _clean_text(draft.location)
    if not draft.title:
        errors["title"] = "title_missing"
    elif any(len(t) > 300 for t in draft.title.values()):
        errors["title"] = "too_long"
    if any(len(t) > 300 for t in draft.location.values()):
        errors["location"] = "too_long"
    if draft.ends_at <= draft.starts_at:
        errors["ends_at"] = "end_before_start"
    if (draft.latitude is None) != (draft.longitude is None):
        errors["latitude" if draft.latitude is None else "longitude"] = "coordinates_pair"
    if draft.latitude is not None and not -90 <= draft.latitude <= 90:
        errors["latitude"] = "latitude_range"
    if draft.longitude is not None and not -180 <= draft.longitude <= 180:
        errors["longitude"] = "longitude_range"
    if draft.capacity is not None:
        if draft.capacity < 0:
            errors["capacity"] = "capacity_negative"
        elif item is not None and draft.capacity < item.signup_count:
            errors["capacity"] = "capacity_below_signups"
    if errors:
        raise ProgrammeError(errors)
    return draft


def add_item(session: Session, assembly: Assembly, draft: ItemDraft) -> ProgrammeItem:
    validate(draft)
    item = ProgrammeItem(assembly=assembly, **{name: getattr(draft, name) for name in EDITABLE})
    session.add(item)
    session.flush()
    request_rebuild(session, assembly.id)
    return item


def update_item(session: Session, item: ProgrammeItem, draft: ItemDraft) -> bool:
    """Apply the draft; returns whether anything changed."""
    validate(draft, item)
    changed = [name for name in EDITABLE if getattr(item, name) != getattr(draft, name)]
    if not changed:
        return False
    for name in changed:
        setattr(item, name, getattr(draft, name))
    if any(name in SEQUENCED for name in changed):
        item.sequence += 1
    session.flush()
    request_rebuild(session, item.assembly_id)
    return True


def set_status(session: Session, item: ProgrammeItem, status: ItemStatus) -> bool:
    """Cancel or restore; returns whether the status changed."""
    if item.status is status:
        return False
    item.status = status
    item.sequence += 1
    session.flush()
    request_rebuild(session, item.assembly_id)
    return True


def draft_of(item: ProgrammeItem) -> ItemDraft:
    return ItemDraft(**{name: getattr(item, name) for name in EDITABLE})


def find_item(session: Session, assembly: Assembly, item_id: int) -> ProgrammeItem | None:
    return session.scalar(select(ProgrammeItem).where(ProgrammeItem.id == item_id,
                                                      ProgrammeItem.assembly_id == assembly.id))
