"""The programme: items entered in the host's local time, stored as UTC instants, and the
places people take in optional items.

Every change marks the assembly's calendar feeds dirty in the same transaction; a change of
time, place or status raises the item's SEQUENCE so that calendar clients take the update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Assembly, Delegate, ItemKind, ItemStatus, ProgrammeItem, Signup
from models.base import Localized, affected
from models.errors import DomainError
from models.languages import LANGUAGES
from services.calendar.builds import request_rebuild
from services.i18n import N_, _, gettext
from services.text import checked_localized

# What can be wrong with an item, by code.
PROBLEMS = {
    "title_missing": N_("Give a title in English or Japanese."),
    "too_long": N_("At most 300 characters."),
    "end_before_start": N_("The end must be after the start."),
    "coordinates_pair": N_("Give both latitude and longitude, or neither."),
    "latitude_range": N_("Between -90 and 90."),
    "longitude_range": N_("Between -180 and 180."),
    "capacity_negative": N_("Zero or more."),
    "capacity_below_signups": N_("Fewer places than people already signed up."),
}


def _invalid_item(problems: dict[str, str]) -> DomainError:
    fields = {name: [gettext(PROBLEMS[code])] for name, code in problems.items()}
    return DomainError(_("The item is not valid: %(problems)s",
                         problems="; ".join(f"{name}: {messages[0]}"
                                            for name, messages in fields.items())),
                       code="invalid_item", status=422, fields=fields)


def local_instant(naive: datetime, zone: str, field: str = "starts_at") -> datetime:
    """A wall-clock time in `zone` as an aware UTC instant; refuses DST gaps and overlaps."""
    tz = ZoneInfo(zone)
    naive = naive.replace(tzinfo=None)
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        # Either the clock jumps over this time (a gap) or passes it twice (an overlap).
        round_trip = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip != naive:
            raise DomainError(
                _("%(time)s does not exist in %(zone)s (the clocks jump forward then); "
                  "choose another time.", time=f"{naive:%Y-%m-%d %H:%M}", zone=zone),
                code="nonexistent_time", status=422, field=field)
        raise DomainError(
            _("%(time)s happens twice in %(zone)s (the clocks go back then); give the time "
              "with its UTC offset or choose another time.",
              time=f"{naive:%Y-%m-%d %H:%M}", zone=zone),
            code="ambiguous_time", status=422, field=field)
    return early.astimezone(UTC)


def as_instant(value: datetime, zone: str, field: str = "starts_at") -> datetime:
    """With an offset: that instant. Without: the assembly's local time."""
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            return local_instant(value, zone, field)
        instant = value.astimezone(UTC)
        instant.astimezone(ZoneInfo(zone))  # the answers show it in host time: it must fit
        return instant
    except OverflowError:  # year 1 or 9999 moved into UTC or host time leaves datetime
        raise DomainError(_("The time is out of range."), code="out_of_range", status=422,
                          field=field) from None


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


def _clean_text(field: str, value: Localized | None) -> Localized:
    """The text rule (models.text): a control character is refused at once (422 on the
    field); the length is one of the item's problems below."""
    return checked_localized(field, {lang: text for lang, text in (value or {}).items()
                                     if lang in LANGUAGES})


def validate(draft: ItemDraft, item: ProgrammeItem | None = None) -> ItemDraft:
    errors: dict[str, str] = {}
    draft.title = _clean_text("title", draft.title)
    draft.location = _clean_text("location", draft.location)
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
        raise _invalid_item(errors)
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


# --- places in optional items (capacity) ---------------------------------------------------


@dataclass(frozen=True)
class PlacesLeft:
    item: ProgrammeItem
    left: int


def sign_up(session: Session, delegate: Delegate, item: ProgrammeItem) -> Signup:
    """Take a place: a conditional UPDATE keeps the count within capacity under concurrency."""
    if item.capacity is None or item.assembly_id != delegate.assembly_id:
        raise DomainError(_("This item takes no sign-ups."), code="no_signups", status=422,
                          field="item")
    existing = session.scalar(select(Signup).where(Signup.delegate_id == delegate.id,
                                                   Signup.item_id == item.id))
    if existing is not None:
        return existing
    taken = session.execute(
        update(ProgrammeItem).where(ProgrammeItem.id == item.id,
                                    ProgrammeItem.signup_count < ProgrammeItem.capacity)
        .values(signup_count=ProgrammeItem.signup_count + 1)
        .execution_options(synchronize_session=False))
    if affected(taken) != 1:
        raise DomainError(_("%(item)s is full.", item=item.title.get("en", "")),
                          code="full", field="item")
    signup = Signup(delegate_id=delegate.id, item_id=item.id)
    session.add(signup)
    session.flush()
    session.expire(item, ["signup_count"])
    # The delegate's personal feed now carries the item: the worker rebuilds it after commit.
    request_rebuild(session, delegate.assembly_id)
    return signup


def release_place(session: Session, delegate: Delegate, item: ProgrammeItem) -> None:
    signup = session.scalar(select(Signup).where(Signup.delegate_id == delegate.id,
                                                 Signup.item_id == item.id))
    if signup is None:
        return
    session.delete(signup)
    session.execute(update(ProgrammeItem).where(ProgrammeItem.id == item.id,
                                                ProgrammeItem.signup_count > 0)
                    .values(signup_count=ProgrammeItem.signup_count - 1)
                    .execution_options(synchronize_session=False))
    session.flush()
    session.expire(item, ["signup_count"])
    request_rebuild(session, delegate.assembly_id)  # the item leaves the personal feed


def optional_items(session: Session, assembly: Assembly) -> list[PlacesLeft]:
    items = session.scalars(select(ProgrammeItem).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.capacity.is_not(None))
        .order_by(ProgrammeItem.starts_at))
    return [PlacesLeft(item, (item.capacity or 0) - item.signup_count) for item in items]
