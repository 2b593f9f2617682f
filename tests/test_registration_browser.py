"""In a real browser: Jakarta's liaison registers its representative, then declares the city
absent and uploads a proxy letter; the secretariat verifies it and the attendance page shows
Jakarta represented and the quorum reached (7 of 13)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from models import AssemblyStatus, Role, User
from services.demo import load_tomsk_2014
from tests.conftest import log_in_page
from tests.registration_helpers import PDF
from webapp.extensions import db

pytestmark = pytest.mark.browser
SLUG = "anmc21-tomsk-2014"



def test_a_letter_from_upload_to_quorum(app: Flask, page: Any,
                                        make_user: Callable[..., User]) -> None:
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = assembly.proxy_deadline = datetime(2099, 1, 1,
                                                                            tzinfo=UTC)
        db.session.commit()
    make_user("b.jkt@example.org", Role.LIAISON, city="JKT")
    make_user("b.sec@example.org", Role.SECRETARIAT)

    log_in_page(page, "b.jkt@example.org")
    page.get_by_role("link", name="My city").click()
    page.get_by_role("link", name="13th General Assembly").click()
    page.get_by_label("Yes, our city attends").check()
    page.get_by_role("button", name="Save attendance").click()
    assert page.get_by_test_id("delegation-status").inner_text() == "attending"

    page.get_by_label("Family name").fill("WIDODO")
    page.get_by_label("Given name").fill("Joko")
    page.get_by_label("Name in local script").fill("ジョコ・ウィドド")
    page.get_by_label("Title (English)").fill("Governor of Jakarta")
    page.get_by_label("Title (日本語)").fill("ジャカルタ首都特別州知事")
    page.get_by_label("Role").select_option("representative")
    page.get_by_role("button", name="Register this person").click()
    assert page.get_by_test_id("delegate-row").count() == 1
    assert "ジョコ・ウィドド" in page.get_by_test_id("delegate-row").inner_text()

    page.get_by_label("No, our city is absent").check()
    page.get_by_role("button", name="Save attendance").click()
    assert page.get_by_test_id("delegation-status").inner_text() == "absent"
    page.get_by_label("City that holds your city's voice").select_option("TYO")
    page.get_by_label("Signed by (name)").fill("Joko Widodo")
    page.get_by_label("Signatory's title").fill("Governor")
    page.get_by_label("Signed letter (PDF, at most 10 MB)").set_input_files(
        {"name": "surat-kuasa.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="Submit the letter").click()
    assert "waiting for verification" in page.get_by_test_id("my-letter").first.inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in_page(page, "b.sec@example.org")
    page.goto(f"/secretariat/assemblies/{SLUG}/proxies")
    letter = page.locator('[data-grantor="JKT"]')
    letter.get_by_role("button", name="Verify").click()
    assert page.locator('[data-grantor="JKT"] [data-letter-status="verified"]').is_visible()
    page.get_by_role("link", name="Attendance").first.click()
    page.wait_for_url(f"**/secretariat/assemblies/{SLUG}/attendance")
    assert page.locator('tr[data-city="JKT"]').get_attribute("data-presence") == "represented"
    quorum = page.get_by_test_id("quorum")
    assert quorum.get_attribute("data-reached") == "yes"
    assert "7 of 13" in quorum.inner_text() and "the quorum is reached" in quorum.inner_text()
    assert page.locator('tfoot [data-count="participants"]').inner_text() == "107"
