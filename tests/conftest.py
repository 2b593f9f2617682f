"""Fixtures: the app on a real database and a real Celery worker on a real broker.

Defaults need no server: SQLite in a temporary folder and kombu's filesystem transport.
Set SOKAI_TEST_DATABASE_URL (PostgreSQL) and SOKAI_TEST_BROKER_URL (Redis) to run the same
suite against real services; CI does both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect

from config import Settings, load_settings
from models import Base, Role, User
from services.accounts import create_user
from webapp import create_app
from webapp.extensions import db

PASSWORD = "correct horse battery"


def service_env(instance: Path) -> dict[str, str]:
    env = {"SOKAI_INSTANCE_PATH": str(instance), "SECRET_KEY": "test-secret",
           "SOKAI_BASE_URL": "http://sokai.test"}
    if os.environ.get("SOKAI_TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["SOKAI_TEST_DATABASE_URL"]
    if os.environ.get("SOKAI_TEST_BROKER_URL"):
        env["CELERY_BROKER_URL"] = os.environ["SOKAI_TEST_BROKER_URL"]
    return env


def reset_database(url: str) -> None:
    """Drop everything, then build the schema the way production does: Alembic."""
    from models.migrate import upgrade

    engine = create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    upgrade(url)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    settings = load_settings(service_env(instance))
    reset_database(settings.database_url)
    return settings


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (a worker thread shares the database, so no
    rollback trick: rows are really committed, then deleted)."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture(scope="session")
def celery_worker(app: Flask) -> Iterator[Any]:
    """A real Celery worker (threads pool) consuming the configured broker."""
    celery = app.extensions["celery"]
    with celery.connection_for_write() as conn:
        conn.default_channel.queue_purge(celery.conf.task_default_queue)
    with start_worker(celery, pool="threads", concurrency=2, perform_ping_check=False,
                      shutdown_timeout=15, loglevel="WARNING") as worker:
        yield worker


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def make(email: str, role: Role | str = Role.SECRETARIAT, city: str | None = None,
             password: str = PASSWORD, language: str = "en") -> User:
        with app.app_context():
            user = create_user(db.session, email, role, password, city, language=language)
            db.session.commit()
            return user

    return make


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'type="hidden" name="csrf_token" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return next(group for group in match.groups() if group)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(page.get_data(as_text=True))})
