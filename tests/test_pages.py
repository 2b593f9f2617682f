"""Pages that work on a phone and tell each person what to do next (issue 12), in a real
browser at 1280 and 390 px: layout, the dashboard's "Needs attention", confirmations with undo,
read-only states, and axe-core (vendored from the npm package, run inside the page) on the key
pages of each role in both languages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    Role,
    User,
)
from services.demo import load_tomsk_2014
from tests.conftest import log_in_page
from tests.registration_helpers import PDF
from webapp.extensions import db

pytestmark = pytest.mark.browser
SLUG = "anmc21-tomsk-2014"
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
UNDECIDED = ("DEL", "KUL", "SIN")


def open_tomsk(app: Flask, undecided: tuple[str, ...] = UNDECIDED) -> None:
    """The Tomsk assembly, open with deadlines ahead, three cities that have not answered."""
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = datetime.now(UTC) + timedelta(days=5)
        assembly.proxy_deadline = datetime.now(UTC) + timedelta(days=8)
        for delegation in db.session.scalars(select(Delegation).join(MemberCity).where(
                MemberCity.code.in_(undecided))):
            delegation.status = DelegationStatus.UNDECIDED
        db.session.commit()



@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


def _outside(page: Any, selector: str) -> list[str]:
    """Elements matching `selector` that are not wholly inside the viewport's width."""
    return page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector))
        .filter(e => { const r = e.getBoundingClientRect();
                       return r.left < 0 || r.right > window.innerWidth + 0.5; })
        .map(e => e.textContent.trim().slice(0, 60))""", selector)


def _no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_on_a_phone_every_title_and_every_action_is_in_view(
        app: Flask, phone: Any, make_user: Callable[..., User]) -> None:
    open_tomsk(app)
    make_user("p.sec@example.org", Role.SECRETARIAT)
    make_user("p.tyo@example.org", Role.LIAISON, city="TYO")

    phone.goto(f"/a/{SLUG}/programme")
    titles = phone.locator(".programme-table .item-title")
    assert titles.count() == 15
    assert _outside(phone, ".programme-table .item-title") == []
    # Both times of every item are shown, each under its zone.
    assert _outside(phone, ".programme-table td.programme-time") == []
    first = phone.locator(".programme-table tbody tr").first
    assert first.locator('td[data-zone="Asia/Tomsk"]').inner_text().endswith("16:00–17:00")
    assert "(18:00–19:00)" in first.locator('td[data-zone="Asia/Tokyo"]').inner_text()
    assert "Asia/Tokyo" in first.locator('td[data-zone="Asia/Tokyo"]').get_attribute(
        "data-label")
    _no_horizontal_scroll(phone)

    log_in_page(phone, "p.tyo@example.org")
    phone.goto(f"/my/{SLUG}")
    rows = phone.get_by_test_id("delegate-row")
    assert rows.count() == 31
    assert _outside(phone, '[data-testid="delegate-row"] .btn') == []
    assert _outside(phone, '[data-testid="delegate-row"] td') == []
    _no_horizontal_scroll(phone)
    phone.context.clear_cookies()  # log out (the button sits in the folded menu)

    log_in_page(phone, "p.sec@example.org")
    phone.goto(f"/secretariat/assemblies/{SLUG}/attendance")
    assert phone.locator("tbody tr").count() == 13
    assert _outside(phone, "tbody tr a, tbody tr td, [data-testid=quorum]") == []
    assert _outside(phone, "form .btn") == []
    _no_horizontal_scroll(phone)
    phone.goto(f"/secretariat/assemblies/{SLUG}/programme")
    assert _outside(phone, "tbody .btn, tbody .item-title") == []
    _no_horizontal_scroll(phone)


def test_a_submitted_letter_shows_on_the_dashboard_with_a_link_to_it(
        app: Flask, page: Any, make_user: Callable[..., User]) -> None:
    from sqlalchemy import delete

    from models import ProxyLetter, ProxyLetterEvent

    open_tomsk(app)
    with app.app_context():  # Jakarta starts without a letter
        db.session.execute(delete(ProxyLetterEvent))
        db.session.execute(delete(ProxyLetter))
        db.session.commit()
    make_user("d.jkt@example.org", Role.LIAISON, city="JKT")
    make_user("d.sec@example.org", Role.SECRETARIAT)

    log_in_page(page, "d.sec@example.org")
    attention = page.get_by_test_id(f"attention-{SLUG}")
    assert attention.locator('[data-attention="letters"]').count() == 0
    undecided = attention.locator('[data-attention="undecided"]')
    assert "3 cities have not answered yet" in undecided.inner_text()
    assert "registration closes in 5 days" in undecided.inner_text()
    assert "Delhi, Kuala Lumpur, Singapore" in undecided.inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in_page(page, "d.jkt@example.org")
    page.goto(f"/my/{SLUG}")
    page.get_by_label("City that holds your city's voice").select_option("TYO")
    page.get_by_label("Signed by (name)").fill("Joko Widodo")
    page.get_by_label("Signatory's title").fill("Governor of Jakarta")
    page.get_by_label("Signed letter (PDF, at most 10 MB)").set_input_files(
        {"name": "surat-kuasa.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="Submit the letter").click()
    letter = page.get_by_test_id("my-letter").first.inner_text()
    assert "waiting for verification" in letter and "Joko Widodo, Governor of Jakarta" in letter
    page.get_by_role("button", name="Log out").click()

    log_in_page(page, "d.sec@example.org")
    link = page.get_by_test_id(f"attention-{SLUG}").get_by_role("link",
                                                                  name="1 letter to verify")
    assert link.is_visible()
    assert "1 letter to verify" in page.get_by_test_id("nav-dashboard").inner_text()
    assert page.get_by_role("link", name="Proxy letters 1").is_visible()
    link.click()
    page.wait_for_url(f"**/secretariat/assemblies/{SLUG}/proxies#letter-*")
    target = page.url.rsplit("#", 1)[1]
    assert page.locator(f"#{target}").get_attribute("data-grantor") == "JKT"
    assert page.locator(f"#{target}").get_by_role("button", name="Verify").is_visible()


def test_destructive_actions_ask_first_and_a_cancelled_delegate_can_be_restored(
        app: Flask, page: Any, make_user: Callable[..., User]) -> None:
    open_tomsk(app)
    make_user("c.tyo@example.org", Role.LIAISON, city="TYO")
    make_user("c.sec@example.org", Role.SECRETARIAT)

    def status_of(family: str) -> DelegateStatus:
        with app.app_context():
            return db.session.scalar(select(Delegate.status).where(
                Delegate.family_name == family))

    log_in_page(page, "c.tyo@example.org")
    page.goto(f"/my/{SLUG}")
    row = page.get_by_test_id("delegate-row").filter(has_text="TAKAHASHI")
    row.get_by_role("button", name="Cancel").click()
    dialog = page.locator("dialog#confirm-dialog")
    assert dialog.is_visible()
    assert "TAKAHASHI Kenji" in dialog.inner_text()
    assert "no longer count as a participant" in dialog.inner_text()
    dialog.get_by_role("button", name="Go back").click()
    assert not dialog.is_visible()
    assert status_of("TAKAHASHI") is DelegateStatus.CONFIRMED

    row.get_by_role("button", name="Cancel").click()
    dialog.get_by_role("button", name="Cancel the registration").click()
    # expect() waits for the answer to the form (wait_for_load_state could return first).
    expect(page.get_by_test_id("delegate-row").filter(has_text="TAKAHASHI")).to_have_count(0)
    assert status_of("TAKAHASHI") is DelegateStatus.CANCELLED
    page.get_by_test_id("cancelled-people").locator("summary").click()
    page.get_by_role("button", name="Undo: register again TAKAHASHI Kenji").click()
    expect(page.get_by_test_id("delegate-row").filter(has_text="TAKAHASHI")).to_have_count(1)
    assert status_of("TAKAHASHI") is DelegateStatus.REGISTERED
    page.get_by_role("button", name="Log out").click()

    # Cancelling a programme item names what subscribers will see; Restore is its undo.
    log_in_page(page, "c.sec@example.org")
    page.goto(f"/secretariat/assemblies/{SLUG}/programme")
    page.get_by_role("button", name="Cancel Lunch").first.click()
    assert "Every calendar subscribed to the programme" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel the item").click()
    expect(page.locator(".alert").first).to_contain_text("To undo, use “Restore”")
    page.get_by_role("button", name="Restore Lunch").first.click()
    expect(page.locator("tr.item-cancelled")).to_have_count(0)

    # Closing registration says what it does to the liaisons and to the undecided cities.
    page.goto(f"/secretariat/assemblies/{SLUG}/attendance")
    page.get_by_role("button", name="Close registration").click()
    assert "count as absent" in dialog.inner_text()
    with page.expect_navigation():  # the answer to the POST, not the page before it
        dialog.get_by_role("button", name="Close registration").click()
    assert page.get_by_test_id("quorum").locator('[data-count="undecided"]').count() == 0
    assert page.locator('tr[data-city="DEL"]').get_attribute("data-presence") == "absent"


def test_closed_registration_is_read_only_with_the_reason(
        app: Flask, page: Any, make_user: Callable[..., User]) -> None:
    open_tomsk(app)
    with app.app_context():
        for assembly in db.session.scalars(select(Assembly)):
            assembly.status = AssemblyStatus.CLOSED
        db.session.commit()
    make_user("r.tyo@example.org", Role.LIAISON, city="TYO")
    log_in_page(page, "r.tyo@example.org")
    page.goto(f"/my/{SLUG}")
    notice = page.get_by_test_id("read-only")
    assert "Registration for this assembly is not open." in notice.inner_text()
    assert page.get_by_role("button", name="Register this person").count() == 0
    assert page.get_by_role("button", name="Save attendance").count() == 0
    assert page.get_by_role("button", name="Import").count() == 0
    assert page.get_by_test_id("delegate-row").first.get_by_role("button").count() == 0
    # Tokyo carries Jakarta's vote and sees it, with its state.
    held = page.get_by_test_id("held-letter")
    assert held.count() == 1 and held.get_attribute("data-grantor") == "JKT"
    assert "verified" in held.inner_text()


KEY_PAGES: dict[str, tuple[str | None, list[str]]] = {
    "secretariat": ("a.sec@example.org", [
        "/secretariat/", f"/secretariat/assemblies/{SLUG}/attendance",
        f"/secretariat/assemblies/{SLUG}/proxies", f"/secretariat/assemblies/{SLUG}/programme"]),
    "liaison": ("a.tyo@example.org", [f"/my/{SLUG}"]),
    "public": (None, [f"/a/{SLUG}/programme", f"/a/{SLUG}"]),
}


def _axe_serious(page: Any) -> list[tuple[str, str, list[str]]]:
    page.evaluate(AXE)  # evaluated by the browser's DevTools protocol: no inline script
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))])""")
    return [tuple(v) for v in found]


@pytest.mark.parametrize("role", list(KEY_PAGES))
def test_axe_finds_nothing_serious_on_the_key_pages(
        app: Flask, browser: Any, live_server: str, make_user: Callable[..., User],
        role: str) -> None:
    open_tomsk(app)
    email, urls = KEY_PAGES[role]
    if role == "secretariat":
        make_user("a.sec@example.org", Role.SECRETARIAT)
    elif role == "liaison":
        make_user("a.tyo@example.org", Role.LIAISON, city="TYO")
    else:  # the delegate's own page, through their link
        from services.invitations import invite_delegate

        with app.app_context():
            sec = make_user("a.sec2@example.org", Role.SECRETARIAT)
            delegate = db.session.scalar(select(Delegate).where(Delegate.family_name == "MASUZOE"))
            _invitation, token = invite_delegate(db.session, delegate, db.session.merge(sec))
            db.session.commit()
        urls = [*urls, f"/d/{token}"]
    problems = []
    for width in (1280, 390):
        context = browser.new_context(base_url=live_server, locale="en-GB",
                                      viewport={"width": width, "height": 900})
        page = context.new_page()
        if email:
            log_in_page(page, email)
        for lang in ("en", "ja"):
            page.goto(f"/lang/{lang}?next=/")
            for url in urls:
                response = page.goto(url)
                assert response.status == 200, url
                assert page.locator("html").get_attribute("lang") == lang
                problems += [(width, lang, url, *v) for v in _axe_serious(page)]
        context.close()
    assert problems == []
