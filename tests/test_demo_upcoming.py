"""The demo's upcoming assembly: something to try registration and a letter in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import AssemblyStatus, ProgrammeItem, ProxyLetter, ProxyStatus, Role, User, utcnow
from services.assemblies import assembly_counts
from services.demo import load_tomsk_2014
from services.demo_upcoming import load_upcoming, upcoming_start
from tests.conftest import csrf_token, login
from webapp.extensions import db


def test_upcoming_assembly_is_open_with_every_kind_of_city(app: Flask) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        assembly = load_upcoming(db.session, today=date(2026, 12, 3))
        db.session.commit()
        assert assembly.status is AssemblyStatus.OPEN and assembly.number == 14
        assert assembly.starts_on == upcoming_start(date(2026, 12, 3)) == date(2027, 4, 6)
        assert assembly.starts_on.weekday() == 1  # a Tuesday, about four months ahead
        now = utcnow()
        assert now < assembly.registration_deadline < assembly.proxy_deadline
        counts = assembly_counts(db.session, assembly)
        assert (counts.members, counts.attending, counts.absent, counts.undecided) == (
            13, 2, 1, 10)
        letter = db.session.scalar(select(ProxyLetter).where(
            ProxyLetter.assembly_id == assembly.id))
        assert letter.status is ProxyStatus.SUBMITTED and letter.grantor.code == "JKT"
        items = db.session.scalars(select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly.id).order_by(ProgrammeItem.starts_at)).all()
        # Host time (Kuala Lumpur, UTC+8 all year): the opening at 09:30 is 01:30Z.
        opening = next(i for i in items if i.title["en"] == "Opening ceremony")
        assert (opening.starts_at.hour, opening.starts_at.minute) == (1, 30)
        assert all(i.ends_at > i.starts_at for i in items)


def test_a_newcomer_registers_bangkok_in_it(app: Flask, client: FlaskClient,
                                            make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        slug = load_upcoming(db.session).slug
        db.session.commit()
    make_user("liaison.bkk@example.org", Role.LIAISON, city="BKK")
    login(client, "liaison.bkk@example.org")
    page = client.get(f"/my/{slug}")
    assert page.status_code == 200
    token = csrf_token(page.get_data(as_text=True))
    assert client.post(f"/my/{slug}/status", data={"csrf_token": token,
                                                   "status": "attending"}).status_code == 302
    added = client.post(f"/my/{slug}/delegates", data={
        "csrf_token": token, "family_name": "Chadchart", "given_name": "Sittipunt",
        "role": "representative", "language": "en"})
    assert added.status_code == 302
    assert "Chadchart" in client.get(f"/my/{slug}").get_data(as_text=True)
    assert upcoming_start(date.today()) - date.today() >= timedelta(days=120)
