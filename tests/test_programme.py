"""The programme (issue 4): local-time entry, the editor, the page in several zones, the API,
and a delegate copying their calendar link in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import ItemKind, ItemStatus, ProgrammeItem, Role, User
from models.errors import DomainError
from services.programme import local_instant
from tests.conftest import csrf_token, login
from tests.feed_helpers import (
    first_delegates,
    give_token,
    item_by_title,
    load_tomsk,
    sydney_assembly,
)
from tests.test_api import token_for
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"
EDITOR = f"/secretariat/assemblies/{SLUG}/programme"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_local_times_refuse_dst_gaps_and_overlaps() -> None:
    assert local_instant(datetime(2014, 9, 4, 16), "Asia/Tomsk") == datetime(
        2014, 9, 4, 9, tzinfo=UTC)
    with pytest.raises(DomainError) as gap:
        local_instant(datetime(2026, 10, 4, 2, 30), "Australia/Sydney")
    assert gap.value.code == "nonexistent_time"
    with pytest.raises(DomainError) as overlap:
        local_instant(datetime(2027, 4, 4, 2, 30), "Australia/Sydney")
    assert overlap.value.code == "ambiguous_time"


def test_the_programme_page_shows_host_and_secretariat_time(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    load_tomsk(app)
    html = client.get(f"/a/{SLUG}/programme").get_data(as_text=True)
    text = text_of(html)
    assert "Asia/Tomsk ( UTC+07:00 )" in text and "Asia/Tokyo ( UTC+09:00 )" in text
    assert "16:00–17:00 (18:00–19:00) Meeting with the representatives" in text
    assert "webcal://sokai.test/calendar/anmc21-tomsk-2014.ics?lang=en" in html
    assert "Your time" not in text
    # A liaison from Bangkok also sees Bangkok time.
    make_user("bkk@example.org", Role.LIAISON, city="BKK")
    login(client, "bkk@example.org")
    text = text_of(client.get(f"/a/{SLUG}/programme").get_data(as_text=True))
    assert "Your time Asia/Bangkok ( UTC+07:00 )" in text
    ja = client.get(f"/a/{SLUG}/programme?lang=ja").get_data(as_text=True)
    assert "開会式" in ja


def test_the_page_over_a_dst_change_shows_both_offsets(app: Flask, client: FlaskClient) -> None:
    sydney_assembly(app)
    text = text_of(client.get("/a/sydney-2026/programme").get_data(as_text=True))
    saturday, sunday = text.split("Sunday 4 October 2026")
    assert "Australia/Sydney ( UTC+10:00 )" in saturday and "10:00–12:00 (09:00–11:00)" in saturday
    assert "Australia/Sydney ( UTC+11:00 )" in sunday and "10:00–12:00 (08:00–10:00)" in sunday


def test_cancelled_items_are_struck_through(app: Flask, client: FlaskClient) -> None:
    load_tomsk(app)
    lunch = item_by_title(app, "Reports on the joint projects")
    with app.app_context():
        db.session.get(ProgrammeItem, lunch.id).status = ItemStatus.CANCELLED
        db.session.commit()
    html = client.get(f"/a/{SLUG}/programme").get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)" data-item="{lunch.id}">', html)
    assert row and "item-cancelled" in row.group(1)


def test_the_editor_adds_moves_cancels_and_restores(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    load_tomsk(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    assert "Add an item" in client.get(EDITOR).get_data(as_text=True)
    form = client.get(f"{EDITOR}/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(form), "title_en": "Press briefing", "title_ja": "記者説明",
            "kind": "press_conference", "starts": "2014-09-05T15:00", "ends": "2014-09-05T14:00",
            "location_en": "Room 2", "latitude": "56.46", "longitude": ""}
    bad = client.post(f"{EDITOR}/new", data=data)
    assert bad.status_code == 422
    bad_text = text_of(bad.get_data(as_text=True))
    assert "The end must be after the start." in bad_text
    assert "Give both latitude and longitude, or neither." in bad_text
    data.update(ends="2014-09-05T16:00", longitude="84.95")
    saved = client.post(f"{EDITOR}/new", data=data)
    assert saved.status_code == 302
    with app.app_context():
        item = db.session.scalar(select(ProgrammeItem).where(
            ProgrammeItem.title["en"].as_string() == "Press briefing"))
        assert item.starts_at == datetime(2014, 9, 5, 8, tzinfo=UTC)  # 15:00 in Tomsk (UTC+7)
        assert item.kind is ItemKind.PRESS_CONFERENCE and item.sequence == 0
        item_id = item.id
    edit_page = client.get(f"{EDITOR}/{item_id}").get_data(as_text=True)
    assert "What subscribers will get" in edit_page
    assert "DTSTART;TZID=Asia/Tomsk:20140905T150000" in edit_page
    data.update(csrf_token=csrf_token(edit_page), starts="2014-09-05T15:30",
                ends="2014-09-05T16:30")
    assert client.post(f"{EDITOR}/{item_id}", data=data).status_code == 302
    token = {"csrf_token": csrf_token(edit_page)}
    assert client.post(f"{EDITOR}/{item_id}/cancel", data=token).status_code == 302
    with app.app_context():
        item = db.session.get(ProgrammeItem, item_id)
        assert item.starts_at == datetime(2014, 9, 5, 8, 30, tzinfo=UTC)
        assert item.status is ItemStatus.CANCELLED and item.sequence == 2
    assert client.post(f"{EDITOR}/{item_id}/restore", data=token).status_code == 302
    with app.app_context():
        item = db.session.get(ProgrammeItem, item_id)
        assert item.status is ItemStatus.SCHEDULED and item.sequence == 3


def test_the_editor_refuses_a_time_that_does_not_exist(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    sydney_assembly(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    url = "/secretariat/assemblies/sydney-2026/programme/new"
    form = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(form), "title_en": "Night walk",
                                      "kind": "other", "starts": "2026-10-04T02:30",
                                      "ends": "2026-10-04T04:00"})
    assert response.status_code == 422
    assert "does not exist in Australia/Sydney" in response.get_data(as_text=True)


def test_only_the_secretariat_edits(app: Flask, client: FlaskClient,
                                    make_user: Callable[..., User]) -> None:
    load_tomsk(app)
    make_user("tyo@example.org", Role.LIAISON, city="TYO")
    login(client, "tyo@example.org")
    assert client.get(EDITOR).status_code == 403
    assert client.get(f"{EDITOR}/feeds").status_code == 403


def test_the_secretariat_issues_and_revokes_delegate_links(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    load_tomsk(app)
    delegate_id = first_delegates(app, 1)[0]
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    page = client.get(f"{EDITOR}/feeds").get_data(as_text=True)
    token = {"csrf_token": csrf_token(page)}
    issued = client.post(f"{EDITOR}/feeds/{delegate_id}/issue", data=token)
    link = re.search(r'value="(http://sokai.test/calendar/p/[^"]+)"', issued.get_data(as_text=True))
    assert link
    secret = link.group(1).rsplit("/", 1)[-1]
    assert client.get(f"/calendar/p/{secret}.ics").status_code == 200
    assert client.post(f"{EDITOR}/feeds/{delegate_id}/revoke", data=token).status_code == 302
    assert client.get(f"/calendar/p/{secret}.ics").status_code == 404


def test_the_delegates_links_come_a_page_at_a_time_and_can_be_searched(
        app: Flask, client: FlaskClient, make_user: Callable[..., User],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of delegates (bench/pages.py): the list is cut in pages with links, and a
    name finds one person."""
    import webapp.programme as programme
    from models import Delegate

    load_tomsk(app)
    first, second = first_delegates(app, 2)
    monkeypatch.setattr(programme, "FEEDS_PAGE", 1)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    page = client.get(f"{EDITOR}/feeds").get_data(as_text=True)
    rows = re.findall(r'data-delegate="(\d+)"', page)
    assert len(rows) == 1 and 'class="pagination' in page and "page=2" in page
    later = client.get(f"{EDITOR}/feeds?page=2").get_data(as_text=True)
    assert re.findall(r'data-delegate="(\d+)"', later) not in ([], rows)
    # Past the end is the last page, not an empty one.
    assert re.findall(r'data-delegate="(\d+)"', client.get(
        f"{EDITOR}/feeds?page=99999").get_data(as_text=True))
    with app.app_context():
        family = db.session.get(Delegate, second).family_name
    found = client.get(f"{EDITOR}/feeds", query_string={"q": family.lower()})
    assert str(second) in re.findall(r'data-delegate="(\d+)"', found.get_data(as_text=True))
    nobody = client.get(f"{EDITOR}/feeds?q=zzzz-nobody").get_data(as_text=True)
    assert 'data-testid="nobody"' in nobody and "data-delegate=" not in nobody
    # Revoking from page 2 comes back to page 2.
    token = {"csrf_token": csrf_token(page)}
    client.post(f"{EDITOR}/feeds/{first}/issue", data=token)
    back = client.post(f"{EDITOR}/feeds/{first}/revoke?page=2", data=token)
    assert back.status_code == 302 and "page=2" in back.headers["Location"]


def test_the_programme_api(app: Flask, client: FlaskClient,
                           make_user: Callable[..., User]) -> None:
    load_tomsk(app)
    secretariat = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    liaison = token_for(app, make_user, "tyo@example.org", Role.LIAISON, city="TYO")
    url = f"/api/v1/assemblies/{SLUG}/programme"
    items = client.get(url, headers=liaison).get_json()
    first = items[0]
    assert first["starts_at"] == "2014-09-04T16:00:00+07:00"
    assert first["title"]["en"] == "Meeting with the representatives of the cities"
    assert {"id", "title", "starts_at", "ends_at", "location", "kind", "status"} <= set(first)

    body = {"title": {"en": "Briefing", "ja": "説明会"}, "starts_at": "2014-09-05T15:00",
            "ends_at": "2014-09-05T16:00", "kind": "meeting"}
    assert client.post(url, json=body, headers=liaison).status_code == 403
    created = client.post(url, json=body, headers=secretariat)
    assert created.status_code == 201
    item = created.get_json()
    assert item["starts_at"] == "2014-09-05T15:00:00+07:00"  # local time taken as Tomsk time
    moved = client.patch(f"{url}/{item['id']}", headers=secretariat,
                         json={"starts_at": "2014-09-05T10:00:00Z",
                               "ends_at": "2014-09-05T11:00:00Z"})
    assert moved.status_code == 200
    assert moved.get_json()["starts_at"] == "2014-09-05T17:00:00+07:00"
    assert moved.get_json()["sequence"] == 1
    cancelled = client.patch(f"{url}/{item['id']}", headers=secretariat,
                             json={"status": "cancelled"}).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 2

    wrong = client.post(url, headers=secretariat, json={**body, "ends_at": "2014-09-05T14:00"})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"] == {
        "ends_at": ["The end must be after the start."]}
    missing = client.post(url, headers=secretariat, json={"title": {"en": "x"}})
    assert missing.status_code == 422 and "starts_at" in missing.get_json()["error"]["fields"]
    assert client.patch(f"{url}/999999", headers=secretariat, json={}).status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/assemblies/{slug}/programme" in spec["paths"]


def test_the_api_refuses_a_nonexistent_local_time(app: Flask, client: FlaskClient,
                                                  make_user: Callable[..., User]) -> None:
    sydney_assembly(app)
    secretariat = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    response = client.post("/api/v1/assemblies/sydney-2026/programme", headers=secretariat,
                           json={"title": {"en": "x"}, "starts_at": "2026-10-04T02:30",
                                 "ends_at": "2026-10-04T04:00"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "nonexistent_time" and "starts_at" in error["fields"]


def test_a_delegate_copies_the_webcal_link(app: Flask, browser: Any, live_server: str) -> None:
    load_tomsk(app)
    secret = give_token(app, first_delegates(app, 1)[0])
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(f"/calendar/p/{secret}")
        table = page.locator(".programme-table").first
        assert "Asia/Tomsk" in table.inner_text() and "Asia/Tokyo" in table.inner_text()
        page.get_by_role("button", name="Copy").click()
        page.locator("#copy-done").wait_for(state="visible")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == f"webcal://sokai.test/calendar/p/{secret}.ics"
    finally:
        context.close()
