"""Counting the background jobs for /metrics: started, succeeded, failed and retried per
task, and how long each took. Celery's signals fire in the process running the task; with
PROMETHEUS_MULTIPROC_DIR set (`sokai worker` and `sokai web` set it to the instance folder)
the web side's /metrics adds up every process's numbers."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success
from prometheus_client import Counter, Histogram

from services.observability import set_request_id

STARTED = Counter("sokai_task_started_total", "Background jobs started", ["task"])
SUCCEEDED = Counter("sokai_task_succeeded_total", "Background jobs that finished", ["task"])
FAILED = Counter("sokai_task_failed_total", "Background jobs that raised", ["task"])
RETRIED = Counter("sokai_task_retried_total", "Background jobs sent to be retried", ["task"])
DURATION = Histogram("sokai_task_duration_seconds", "Time a background job ran", ["task"],
                     buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600))

_started_at: dict[str, float] = {}


def _name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


def request_id_of(task: Any) -> str | None:
    """The id of the web request that enqueued this task (a message header), if any."""
    request = getattr(task, "request", None)
    if request is None:
        return None
    headers = getattr(request, "headers", None) or {}
    value = getattr(request, "request_id", None) or headers.get("request_id")
    return str(value) if value else None


@task_prerun.connect(weak=False)
def _started(sender: Any = None, task_id: str = "", **_: Any) -> None:
    set_request_id(request_id_of(sender))
    STARTED.labels(_name(sender)).inc()
    _started_at[task_id] = time.monotonic()


@task_postrun.connect(weak=False)
def _finished(sender: Any = None, task_id: str = "", **_: Any) -> None:
    began = _started_at.pop(task_id, None)
    if began is not None:
        DURATION.labels(_name(sender)).observe(time.monotonic() - began)
    set_request_id(None)


@task_success.connect(weak=False)
def _succeeded(sender: Any = None, **_: Any) -> None:
    SUCCEEDED.labels(_name(sender)).inc()


@task_failure.connect(weak=False)
def _failed(sender: Any = None, **_: Any) -> None:
    FAILED.labels(_name(sender)).inc()


@task_retry.connect(weak=False)
def _retried(sender: Any = None, **_: Any) -> None:
    RETRIED.labels(_name(sender)).inc()
