"""The Tomsk 2014 demo holds the report's numbers, and the dashboard shows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import MemberCity, ProgrammeItem, Role, User, participant_counts
from services.assemblies import assembly_counts
from services.demo import load_tomsk_2014
from tests.conftest import login
from webapp.extensions import db

REPORT = {"BKK": 4, "HAN": 9, "SEL": 7, "TYO": 31, "TOF": 53, "ULN": 3}


def test_demo_numbers_are_the_reports(app: Flask) -> None:
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        db.session.commit()
        counts = assembly_counts(db.session, assembly)
        assert (counts.members, counts.attending, counts.absent, counts.participants) == (
            13, 6, 7, 107)
        by_city = participant_counts(db.session, assembly)
        codes = dict(db.session.execute(select(MemberCity.id, MemberCity.code)).all())
        assert {codes[city_id]: n for city_id, n in by_city.items()} == REPORT
        first = db.session.scalar(select(ProgrammeItem).order_by(ProgrammeItem.starts_at))
        # 4 September 2014, 16:00 in Tomsk (UTC+7) = 09:00Z = 18:00 in Tokyo, as printed.
        assert first.starts_at == datetime(2014, 9, 4, 9, tzinfo=UTC)
        assert first.starts_at.astimezone(ZoneInfo("Asia/Tokyo")).hour == 18


def test_dashboard_and_programme_pages(app: Flask, client: FlaskClient,
                                       make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    page = client.get("/secretariat/").get_data(as_text=True)
    for name, value in (("members", 13), ("attending", 6), ("participants", 107)):
        assert f'data-count="{name}">{value}<' in page
    programme = client.get("/a/anmc21-tomsk-2014").get_data(as_text=True)
    assert "Asia/Tomsk (UTC+07:00)" in programme and "Asia/Tokyo (UTC+09:00)" in programme
    assert "16:00" in programme and "(18:00)" in programme


def test_demo_has_jakartas_verified_letter(app: Flask) -> None:
    from pypdf import PdfReader

    from services.attendance import compute_attendance
    from services.proxies import document_file

    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        db.session.commit()
        picture = compute_attendance(db.session, assembly)
        assert (picture.present, picture.represented, picture.absent) == (6, 1, 6)
        assert picture.counted == 7 and picture.quorum_reached
        jakarta = next(row for row in picture.rows if row.city.code == "JKT")
        assert jakarta.holder.code == "TYO" and jakarta.letter.status.value == "verified"
        assert [e.action for e in jakarta.letter.events] == ["submitted", "verified"]
        path = document_file(jakarta.letter)
        assert path.read_bytes().startswith(b"%PDF-")
        import hashlib

        assert hashlib.sha256(path.read_bytes()).hexdigest() == jakarta.letter.document_sha256
        assert "PROXY LETTER" in PdfReader(path).pages[0].extract_text()
