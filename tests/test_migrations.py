"""The Alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from config import Settings
from models import Base
from models.migrate import alembic_config


def test_no_drift_between_migrations_and_models(settings: Settings) -> None:
    # The session fixture built the test database with `alembic upgrade head`.
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        assert context.get_current_revision() == head
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
