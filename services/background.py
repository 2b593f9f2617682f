"""The port to background work: use cases announce work by task name, the worker does it.

A use case writes its rows and calls `enqueue_after_commit(session, "sokai.x", row_id)`; the
message goes to the broker only once the transaction commits, and never if it rolls back, so
a task always finds its row. `dispatch` sends at once (for work whose rows are already
committed: a sweep, a retry). How a message reaches the broker is the worker package's
business: tasks/ installs a dispatcher when the Celery app is made. The database stays the
truth: a message lost on the way is repaired by the sweep, so a broker that is down is
logged, not raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

log = logging.getLogger(__name__)

# (task name, positional arguments, countdown in seconds or None)
Dispatcher = Callable[[str, tuple[Any, ...], float | None], None]

_PENDING = "sokai.background.pending"
_dispatcher: Dispatcher | None = None

# Task names: the contract between the use cases and the worker.
BUILD_CALENDAR = "sokai.build_calendar"
DELIVER_MAIL = "sokai.deliver_mail"
DELIVER_MAIL_BATCH = "sokai.deliver_mail_batch"
RENDER_SUMMARY = "sokai.render_summary"
ANSWER_WORKER_CHECK = "sokai.answer_worker_check"
ANONYMISE_EXPIRED = "sokai.anonymise_expired"
BUILD_BADGES = "sokai.build_badges"


def install_dispatcher(dispatcher: Dispatcher | None) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def dispatch(task: str, *args: Any, countdown: float | None = None) -> None:
    """Send now. Failing to reach the broker is logged: the sweep resends from the rows."""
    if _dispatcher is None:
        log.warning("no worker configured: %s%r not sent (the sweep will send it)", task, args)
        return
    try:
        _dispatcher(task, args, countdown)
    except Exception:
        log.exception("could not enqueue %s%r; the sweep will retry", task, args)


def enqueue_after_commit(session: Session, task: str, *args: Any) -> None:
    """Send `task` once `session` commits; drop it if the transaction rolls back.

    Within a SAVEPOINT (`begin_nested`) it waits for the outermost commit: SQLAlchemy fires
    `after_commit` when a savepoint is released too, and a task sent then could run before
    its rows are visible (and find nothing to do). A savepoint rolled back drops only what
    was announced inside it."""
    target = session() if isinstance(session, scoped_session) else session
    within = target.get_nested_transaction() or target.get_transaction()
    target.info.setdefault(_PENDING, []).append((within, task, args))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for _within, task, args in session.info.pop(_PENDING, []):
        dispatch(task, *args)


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.parent is None:  # the whole transaction: nothing goes
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [entry for entry in pending
                              if not _inside(entry[0], previous_transaction)]
