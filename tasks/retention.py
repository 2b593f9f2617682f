"""The hourly retention job (services.retention does the work)."""

from __future__ import annotations

from celery import shared_task

from models.db import db
from services.background import ANONYMISE_EXPIRED
from services.retention import anonymise_expired


@shared_task(name=ANONYMISE_EXPIRED)
def anonymise_expired_task() -> int:
    return anonymise_expired(db.session)
