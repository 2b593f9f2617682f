"""The periodic sweep and worker round trips (services.housekeeping does the work)."""

from __future__ import annotations

import socket

from celery import shared_task

from models.db import db
from services.background import ANSWER_WORKER_CHECK
from services.housekeeping import answer_worker_check, sweep


@shared_task(name=ANSWER_WORKER_CHECK)
def answer_worker_check_task(check_id: int) -> None:
    answer_worker_check(db.session, check_id, f"celery@{socket.gethostname()}")


@shared_task(name="sokai.sweep")
def sweep_task() -> dict[str, int]:
    return sweep(db.session)
