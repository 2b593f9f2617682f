"""The programme API: read for every API user, write for the secretariat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apiflask import Schema, abort
from apiflask.fields import Boolean, DateTime, Float, Integer, String
from apiflask.validators import OneOf, Range
from sqlalchemy import select

from models import Assembly, Delegate, ItemKind, ItemStatus, ProgrammeItem
from models.text import TITLE_MAX
from services.calendar.tokens import revoke_token
from services.programme import (
    ItemDraft,
    add_item,
    as_instant,
    draft_of,
    find_item,
    set_status,
    update_item,
)
from webapp.api import SECRETARIAT, assembly_or_404, bp, row_or_404, token_auth
from webapp.api.schemas import Int32, Localized, in_zone
from webapp.extensions import db

TIME_HELP = ("ISO 8601. With an offset (2014-09-04T16:00:00+07:00) it is that instant; "
             "without one (2014-09-04T16:00) it is the assembly's local time.")


class ProgrammeItemOut(Schema):
    id = Integer(required=True)
    uid = String(required=True, metadata={"description": "iCalendar UID, never changes"})
    title = Localized(required=True)
    starts_at = DateTime(required=True, metadata={
        "description": "ISO 8601 with the host zone's offset"})
    ends_at = DateTime(required=True)
    timezone = String(required=True, metadata={"description": "the host's IANA zone"})
    location = Localized(required=True)
    latitude = Float(allow_none=True)
    longitude = Float(allow_none=True)
    kind = String(required=True, validate=OneOf([k.value for k in ItemKind]))
    status = String(required=True, validate=OneOf([s.value for s in ItemStatus]))
    sequence = Integer(required=True, metadata={"description": "raised on every change of "
                                                               "time, place or status"})
    all_day = Boolean(required=True)
    capacity = Integer(allow_none=True)
    signup_count = Integer(required=True)


class ProgrammeItemIn(Schema):
    title = Localized(TITLE_MAX, required=True,
                      metadata={"example": {"en": "Opening ceremony", "ja": "開会式"}})
    starts_at = DateTime(required=True, metadata={"description": TIME_HELP,
                                                  "example": "2014-09-05T09:30"})
    ends_at = DateTime(required=True, metadata={"description": TIME_HELP})
    kind = String(load_default=ItemKind.PLENARY.value, validate=OneOf([k.value for k in ItemKind]))
    location = Localized(TITLE_MAX, load_default=dict)
    latitude = Float(allow_none=True, load_default=None, validate=Range(-90, 90))
    longitude = Float(allow_none=True, load_default=None, validate=Range(-180, 180))
    capacity = Int32(minimum=0, allow_none=True, load_default=None)
    all_day = Boolean(load_default=False)
    status = String(validate=OneOf([s.value for s in ItemStatus]))


class ProgrammeItemPatch(Schema):
    """Only the fields given change; `status` cancels or restores."""

    title = Localized(TITLE_MAX)
    starts_at = DateTime(metadata={"description": TIME_HELP})
    ends_at = DateTime(metadata={"description": TIME_HELP})
    kind = String(validate=OneOf([k.value for k in ItemKind]))
    location = Localized(TITLE_MAX)
    latitude = Float(allow_none=True, validate=Range(-90, 90))
    longitude = Float(allow_none=True, validate=Range(-180, 180))
    capacity = Int32(minimum=0, allow_none=True)
    all_day = Boolean()
    status = String(validate=OneOf([s.value for s in ItemStatus]))


def item_out(item: ProgrammeItem, assembly: Assembly) -> dict[str, Any]:
    zone = assembly.zone
    return {
        "id": item.id, "uid": item.uid, "title": item.title,
        "starts_at": in_zone(item.starts_at, zone), "ends_at": in_zone(item.ends_at, zone),
        "timezone": assembly.timezone, "location": item.location, "latitude": item.latitude,
        "longitude": item.longitude, "kind": item.kind.value, "status": item.status.value,
        "sequence": item.sequence, "all_day": item.all_day, "capacity": item.capacity,
        "signup_count": item.signup_count,
    }


def _draft(data: dict[str, Any], assembly: Assembly, base: ItemDraft | None) -> ItemDraft:
    draft = base or ItemDraft(title={}, starts_at=datetime.min, ends_at=datetime.min)
    for name in ("title", "location", "latitude", "longitude", "capacity", "all_day"):
        if name in data:
            setattr(draft, name, data[name])
    if "kind" in data:
        draft.kind = ItemKind(data["kind"])
    for name in ("starts_at", "ends_at"):
        if name in data:
            setattr(draft, name, as_instant(data[name], assembly.timezone, name))
    return draft


@bp.get("/assemblies/<slug>/programme")
@bp.auth_required(token_auth)
@bp.output(ProgrammeItemOut(many=True))
@bp.doc(summary="The programme, in time order", responses=[404])
def list_programme(slug: str) -> Any:
    assembly = assembly_or_404(slug)
    items = db.session.scalars(select(ProgrammeItem)
                               .where(ProgrammeItem.assembly_id == assembly.id)
                               .order_by(ProgrammeItem.starts_at, ProgrammeItem.id))
    return [item_out(item, assembly) for item in items]


@bp.post("/assemblies/<slug>/programme")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(ProgrammeItemIn, arg_name="data")
@bp.output(ProgrammeItemOut, status_code=201)
@bp.doc(summary="Add an item (secretariat)", responses=[403, 404, 422])
def create_programme_item(slug: str, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    item = add_item(db.session, assembly, _draft(data, assembly, None))
    if data.get("status") == ItemStatus.CANCELLED.value:
        set_status(db.session, item, ItemStatus.CANCELLED)
    db.session.commit()
    return item_out(item, assembly)


@bp.patch("/assemblies/<slug>/programme/<int:item_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(ProgrammeItemPatch, arg_name="data")
@bp.output(ProgrammeItemOut)
@bp.doc(summary="Change, move, cancel or restore an item (secretariat)",
        responses=[403, 404, 422])
def update_programme_item(slug: str, item_id: int, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    item = find_item(db.session, assembly, item_id)
    if item is None:
        abort(404, f"no item {item_id} in {slug!r}")
    update_item(db.session, item, _draft(data, assembly, draft_of(item)))
    if "status" in data:
        set_status(db.session, item, ItemStatus(data["status"]))
    db.session.commit()
    return item_out(item, assembly)


@bp.delete("/assemblies/<slug>/delegates/<int:delegate_id>/feed-token")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke a delegate's private calendar link (secretariat)",
        responses=[403, 404])
def revoke_feed_token(slug: str, delegate_id: int) -> Any:
    assembly = assembly_or_404(slug)
    delegate = row_or_404(Delegate, delegate_id, f"no delegate {delegate_id} in {slug!r}",
                          lambda d: d.assembly_id == assembly.id)
    revoke_token(db.session, delegate)
    db.session.commit()
    return ""
