"""The `sokai` command end to end: run and demo start web, worker and beat, and stop cleanly."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from tests.conftest import CSRF_RE, service_env
from webapp.cli import main


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def wait_until(predicate, timeout: float, what: str, proc: subprocess.Popen) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"sokai exited early while waiting for {what}"
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "webapp.cli", *args], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop_with_ctrl_c(proc: subprocess.Popen, log: Path) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "sokai: stopped." in output
    assert "did not stop in time" not in output
    return output


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_run_serves_health_and_a_worker_round_trip(app: Flask, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, **service_env(tmp_path / "instance")}
    log = tmp_path / "run.log"
    proc = start(["run", "--port", str(port)], env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        status, health = wait_until(lambda: get_json(f"{base}/healthz"), 90, "/healthz", proc)
        assert status == 200 and health["database"] == "ok" and health["broker"] == "ok"
        # The check sent at start-up went through the broker to the worker and back.
        trip = wait_until(lambda: get_json(f"{base}/healthz")[1]["worker"]["last_round_trip"],
                          90, "the worker round trip", proc)
        assert trip["answered_by"].startswith("celery@")
        # An empty database: the one-time setup link, printed last; the base URL given
        # (http://sokai.test) does not answer, and start-up says so.
        wait_until(lambda: "/setup/" in log.read_text(), 90, "the setup link", proc)
        output = log.read_text()
        link = re.search(r"http://sokai\.test(/setup/\w+)", output).group(1)
        assert get_json(f"{base}/healthz")[0] == 200
        assert urllib.request.urlopen(base + link, timeout=10).status == 200
        assert "SOKAI_BASE_URL http://sokai.test does not answer /healthz" in output
    finally:
        if proc.poll() is None:
            stop_with_ctrl_c(proc, log)
    assert port_is_free(port)


def test_demo_prints_an_account_that_sees_the_tomsk_numbers(tmp_path: Path) -> None:
    port = free_port()
    # The newcomer's path: no services configured at all.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SMTP_URL",
                        "SECRET_KEY")}
    env["SOKAI_INSTANCE_PATH"] = str(tmp_path / "instance")
    log = tmp_path / "demo.log"
    proc = start(["demo", "--port", str(port)], env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: get_json(f"{base}/healthz")[0] == 200, 90, "/healthz", proc)
        # The accounts are printed last, once web and worker are up (after their banners).
        wait_until(lambda: "with password" in log.read_text(), 120, "the accounts", proc)
        output = log.read_text()
        password = re.search(r"with password (\S+) as:", output).group(1)
        email = re.search(r"(secretariat@\S+)", output).group(1)

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(f"{base}/login").read().decode()
        token = next(g for g in CSRF_RE.search(page).groups() if g)
        form = urllib.parse.urlencode({"email": email, "password": password,
                                       "csrf_token": token}).encode()
        dashboard = browser.open(f"{base}/login", data=form).read().decode()
        for name, value in (("members", 13), ("attending", 6), ("participants", 107)):
            assert f'data-count="{name}">{value}<' in dashboard
        wait_until(lambda: get_json(f"{base}/healthz")[1]["worker"]["last_round_trip"],
                   90, "the worker round trip", proc)
    finally:
        if proc.poll() is None:
            stop_with_ctrl_c(proc, log)
    assert port_is_free(port)


@pytest.fixture
def cli_env(app: Flask, settings: Any) -> dict[str, str]:
    env = {"SOKAI_INSTANCE_PATH": str(settings.instance_path), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


def test_users_and_tokens(cli_env: dict[str, str], app: Flask) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["users", "create", "Sec@Example.org", "--role", "secretariat",
                                  "--password", "a long password"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "created secretariat sec@example.org" in result.output
    again = runner.invoke(main, ["users", "create", "sec@example.org", "--role", "secretariat",
                                 "--password", "a long password"], env=cli_env)
    assert again.exit_code == 2 and "already exists" in again.output
    no_city = runner.invoke(main, ["users", "create", "l@example.org", "--role", "liaison",
                                   "--password", "a long password"], env=cli_env)
    assert no_city.exit_code == 2 and "--city" in no_city.output

    token = runner.invoke(main, ["tokens", "create", "sec@example.org"], env=cli_env)
    assert token.exit_code == 0
    secret = token.output.strip()
    response = app.test_client().get("/api/v1/cities",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    unknown = runner.invoke(main, ["tokens", "create", "nobody@example.org"], env=cli_env)
    assert unknown.exit_code == 2 and "no user" in unknown.output


def _children_of(pid: int) -> dict[int, str]:
    """Direct children of `pid` and their command lines, from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # The ppid is the second field after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _worker_pid(run: subprocess.Popen) -> int | None:
    return next((pid for pid, cmd in _children_of(run.pid).items()
                 if "celery" in cmd and " worker" in cmd), None)


def test_run_restarts_a_worker_that_dies(app: Flask, tmp_path: Path) -> None:
    """SIGKILL the worker child of `sokai run`: it is started again, answers a round trip,
    and a summary requested through the API afterwards is built."""
    from sqlalchemy import select

    from config import load_settings
    from models import Role, WorkerCheck
    from services.accounts import create_user, issue_token
    from services.demo import load_tomsk_2014
    from services.housekeeping import request_worker_check
    from webapp import create_app
    from webapp.extensions import db

    port = free_port()
    env = {**os.environ, **service_env(tmp_path / "instance")}
    env.pop("CELERY_BROKER_URL", None)  # its own broker: the suite's worker must not help
    log = tmp_path / "run.log"
    proc = start(["run", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    here = create_app(load_settings(env))  # the same database and broker, to set things up
    try:
        wait_until(lambda: get_json(f"{base}/healthz")[1]["worker"]["last_round_trip"],
                   90, "the first worker round trip", proc)
        first = wait_until(lambda: _worker_pid(proc), 30, "the worker child", proc)
        os.kill(first, signal.SIGKILL)
        second = wait_until(lambda: (pid := _worker_pid(proc)) not in (None, first) and pid,
                            30, "the worker to be restarted", proc)
        assert second != first
        assert "worker exited with status" in log.read_text()

        with here.app_context():
            check_id = request_worker_check(db.session).id
            db.session.commit()
            assembly = load_tomsk_2014(db.session)
            create_user(db.session, "run.sec@example.org", Role.SECRETARIAT)
            token = issue_token(db.session, "run.sec@example.org")
            db.session.commit()
            slug = assembly.slug

        def answered() -> bool:
            with here.app_context():
                check = db.session.scalar(select(WorkerCheck).where(WorkerCheck.id == check_id))
                db.session.commit()
                return check is not None and check.answered_at is not None

        wait_until(answered, 60, "a round trip through the restarted worker", proc)
        status, health = get_json(f"{base}/healthz")
        assert status == 200 and health["broker"] == "ok"

        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{base}/api/v1/assemblies/{slug}/summaries",
                                         data=b'{"language": "en"}', headers=auth)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            job = json.load(response)

        def finished() -> dict[str, Any] | None:
            poll = urllib.request.Request(f"{base}/api/v1/summaries/{job['id']}", headers=auth)
            with urllib.request.urlopen(poll, timeout=10) as response:
                body = json.load(response)
            assert body["status"] != "failed", body
            return body if body["status"] == "done" else None

        done = wait_until(finished, 120, "the summary job", proc)
        assert set(done["downloads"]) == {"csv", "xlsx", "pdf"}
    finally:
        with here.app_context():
            db.engine.dispose()
        app.extensions["celery"].set_default()
        if proc.poll() is None:
            stop_with_ctrl_c(proc, log)
    assert port_is_free(port)
