"""The secretariat's mail log and reminder pages, and the reminders API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from models import MailStatus, OutboxMessage, Reminder, ReminderStatus, Role, User
from services.reminders.defaults import create_default_reminders
from tests.conftest import csrf_token, login
from tests.test_api import token_for
from tests.test_reminders import open_assembly
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def _seed(app: Flask) -> None:
    with app.app_context():
        assembly = open_assembly(db.session)
        create_default_reminders(db.session, assembly)
        db.session.add_all([
            OutboxMessage(kind="reminder", to_address="kul@example.org", subject="総会のご案内",
                          text_body="本文", html_body="<p>本文</p>", status=MailStatus.SENT),
            OutboxMessage(kind="invitation", to_address="bounce@example.org",
                          subject="Invitation", text_body="Hello", status=MailStatus.FAILED,
                          attempts=8, last_error="SMTPRecipientsRefused: 550 no such mailbox"),
        ])
        db.session.commit()


def test_the_mail_log_searches_shows_and_resends(app: Flask, client: FlaskClient,
                                                 make_user: Callable[..., User]) -> None:
    _seed(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    dashboard = client.get("/secretariat/").get_data(as_text=True)
    assert "1 message could not be delivered" in dashboard
    assert f"/secretariat/assemblies/{SLUG}/reminders" in dashboard

    page = client.get("/secretariat/mail").get_data(as_text=True)
    assert "総会のご案内" in page and "bounce@example.org" in page
    page = client.get("/secretariat/mail?q=BOUNCE").get_data(as_text=True)
    assert "bounce@example.org" in page and "総会のご案内" not in page
    page = client.get("/secretariat/mail?status=sent").get_data(as_text=True)
    assert "総会のご案内" in page and "bounce@example.org" not in page
    assert "No message matches" in client.get("/secretariat/mail?q=%25_nobody").get_data(
        as_text=True)

    with app.app_context():
        failed = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.status == MailStatus.FAILED))
    view = client.get(f"/secretariat/mail/{failed.id}").get_data(as_text=True)
    assert "550 no such mailbox" in view and str(escape(failed.message_id)) in view
    response = client.post(f"/secretariat/mail/{failed.id}/resend",
                           data={"csrf_token": csrf_token(view)}, follow_redirects=True)
    assert "same Message-ID" in response.get_data(as_text=True)
    with app.app_context():
        again = db.session.get(OutboxMessage, failed.id)
        assert again.status in (MailStatus.PENDING, MailStatus.SENDING, MailStatus.SENT)
        assert again.message_id == failed.message_id
    assert client.get("/secretariat/mail/999999").status_code == 404


def test_liaisons_do_not_see_the_mail_pages(app: Flask, client: FlaskClient,
                                            make_user: Callable[..., User]) -> None:
    _seed(app)
    make_user("tyo@example.org", Role.LIAISON, city="TYO")
    login(client, "tyo@example.org")
    assert client.get("/secretariat/mail").status_code == 403
    assert client.get(f"/secretariat/assemblies/{SLUG}/reminders").status_code == 403


def test_reminder_pages_list_preview_save_and_pause(app: Flask, client: FlaskClient,
                                                    make_user: Callable[..., User]) -> None:
    _seed(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    listing = client.get(f"/secretariat/assemblies/{SLUG}/reminders").get_data(as_text=True)
    # Moments in words, subjects as recipients read them (no ISO durations, no template code).
    assert listing.count("data-reminder=") == 5 and "-PT72H" not in listing
    assert "3 days before the registration deadline" in listing
    assert "{{" not in listing
    assert "Asia/Tokyo" in listing and "Asia/Tomsk" in listing  # next send time, both zones

    form_page = client.get(f"/secretariat/assemblies/{SLUG}/reminders/new")
    data = {"csrf_token": csrf_token(form_page.get_data(as_text=True)),
            "anchor": "proxy_deadline", "offset": "-P1D", "item": "0",
            "audience": "absent_without_proxy",
            "subject_en": "Last day for {{ city }}", "subject_ja": "{{ city }}：本日締切",
            "body_en": "Dear {{ recipient_name }}, by {{ deadline }}.",
            "body_ja": "{{ recipient_name }} 様\n{{ deadline }}まで。"}
    preview = client.post(f"/secretariat/assemblies/{SLUG}/reminders/new",
                          data={**data, "preview": "1"}).get_data(as_text=True)
    assert "Last day for Jakarta" in preview and "ジャカルタ：本日締切" in preview
    assert "Asia/Jakarta" in preview

    bad = client.post(f"/secretariat/assemblies/{SLUG}/reminders/new",
                      data={**data, "offset": "one day", "save": "1"})
    assert bad.status_code == 422 and "ISO 8601 duration" in bad.get_data(as_text=True)
    saved = client.post(f"/secretariat/assemblies/{SLUG}/reminders/new",
                        data={**data, "save": "1"}, follow_redirects=True)
    assert "The reminder is saved" in saved.get_data(as_text=True)
    with app.app_context():
        reminder = db.session.scalar(select(Reminder).where(Reminder.offset == "-P1D"))
        reminder_id = reminder.id
    page = client.get(f"/secretariat/assemblies/{SLUG}/reminders").get_data(as_text=True)
    client.post(f"/secretariat/assemblies/{SLUG}/reminders/{reminder_id}/pause",
                data={"csrf_token": csrf_token(page), "paused": "1"})
    with app.app_context():
        assert db.session.get(Reminder, reminder_id).status is ReminderStatus.PAUSED


def test_the_reminders_api(app: Flask, client: FlaskClient,
                           make_user: Callable[..., User]) -> None:
    _seed(app)
    headers = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    url = f"/api/v1/assemblies/{SLUG}/reminders"
    listed = client.get(url, headers=headers)
    assert listed.status_code == 200 and len(listed.get_json()) == 5
    first = listed.get_json()[0]
    assert {"anchor", "offset", "audience", "subject", "body", "status", "due_at",
            "audience_size"} <= set(first)

    created = client.post(url, headers=headers, json={
        "anchor": "registration_deadline", "offset": "-PT6H", "audience": "undecided_liaisons",
        "subject": {"en": "Today", "ja": "本日"}, "body": {"en": "Hi", "ja": "こんにちは"}})
    assert created.status_code == 201, created.get_json()
    reminder = created.get_json()
    assert reminder["offset"] == "-PT6H" and reminder["audience_size"] == 2

    bad = client.post(url, headers=headers, json={
        "anchor": "registration_deadline", "offset": "P1M", "audience": "undecided_liaisons",
        "subject": {"en": "x", "ja": "x"}, "body": {"en": "x", "ja": "x"}})
    assert bad.status_code == 422 and "offset" in bad.get_json()["error"]["fields"]
    missing = client.post(url, headers=headers, json={"anchor": "nowhere"})
    assert missing.status_code == 422 and "anchor" in missing.get_json()["error"]["fields"]

    patched = client.patch(f"{url}/{reminder['id']}", headers=headers, json={"status": "paused"})
    assert patched.status_code == 200 and patched.get_json()["status"] == "paused"
    assert client.delete(f"{url}/{reminder['id']}", headers=headers).status_code == 204
    assert client.get(f"{url}/{reminder['id']}", headers=headers).status_code == 404

    liaison = token_for(app, make_user, "tyo@example.org", Role.LIAISON, city="TYO")
    assert client.get(url, headers=liaison).status_code == 403
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/assemblies/{slug}/reminders" in spec["paths"]


def test_the_pages_render_in_japanese(app: Flask, client: FlaskClient,
                                      make_user: Callable[..., User]) -> None:
    _seed(app)
    make_user("sec@example.org", Role.SECRETARIAT, language="ja")
    login(client, "sec@example.org")
    for url in ("/secretariat/?lang=ja", "/secretariat/mail?lang=ja",
                f"/secretariat/assemblies/{SLUG}/reminders?lang=ja",
                f"/secretariat/assemblies/{SLUG}/reminders/new?lang=ja"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="ja">' in response.get_data(as_text=True)


@pytest.mark.browser
def test_the_reminders_page_on_a_phone(app: Flask, page: object, live_server: str,
                                       make_user: Callable[..., User]) -> None:
    _seed(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto("/login")  # type: ignore[attr-defined]
    page.fill("input[name=email]", "sec@example.org")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "correct horse battery")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.goto(f"/secretariat/assemblies/{SLUG}/reminders")  # type: ignore[attr-defined]
    rows = page.locator("[data-reminder]")  # type: ignore[attr-defined]
    assert rows.count() == 5
    page.locator("text=Edit").first.click()  # type: ignore[attr-defined]
    page.click("input[name=preview]")  # type: ignore[attr-defined]
    with app.app_context():
        written = max(len(r.subject) for r in db.session.scalars(select(Reminder)))
    # One preview per language the reminder is written in (the defaults: every catalogue's).
    assert page.locator("[data-testid=preview] .card").count() == written  # type: ignore[attr-defined]
    # Nothing runs off the side of a phone screen.
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390
