"""/api/v1/assemblies/{slug}/reminders: the secretariat's reminders, through the API."""

from __future__ import annotations

from typing import Any

from apiflask import Schema, abort
from apiflask.fields import Boolean, DateTime, Integer, String
from apiflask.validators import OneOf
from flask import current_app
from marshmallow import validates_schema
from marshmallow.exceptions import ValidationError

from models import Assembly, Reminder, ReminderAnchor, ReminderAudience, ReminderStatus
from models.text import BODY_MAX, SUBJECT_MAX
from services.reminders.audience import audience_size
from services.reminders.editing import create_reminder as create
from services.reminders.editing import update_reminder as update
from services.reminders.sweep import reminders_of
from services.reminders.timing import due_at
from webapp.api import SECRETARIAT, assembly_or_404, bp, row_or_404, token_auth
from webapp.api.schemas import Int32, Localized, Text
from webapp.extensions import db

EDITABLE = [ReminderStatus.ACTIVE.value, ReminderStatus.PAUSED.value]


class ReminderIn(Schema):
    anchor = String(required=True, validate=OneOf([a.value for a in ReminderAnchor]))
    item = Int32(minimum=0, allow_none=True, load_default=None,
                   metadata={"description": "programme item id, for anchor item_start"})
    offset = Text(required=True, min_length=1, max_length=40,
                    metadata={"description": "ISO 8601 duration; negative is before",
                              "example": "-P7D"})
    audience = String(required=True, validate=OneOf([a.value for a in ReminderAudience]))
    subject = Localized(SUBJECT_MAX, required=True, metadata={"example": {"en": "…", "ja": "…"}})
    body = Localized(BODY_MAX, multiline=True, required=True,
                     metadata={"description": "sandboxed Jinja2 text with "
                                              "{{ recipient_name }}, {{ deadline }}, …"})
    attach_programme = Boolean(load_default=False)
    status = String(load_default=ReminderStatus.ACTIVE.value, validate=OneOf(EDITABLE))


class ReminderPatch(Schema):
    anchor = String(validate=OneOf([a.value for a in ReminderAnchor]))
    item = Int32(minimum=0, allow_none=True)
    offset = Text(min_length=1, max_length=40)
    audience = String(validate=OneOf([a.value for a in ReminderAudience]))
    subject = Localized(SUBJECT_MAX)
    body = Localized(BODY_MAX, multiline=True)
    attach_programme = Boolean()
    status = String(validate=OneOf(EDITABLE))

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("give at least one field to change")


class ReminderOut(Schema):
    id = Integer(required=True)
    anchor = String(required=True)
    item = Integer(allow_none=True, attribute="item_id")
    offset = String(required=True)
    audience = String(required=True)
    subject = Localized(required=True)
    body = Localized(required=True)
    attach_programme = Boolean(required=True)
    status = String(required=True, metadata={"description": "active|paused|sent|skipped"})
    due_at = DateTime(allow_none=True, metadata={"description": "anchor + offset, now"})
    audience_size = Integer(metadata={"description": "recipients if it were sent now"})
    sent_at = DateTime(allow_none=True)
    recipient_count = Integer()
    note = String()


def _reminder(assembly: Assembly, reminder_id: int) -> Reminder:
    return row_or_404(Reminder, reminder_id, f"no reminder {reminder_id} in {assembly.slug!r}",
                      lambda r: r.assembly_id == assembly.id)


def _out(reminder: Reminder) -> dict[str, Any]:
    return {**{c: getattr(reminder, c) for c in (
        "id", "anchor", "item_id", "offset", "audience", "subject", "body", "attach_programme",
        "status", "sent_at", "recipient_count", "note")},
        "due_at": due_at(db.session, reminder),
        "audience_size": audience_size(db.session, reminder)}


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    if "item" in data:
        data["item_id"] = data.pop("item")
    return data


@bp.get("/assemblies/<slug>/reminders")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(ReminderOut(many=True))
@bp.doc(summary="An assembly's reminders, in the order they fall due", responses=[403, 404])
def list_reminders(slug: str) -> Any:
    assembly = assembly_or_404(slug)
    return [_out(view.reminder) for view in reminders_of(db.session, assembly)]


@bp.post("/assemblies/<slug>/reminders")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(ReminderIn, arg_name="data")
@bp.output(ReminderOut, status_code=201)
@bp.doc(summary="Create a reminder", responses=[403, 404, 422])
def create_reminder(slug: str, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    reminder = create(db.session, assembly, **_fields(data))
    db.session.commit()
    return _out(reminder)


@bp.get("/assemblies/<slug>/reminders/<int:reminder_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(ReminderOut)
@bp.doc(summary="One reminder", responses=[403, 404])
def get_reminder(slug: str, reminder_id: int) -> Any:
    return _out(_reminder(assembly_or_404(slug), reminder_id))


@bp.patch("/assemblies/<slug>/reminders/<int:reminder_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(ReminderPatch, arg_name="data")
@bp.output(ReminderOut)
@bp.doc(summary="Change a reminder (or pause it: status paused)", responses=[403, 404, 409, 422])
def update_reminder(slug: str, reminder_id: int, data: dict[str, Any]) -> Any:
    reminder = _reminder(assembly_or_404(slug), reminder_id)
    if reminder.status not in (ReminderStatus.ACTIVE, ReminderStatus.PAUSED):
        abort(409, f"the reminder is {reminder.status.value}; create a new one")
    update(db.session, reminder, **_fields(data))
    db.session.commit()
    return _out(reminder)


@bp.delete("/assemblies/<slug>/reminders/<int:reminder_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output({}, status_code=204)
@bp.doc(summary="Delete a reminder (the mail it already sent stays in the mail log)",
        responses=[403, 404])
def delete_reminder(slug: str, reminder_id: int) -> Any:
    reminder = _reminder(assembly_or_404(slug), reminder_id)
    db.session.delete(reminder)
    db.session.commit()
    current_app.logger.info("reminder %s deleted", reminder_id)
    return ""
