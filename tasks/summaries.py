"""Building summary files (services.summaries.building does the work)."""

from __future__ import annotations

from celery import shared_task

from config import current_settings
from models.db import db
from services.background import RENDER_SUMMARY
from services.summaries.building import render_report


@shared_task(name=RENDER_SUMMARY)
def render_summary_task(job_id: int) -> str:
    return render_report(db.session, job_id, current_settings())
