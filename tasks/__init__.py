"""The Celery side of Sokai.

Tasks are thin wrappers over plain functions; they run inside the Flask app context so that
they use the same settings and database session as the web side. Work is handed to the broker
only after the database transaction that records it has committed: the row is the truth, the
message only says "go look at row N" (and the sweep repairs a lost message).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import flask
from celery import Celery, Task
from celery.signals import worker_process_init
from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

_PENDING = "sokai.enqueue_after_commit"


def init_celery(app: Flask) -> Celery:
    settings = app.config["SOKAI_SETTINGS"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(settings.celery_config())
    if settings.broker_is_embedded:
        settings.broker_folder.mkdir(parents=True, exist_ok=True)
        settings.broker_control_folder.mkdir(parents=True, exist_ok=True)
    celery.set_default()

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_kwargs: Any) -> None:
        # A forked pool process must not reuse the parent's database connections.
        from webapp.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)

    # Import the task modules so that the worker knows them (and the sweep their sweepers).
    import tasks.feeds
    import tasks.housekeeping
    import tasks.mail  # noqa: F401
    import tasks.reminders  # noqa: F401
    import tasks.summaries  # noqa: F401

    app.extensions["celery"] = celery
    return celery


def enqueue_after_commit(session: Session, task: Task, *args: Any, **kwargs: Any) -> None:
    """Send `task` once `session` commits; drop it if the transaction rolls back."""
    session.info.setdefault(_PENDING, []).append((task, args, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    # The Celery app of the Flask app in use, not whichever Celery app was created last.
    celery = flask.current_app.extensions["celery"] if flask.has_app_context() else None
    for task, args, kwargs in pending:
        try:
            (celery.tasks[task.name] if celery else task).apply_async(args=args, kwargs=kwargs)
        except Exception:  # the broker is down: the row stays pending and the sweep resends
            log.exception("could not enqueue %s%r; the sweep will retry", task.name, args)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
