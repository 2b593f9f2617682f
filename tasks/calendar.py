"""Building calendar feeds (services.calendar.builds does the work, debounced per assembly)."""

from __future__ import annotations

from celery import shared_task

from config import current_settings
from models.db import db
from services.background import BUILD_CALENDAR
from services.calendar.builds import build_calendar


@shared_task(name=BUILD_CALENDAR)
def build_calendar_task(assembly_id: int, deferrals: int = 0) -> bool:
    return build_calendar(db.session, assembly_id, current_settings().redis_url, deferrals)
