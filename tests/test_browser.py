"""In a real browser: the secretariat logs in, reads the dashboard, switches to Japanese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from models import Role, User
from services.demo import load_tomsk_2014
from tests.conftest import PASSWORD
from webapp.extensions import db

pytestmark = pytest.mark.browser


def test_secretariat_logs_in_and_switches_language(app: Flask, page: Any,
                                                   make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    make_user("sec@example.org", Role.SECRETARIAT)
    page.goto("/login")
    page.get_by_label("Email").fill("sec@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/secretariat/")
    counts = page.get_by_test_id("counts-anmc21-tomsk-2014")
    assert counts.locator('[data-count="participants"]').inner_text() == "107"
    assert counts.locator('[data-count="attending"]').inner_text() == "6"
    page.get_by_test_id("language-menu").click()  # the languages are in a menu
    page.get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")  # waits for the new page
    assert page.get_by_role("heading", name="ダッシュボード").is_visible()
