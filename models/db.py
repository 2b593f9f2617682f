"""The database handle: Flask-SQLAlchemy's session per application context (a request, a
Celery task, a CLI command), over the plain SQLAlchemy 2 models of this package.

It lives with the models so that the worker (tasks/) and the web app (webapp/) share it
without the worker depending on the web package.
"""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy

from models.base import Base

db = SQLAlchemy(metadata=Base.metadata)
