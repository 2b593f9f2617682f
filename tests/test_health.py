"""GET /healthz reports the database and the broker, and names what fails."""

from __future__ import annotations

import socket
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from webapp import create_app
from webapp.extensions import db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"
    assert "worker" in body


def test_unreachable_broker_gives_503_naming_it(app: Flask, settings: Settings) -> None:
    broken = replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    other = create_app(broken, TESTING=True)
    try:
        response = other.test_client().get("/healthz")
    finally:
        with other.app_context():
            db.engine.dispose()
        app.extensions["celery"].set_default()  # the suite's own broker again
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
    assert body["failing"] == ["broker"]


def test_unreachable_database_gives_503_naming_it(app: Flask, settings: Settings) -> None:
    broken = replace(settings,
                     database_url=f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    other = create_app(broken, TESTING=True)
    try:
        response = other.test_client().get("/healthz")
    finally:
        app.extensions["celery"].set_default()
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["database"]
