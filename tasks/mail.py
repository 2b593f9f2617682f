"""Delivering outbox rows (services.mail.delivery does the work)."""

from __future__ import annotations

from celery import shared_task

from models.db import db
from services.background import DELIVER_MAIL, DELIVER_MAIL_BATCH
from services.mail.delivery import run_batch


@shared_task(name=DELIVER_MAIL)
def deliver_task(message_id: int) -> str:
    result = run_batch(db.session, [message_id])
    return "sent" if result.sent else "retrying" if result.retrying else "not sent"


@shared_task(name=DELIVER_MAIL_BATCH)
def deliver_batch_task(ids: list[int]) -> dict[str, int]:
    result = run_batch(db.session, ids)
    return {"sent": result.sent, "retrying": result.retrying, "failed": result.failed,
            "skipped": result.skipped}
