"""Security headers on every response (Flask-Talisman): a Content-Security-Policy without
inline script, no framing, nosniff, a referrer policy, and HSTS only behind an https base URL.
A real browser loads the pages that run script under that policy and sees no violation."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from models import Role, User
from services.demo import load_tomsk_2014
from tests.feed_helpers import first_delegates, give_token
from webapp import create_app
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def _policy(header: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in header.split(";")) if part}


def test_every_kind_of_response_carries_the_headers(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    for path in ("/", "/login", f"/a/{SLUG}/programme", "/api/v1/docs", "/api/v1/openapi.json",
                 f"/calendar/{SLUG}.ics", "/healthz", "/no-such-page", "/api/v1/cities"):
        response = client.get(path)
        headers = response.headers
        policy = _policy(headers.get("Content-Security-Policy", ""))
        assert policy.get("frame-ancestors") == "'none'", (path, headers)
        assert policy.get("script-src") == "'self'", (path, policy)
        assert "unsafe" not in headers["Content-Security-Policy"], path
        assert policy.get("object-src") == "'none'" and policy.get("default-src") == "'self'"
        assert headers.get("X-Frame-Options") == "DENY", path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", path
        assert "Strict-Transport-Security" not in headers, path  # the base URL is http
    # The API docs page loads Swagger UI from this server, never from a CDN.
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs)
    sources = [s for s in sources if s != "data:,"]  # the empty icon
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "<script>" not in docs and " style=" not in docs
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_hsts_only_behind_an_https_base_url(app: Flask, settings: Settings) -> None:
    secure = create_app(dataclasses.replace(settings, base_url="https://sokai.example.org"),
                        TESTING=True)
    try:
        response = secure.test_client().get("/login", base_url="https://sokai.example.org")
        hsts = response.headers["Strict-Transport-Security"]
        assert int(hsts.split(";")[0].removeprefix("max-age=")) >= 365 * 24 * 3600
        assert "Secure" in response.headers.get("Set-Cookie", "Secure")
    finally:
        with secure.app_context():
            db.engine.dispose()
        app.extensions["celery"].set_default()
    plain = app.test_client().get("/login", base_url="https://sokai.test")
    assert "Strict-Transport-Security" not in plain.headers


# --- in a browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_pages_run_their_script_under_the_policy(
        app: Flask, page: Any, celery_worker: Any, make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    make_user("sec@example.org", Role.SECRETARIAT)
    secret = give_token(app, first_delegates(app, 1)[0])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if "Content Security Policy" in m.text or m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)

    # The API docs: Swagger UI from the vendored files renders the operations.
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
    assert "Sokai API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock", timeout=30000)

    # The delegate's programme: the copy button copies the link and says so.
    page.goto(f"/calendar/p/{secret}")
    page.click("#copy-webcal")
    page.wait_for_selector("#copy-done:not([hidden])", timeout=5000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("webcal://") and secret in copied

    # The public programme's print button is wired by the script file, not an attribute.
    page.goto(f"/a/{SLUG}/programme")
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("[data-action=print]")
    assert page.evaluate("window.__printed") is True

    # The summaries page follows a job's progress to its download links.
    app.config["SUMMARY_STAGE_DELAY"] = 0.5
    try:
        page.goto("/login")
        page.fill("input[name=email]", "sec@example.org")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.goto(f"/secretariat/assemblies/{SLUG}/summaries")
        page.click("[data-testid=generate]")
        page.evaluate("window.__sameDocument = true")
        page.wait_for_selector(".job-stage:has-text('%')", timeout=30000)
        page.wait_for_selector("a[data-format=pdf]", timeout=60000)
        assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
        width = page.evaluate("document.querySelector('.progress-bar').style.width")
        assert width.endswith("%")
    finally:
        app.config.pop("SUMMARY_STAGE_DELAY", None)
    assert not problems, "\n".join(problems)
