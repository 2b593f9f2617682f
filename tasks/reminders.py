"""The reminder sweep: beat runs sokai.sweep every minute, and this is its reminders part."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from tasks.housekeeping import sweeper


@sweeper("reminders")
def send_due_reminders(session: Session) -> int:
    """Turn reminders now due into outbox rows, once per recipient."""
    from services import reminders

    return reminders.send_due_reminders(session, current_app.config["SOKAI_SETTINGS"])
