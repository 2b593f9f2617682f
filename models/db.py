"""The database handle: Flask-SQLAlchemy's session per application context (a request, a
Celery task, a CLI command), over the plain SQLAlchemy 2 models of this package.

It lives with the models so that the worker (tasks/) and the web app (webapp/) share it
without the worker depending on the web package.
"""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session, scoped_session

from models.base import Base


class Database(SQLAlchemy):
    # `session` is a scoped_session: a proxy with every method of the Session of the current
    # app context. Use cases take a Session; typed as one here, once, they accept it as is.
    session: Session  # type: ignore[assignment]


db = Database(metadata=Base.metadata)


def commit_as_written(session: Session) -> None:
    """Commit, keeping the objects this transaction wrote as they were written.

    For a request that answers with what it just wrote: the answer is serialised from the
    objects in hand instead of reloading each one and each relationship after the commit
    (three round trips saved when a delegate is registered). Values the database computes
    on its own would be stale; the models set theirs in Python."""
    target = session() if isinstance(session, scoped_session) else session
    target.expire_on_commit = False
    try:
        target.commit()
    finally:
        target.expire_on_commit = True
