"""Fixtures: the app on a real database and a real Celery worker on a real broker.

Defaults need no server: SQLite in a temporary folder and kombu's filesystem transport.
Set SOKAI_TEST_DATABASE_URL (PostgreSQL) and SOKAI_TEST_BROKER_URL (Redis) to run the same
suite against real services; CI does both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_postrun
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
    IN_FLIGHT.app = app
    yield app
    with app.app_context():
        db.engine.dispose()


class InFlight:
    """Tasks published in this process and not yet finished by the in-thread worker.

    Between tests the worker must be idle: a job still running (or waiting for its ETA)
    when the next test starts would write into that test's tables. Every publish adds the
    task's id, every finished task (success or failure) removes it."""

    def __init__(self) -> None:
        import threading

        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.worker_running = False
        self.app: Flask | None = None

    def published(self, headers: dict[str, Any] | None = None, routing_key: str = "",
                  **_: Any) -> None:
        # Only what the in-thread worker consumes: tests with a worker process of their own
        # route to a private queue or publish through an app with another broker.
        import flask

        if flask.has_app_context() and flask.current_app._get_current_object() is not self.app:
            return
        if headers and headers.get("id") and routing_key in ("", "sokai"):
            with self.lock:
                self.ids[headers["id"]] = headers.get("task", "?")

    def finished(self, task_id: str | None = None, **_: Any) -> None:
        with self.lock:
            self.ids.pop(task_id or "", None)

    def pending(self) -> list[str]:
        with self.lock:
            return sorted(self.ids.values())

    def settle(self, app: Flask, timeout: float = 30.0) -> None:
        """Wait for the worker to finish what this test started; with no worker running,
        drop the messages nobody will consume."""
        if not self.worker_running:
            celery = app.extensions["celery"]
            with celery.connection_for_write() as conn:
                conn.default_channel.queue_purge(celery.conf.task_default_queue)
            with self.lock:
                self.ids.clear()
            return
        if not wait_for(lambda: not self.pending(), timeout=timeout, interval=0.05):
            raise AssertionError(f"the worker is still busy with {self.pending()} after the "
                                 "test: a job would leak into the next test")


IN_FLIGHT = InFlight()
before_task_publish.connect(IN_FLIGHT.published, weak=False)
task_postrun.connect(IN_FLIGHT.finished, weak=False)


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables. A worker thread shares the database, so there is
    no rollback trick: rows are really committed; after the test the worker is let finish
    what the test started, then every table is emptied."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    IN_FLIGHT.settle(app)
    # What this process remembers of feeds and tokens belongs to the rows about to go.
    from services.calendar.store import forget_lookups

    forget_lookups()
    with app.app_context():
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    # A command run in-process (CliRunner) builds another app, whose Celery app becomes the
    # default: the in-thread worker would then run tasks in that app's context (its settings,
    # not the ones a test patched). The test app's Celery app is the default again.
    app.extensions["celery"].set_default()


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
        IN_FLIGHT.worker_running = True
        yield worker
        IN_FLIGHT.worker_running = False


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


def log_in_page(page: Any, email: str, password: str = PASSWORD) -> None:
    """Log in through the browser and wait for the answer: the page has left /login (a
    wait_for_load_state() right after the click can return before the form's answer)."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(page.get_data(as_text=True))})


# --- a live server and a real browser ---------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The test app served over HTTP in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """One Playwright driver for the session (a second sync driver cannot start inside the
    first one's event loop): every browser of the tests is launched from it. Missing
    chromium skips the test on a developer machine and fails it in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Debian's chromium driven by Playwright (no browser download)."""
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"])
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


# --- helpers ----------------------------------------------------------------------------------


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy (work done by the real worker); returns its value."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def dropped_mail(settings: Settings) -> list[Any]:
    """Messages delivered into the mail drop (embedded mode), parsed, oldest first."""
    import email
    from email import policy

    files = sorted(settings.mail_drop.glob("*.eml"), key=lambda f: f.stat().st_mtime)
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


# --- a real SMTP server (aiosmtpd) ------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """An aiosmtpd server on a free port that keeps what it receives; `delay` slows each
    message down (to land a kill in the middle of a batch)."""

    def __init__(self, port: int | None = None, delay: float = 0.0) -> None:
        import threading

        self.port = port or free_port()
        self.delay = delay
        self.messages: list[Any] = []
        self._lock = threading.Lock()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.startswith("refused"):  # a mailbox that does not exist
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio
        import email
        from email import policy

        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content,
                                                          policy=policy.default))
        return "250 OK"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_sink(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """A running SMTP server, and the app (and its in-thread worker) delivering to it."""
    import dataclasses

    sink = SmtpSink().start()
    monkeypatch.setitem(app.config, "SOKAI_SETTINGS",
                        dataclasses.replace(app.config["SOKAI_SETTINGS"], smtp_url=sink.url))
    yield sink
    sink.stop()


# --- a private redis-server -------------------------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[object]:
    """A private redis-server without persistence that the test can restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing: CI needs it for the Redis restart tests")
        pytest.skip("redis-server is not installed: cannot restart Redis here")
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        import redis

        client = redis.Redis(port=port)
        assert wait_for(lambda: _ping(client), timeout=20), "redis-server did not start"

    def stop() -> None:
        proc = procs[-1]
        proc.terminate()
        proc.wait(10)

    class Server:
        url = f"redis://127.0.0.1:{port}/0"

    server = Server()
    server.start, server.stop = start, stop  # type: ignore[attr-defined]
    start()
    yield server
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _ping(client: object) -> bool:
    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except Exception:
        return False
