"""The three areas wired together: registration (issue 3), the programme and calendar feeds
(issue 4), mail and reminders (issue 5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    Delegation,
    DelegationStatus,
    FeedToken,
    OutboxMessage,
    ReminderAnchor,
    Role,
    User,
)
from models.calendar import hash_feed_token
from services.calendar.tokens import issue_token, personal_feed_url, revoke_token, token_for
from services.demo import CITIES, load_tomsk_2014
from services.invitations import invite_delegate
from services.reminders.defaults import create_default_reminders
from services.reminders.sweep import send_due_reminders
from services.reminders.timing import due_at
from tests.conftest import csrf_token, wait_for
from tests.feed_helpers import (
    check_feed,
    events_by_uid,
    first_delegates,
    give_token,
    item_by_title,
)
from tests.registration_helpers import bearer, make_network
from webapp.extensions import db


def test_a_new_assembly_gets_the_default_reminders(app: Flask, client: FlaskClient,
                                                   make_user: Callable[..., User]) -> None:
    make_network(app)
    headers = bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)
    code, en, ja, country, zone = CITIES[0]
    assert client.post("/api/v1/cities", headers=headers, json={
        "code": code, "name": {"en": en, "ja": ja}, "country": country,
        "timezone": zone}).status_code == 201
    created = client.post("/api/v1/assemblies", headers=headers, json={
        "slug": "ga-2030", "title": {"en": "General Assembly 2030"}, "host_city": code,
        "timezone": zone, "starts_on": "2030-09-04", "ends_on": "2030-09-06",
        "registration_deadline": "2030-08-15T18:00:00+09:00",
        "proxy_deadline": "2030-09-01T18:00:00+09:00"})
    assert created.status_code == 201, created.get_json()

    listed = client.get("/api/v1/assemblies/ga-2030/reminders", headers=headers)
    assert listed.status_code == 200
    assert sorted((r["anchor"], r["offset"], r["audience"], r["attach_programme"])
                  for r in listed.get_json()) == [
        ("assembly_start", "-P2D", "delegates", True),
        ("proxy_deadline", "-P7D", "absent_without_proxy", False),
        ("proxy_deadline", "-PT72H", "absent_without_proxy", False),
        ("registration_deadline", "-P14D", "undecided_liaisons", False),
        ("registration_deadline", "-P3D", "undecided_liaisons", False),
    ]
    assert all(r["status"] == "active" and r["subject"]["ja"] for r in listed.get_json())

    # A refused creation (the address is taken) adds no second set.
    again = client.post("/api/v1/assemblies", headers=headers, json={
        "slug": "ga-2030", "title": {"en": "Again"}, "host_city": code, "timezone": zone,
        "starts_on": "2030-09-04", "ends_on": "2030-09-06",
        "registration_deadline": "2030-08-15T18:00:00+09:00",
        "proxy_deadline": "2030-09-01T18:00:00+09:00"})
    assert again.status_code == 409
    assert len(client.get("/api/v1/assemblies/ga-2030/reminders",
                          headers=headers).get_json()) == 5


def open_tomsk(app: Flask, make_user: Callable[..., User]) -> int:
    """The Tomsk demo, open for registration, with a secretariat account."""
    make_user("sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = assembly.proxy_deadline = datetime(2099, 1, 1,
                                                                            tzinfo=UTC)
        db.session.commit()
        return assembly.id


def invited_delegate(app: Flask) -> tuple[int, str]:
    """An attending delegate with an address, and the token of their invitation link."""
    with app.app_context():
        delegate = db.session.scalar(
            select(Delegate).join(Delegation).where(
                Delegation.status == DelegationStatus.ATTENDING, Delegate.email.is_not(None))
            .order_by(Delegate.id))
        sec = db.session.scalar(select(User).where(User.email == "sec@example.org"))
        _, token = invite_delegate(db.session, delegate, sec)
        db.session.commit()
        return delegate.id, token


def _confirm(client: FlaskClient, token: str, items: list[int]) -> None:
    page = client.get(f"/d/{token}")
    html = page.get_data(as_text=True)
    fields = {name: value for name, value in re.findall(
        r'<input[^>]*name="(family_name|given_name|email)"[^>]*value="([^"]*)"', html)}
    response = client.post(f"/d/{token}", data={
        "csrf_token": csrf_token(html), **fields, "language": "en",
        "items": [str(i) for i in items]})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_signing_up_on_the_delegate_page_rebuilds_the_personal_feed(
        app: Flask, client: FlaskClient, make_user: Callable[..., User],
        celery_worker: Any) -> None:
    open_tomsk(app, make_user)
    delegate_id, token = invited_delegate(app)
    trip = item_by_title(app, "Field work (Special Economic Zone, tree planting, dacha)")
    assert trip.capacity is not None
    secret = give_token(app, delegate_id)
    feed = f"/calendar/p/{secret}.ics"
    assert trip.uid not in events_by_uid(check_feed(client.get(feed).data))

    _confirm(client, token, [trip.id])
    signed = wait_for(lambda: trip.uid in events_by_uid(
        check_feed((r := client.get(feed)).data)) and r, timeout=30)
    assert signed, "the worker did not rebuild the personal feed after the sign-up"

    _confirm(client, token, [])  # the delegate changes their mind: the place is released
    released = wait_for(lambda: trip.uid not in events_by_uid(
        check_feed((r := client.get(feed)).data)) and r, timeout=30)
    assert released, "the worker did not rebuild the personal feed after the release"


def test_the_reminder_link_is_the_delegates_working_feed(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_tomsk(app, make_user)
    subscribed, revoked = first_delegates(app, 2)
    secret = give_token(app, subscribed)  # subscribed before the reminder goes out
    with app.app_context():
        assembly = db.session.scalar(select(Assembly))
        start = create_default_reminders(db.session, assembly)[4]
        assert start.anchor is ReminderAnchor.ASSEMBLY_START
        issue_token(db.session, db.session.get(Delegate, revoked))
        assert revoke_token(db.session, db.session.get(Delegate, revoked))
        db.session.commit()
        due = due_at(db.session, start)
        assert due is not None
        sent = send_due_reminders(db.session, app.config["SOKAI_SETTINGS"],
                                  now=due + timedelta(minutes=1))
        assert sent > 2
        bodies = {address: body for address, body in db.session.execute(
            select(OutboxMessage.to_address, OutboxMessage.text_body)
            .where(OutboxMessage.kind == "reminder"))}
        people = {d.id: d for d in db.session.scalars(select(Delegate))}
        tokens = {t.delegate_id: t for t in db.session.scalars(select(FeedToken))}

    links = {address: re.findall(r"http://sokai\.test(/calendar/p/[\w-]+\.ics)", body)
             for address, body in bodies.items()}
    # The delegate who had subscribed gets the very link their calendar app already uses.
    assert links[people[subscribed].email] == [f"/calendar/p/{secret}.ics"]
    assert f"webcal://sokai.test/calendar/p/{secret}.ics" in bodies[people[subscribed].email]
    # A revoked link stays revoked: no link in the mail.
    assert links[people[revoked].email] == []
    assert "/calendar/p/" not in bodies[people[revoked].email]
    # Everyone else got a link of their own, issued with the reminder, that opens their feed.
    others = [d for d in people.values()
              if d.email in bodies and d.id not in (subscribed, revoked)]
    assert others
    for delegate in others[:3]:
        [path] = links[delegate.email]
        response = client.get(path)
        assert response.status_code == 200
        calendar = check_feed(response.data)
        # Named as the delegate reads it: 山崎 七海 in Japanese, YAMAZAKI Nanami in English.
        assert delegate.name_for(delegate.language) in str(calendar["X-WR-CALNAME"])
        assert hash_feed_token(path.split("/")[-1][:-4]) == tokens[delegate.id].token_hash

    # Rotating the link on the delegate's page: the mailed link stops working.
    [path] = links[others[0].email]
    page = client.get(path[:-4])
    assert page.status_code == 200
    response = client.post(f"{path[:-4]}/rotate",
                           data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert client.get(path).status_code == 404
    assert client.get(path[:-4]).status_code == 404
    new = response.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/calendar/p/{new}.ics").status_code == 200
    with app.app_context():  # the link a reminder would carry now is the new one
        assert personal_feed_url(db.session, others[0].id, "http://sokai.test") == (
            f"http://sokai.test/calendar/p/{new}.ics")


def test_a_link_from_before_derived_secrets_is_replaced_when_it_must_be_sent(
        app: Flask, make_user: Callable[..., User]) -> None:
    open_tomsk(app, make_user)
    [delegate_id] = first_delegates(app, 1)
    with app.app_context():
        # A row as migration 0007 leaves it: a random secret, no nonce.
        db.session.add(FeedToken(delegate_id=delegate_id, token_hash=hash_feed_token("old"),
                                 nonce=""))
        db.session.commit()
        url = personal_feed_url(db.session, delegate_id, "http://sokai.test/")
        db.session.commit()
        assert url is not None and url.startswith("http://sokai.test/calendar/p/")
        secret = url.rsplit("/", 1)[-1][:-4]
        assert len(secret) >= 43 and token_for(db.session, secret) is not None
        assert token_for(db.session, "old") is None
        # Derived again, the same link.
        assert personal_feed_url(db.session, delegate_id, "http://sokai.test") == url


def test_the_delegate_page_links_to_their_programme_and_calendar(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_tomsk(app, make_user)
    delegate_id, token = invited_delegate(app)
    with app.app_context():
        invitation = db.session.scalar(select(OutboxMessage.text_body).where(
            OutboxMessage.kind == "delegate_invitation"))
        name = db.session.get(Delegate, delegate_id).full_name
    page = client.get(f"/d/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "My programme and calendar" in html
    [path] = set(re.findall(r'href="(/calendar/p/[\w-]+)"', html))
    secret = path.rsplit("/", 1)[-1]
    assert f"http://sokai.test{path}\n" in invitation  # the same link in the invitation

    programme = client.get(path)
    assert programme.status_code == 200 and name in programme.get_data(as_text=True)
    feed = client.get(f"{path}.ics")
    assert feed.status_code == 200 and name in str(check_feed(feed.data)["X-WR-CALNAME"])
    with app.app_context():
        assert token_for(db.session, secret).delegate_id == delegate_id
    assert client.get(f"/d/{token}").get_data(as_text=True).count(path) == 1  # stable

    with app.app_context():  # revoked by the secretariat: no link, and the page says why
        revoke_token(db.session, db.session.get(Delegate, delegate_id))
        db.session.commit()
    html = client.get(f"/d/{token}").get_data(as_text=True)
    assert "/calendar/p/" not in html and "Ask the secretariat for a new one" in html
