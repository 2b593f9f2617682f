"""Member cities at scale: a zone picker that defaults from the country, cities from a file
(all rows or none), liaisons invited in bulk, invitation states (sent, opened, accepted,
expired, voided) with resend and void, delegates' invitation states and calendar links for
everyone in one click."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Delegate,
    Invitation,
    InvitationKind,
    InvitationState,
    MemberCity,
    Network,
    Role,
    User,
    utcnow,
)
from services.demo import NETWORK, load_tomsk_2014
from tests.conftest import csrf_token, dropped_mail, login, wait_for
from webapp.extensions import db


def _secretariat(app: Flask, client: FlaskClient, make_user: Callable[..., User],
                 demo: bool = False) -> str:
    with app.app_context():
        if demo:
            load_tomsk_2014(db.session)
        else:
            db.session.add(Network(**NETWORK))
        db.session.commit()
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    return csrf_token(client.get("/secretariat/cities").get_data(as_text=True))


def _upload(client: FlaskClient, token: str, content: str, name: str = "cities.csv"):  # type: ignore[no-untyped-def]
    return client.post("/secretariat/cities/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode("utf-8-sig")), name)},
        content_type="multipart/form-data")


def test_zone_picker_groups_by_region_and_defaults_from_the_country(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    token = _secretariat(app, client, make_user)
    html = client.get("/secretariat/cities").get_data(as_text=True)
    assert '<optgroup label="Asia">' in html and '<option value="Asia/Tokyo">Tokyo</option>' in html
    assert "Etc/GMT" not in html  # no fixed offsets to pick
    made = client.post("/secretariat/cities", data={
        "csrf_token": token, "code": "OSA", "name_en": "Osaka", "country": "JP", "timezone": ""})
    assert made.status_code == 302
    several = client.post("/secretariat/cities", data={
        "csrf_token": token, "code": "LIS", "name_en": "Lisbon", "country": "PT",
        "timezone": ""})
    assert several.status_code == 422
    assert "its country has several" in several.get_data(as_text=True)
    with app.app_context():
        osaka = db.session.scalar(select(MemberCity).where(MemberCity.code == "OSA"))
        assert osaka.timezone == "Asia/Tokyo"
        assert db.session.scalar(select(MemberCity).where(MemberCity.code == "LIS")) is None


def test_city_file_is_all_or_nothing_and_invites_liaisons(
        app: Flask, client: FlaskClient, make_user: Callable[..., User], settings,
        celery_worker) -> None:
    token = _secretariat(app, client, make_user)
    bad = ("code,name_en,name_ja,country,timezone,liaison_email\n"
           "C1,City One,,JP,,one@c1.example.org\n"
           "C2,,,JP,,\n"                       # row 3: no English name
           "C3,City Three,,PT,,\n"             # row 4: Portugal has several zones
           "C4,City Four,,ID,UTC+7,\n"         # row 5: a fixed offset
           "C1,Again,,JP,,\n")                 # row 6: the code is taken (by row 2)
    response = _upload(client, token, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(r"<tr><td>(\d+)</td><td>([a-z_]+)</td>", html)
    assert errors == [("3", "name_en"), ("4", "timezone"), ("5", "timezone"), ("6", "code")]
    with app.app_context():
        assert db.session.scalars(select(MemberCity)).all() == []
        assert db.session.scalars(select(Invitation)).all() == []

    rows = ["code,name_en,name_ja,country,timezone,liaison_email,liaison_language"]
    # 120 cities; five of them with a liaison to invite (one mail task each).
    rows += [f"K{n:03d},City {n},都市{n},KR,,"
             + (f"liaison{n}@k{n}.example.org,{'ja' if n % 2 else 'en'}" if n < 5 else ",")
             for n in range(120)]
    rows.append("LIS,Lisbon,リスボン,PT,Europe/Lisbon,,")
    response = _upload(client, token, "\n".join(rows))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        cities = db.session.scalars(select(MemberCity)).all()
        assert len(cities) == 121
        assert {c.timezone for c in cities} == {"Asia/Seoul", "Europe/Lisbon"}
        assert len(db.session.scalars(select(Invitation)).all()) == 5
    # One message (and task) per invitation: generous on a loaded machine.
    mail = wait_for(lambda: len(list(settings.mail_drop.glob("*.eml"))) >= 5, timeout=120,
                    interval=0.5)
    if not mail:
        from models import OutboxMessage

        with app.app_context():
            states = [(m.status.value, m.last_error) for m in db.session.scalars(
                select(OutboxMessage))]
        raise AssertionError(f"the 5 invitations were not all delivered: "
                             f"{len(dropped_mail(settings))} in the drop; {states[:3]} "
                             f"{sorted({s for s, _ in states})}")
    html = client.get("/secretariat/cities").get_data(as_text=True)
    assert html.count('data-state="sent"') == 5


def test_invitation_states_resend_and_void(app: Flask, client: FlaskClient,
                                           make_user: Callable[..., User], settings,
                                           celery_worker) -> None:
    token = _secretariat(app, client, make_user, demo=True)
    bulk = client.post("/secretariat/cities/invitations", data={
        "csrf_token": token, "lines": "TYO, new.tyo@example.org, ja\nXXX, x@example.org\n"
                                      "SEL, not-an-address"})
    assert bulk.status_code == 422
    html = bulk.get_data(as_text=True)
    assert "Line 2:" in html and "XXX" in html and "Line 3:" in html
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []  # none of them
    bulk = client.post("/secretariat/cities/invitations", data={
        "csrf_token": token, "lines": "TYO, new.tyo@example.org, ja\nSEL; new.sel@example.org"})
    assert bulk.status_code == 302

    def state(code: str) -> list[str]:
        page = client.get("/secretariat/cities").get_data(as_text=True)
        block = re.findall(rf'data-testid="invitation-{code}">.*?data-state="(\w+)"', page,
                           re.S)
        return block

    assert state("TYO") == ["sent"] and state("SEL") == ["sent"]
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == "new.tyo@example.org"])
    path = re.search(r"https?://[^/\s]+(/invitation/\S+)", mail[0].get_body(
        ("plain",)).get_content()).group(1)
    stranger = app.test_client()
    assert stranger.get(path).status_code == 200
    assert state("TYO") == ["opened"]

    with app.app_context():
        tyo = db.session.scalar(select(Invitation).where(
            Invitation.email == "new.tyo@example.org"))
        sel = db.session.scalar(select(Invitation).where(
            Invitation.email == "new.sel@example.org"))
        tyo_id, sel_id = tyo.id, sel.id
    # Void: the link stops working at once.
    assert client.post(f"/secretariat/invitations/{tyo_id}/void",
                       data={"csrf_token": token}).status_code == 302
    assert state("TYO") == ["voided"]
    assert stranger.get(path).status_code == 404
    # Resend: a fresh link, the old row stays voided.
    assert client.post(f"/secretariat/invitations/{tyo_id}/resend",
                       data={"csrf_token": token}).status_code == 302
    assert state("TYO") == ["sent", "voided"]
    fresh = wait_for(lambda: [m for m in dropped_mail(settings)
                              if m["To"].addresses[0].addr_spec == "new.tyo@example.org"
                              and path not in m.get_body(("plain",)).get_content()])
    new_path = re.search(r"https?://[^/\s]+(/invitation/\S+)", fresh[0].get_body(
        ("plain",)).get_content()).group(1)
    page = stranger.get(new_path)
    accepted = stranger.post(new_path, data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "password": "a good long password", "confirm": "a good long password"})
    assert accepted.status_code == 302
    assert state("TYO") == ["accepted", "voided"]
    # An accepted invitation can be neither voided nor sent again.
    with app.app_context():
        newest = db.session.scalars(select(Invitation).where(
            Invitation.email == "new.tyo@example.org").order_by(Invitation.id.desc())).first()
        newest_id = newest.id
    client.post(f"/secretariat/invitations/{newest_id}/void", data={"csrf_token": token})
    assert state("TYO") == ["accepted", "voided"]
    # Expired: a week later, Seoul's unopened link.
    with app.app_context():
        db.session.get(Invitation, sel_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert db.session.get(Invitation, sel_id).state() is InvitationState.EXPIRED
    assert state("SEL") == ["expired"]
    assert client.post("/secretariat/invitations/999999/void",
                       data={"csrf_token": token}).status_code == 404


def test_delegate_invitation_states_and_links_for_everyone(
        app: Flask, client: FlaskClient, make_user: Callable[..., User], settings,
        celery_worker) -> None:
    from datetime import UTC, datetime

    from models import AssemblyStatus

    token = _secretariat(app, client, make_user, demo=True)
    with app.app_context():
        from models import Assembly

        assembly = db.session.scalar(select(Assembly))
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = datetime(2099, 1, 1, tzinfo=UTC)
        db.session.commit()
        slug = assembly.slug
        masuzoe = db.session.scalar(select(Delegate).where(Delegate.family_name == "MASUZOE"))
        masuzoe_id = masuzoe.id
        count = len(db.session.scalars(select(Delegate)).all())
    make_user("liaison@tokyo.example.org", Role.LIAISON, city="TYO")
    liaison = app.test_client()
    login(liaison, "liaison@tokyo.example.org")
    page = liaison.get(f"/my/{slug}").get_data(as_text=True)

    def badge() -> str:
        html = liaison.get(f"/my/{slug}").get_data(as_text=True)
        return re.search(r'MASUZOE.*?data-testid="invitation-state" data-state="(\w+)"', html,
                         re.S).group(1)

    assert badge() in ("confirmed", "not_sent")  # entered by the secretariat, never invited
    liaison.post(f"/my/{slug}/delegates/{masuzoe_id}/invite",
                 data={"csrf_token": csrf_token(page)})

    assert badge() == "sent"
    with app.app_context():
        email = db.session.get(Delegate, masuzoe_id).email
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == email])
    path = re.search(r"https?://[^/\s]+(/d/\S+)", mail[0].get_body(
        ("plain",)).get_content()).group(1)
    delegate = app.test_client()
    form = delegate.get(path)
    assert badge() == "opened"
    delegate.post(path, data={"csrf_token": csrf_token(form.get_data(as_text=True)),
                              "family_name": "MASUZOE", "given_name": "Yoichi", "email": email,
                              "language": "ja"})
    assert badge() == "accepted"
    with app.app_context():
        assert db.session.scalar(select(Invitation).where(
            Invitation.kind == InvitationKind.DELEGATE)).state() is InvitationState.ACCEPTED

    # The secretariat: every delegate's calendar link in one click, as a CSV file.
    response = client.post(f"/secretariat/assemblies/{slug}/programme/feeds/all",
                           data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == count == 107
    link = rows[0]["link"]
    assert link.startswith(settings.base_url + "/calendar/p/")
    assert app.test_client().get(link.removeprefix(settings.base_url)).status_code == 200
    again = client.post(f"/secretariat/assemblies/{slug}/programme/feeds/all",
                        data={"csrf_token": token})
    again_rows = list(csv.DictReader(io.StringIO(again.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["link"] for r in again_rows] == [r["link"] for r in rows]  # the same links
