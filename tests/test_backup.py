"""`sokai backup` / `sokai restore`: backup → wipe → restore gives back every row and every
stored file (SHA-256) on the database in use (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import create_engine, inspect, select, text

from config import Settings
from models import Base, User
from services.backup import instance_files
from tests.conftest import login
from tests.test_authorisation_matrix import _world
from webapp.cli import main
from webapp.extensions import db


def _env(settings: Settings) -> dict[str, str]:
    env = {"SOKAI_INSTANCE_PATH": str(settings.instance_path), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = {name: [tuple(row) for row in conn.execute(
                select(table).order_by(*table.primary_key.columns))]
                for name, table in Base.metadata.tables.items()}
            tables["alembic_version"] = [tuple(r) for r in conn.execute(
                text("SELECT version_num FROM alembic_version"))]
            return tables
    finally:
        engine.dispose()


def _hashes(settings: Settings) -> dict[str, str]:
    return {str(p): hashlib.sha256((settings.instance_path / p).read_bytes()).hexdigest()
            for p in instance_files(settings)}


def _wipe(app: Flask, settings: Settings) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE alembic_version")
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    engine.dispose()
    for path in instance_files(settings):
        (settings.instance_path / path).unlink()


def test_backup_wipe_restore_gives_back_every_row_and_file(
        app: Flask, settings: Settings, make_user: Callable[..., User], tmp_path: Path) -> None:
    world = _world(app, make_user)  # letters with their PDFs, a built report, people, mail…
    rows, hashes = _rows(settings.database_url), _hashes(settings)
    assert any(name.startswith("uploads/") for name in hashes)
    assert any(name.startswith("summaries/") for name in hashes)
    assert sum(len(r) for r in rows.values()) > 100

    archive = tmp_path / "sokai.tar.gz"
    runner = CliRunner()
    result = runner.invoke(main, ["backup", str(archive)], env=_env(settings))
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and any(n.startswith("database.") for n in names)

    # Restoring over data is refused.
    refused = runner.invoke(main, ["restore", str(archive)], env=_env(settings))
    assert refused.exit_code == 1 and "not empty" in refused.output

    _wipe(app, settings)
    assert _hashes(settings) == {}
    result = runner.invoke(main, ["restore", str(archive)], env=_env(settings))
    assert result.exit_code == 0, result.output

    assert _rows(settings.database_url) == rows
    assert _hashes(settings) == hashes
    # The restored letter still downloads, byte for byte.
    client = app.test_client()
    assert login(client, "m.sec@example.org").status_code == 302
    response = client.get(f"/letters/{world['letter']}/document")
    assert response.status_code == 200
    stored = [name for name in hashes if name.startswith("uploads/")]
    digest = hashlib.sha256(response.data).hexdigest()
    assert digest in {hashes[name] for name in stored}


def test_a_damaged_archive_is_refused_before_anything_is_written(
        app: Flask, settings: Settings, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-backup.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, arcname="something.py")
    result = CliRunner().invoke(main, ["restore", str(bogus)], env=_env(settings))
    assert result.exit_code == 1 and "no manifest.json" in result.output


@pytest.mark.skipif("not __import__('os').environ.get('SOKAI_TEST_BROKER_URL', '')"
                    ".startswith('redis')", reason="needs Redis (SOKAI_TEST_BROKER_URL)")
def test_a_restore_forgets_what_redis_derived_from_the_old_database(
        app: Flask, settings: Settings, make_user: Callable[..., User], tmp_path: Path) -> None:
    """A board version or a built feed kept in Redis from before the restore would freeze the
    boards (versions never go backwards) or serve feeds of the other database."""
    import os

    import redis

    url = os.environ["SOKAI_TEST_BROKER_URL"]
    _world(app, make_user)
    archive = tmp_path / "sokai.tar.gz"
    env = {**_env(settings), "REDIS_URL": url}
    runner = CliRunner()
    assert runner.invoke(main, ["backup", str(archive)], env=env).exit_code == 0
    _wipe(app, settings)
    client = redis.Redis.from_url(url)
    client.set("sokai:checkin:version:1", 10**9)
    client.hset("sokai:feed:public:1:en", "etag", "stale")
    client.set("unrelated:key", "kept")
    try:
        result = runner.invoke(main, ["restore", str(archive)], env=env)
        assert result.exit_code == 0, result.output
        assert client.get("sokai:checkin:version:1") is None
        assert not client.exists("sokai:feed:public:1:en")
        assert client.get("unrelated:key") == b"kept"
    finally:
        client.delete("sokai:checkin:version:1", "sokai:feed:public:1:en", "unrelated:key")
