"""Keeping reminders: creating, changing, previewing and pausing them."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from config import Settings, current_settings
from models import (
    Assembly,
    ProgrammeItem,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderStatus,
)
from models.base import localized
from models.errors import DomainError
from models.languages import DEFAULT_LANGUAGE, REGISTRY
from models.text import BODY_MAX, SUBJECT_MAX
from services.i18n import _
from services.reminders.audience import sample_recipient
from services.reminders.messages import RenderedReminder, check_templates, render
from services.reminders.timing import invalid, parse_offset
from services.text import checked_localized


def _check_item(session: Session, assembly: Assembly, anchor: ReminderAnchor,
                audience: ReminderAudience, item_id: int | None) -> ProgrammeItem | None:
    needs_item = anchor is ReminderAnchor.ITEM_START or audience is ReminderAudience.ITEM_SIGNUPS
    if not needs_item:
        if item_id is not None:
            raise invalid(_("Only a programme item's start takes an item."), "item")
        return None
    if item_id is None:
        raise invalid(_("Choose the programme item."), "item")
    item = session.get(ProgrammeItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise invalid(_("There is no such item in this assembly's programme."), "item")
    if anchor is not ReminderAnchor.ITEM_START:
        raise invalid(_("Delegates signed up to an item are reminded of that item's "
                        "start: choose the anchor “item start”."), "anchor")
    return item


def _choice(enum_cls: type[Any], value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise invalid(_("Choose one of: %(choices)s",
                        choices=", ".join(m.value for m in enum_cls)), field_name) from None


def create_reminder(session: Session, assembly: Assembly, *, anchor: str, offset: str,
                    audience: str, subject: dict[str, str], body: dict[str, str],
                    item_id: int | None = None, attach_programme: bool = False,
                    status: str = ReminderStatus.ACTIVE) -> Reminder:
    reminder = Reminder(assembly=assembly, assembly_id=assembly.id)
    _apply(session, reminder, anchor=anchor, offset=offset, audience=audience, subject=subject,
           body=body, item_id=item_id, attach_programme=attach_programme, status=status)
    session.add(reminder)
    session.flush()
    return reminder


def update_reminder(session: Session, reminder: Reminder, **changes: Any) -> Reminder:
    current: dict[str, Any] = {"anchor": reminder.anchor, "offset": reminder.offset,
               "audience": reminder.audience, "subject": dict(reminder.subject),
               "body": dict(reminder.body), "item_id": reminder.item_id,
               "attach_programme": reminder.attach_programme, "status": reminder.status}
    current.update({k: v for k, v in changes.items() if k in current})
    if reminder.status in (ReminderStatus.SENT,) and set(changes) - {"status"}:
        raise DomainError(_("This reminder has been sent; create a new one instead."),
                          code="reminder_sent")
    _apply(session, reminder, **current)
    session.flush()
    return reminder


def _apply(session: Session, reminder: Reminder, *, anchor: Any, offset: str, audience: Any,
           subject: dict[str, str], body: dict[str, str], item_id: int | None,
           attach_programme: bool, status: Any) -> None:
    anchor = _choice(ReminderAnchor, anchor, "anchor")
    audience = _choice(ReminderAudience, audience, "audience")
    status = _choice(ReminderStatus, status, "status")
    if status is not reminder.status and status not in (ReminderStatus.ACTIVE,
                                                         ReminderStatus.PAUSED):
        raise invalid(_("A reminder can be made active or paused."), "status")
    delta = parse_offset(offset)
    # A subject is one line (it becomes a mail header); a body keeps its lines.
    subject = checked_localized("subject", subject, max_length=SUBJECT_MAX)
    body = checked_localized("body", body, max_length=BODY_MAX, multiline=True)
    check_templates(subject, body)
    reminder.item = _check_item(session, reminder.assembly, anchor, audience, item_id)
    reminder.anchor, reminder.audience, reminder.status = anchor, audience, status
    reminder.offset = offset.strip().upper()
    reminder.offset_seconds = int(delta.total_seconds())
    reminder.subject, reminder.body = subject, body
    reminder.attach_programme = bool(attach_programme)
    if status is ReminderStatus.ACTIVE:
        reminder.note = ""


def preview(session: Session, assembly: Assembly, **fields: Any) -> dict[str, RenderedReminder]:
    """The reminder as a sample recipient would get it, in each language it is written in
    (the others read the English); nothing is saved."""
    draft = Reminder(assembly=assembly, assembly_id=assembly.id, status=ReminderStatus.ACTIVE)
    try:
        _apply(session, draft, **fields)
        settings: Settings = current_settings()
        return {lang: render(session, draft, sample_recipient(session, draft, lang), settings,
                             strict=True)
                for lang in REGISTRY if lang == DEFAULT_LANGUAGE or draft.subject.get(lang)}
    except TemplateError as exc:
        raise invalid(_("The template cannot be used: %(error)s", error=str(exc))) from None
    finally:
        if draft in session:
            session.expunge(draft)


def set_paused(reminder: Reminder, paused: bool) -> None:
    if reminder.status in (ReminderStatus.ACTIVE, ReminderStatus.PAUSED):
        reminder.status = ReminderStatus.PAUSED if paused else ReminderStatus.ACTIVE


def subject_preview(session: Session, reminder: Reminder, language: str) -> str:
    """The subject as a sample recipient would read it (variables filled in), for lists."""
    try:
        return render(session, reminder, sample_recipient(session, reminder, language),
                      current_settings()).subject
    except TemplateError:  # shown as written; the edit page says what is wrong
        return localized(reminder.subject, language)
