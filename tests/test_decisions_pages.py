"""The secretariat's minutes page and the decision pages through the web client: CSRF-protected
forms, refusals shown on the page, the report page carrying the result."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    Delegate,
    DelegateRole,
    Delegation,
    MemberCity,
    Minutes,
    ProgrammeItem,
    Role,
    User,
)
from services.demo import load_tomsk_2014
from tests.conftest import csrf_token, login
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def test_minutes_page_writes_summary_and_speakers(app: Flask, client: FlaskClient,
                                                  make_user: Callable[..., User]) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
        item = db.session.scalar(select(ProgrammeItem).where(
            ProgrammeItem.title["ja"].as_string() == "共同記者会見"))
        item_id = item.id
        masuzoe = db.session.scalar(select(Delegate.id).where(
            Delegate.family_name == "MASUZOE", Delegate.role == DelegateRole.REPRESENTATIVE))
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    listing = client.get(f"/secretariat/assemblies/{SLUG}/decisions").get_data(as_text=True)
    assert f'data-item="{item_id}"' in listing and "Write the minutes" in listing
    url = f"/secretariat/assemblies/{SLUG}/programme/{item_id}/minutes"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"summary_en": "x"}).status_code == 400  # no CSRF token
    bad = client.post(url, data={"csrf_token": token, "speakers": "999999"})
    assert bad.status_code == 422 and "invalid-feedback" in bad.get_data(as_text=True)
    saved = client.post(url, data={"csrf_token": token, "summary_en": "A joint press conference.",
                                   "summary_ja": "共同記者会見を行った。",
                                   "speakers": str(masuzoe)})
    assert saved.status_code == 302
    with app.app_context():
        minutes = db.session.scalar(select(Minutes).where(Minutes.item_id == item_id))
        assert minutes.summary == {"en": "A joint press conference.",
                                   "ja": "共同記者会見を行った。"}
        assert [s.delegate_id for s in minutes.speakers] == [masuzoe]
    report = client.get(f"/secretariat/assemblies/{SLUG}/report?lang=ja").get_data(as_text=True)
    assert "会議結果" in report and "共同記者会見を行った。" in report
    assert "全会一致で採択" in report and "舛添 要一" in report


def test_the_speaker_list_offers_representatives_and_a_city_on_demand(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    """An assembly of 20,000 cannot offer everybody at once: each city's representative, the
    speakers recorded, and all the people of the city asked for."""
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
        item_id = db.session.scalar(select(ProgrammeItem.id).where(
            ProgrammeItem.title["ja"].as_string() == "共同記者会見"))
        tokyo = db.session.execute(
            select(Delegate.id, Delegate.family_name)
            .join(Delegation, Delegate.delegation_id == Delegation.id)
            .join(MemberCity, MemberCity.id == Delegation.city_id)
            .where(MemberCity.code == "TYO", Delegate.role != DelegateRole.REPRESENTATIVE)
            .order_by(Delegate.id)).first()
        representatives = db.session.scalar(select(func.count(Delegate.id)).where(
            Delegate.role == DelegateRole.REPRESENTATIVE))
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    url = f"/secretariat/assemblies/{SLUG}/programme/{item_id}/minutes"
    page = client.get(url).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', page)
    assert len(options) == representatives and str(tokyo.id) not in options
    narrowed = client.get(f"{url}?city=tyo").get_data(as_text=True)
    assert f'<option value="{tokyo.id}"' in narrowed
    # Asked for while writing: the form comes back with what was typed, nothing saved.
    shown = client.post(f"{url}?city=SEL", data={"csrf_token": csrf_token(page), "show": "1",
                                                 "city": "TYO",
                                   "summary_en": "Half-written summary."})
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Half-written summary." in html and f'<option value="{tokyo.id}"' in html
    with app.app_context():
        assert db.session.scalar(select(Minutes).where(Minutes.item_id == item_id)) is None
    # Whatever comes as a city (a NUL byte, markup) lists no one more, never a 500.
    for hostile in ("\x00", "<script>", "TYO\x00", "9" * 40):
        odd = client.post(url, data={"csrf_token": csrf_token(page), "show": "1",
                                     "city": hostile})
        assert odd.status_code == 200
        assert len(re.findall(r'<option value="(\d+)"', odd.get_data(as_text=True))) == len(
            options)
    # Chosen from Tokyo's list, saved from it, and kept on the page from then on.
    saved = client.post(f"{url}?city=TYO", data={
        "csrf_token": csrf_token(narrowed), "speakers": str(tokyo.id)})
    assert saved.status_code == 302
    again = client.get(url).get_data(as_text=True)
    assert re.search(rf'<option selected value="{tokyo.id}"|<option value="{tokyo.id}" selected',
                     again)
