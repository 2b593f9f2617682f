"""The `sokai` command: web, worker, beat, run, demo, backup, restore, db upgrade, users
create, tokens create."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import inspect, select

from config import ConfigError, Settings, load_settings


def _settings(**env_overrides: str) -> Settings:
    env = {**os.environ, **env_overrides}
    try:
        return load_settings(env)
    except ConfigError as exc:
        click.echo(f"sokai: configuration error: {exc}", err=True)
        raise SystemExit(2) from None


@contextmanager
def _app_context(settings: Settings) -> Iterator[Flask]:
    from services.audit import set_origin
    from webapp import create_app

    app = create_app(settings)
    set_origin("cli")  # what a command changes is "from the command line" in the audit trail
    with app.app_context():
        yield app


def _upgrade(settings: Settings) -> None:
    from models.migrate import upgrade

    upgrade(settings.database_url)


@click.group()
def main() -> None:
    """Sokai (総会): general assemblies of city networks."""


# --- run and demo ---------------------------------------------------------------------------


def _children(settings: Settings, host: str, port: int) -> list[tuple[str, list[str]]]:
    # `sokai run` is the three commands below side by side (each execs its server).
    cli = [sys.executable, "-m", "webapp.cli"]
    return [
        ("web", [*cli, "web", "--bind", f"{host}:{port}"]),
        ("worker", [*cli, "worker"]),
        ("beat", [*cli, "beat"]),
    ]


def _child_env(settings: Settings) -> dict[str, str]:
    # Children read the same settings; pin what was generated or defaulted here.
    env = dict(os.environ)
    env.update(SOKAI_INSTANCE_PATH=str(settings.instance_path),
               DATABASE_URL=settings.database_url, SECRET_KEY=settings.secret_key,
               SOKAI_BASE_URL=settings.base_url)
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


# A child that dies is started again after RESTART_FIRST seconds, doubling up to RESTART_MAX
# while it keeps dying; a child that ran for STABLE_AFTER seconds starts the count anew.
RESTART_FIRST = 1.0
RESTART_MAX = 30.0
STABLE_AFTER = 60.0


@dataclass
class _Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = RESTART_FIRST
    restart_at: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        # Own process group: Ctrl-C reaches only us, and we stop the children in order.
        self.proc = subprocess.Popen(self.argv, env=env, start_new_session=True)
        self.started_at = time.monotonic()

    def exited(self, now: float) -> int | None:
        """The exit status if the child has just died (then a restart is scheduled)."""
        if self.proc is None or self.proc.poll() is None:
            return None
        status = self.proc.returncode
        if now - self.started_at >= STABLE_AFTER:
            self.delay = RESTART_FIRST
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, RESTART_MAX)
        self.proc = None
        return status


def _serve(settings: Settings, host: str, port: int) -> None:
    """Start web, worker and beat; restart one that dies (with a growing pause); stop them
    all on Ctrl-C or SIGTERM."""
    env = _child_env(settings)
    children = [_Child(name, argv) for name, argv in _children(settings, host, port)]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in children:
        child.start(env)

    with _app_context(settings):
        from services.housekeeping import request_worker_check
        from webapp.extensions import db

        request_worker_check(db.session)
        db.session.commit()
    click.echo(f"\nSokai is running on http://{host}:{port}/  (health: /healthz; "
               "a worker round trip shows on the secretariat dashboard). Ctrl-C stops it.\n")

    while not stopping:
        now = time.monotonic()
        for child in children:
            status = child.exited(now)
            if status is not None:
                click.echo(f"sokai: {child.name} exited with status {status}; restarting it "
                           f"in {child.restart_at - now:.0f} s", err=True)
            if child.proc is None and now >= child.restart_at and not stopping:
                child.start(env)
                click.echo(f"sokai: {child.name} restarted", err=True)
        time.sleep(0.5)

    click.echo("\nsokai: stopping web, worker and beat…")
    running = [c for c in children if c.proc is not None]
    for child in running:
        if child.proc is not None and child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in running:
        assert child.proc is not None
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"sokai: {child.name} did not stop in time; killing it", err=True)
            child.proc.kill()
            child.proc.wait()
    click.echo("sokai: stopped.")
    raise SystemExit(0)


# --- the processes, one command each (what compose and process managers run) ----------------


def _metrics_folder(settings: Settings) -> None:
    # Every web and worker process writes its counters here; /metrics adds them up.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = settings.instance_path / "metrics"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _exec(argv: list[str]) -> None:
    # Replace this process: the server gets the signals (PID 1 in a container) directly.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *argv])


@main.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True,
              help="HOST:PORT to listen on (0.0.0.0:8000 in a container).")
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes.")
@click.option("--threads", default=4, show_default=True, type=int,
              help="Threads per worker process.")
def web(bind: str, workers: int, threads: int) -> None:
    """The web server (gunicorn over webapp.wsgi:app). Run as many as you like behind a
    load balancer; they share nothing but the database, Redis and the instance folder."""
    settings = _settings()  # a configuration error stops here, naming the variable
    _metrics_folder(settings)
    # With LOG_FORMAT=json the app logs each request as JSON; no text access log then.
    access_log = [] if settings.log_format == "json" else ["--access-logfile", "-"]
    _exec(["-m", "gunicorn", "--bind", bind, "--workers", str(workers), "--threads",
           str(threads), *access_log, "webapp.wsgi:app"])


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=int,
              help="Tasks run at once by this worker.")
@click.option("--name", default="sokai", show_default=True,
              help="Node name (NAME@host); give each worker on one machine its own.")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(concurrency: int, name: str, loglevel: str) -> None:
    """A Celery worker running the background jobs (mail, reports, calendars, the sweep).
    Run as many as the load needs, on any machine reaching the broker and the database."""
    _metrics_folder(_settings())
    _exec(["-m", "celery", "-A", "tasks.worker", "worker", "--loglevel", loglevel,
           "--concurrency", str(concurrency), "--hostname", f"{name}@%h"])


@main.command()
@click.option("--schedule", "schedule", type=click.Path(dir_okay=False, path_type=Path),
              help="Where beat keeps its state [default: INSTANCE/celerybeat-schedule].")
@click.option("--loglevel", default="INFO", show_default=True)
def beat(schedule: Path | None, loglevel: str) -> None:
    """The scheduler (Celery beat) that sends the sweep every minute. One is enough; a
    second one started by mistake stands by (a lease in the database) and takes over when
    the first stops."""
    settings = _settings()
    state = schedule or settings.instance_path / "celerybeat-schedule"
    state.parent.mkdir(parents=True, exist_ok=True)
    _exec(["-m", "celery", "-A", "tasks.worker", "beat", "--loglevel", loglevel,
           "--schedule", str(state)])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the web server, a worker and the scheduler together (one machine)."""
    settings = _settings()
    _upgrade(settings)
    _serve(settings, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True,
              help="With DATABASE_URL set: wipe that database first (it must be empty otherwise).")
def demo(host: str, port: int, reset: bool) -> None:
    """Like `run`, on a fresh database loaded with the Tomsk 2014 assembly."""
    base = _settings()
    overrides: dict[str, str] = {}
    if "database" in base.embedded:
        # The demo gets a file of its own, made anew each time; real data is never touched.
        demo_db = base.instance_path / "demo.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        overrides["DATABASE_URL"] = f"sqlite:///{demo_db}"
    settings = _settings(**overrides)
    if reset:
        _wipe(settings)
    _upgrade(settings)
    password = secrets.token_urlsafe(9)
    with _app_context(settings):
        from models import Network
        from services.demo import create_demo_accounts, load_tomsk_2014
        from webapp.extensions import db

        if db.session.scalar(select(Network).limit(1)) is not None:
            click.echo("sokai: the database already holds data; use --reset to wipe it "
                       "for the demo", err=True)
            raise SystemExit(2)
        assembly = load_tomsk_2014(db.session)
        accounts = create_demo_accounts(db.session, password)
        db.session.commit()
        click.echo(f"\nLoaded the demo: {assembly.title['en']} ({assembly.slug}).")
        click.echo(f"Log in at http://{host}:{port}/login with password {password} as:")
        for email, description in accounts:
            click.echo(f"  {email:<40} {description}")
    _serve(settings, host, port)


def _wipe(settings: Settings) -> None:
    from sqlalchemy import create_engine

    from models import Base

    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()


# --- db ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (Alembic)."""
    settings = _settings()
    _upgrade(settings)
    click.echo("database is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from models.migrate import new_revision

    new_revision(_settings().database_url, message)


# --- backup and restore --------------------------------------------------------------------


@main.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write one archive (.tar.gz) with the database and the instance folder's files."""
    from services.backup import BackupError, backup

    try:
        summary = backup(_settings(), path)
    except BackupError as exc:
        click.echo(f"sokai: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"backed up the {summary.database} database (revision {summary.revision}) "
               f"and {summary.files} files to {path}")


@main.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore_command(path: Path) -> None:
    """Bring a `sokai backup` archive back into an empty database and instance folder."""
    from services.backup import BackupError, restore

    settings = _settings()
    try:
        summary = restore(settings, path)
    except BackupError as exc:
        click.echo(f"sokai: {exc}", err=True)
        raise SystemExit(1) from None
    _upgrade(settings)  # an archive from an older version gets today's schema
    click.echo(f"restored the {summary.database} database (revision {summary.revision}) "
               f"and {summary.files} files from {path}")


@main.command("retention")
@click.argument("network_code")
@click.argument("months", type=click.IntRange(1, 240))
def retention_command(network_code: str, months: int) -> None:
    """Keep delegates' personal data MONTHS months after a closed assembly's last day."""
    from models import Network
    from services.retention import set_retention

    with _app_context(_settings()):
        from webapp.extensions import db as database

        network = database.session.scalar(select(Network).where(
            Network.code == network_code))
        if network is None:
            click.echo(f"sokai: no network {network_code!r}", err=True)
            raise SystemExit(2)
        set_retention(database.session, network, months)
        database.session.commit()
        click.echo(f"{network.code}: personal data kept {months} months after an assembly")


# --- users and tokens ------------------------------------------------------------------------


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["secretariat", "liaison", "delegate"]), required=True)
@click.option("--city", "city_code", help="Member city code, for a liaison.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
def users_create(email: str, role: str, city_code: str | None, password: str,
                 display_name: str) -> None:
    """Create a user who can log in."""
    from models.errors import DomainError
    from services.accounts import create_user

    settings = _settings()
    with _app_context(settings):
        from webapp.extensions import db as database

        try:
            user = create_user(database.session, email, role, password, city_code, display_name)
        except DomainError as exc:
            option = {"city": " (--city CODE)", "password": " (--password)"}.get(
                exc.field or "", "")
            click.echo(f"sokai: {exc.message}{option}", err=True)
            raise SystemExit(2) from None
        database.session.commit()
        click.echo(f"created {user.role.value} {user.email}")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="")
def tokens_create(email: str, label: str) -> None:
    """Print a new API token for a user (shown once, stored hashed)."""
    from models.errors import DomainError
    from services.accounts import issue_token

    settings = _settings()
    with _app_context(settings):
        from webapp.extensions import db as database

        try:
            secret = issue_token(database.session, email, label)
        except DomainError as exc:
            click.echo(f"sokai: {exc.message}", err=True)
            raise SystemExit(2) from None
        database.session.commit()
        click.echo(secret)


if __name__ == "__main__":
    main()
