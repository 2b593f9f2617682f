"""The database handle: Flask-SQLAlchemy's session per application context (a request, a
Celery task, a CLI command), over the plain SQLAlchemy 2 models of this package.

It lives with the models so that the worker (tasks/) and the web app (webapp/) share it
without the worker depending on the web package.
"""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from models.base import Base


class Database(SQLAlchemy):
    # `session` is a scoped_session: a proxy with every method of the Session of the current
    # app context. Use cases take a Session; typed as one here, once, they accept it as is.
    session: Session  # type: ignore[assignment]


db = Database(metadata=Base.metadata)
