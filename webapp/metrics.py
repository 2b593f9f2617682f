"""`/metrics` for Prometheus, request timing and the request id.

The page answers only with `Authorization: Bearer $METRICS_TOKEN` (404 when no token is set,
so an unconfigured server does not show that it has one). With PROMETHEUS_MULTIPROC_DIR set
(as `sokai web` and `sokai worker` do) it adds up every web and worker process on this
machine; the figures read from the database are the same whichever process answers.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from services.audit import SYSTEM, set_origin
from services.observability import request_id, set_request_id
from services.operations import background_status
from webapp.extensions import csrf, db

log = logging.getLogger("sokai.requests")
bp = Blueprint("metrics", __name__)

LATENCY = Histogram("sokai_http_request_duration_seconds", "Time to answer a request",
                    ["endpoint", "method", "status"],
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
# A request id from the proxy in front is kept if it looks like one.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,100}")


def _begin() -> None:
    g.started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    set_request_id(given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex)
    set_origin(request.remote_addr or "unknown")


def _end(response: Response) -> Response:
    started = g.pop("started", None)
    if started is not None:
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"  # never the raw path: bounded labels
        LATENCY.labels(endpoint, request.method, str(response.status_code)).observe(seconds)
        if current_app.config["SOKAI_SETTINGS"].log_format == "json":
            log.info("request", extra={"method": request.method, "endpoint": endpoint,
                                       "status": response.status_code,
                                       "duration_ms": round(seconds * 1000, 1)})
    rid = request_id()
    if rid:
        response.headers["X-Request-ID"] = rid
    return response


def _teardown(_exc: BaseException | None) -> None:
    # The thread serves other requests next (or runs tests): it carries nothing over.
    set_request_id(None)
    set_origin(SYSTEM)


class _DatabaseFigures:
    """The outbox, the sweep and the worker heartbeat, read when Prometheus asks."""

    def collect(self) -> Any:
        status = background_status(db.session)
        figures = [
            ("sokai_outbox_waiting", "Mails waiting to be sent", status.mail_waiting),
            ("sokai_outbox_failed", "Mails given up on", status.mail_failed),
            ("sokai_outbox_oldest_waiting_age_seconds",
             "Age of the oldest mail waiting (0: none)",
             status.age(status.oldest_waiting_at) or 0.0),
            ("sokai_last_sweep_age_seconds", "Seconds since the last sweep (-1: never)",
             _or_never(status.age(status.last_sweep_at))),
            ("sokai_worker_heartbeat_age_seconds",
             "Seconds since a worker last finished a job (-1: never)",
             _or_never(status.age(status.worker_seen_at))),
            ("sokai_scheduler_leased", "1 when a beat holds the scheduler lease",
             1.0 if status.scheduler else 0.0),
        ]
        for name, text, value in figures:
            family = GaugeMetricFamily(name, text)
            family.add_metric([], float(value))
            yield family


def _or_never(age: float | None) -> float:
    return -1.0 if age is None else age


@bp.get("/metrics")
@csrf.exempt
def metrics() -> Response:
    token = current_app.config["SOKAI_SETTINGS"].metrics_token
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        abort(404)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        body = generate_latest(processes)
    else:
        body = generate_latest(REGISTRY)
    from_database = CollectorRegistry()
    from_database.register(_DatabaseFigures())  # type: ignore[arg-type]
    body += generate_latest(from_database)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    # First of all hooks: a hook that answers early (a redirect to log in) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_end)
    app.teardown_request(_teardown)
    app.register_blueprint(bp)
