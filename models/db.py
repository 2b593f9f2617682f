"""The database handle: Flask-SQLAlchemy's session per application context (a request, a
Celery task, a CLI command), over the plain SQLAlchemy 2 models of this package.

It lives with the models so that the worker (tasks/) and the web app (webapp/) share it
without the worker depending on the web package.
"""

from __future__ import annotations

import functools
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ColumnDefault, Insert, Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session

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


def insert_unless_taken(session: Session, row: Base, unique: tuple[str, ...]) -> bool:
    """INSERT one new object unless a row with the same `unique` values exists (INSERT … ON
    CONFLICT DO NOTHING on PostgreSQL and SQLite): True when it was written, and `row` is
    then persistent in `session`.

    The database's unique constraint answers "is it taken?" in the same round trip as the
    write, so two concurrent requests cannot both pass a check made before their INSERTs.
    The object's Python-side column defaults are applied first, so the object in hand has
    every value that was written."""
    mapper = inspect(row).mapper
    table = mapper.local_table
    assert isinstance(table, Table)
    values: dict[str, Any] = {}
    for column in table.columns:
        name = mapper.get_property_by_column(column).key
        value = getattr(row, name)
        default = column.default
        if value is None and isinstance(default, ColumnDefault) and (
                default.is_scalar or default.is_callable):
            value = default.arg(None) if default.is_callable else default.arg
            setattr(row, name, value)
        if value is not None:
            values[column.key] = value
    statement = _insert_unless_taken(table, unique, session.get_bind().dialect.name)
    new_id = session.execute(statement, values).scalar()
    if new_id is None:
        return False
    (key,) = mapper.primary_key
    setattr(row, mapper.get_property_by_column(key).key, new_id)
    make_transient_to_detached(row)  # as if just loaded: the session adds it without a write
    session.add(row)
    return True


@functools.cache
def _insert_unless_taken(table: Table, unique: tuple[str, ...], dialect: str) -> Insert:
    # Built once per table: the values are the execution's parameters.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    (key,) = table.primary_key.columns
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(key)
