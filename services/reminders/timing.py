"""When a reminder is due: its anchor's instant now, plus its offset.

The due instant is computed on every sweep (anchor + offset), so a reminder moves with its
deadline.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import isodate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Assembly, ItemStatus, ProgrammeItem, Reminder, ReminderAnchor
from models.errors import DomainError
from services.i18n import _

# A reminder whose moment passed more than this ago is skipped, not sent late.
GRACE = timedelta(hours=1)
MAX_OFFSET = timedelta(days=366)


def invalid(message: str, field: str | None = None) -> DomainError:
    """A reminder's input refused (422), next to its field."""
    return DomainError(message, code="invalid_reminder", status=422, field=field)


def parse_offset(text: str) -> timedelta:
    """An ISO 8601 duration ("-P7D", "-PT72H", "PT30M"); negative is before the anchor."""
    try:
        value = isodate.parse_duration((text or "").strip())
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise invalid(_("Write the offset as an ISO 8601 duration, e.g. -P7D (7 days "
                              "before) or -PT72H (72 hours before)."), "offset") from None
    if isinstance(value, isodate.Duration):
        raise invalid(_("Use weeks, days, hours or minutes: months and years vary in "
                              "length."), "offset")
    if abs(value) > MAX_OFFSET:
        raise invalid(_("An offset may be at most a year."), "offset")
    return value


def anchor_instant(session: Session, reminder: Reminder) -> datetime | None:
    """The anchor's instant now (None: a cancelled or missing item)."""
    assembly = reminder.assembly
    match reminder.anchor:
        case ReminderAnchor.REGISTRATION_DEADLINE:
            return assembly.registration_deadline
        case ReminderAnchor.PROXY_DEADLINE:
            return assembly.proxy_deadline
        case ReminderAnchor.ASSEMBLY_START:
            return assembly_start(session, assembly)
        case ReminderAnchor.ITEM_START:
            item = reminder.item
            if item is None or item.status is ItemStatus.CANCELLED:
                return None
            return item.starts_at
    return None


def assembly_start(session: Session, assembly: Assembly) -> datetime:
    """The first scheduled item's start, else midnight of the first day in the host zone."""
    first = session.scalar(select(func.min(ProgrammeItem.starts_at)).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.status == ItemStatus.SCHEDULED))
    if first is not None:
        return first if first.tzinfo else first.replace(tzinfo=assembly.zone)
    return datetime.combine(assembly.starts_on, time(0), tzinfo=assembly.zone)


def due_at(session: Session, reminder: Reminder) -> datetime | None:
    anchor = anchor_instant(session, reminder)
    return None if anchor is None else anchor + timedelta(seconds=reminder.offset_seconds)
