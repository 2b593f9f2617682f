"""Building badge PDFs (services.checkin.badges does the work)."""

from __future__ import annotations

from celery import shared_task

from config import current_settings
from models.db import db
from services.background import BUILD_BADGES
from services.checkin.badges import build_badges


@shared_task(name=BUILD_BADGES)
def build_badges_task(job_id: int) -> str:
    return build_badges(db.session, job_id, current_settings())
