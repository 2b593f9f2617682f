"""One archive with everything an instance holds: the database and the instance folder's
files (uploaded letters, generated reports, the generated secret key).

Consistency: the database is copied first (SQLite's online backup, or `pg_dump`, each a
snapshot of one instant), the files after it. Files are only ever added under new names, so
every file a row of the snapshot names is already on disk when the files are copied; a file
written meanwhile is a harmless extra. Restoring needs an empty database and an instance
folder without those files, and checks every file's SHA-256 against the manifest.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import Settings
from services.digests import sha256_of

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
FILES = "instance/"
# Runtime state, not data: queues of the embedded broker, metrics, the beat's schedule, the
# mail drop of the embedded setup, and the database itself (copied on its own).
SKIP_FOLDERS = {"broker", "broker-control", "metrics", "maildrop"}
SKIP_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")
SKIP_PREFIXES = ("celerybeat-schedule",)


class BackupError(Exception):
    """Backup or restore cannot go on; str() is the one line to show."""


@dataclass(frozen=True)
class Summary:
    database: str  # "sqlite" or "postgresql"
    files: int
    revision: str | None


def instance_files(settings: Settings) -> list[Path]:
    """The instance folder's data files, relative to it, sorted."""
    root = settings.instance_path
    found: list[Path] = []
    if not root.exists():
        return found
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in SKIP_FOLDERS]
        for name in names:
            if name.endswith(SKIP_SUFFIXES) or name.startswith(SKIP_PREFIXES):
                continue
            path = here / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root))
    return sorted(found)


def _pg_command(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (which goes into PGPASSWORD, not the process list)."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _dump_database(settings: Settings, folder: Path) -> tuple[str, Path]:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        target = folder / SQLITE_MEMBER
        source = sqlite3.connect(url.database or "")
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)  # an online, consistent copy (the app may be running)
            copy.close()
        finally:
            source.close()
        return "sqlite", target
    target = folder / PG_MEMBER
    libpq, env = _pg_command(settings.database_url)
    result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                             "--file", str(target), libpq], env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return "postgresql", target


def backup(settings: Settings, archive: Path) -> Summary:
    """Write `archive` (a .tar.gz); it appears only once complete."""
    archive = archive.resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sokai-backup-") as tmp:
        kind, dump = _dump_database(settings, Path(tmp))
        files = instance_files(settings)
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
            "database": kind, "database_member": dump.name,
            "database_sha256": sha256_of(dump), "revision": _revision(settings.database_url),
            "files": {str(p): sha256_of(settings.instance_path / p) for p in files},
        }
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(settings.instance_path / path, arcname=FILES + str(path))
        partial.replace(archive)
    return Summary(kind, len(files), manifest["revision"])


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
    except KeyError:
        raise BackupError("not a Sokai backup: no manifest.json in the archive") from None
    if member is None:
        raise BackupError("not a Sokai backup: manifest.json is not a file")
    manifest: dict[str, Any] = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported")
    return manifest


def _database_is_empty(database_url: str) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return True
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore(settings: Settings, archive: Path) -> Summary:
    """Bring `archive` back into an empty database and instance folder."""
    if not archive.is_file():
        raise BackupError(f"no such archive: {archive}")
    backend = make_url(settings.database_url).get_backend_name()
    with tarfile.open(archive, "r:gz") as tar, \
            tempfile.TemporaryDirectory(prefix="sokai-restore-") as tmp:
        manifest = _read_manifest(tar)
        if manifest["database"] != backend:
            raise BackupError(f"the archive holds a {manifest['database']} database; "
                              f"DATABASE_URL points at {backend}")
        if not _database_is_empty(settings.database_url):
            raise BackupError("the database is not empty: restore into an empty one")
        clashes = [p for p in manifest["files"] if (settings.instance_path / p).exists()]
        if clashes:
            raise BackupError(f"the instance folder already holds {clashes[0]} "
                              f"(and {len(clashes) - 1} more): restore into an empty one")
        # Everything is extracted and checked before anything is written.
        tar.extractall(tmp, filter="data")
        staged = Path(tmp)
        dump = staged / manifest["database_member"]
        if sha256_of(dump) != manifest["database_sha256"]:
            raise BackupError("the database copy in the archive is damaged (SHA-256)")
        for name, digest in manifest["files"].items():
            if sha256_of(staged / FILES / name) != digest:
                raise BackupError(f"{name} in the archive is damaged (SHA-256)")
        _load_database(settings, dump, backend)
        for name in manifest["files"]:
            target = settings.instance_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(staged / FILES / name, target)
    _forget_cached_state(settings)
    return Summary(backend, len(manifest["files"]), manifest.get("revision"))


# What Redis holds beside the broker is derived from the database: the check-in boards'
# versions (which never go backwards, so a restored, older database would freeze open boards)
# and the built feeds (which would be served as they were before the restore). Both are
# rebuilt from the database when missing.
CACHED_STATE = ("sokai:checkin:version:*", "sokai:feed:*")


def _forget_cached_state(settings: Settings) -> None:
    if not settings.redis_url:
        return
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
    try:
        for pattern in CACHED_STATE:
            for key in client.scan_iter(match=pattern, count=500):
                client.delete(key)
    except redis.RedisError as exc:
        raise BackupError(f"restored, but the cached state in Redis ({settings.redis_url}) "
                          f"could not be cleared: {exc}; clear the keys {', '.join(CACHED_STATE)} "
                          "before starting Sokai") from exc
    finally:
        client.close()


def _load_database(settings: Settings, dump: Path, backend: str) -> None:
    if backend == "sqlite":
        path = Path(make_url(settings.database_url).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Through SQLite's backup API, never by copying files: the empty database may be in
        # WAL mode with connections open, and SQLite keeps its -wal/-shm files right.
        source = sqlite3.connect(dump)
        try:
            target = sqlite3.connect(path)
            with target:
                source.backup(target)
            target.close()
        finally:
            source.close()
        return
    libpq, env = _pg_command(settings.database_url)
    result = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                             "--dbname", libpq, str(dump)], env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
