"""In a real browser: the secretariat puts the demo's draft resolution to the assembly on a
tablet, records the votes city by city (Jakarta's through Tokyo, its letter's holder) and
closes the vote; anyone reads the Tomsk Declaration in English and Japanese on a phone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from models import Decision, DecisionKind, Role, User
from services.demo import load_tomsk_2014
from tests.conftest import PASSWORD
from tests.decision_helpers import UPCOMING_SLUG, load_upcoming_assembly
from webapp.extensions import db

pytestmark = pytest.mark.browser

SIGNED_CITIES = ["Hanoi", "Seoul", "Tokyo", "Ulaanbaatar", "Tomsk"]


def _demo(app: Flask) -> dict[str, int]:
    with app.app_context():
        tomsk = load_tomsk_2014(db.session)
        upcoming = load_upcoming_assembly(db.session, tomsk, date.today())
        db.session.commit()
        ids = {}
        for assembly in (tomsk, upcoming):
            ids[assembly.slug] = db.session.scalar(
                select(Decision.id).where(Decision.assembly_id == assembly.id))
        declaration = db.session.get(Decision, ids[tomsk.slug])
        assert declaration.kind is DecisionKind.DECLARATION
        return ids


def _fits(page: Any) -> bool:
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    if not fits:  # name what sticks out, for the failure message
        print(page.evaluate("""[...document.querySelectorAll('body *')].filter(
            e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(
            e => e.tagName + '.' + e.className + ' '
                 + Math.round(e.getBoundingClientRect().right))"""))
    return bool(fits)


def test_a_vote_with_a_proxy_at_the_podium(app: Flask, browser: Any, live_server: str,
                                           make_user: Callable[..., User]) -> None:
    ids = _demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  viewport={"width": 820, "height": 1180}, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill("sec@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/secretariat/")
        page.goto(f"/secretariat/assemblies/{UPCOMING_SLUG}/decisions")
        page.get_by_role("link", name="Resolution on the review of the network").click()
        page.get_by_role("button", name="Put to the assembly").click()
        expect(page.get_by_test_id("status")).to_have_attribute("data-status", "open")
        snapshot = page.get_by_test_id("snapshot").inner_text()
        assert "Present 6" in snapshot and "Jakarta by Tokyo" in snapshot
        assert "7 of 13" in snapshot and "quorum reached" in snapshot
        jakarta = page.locator('tr[data-city="JKT"]')
        assert jakarta.get_by_test_id("holder").inner_text() == "proxy held by Tokyo"
        assert "Vote yes on the review" in jakarta.get_by_test_id("instructions").inner_text()
        assert "cannot vote" in page.locator('tr[data-city="DEL"]').inner_text()
        assert page.locator('tr[data-city="DEL"] button').count() == 0
        for code, choice in (("TYO", "no"), ("SEL", "yes"), ("HAN", "yes"), ("TOF", "yes"),
                             ("JKT", "yes"), ("ULN", "no"), ("BKK", "abstain"),
                             ("TYO", "yes")):  # Tokyo changes its mind: the vote is replaced
            page.locator(f'tr[data-city="{code}"] button[data-choice="{choice}"]').click()
            page.wait_for_selector(f'tr[data-city="{code}"][data-vote="{choice}"]')
        assert page.get_by_test_id("tally").inner_text() == "yes 5 · no 1 · abstain 1"
        assert _fits(page)
        page.get_by_role("button", name="Close the vote").click()
        page.wait_for_selector('[data-testid="status"][data-status="adopted"]')
        assert "Yes 5 · no 1 · abstentions 1 — Adopted" in page.content()
        # Adopted: public, in the reader's language.
        page.get_by_role("link", name="Public page").click()
        expect(page.get_by_role("heading", name="Resolution on the review of the network")
               ).to_be_visible()
        assert ids[UPCOMING_SLUG] is not None
    finally:
        context.close()


@pytest.mark.parametrize(("lang", "title", "result", "cities"), [
    ("en", "Tomsk Declaration of the Asian Network of Major Cities 21", "Adopted by consensus",
     SIGNED_CITIES),
    ("ja", "アジア大都市ネットワーク21 トムスク宣言", "全会一致で採択",
     ["ハノイ", "ソウル", "東京", "ウランバートル", "トムスク"]),
])
def test_the_public_declaration_page_on_a_phone(app: Flask, browser: Any, live_server: str,
                                                lang: str, title: str, result: str,
                                                cities: list[str]) -> None:
    ids = _demo(app)
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"/a/anmc21-tomsk-2014/decisions/{ids['anmc21-tomsk-2014']}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.get_by_role("heading", name=title, exact=True).is_visible()
        assert page.get_by_test_id("result").inner_text() == result
        signed = page.get_by_test_id("signatories").locator("li")
        assert [signed.nth(i).get_attribute("data-city") for i in range(signed.count())] == cities
        texts = page.locator(".decision-text")
        assert [texts.nth(i).get_attribute("data-lang") for i in range(texts.count())] == [
            lang, "ja" if lang == "en" else "en"]
        attendance = page.get_by_test_id("attendance").inner_text()
        assert ("7 of 13" in attendance) if lang == "en" else ("13都市中 7都市" in attendance)
        assert "2014" in page.locator(".decision-record p").first.inner_text()
        assert _fits(page)
        # A draft is not public.
        missing = page.goto(f"/a/{UPCOMING_SLUG}/decisions/{ids[UPCOMING_SLUG]}")
        assert missing is not None and missing.status == 404
    finally:
        context.close()
