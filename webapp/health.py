"""GET /healthz: is the database reachable, is the broker reachable (and is a worker alive),
and, when REDIS_URL is set, does Redis answer.

The database and the broker are needed: either failing is a 503. Redis (rate limits, stored
feeds) has a fallback in the process and the database, so without it the app still works:
200 with status "degraded", Redis named."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import select, text

from models import Heartbeat, WorkerCheck
from webapp.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure is the answer, not an error
        log.warning("health: database: %s", exc)
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def check_broker() -> str:
    celery = current_app.extensions["celery"]
    settings = current_app.config["SOKAI_SETTINGS"]
    try:
        if settings.broker_is_embedded:
            folder = settings.broker_folder
            if not folder.is_dir():
                return f"error: broker folder {folder} is missing"
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=3)
        return "ok"
    except Exception as exc:
        log.warning("health: broker: %s", exc)
        return f"error: {type(exc).__name__}"


def check_redis(url: str) -> str:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception as exc:
        log.warning("health: redis: %s", exc)
        return f"error: {type(exc).__name__}"


def worker_report() -> dict[str, Any]:
    """What the worker and the scheduler last did (informational, not part of status)."""
    check = db.session.scalar(select(WorkerCheck).where(WorkerCheck.answered_at.is_not(None))
                              .order_by(WorkerCheck.answered_at.desc()).limit(1))
    sweep = db.session.get(Heartbeat, "sweep")
    return {
        "last_round_trip": None if check is None else {
            "answered_at": check.answered_at.isoformat(),
            "answered_by": check.answered_by,
            "seconds": check.round_trip_seconds,
        },
        "last_sweep": None if sweep is None else sweep.seen_at.isoformat(),
    }


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    body: dict[str, Any] = {"database": check_database(), "broker": check_broker()}
    ok = all(value == "ok" for value in body.values())
    body["status"] = "ok" if ok else "error"
    if not ok:
        body["failing"] = [name for name in ("database", "broker") if body[name] != "ok"]
    redis_url = current_app.config["SOKAI_SETTINGS"].redis_url
    if redis_url:
        body["redis"] = check_redis(redis_url)
        if body["redis"] != "ok":
            body["degraded"] = ["redis"]
            if ok:
                body["status"] = "degraded"
    if body["database"] == "ok":
        body["worker"] = worker_report()
    return body, 200 if ok else 503
