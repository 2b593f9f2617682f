"""The `sokai` command: web, worker, beat, run, demo, init, setup-link, backup, restore,
retention, db upgrade, users create, tokens create."""

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
from typing import Any

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


# `sokai demo` writes its database URL here while it runs, so that `sokai users create` and
# `sokai tokens create` (with no DATABASE_URL) act on the data the running demo shows.
DEMO_DATABASE_FILE = "demo-database-url"


def _data_settings() -> Settings:
    """Settings for commands that change data: the running demo's database when no
    DATABASE_URL is set and a demo is running in this instance folder (saying so)."""
    settings = _settings()
    marker = settings.instance_path / DEMO_DATABASE_FILE
    if "database" in settings.embedded and marker.exists():
        url = marker.read_text().strip()
        click.echo(f"sokai: using the running demo's database ({url}); set DATABASE_URL "
                   "to choose another", err=True)
        return _settings(DATABASE_URL=url)
    return settings


def _base_url_overrides(host: str, port: int) -> dict[str, str]:
    """With no SOKAI_BASE_URL, links in mail, feeds and pages follow --host/--port."""
    if os.environ.get("SOKAI_BASE_URL", "").strip():
        return {}
    return {"SOKAI_BASE_URL": _local_url(host, port)}


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
        ("web", [*cli, "web", "--bind", f"{host}:{port}",
                 # Runtime files in the instance folder: two instances never share one.
                 "--pid", str(settings.instance_path / "gunicorn.pid"),
                 "--worker-tmp-dir", str(_runtime_dir(settings))]),
        # The port in the node name: two instances on one host sharing a broker stay apart.
        ("worker", [*cli, "worker", "--name", f"sokai-{port}"]),
        ("beat", [*cli, "beat"]),
    ]


def _runtime_dir(settings: Settings) -> Path:
    folder = settings.instance_path / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _control_socket(settings: Settings) -> list[str]:
    """Gunicorn's control socket (newer gunicorn) in the instance folder, not the shared
    ~/.gunicorn/gunicorn.ctl; none when the path is too long for a Unix socket."""
    import gunicorn.config

    if not hasattr(gunicorn.config, "ControlSocket"):
        return []
    path = _runtime_dir(settings) / "gunicorn.ctl"
    return ["--control-socket", str(path)] if len(str(path)) < 100 else ["--no-control-socket"]


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


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def _answers(url: str) -> dict[str, Any] | None:
    """The /healthz JSON at this base URL, or None when nothing healthy answers."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=3) as response:
            return dict(json.load(response))
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _ready(host: str, port: int) -> bool:
    """The web server answers and the worker has answered the start-up check."""
    health = _answers(_local_url(host, port))
    return bool(health and (health.get("worker") or {}).get("last_round_trip"))


READY_WAIT = 90.0  # seconds: after that the notes are printed anyway


def _serve(settings: Settings, host: str, port: int, notes: tuple[str, ...] = ()) -> None:
    """Start web, worker and beat; restart one that dies (with a growing pause); stop them
    all on Ctrl-C or SIGTERM. `notes` are printed once web and worker are up, after their
    start-up banners, so that a newcomer sees them last."""
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
    announce_by = time.monotonic() + READY_WAIT
    announced = False

    while not stopping:
        now = time.monotonic()
        if not announced and (now >= announce_by or _ready(host, port)):
            announced = True
            _announce(settings, host, port, notes)
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
@click.option("--pid", "pid_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write gunicorn's process id here.")
@click.option("--worker-tmp-dir", type=click.Path(file_okay=False, path_type=Path),
              help="gunicorn's heartbeat files (default: its own choice).")
def web(bind: str, workers: int, threads: int, pid_file: Path | None,
        worker_tmp_dir: Path | None) -> None:
    """The web server (gunicorn over webapp.wsgi:app). Run as many as you like behind a
    load balancer; they share nothing but the database, Redis and the instance folder."""
    settings = _settings()  # a configuration error stops here, naming the variable
    _metrics_folder(settings)
    # With LOG_FORMAT=json the app logs each request as JSON; no text access log then.
    access_log = [] if settings.log_format == "json" else ["--access-logfile", "-"]
    extra = [*(["--pid", str(pid_file)] if pid_file else []),
             *(["--worker-tmp-dir", str(worker_tmp_dir)] if worker_tmp_dir else []),
             *_control_socket(settings)]
    _exec(["-m", "gunicorn", "--bind", bind, "--workers", str(workers), "--threads",
           str(threads), *access_log, *extra, "webapp.wsgi:app"])


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


def _announce(settings: Settings, host: str, port: int, notes: tuple[str, ...]) -> None:
    click.echo(f"\nSokai is running on {_local_url(host, port)}/  (health: /healthz; "
               "a worker round trip shows on the secretariat dashboard). Ctrl-C stops it.")
    if settings.base_url.rstrip("/") != _local_url(host, port) and not _answers(
            settings.base_url):
        click.echo(f"sokai: warning: SOKAI_BASE_URL {settings.base_url} does not answer "
                   "/healthz: links in mail and calendars may not reach this Sokai", err=True)
    for note in notes:
        click.echo(note)
    click.echo("")


def _setup_note(settings: Settings) -> tuple[str, ...]:
    """On an empty database: the one-time setup link (to the terminal only)."""
    with _app_context(settings):
        from services.network import has_network, setup_url
        from webapp.extensions import db as database

        if has_network(database.session):
            return ()
        return ("\nThis Sokai has no network yet. Open this one-time link to create it and "
                f"your secretariat account:\n  {setup_url(settings)}\n(or run `sokai init`; "
                "`sokai setup-link` prints the link again)",)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the web server, a worker and the scheduler together (one machine)."""
    settings = _settings(**_base_url_overrides(host, port))
    _upgrade(settings)
    _serve(settings, host, port, _setup_note(settings))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True,
              help="With DATABASE_URL set: wipe that database first (it must be empty otherwise).")
def demo(host: str, port: int, reset: bool) -> None:
    """Like `run`, on a fresh database loaded with the Tomsk 2014 assembly."""
    base = _settings()
    overrides = _base_url_overrides(host, port)
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
        from services.accounts import issue_token
        from services.demo import DEMO_ACCOUNTS, create_demo_accounts, load_tomsk_2014
        from services.demo_outcome import add_draft_resolution
        from services.demo_upcoming import load_upcoming
        from webapp.extensions import db

        if db.session.scalar(select(Network).limit(1)) is not None:
            click.echo("sokai: the database already holds data; use --reset to wipe it "
                       "for the demo", err=True)
            raise SystemExit(2)
        closed = load_tomsk_2014(db.session)
        upcoming = load_upcoming(db.session)
        # The vote to come at the next assembly (its Jakarta letter waits for verification).
        add_draft_resolution(db.session, upcoming)
        accounts = create_demo_accounts(db.session, password)
        token = issue_token(db.session, DEMO_ACCOUNTS[0][0], "demo")
        db.session.commit()
        base_url = settings.base_url
        lines = [
            f"\nLoaded the demo: {upcoming.title['en']} ({upcoming.slug}), registration "
            f"open until {upcoming.registration_deadline:%Y-%m-%d %H:%M} UTC; and "
            f"{closed.title['en']} ({closed.slug}), held and reported on.",
            f"Log in at {base_url}/login with password {password} as:",
            *(f"  {email:<34} {description}" for email, description in accounts),
            f"\nAn API token for the secretariat: {token}",
            f"  curl -H 'Authorization: Bearer {token}' "
            f"{base_url}/api/v1/assemblies/{upcoming.slug}/attendance",
        ]
    marker = settings.instance_path / DEMO_DATABASE_FILE
    if "database" in base.embedded:
        marker.write_text(settings.database_url)
    try:
        _serve(settings, host, port, tuple(lines))
    finally:
        marker.unlink(missing_ok=True)


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


@main.command()
@click.option("--network-code", prompt="Network code (e.g. ANMC21)")
@click.option("--name-en", prompt="Network name in English")
@click.option("--name-ja", default="", help="The network's name in Japanese (optional).")
@click.option("--home-timezone", prompt="The secretariat's IANA time zone (e.g. Asia/Tokyo)")
@click.option("--secretariat-email", prompt="Sender address (the secretariat's email)")
@click.option("--sender-name", default="", help="Display name of the sender of mail.")
@click.option("--admin-email", default=None,
              help="The first secretariat account (default: the secretariat email).")
@click.option("--password", prompt="Password of the first secretariat account",
              hide_input=True, confirmation_prompt=True)
def init(network_code: str, name_en: str, name_ja: str, home_timezone: str,
         secretariat_email: str, sender_name: str, admin_email: str | None,
         password: str) -> None:
    """First run without a browser: create the network and the first secretariat account
    (refused when the database holds a network already)."""
    from models.errors import DomainError
    from services.network import set_up

    settings = _settings()
    _upgrade(settings)
    with _app_context(settings):
        from webapp.extensions import db as database

        try:
            network, user = set_up(
                database.session,
                network={"code": network_code, "name": {"en": name_en, "ja": name_ja},
                         "home_timezone": home_timezone,
                         "secretariat_email": secretariat_email, "sender_name": sender_name},
                email=admin_email or secretariat_email, password=password)
        except DomainError as exc:
            option = f" (--{exc.field.replace('_', '-')})" if exc.field else ""
            click.echo(f"sokai: {exc.message}{option}", err=True)
            raise SystemExit(2) from None
        database.session.commit()
        click.echo(f"created the network {network.code} and the secretariat account "
                   f"{user.email}; start it with `sokai run`")


@main.command("setup-link")
def setup_link() -> None:
    """Print the one-time setup link of this instance (while it has no network)."""
    settings = _settings()
    _upgrade(settings)
    with _app_context(settings):
        from services.network import has_network, setup_url
        from webapp.extensions import db as database

        if has_network(database.session):
            click.echo("sokai: this instance is set up already; the setup link is dead",
                       err=True)
            raise SystemExit(1)
        click.echo(setup_url(settings))


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["secretariat", "liaison", "delegate", "staff"]),
              required=True)
@click.option("--city", "city_code", help="Member city code, for a liaison.")
@click.option("--assembly", "assemblies", multiple=True,
              help="Assembly slug a door-staff account checks in for (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
def users_create(email: str, role: str, city_code: str | None, assemblies: tuple[str, ...],
                 password: str, display_name: str) -> None:
    """Create a user who can log in."""
    from models.errors import DomainError
    from services.accounts import create_user
    from services.checkin.staff import assign_staff

    settings = _data_settings()
    with _app_context(settings):
        from webapp.extensions import db as database

        try:
            user = create_user(database.session, email, role, password, city_code, display_name)
            for slug in assemblies:
                assign_staff(database.session, user, slug)
        except DomainError as exc:
            option = {"city": " (--city CODE)", "password": " (--password)",
                      "assembly": " (--assembly SLUG)"}.get(
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

    settings = _data_settings()
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
