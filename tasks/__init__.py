"""The Celery side of Sokai: the Celery app and thin tasks over the use cases in services/.

Use cases announce background work by task name through services.background; this package
implements that port (`init_celery` installs the dispatcher). Tasks run inside the Flask app
context, so they use the same settings and database session as the web side. The row is the
truth, the message only says "go look at row N" (and the sweep repairs a lost message).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any

import flask
from celery import Celery, Task
from celery import current_app as default_celery
from celery.signals import worker_process_init

from models.db import db
from services import background
from services.audit import set_origin
from services.observability import configure_logging, request_id
from services.operations import note_worker_alive

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


def init_celery(app: Flask) -> Celery:
    settings = app.config["SOKAI_SETTINGS"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                set_origin("worker")  # the audit trail's "from where" for background work
                try:
                    return self.run(*args, **kwargs)
                finally:
                    _note_alive()

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(settings.celery_config())
    if settings.broker_is_embedded:
        settings.broker_folder.mkdir(parents=True, exist_ok=True)
        settings.broker_control_folder.mkdir(parents=True, exist_ok=True)
    celery.set_default()
    configure_logging(settings.log_format)

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_kwargs: Any) -> None:
        # A forked pool process must not reuse the parent's database connections.
        with app.app_context():
            db.engine.dispose(close=False)

    # Import the task modules so that the worker knows them (and count what they do).
    import tasks.calendar
    import tasks.checkin
    import tasks.housekeeping
    import tasks.mail
    import tasks.metrics
    import tasks.retention
    import tasks.summaries  # noqa: F401

    app.extensions["celery"] = celery
    background.install_dispatcher(_send)
    return celery


def _send(name: str, args: tuple[Any, ...], countdown: float | None) -> None:
    # The Celery app of the Flask app in use (tests run several), else the last one made.
    celery = (flask.current_app.extensions["celery"] if flask.has_app_context()
              else default_celery)
    # The request (or task) that caused this job travels with it, for the logs.
    rid = request_id()
    celery.send_task(name, args=list(args), countdown=countdown,
                     headers={"request_id": rid} if rid else None)


def _note_alive() -> None:
    # The worker heartbeat on the dashboard and /metrics; never fails the task itself.
    try:
        note_worker_alive(db.session, f"{socket.gethostname()}:{os.getpid()}")
    except Exception:
        db.session.rollback()
        log.warning("could not note the worker heartbeat", exc_info=True)
