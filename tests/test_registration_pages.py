"""The registration pages through the test client: the liaison's city, the secretariat's
queue and attendance page, invitations, imports and the delegate's own page."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import select

from models import (
    AssemblyStatus,
    Delegate,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProgrammeItem,
    ProxyLetter,
    ProxyStatus,
    Role,
    User,
)
from services.demo import load_tomsk_2014
from tests.conftest import csrf_token, dropped_mail, login, wait_for
from tests.registration_helpers import PDF
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def open_demo(app: Flask, proxy_deadline_passed: bool = False) -> None:
    from datetime import UTC, datetime

    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        assembly.registration_deadline = datetime(2099, 1, 1, tzinfo=UTC)
        if not proxy_deadline_passed:
            assembly.proxy_deadline = datetime(2099, 1, 1, tzinfo=UTC)
        db.session.commit()


def newest_letter() -> ProxyLetter:
    return db.session.scalars(select(ProxyLetter).order_by(ProxyLetter.id.desc())).first()


def token_of(client: FlaskClient, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def test_liaison_registers_declares_absent_and_gives_a_letter(
        app: Flask, client: FlaskClient, make_user: Callable[..., User], settings,
        celery_worker) -> None:
    open_demo(app)
    make_user("jkt@example.org", Role.LIAISON, city="JKT")
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "jkt@example.org")
    page = f"/my/{SLUG}"
    html = client.get(page).get_data(as_text=True)
    assert "Jakarta" in html and "Asia/Jakarta" in html  # deadlines in the liaison's zone
    token = csrf_token(html)
    # A field left empty is named next to the field, nothing written.
    response = client.post(f"{page}/delegates", data={"csrf_token": token, "family_name": "",
                                                      "role": "representative",
                                                      "language": "en"})
    assert response.status_code == 422 and "is-invalid" in response.get_data(as_text=True)
    response = client.post(f"{page}/delegates", data={
        "csrf_token": token, "family_name": "<script>alert(1)</script>", "given_name": "Joko",
        "role": "representative", "language": "en", "title_en": "Governor"})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    response = client.post(f"{page}/delegates", data={
        "csrf_token": token, "family_name": "Second", "role": "representative",
        "language": "en"})
    assert response.status_code == 409 and "already has a representative" in response.get_data(
        as_text=True)

    client.post(f"{page}/status", data={"csrf_token": token, "status": "absent"})
    response = client.post(f"{page}/letter", data={
        "csrf_token": token, "holder": "TYO", "signatory_name": "Joko Widodo",
        "document": (io.BytesIO(b"GIF89a not a pdf"), "letter.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "not a PDF" in response.get_data(as_text=True)
    response = client.post(f"{page}/letter", data={
        "csrf_token": token, "holder": "TYO", "signatory_name": "Joko Widodo",
        "document": (io.BytesIO(PDF), "letter.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    # 20 MB: a friendly page, not a crash.
    response = client.post(f"{page}/letter", data={
        "csrf_token": token, "holder": "TYO", "signatory_name": "Joko Widodo",
        "document": (io.BytesIO(b"%PDF-" + b"0" * (20 * 1024 * 1024)), "big.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True)

    with app.app_context():
        letter = newest_letter()
        letter_id = letter.id
    assert client.get(f"/letters/{letter_id}/document").data == PDF

    client.post("/logout", data={"csrf_token": token})
    login(client, "sec@example.org")
    queue = client.get(f"/secretariat/assemblies/{SLUG}/proxies").get_data(as_text=True)
    assert "Jakarta" in queue and "waiting for verification" in queue
    response = client.post(f"/secretariat/assemblies/{SLUG}/proxies/{letter_id}/verify",
                           data={"csrf_token": csrf_token(queue)})
    assert response.status_code == 302
    html = client.get(f"/secretariat/assemblies/{SLUG}/attendance").get_data(as_text=True)
    assert 'data-city="JKT" data-presence="represented"' in html
    assert 'data-reached="yes"' in html and "7 of 13" in html
    assert 'data-count="participants">107<' in html
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == "jkt@example.org"
                             and "is verified" in m["Subject"]])
    assert mail


def test_other_cities_and_strangers_see_nothing(app: Flask, client: FlaskClient,
                                                make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("jkt@example.org", Role.LIAISON, city="JKT")
    make_user("tyo@example.org", Role.LIAISON, city="TYO")
    login(client, "jkt@example.org")
    token = token_of(client, f"/my/{SLUG}")
    client.post(f"/my/{SLUG}/status", data={"csrf_token": token, "status": "absent"})
    client.post(f"/my/{SLUG}/letter", data={
        "csrf_token": token, "holder": "TYO", "signatory_name": "X",
        "document": (io.BytesIO(PDF), "letter.pdf")}, content_type="multipart/form-data")
    with app.app_context():
        letter_id = newest_letter().id
        tokyo_person = db.session.scalar(select(Delegate).join(Delegation).join(MemberCity)
                                         .where(MemberCity.code == "TYO")).id
    client.post("/logout", data={"csrf_token": token})
    login(client, "tyo@example.org")
    assert client.get(f"/letters/{letter_id}/document").status_code == 404
    assert client.get(f"/secretariat/assemblies/{SLUG}/attendance").status_code == 403
    # ?city= is for the secretariat only: a liaison always gets their own city.
    assert "Tokyo" in client.get(f"/my/{SLUG}?city=JKT").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token_of(client, f"/my/{SLUG}")})
    login(client, "jkt@example.org")
    assert client.get(f"/my/{SLUG}/delegates/{tokyo_person}").status_code == 404
    client.post("/logout", data={"csrf_token": token_of(client, f"/my/{SLUG}")})
    assert client.get(f"/letters/{letter_id}/document").status_code == 302  # to the login


def test_import_is_all_or_nothing_with_a_report_per_row(app: Flask, client: FlaskClient,
                                                       make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("jkt@example.org", Role.LIAISON, city="JKT")
    login(client, "jkt@example.org")
    token = token_of(client, f"/my/{SLUG}")
    bad = ("family_name,given_name,role,email,title_en\n"
           "Widodo,Joko,representative,joko.page@example.org,Governor\n"
           ",Nameless,delegate,,\n"
           "Purnama,Basuki,pilot,,\n"
           "=HYPERLINK(\"http://x\"),Formula,delegate,,\n")
    response = client.post(f"/my/{SLUG}/import", data={
        "csrf_token": token, "file": (io.BytesIO(bad.encode("utf-8-sig")), "jakarta.csv")},
        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Nothing was imported" in html
    assert "Row 3" in html and "Row 4" in html and "Row 2" not in html
    with app.app_context():
        jakarta = select(Delegate).join(Delegation).join(MemberCity).where(
            MemberCity.code == "JKT")
        assert db.session.scalars(jakarta).all() == []

    book = Workbook()
    sheet = book.active
    sheet.append(["family_name", "given_name", "name_local", "role", "email", "language"])
    sheet.append(["Widodo", "Joko", "ジョコ・ウィドド", "representative", "joko.page@example.org",
                  "en"])
    sheet.append(['=HYPERLINK("http://x")', "Formula", None, "delegate", None, "ja"])
    content = io.BytesIO()
    book.save(content)
    response = client.post(f"/my/{SLUG}/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.getvalue()), "jakarta.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        people = db.session.scalars(jakarta.order_by(Delegate.id)).all()
        assert [p.family_name for p in people] == ["Widodo", '=HYPERLINK("http://x")']
        assert people[0].name_local == "ジョコ・ウィドド"


def test_liaison_invitation_and_delegate_page(app: Flask, client: FlaskClient,
                                              make_user: Callable[..., User], settings,
                                              celery_worker) -> None:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    token = token_of(client, "/secretariat/cities")
    response = client.post("/secretariat/cities/JKT/invite", data={
        "csrf_token": token, "email": "new.liaison@example.org", "language": "ja"})
    assert response.status_code == 302
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == "new.liaison@example.org"])
    assert mail
    link = re.search(r"http://sokai.test(/invitation/\S+)",
                     mail[-1].get_body(("plain",)).get_content())
    assert link
    client.post("/logout", data={"csrf_token": token})
    path = link.group(1)
    page = client.get(path)
    assert page.status_code == 200
    response = client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "password": "a good long password",
                                       "confirm": "a good long password"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/")
    assert client.get(f"/my/{SLUG}").status_code == 200  # logged in as Jakarta's liaison
    assert client.get(path).status_code == 404  # one-time

    # The liaison invites a delegate, who confirms and signs up for the field trip.
    with app.app_context():
        item = db.session.scalar(select(ProgrammeItem).where(ProgrammeItem.capacity.is_not(None)))
        item_id, capacity = item.id, item.capacity
    html = client.get(f"/my/{SLUG}").get_data(as_text=True)
    token = csrf_token(html)
    client.post(f"/my/{SLUG}/delegates", data={
        "csrf_token": token, "family_name": "Widodo", "given_name": "Joko",
        "role": "representative", "email": "joko.page@example.org", "language": "en"})
    with app.app_context():
        joko = db.session.scalar(select(Delegate).where(Delegate.email == "joko.page@example.org"))
    client.post(f"/my/{SLUG}/delegates/{joko.id}/invite", data={"csrf_token": token})
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"].addresses[0].addr_spec == "joko.page@example.org"])
    link = re.search(r"http://sokai.test(/d/\S+)", mail[-1].get_body(("plain",)).get_content())
    client.post("/logout", data={"csrf_token": token})
    page = client.get(link.group(1))
    assert page.status_code == 200 and f"{capacity} places left" in page.get_data(as_text=True)
    response = client.post(link.group(1), data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "family_name": "Widodo",
        "given_name": "Joko", "email": "joko.page@example.org", "language": "ja",
        "items": str(item_id)})
    assert response.status_code == 302
    # Joko now reads Japanese: his page is in Japanese unless he switches.
    assert '<html lang="ja">' in client.get(link.group(1)).get_data(as_text=True)
    assert f"{capacity - 1} places left" in client.get(link.group(1) + "?lang=en").get_data(
        as_text=True)
    with app.app_context():
        joko = db.session.get(Delegate, joko.id)
        assert joko.status is DelegateStatus.CONFIRMED and joko.language == "ja"
        assert db.session.get(ProgrammeItem, item_id).signup_count == 1
    assert client.get("/d/not-a-token").status_code == 404


def test_secretariat_manages_cities_and_assemblies(app: Flask, client: FlaskClient,
                                                   make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    token = token_of(client, "/secretariat/cities")
    response = client.post("/secretariat/cities", data={
        "csrf_token": token, "code": "PEK", "name_en": "Beijing", "country": "CN",
        "timezone": "UTC+8"})
    assert response.status_code == 422 and "IANA" in response.get_data(as_text=True)
    response = client.post("/secretariat/cities", data={
        "csrf_token": token, "code": "PEK", "name_en": "Beijing", "name_ja": "北京",
        "country": "CN", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    response = client.post("/secretariat/assemblies/new", data={
        "csrf_token": token, "slug": "anmc21-2015", "title_en": "14th General Assembly",
        "host_city": "TYO", "timezone": "Asia/Tokyo", "home_timezone": "Asia/Tokyo",
        "starts_on": "2015-10-01", "ends_on": "2015-10-02",
        "registration_deadline": "2015-09-01T18:00", "proxy_deadline": "2015-09-20T18:00",
        "quorum": "two_thirds", "max_proxies_per_holder": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    from models import Assembly

    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == "anmc21-2015"))
        # 18:00 in Tokyo is 09:00 UTC.
        assert assembly.proxy_deadline.hour == 9 and assembly.status is AssemblyStatus.DRAFT
    client.post("/secretariat/assemblies/anmc21-2015/registration/open", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(Assembly).where(
            Assembly.slug == "anmc21-2015")).status is AssemblyStatus.OPEN
    assert client.get("/secretariat/assemblies/anmc21-2015/edit").status_code == 200
    html = client.get(f"/secretariat/assemblies/{SLUG}/attendance").get_data(as_text=True)
    assert 'data-reached="no"' in html  # 6 of 14 now


def test_switching_back_to_attending_revokes_through_the_page(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("jkt@example.org", Role.LIAISON, city="JKT")
    login(client, "jkt@example.org")
    token = token_of(client, f"/my/{SLUG}")
    client.post(f"/my/{SLUG}/status", data={"csrf_token": token, "status": "absent"})
    client.post(f"/my/{SLUG}/letter", data={
        "csrf_token": token, "holder": "TYO", "signatory_name": "X",
        "document": (io.BytesIO(PDF), "letter.pdf")}, content_type="multipart/form-data")
    client.post(f"/my/{SLUG}/status", data={"csrf_token": token, "status": "attending"})
    with app.app_context():
        assert newest_letter().status is ProxyStatus.REVOKED
        assert db.session.scalar(select(Delegation).join(MemberCity).where(
            MemberCity.code == "JKT")).status is DelegationStatus.ATTENDING


def test_login_is_rate_limited_per_account(app: Flask, client: FlaskClient,
                                           make_user: Callable[..., User]) -> None:
    from webapp.security import limiter_of

    make_user("limited@example.org", Role.SECRETARIAT)
    make_user("neighbour@example.org", Role.SECRETARIAT)
    try:
        for _ in range(5):
            assert login(client, "limited@example.org", "wrong password").status_code == 200
        # Even the right password waits now; another account is not affected.
        assert login(client, "limited@example.org").status_code == 429
        assert login(client, "neighbour@example.org").status_code == 302
    finally:
        limiter_of(app).reset()


def test_pages_render_in_japanese(app: Flask, client: FlaskClient,
                                  make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("ja.sec@example.org", Role.SECRETARIAT, language="ja")
    make_user("ja.jkt@example.org", Role.LIAISON, city="JKT", language="ja")
    login(client, "ja.sec@example.org")
    for path in (f"/secretariat/assemblies/{SLUG}/attendance",
                 f"/secretariat/assemblies/{SLUG}/proxies", "/secretariat/cities",
                 "/secretariat/assemblies/new",
                 f"/secretariat/assemblies/{SLUG}/edit", f"/my/{SLUG}?city=TYO"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert 'lang="ja"' in html
    attendance = client.get(f"/secretariat/assemblies/{SLUG}/attendance")
    assert "舛添 要一" in attendance.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token_of(client, "/secretariat/cities")})
    login(client, "ja.jkt@example.org")
    html = client.get(f"/my/{SLUG}").get_data(as_text=True)
    assert 'lang="ja"' in html and "ジャカルタ" in html and "Asia/Jakarta" in html


def test_a_full_trip_is_refused_next_to_the_visits(app: Flask, client: FlaskClient,
                                                   make_user: Callable[..., User]) -> None:
    """The last place went to someone else between loading the page and submitting it: 409,
    the message beside the optional visits, nothing saved."""
    from services.invitations import invite_delegate
    from services.programme import sign_up

    open_demo(app)
    make_user("tyo@example.org", Role.LIAISON, city="TYO")
    with app.app_context():
        item = db.session.scalar(select(ProgrammeItem).where(ProgrammeItem.capacity.is_not(None)))
        tokyo = db.session.scalars(select(Delegate).join(Delegation).join(MemberCity)
                                   .where(MemberCity.code == "TYO")).all()
        joko, other = tokyo[0], tokyo[1]
        joko.email = "joko.full@example.org"
        item.capacity = 1
        liaison = db.session.scalar(select(User).where(User.email == "tyo@example.org"))
        _invitation, token = invite_delegate(db.session, joko, liaison)
        db.session.commit()
        item_id, joko_id, other_id = item.id, joko.id, other.id
    page = client.get(f"/d/{token}")
    assert page.status_code == 200
    with app.app_context():  # someone else takes the last place meanwhile
        sign_up(db.session, db.session.get(Delegate, other_id),
                db.session.get(ProgrammeItem, item_id))
        db.session.commit()
    response = client.post(f"/d/{token}?lang=en", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "family_name": "Widodo",
        "given_name": "Joko", "email": "joko.full@example.org", "language": "en",
        "items": str(item_id)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    error = re.search(r'data-testid="items-error"[^>]*>([^<]*)<', html)
    assert error and "is full" in error.group(1), html
    with app.app_context():
        joko = db.session.get(Delegate, joko_id)
        assert joko.family_name != "Widodo"  # nothing half-saved
        assert db.session.get(ProgrammeItem, item_id).signup_count == 1
