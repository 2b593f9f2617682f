"""Properties of the text rule (models.text) and of every boundary that applies it (issue 9):
whatever text arrives — every control character, separators, over-long strings — the answer
is a 422 naming the field or a clean store, never a 500 and never a stored character that
mail headers, XLSX or PostgreSQL cannot carry."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import Delegate, ProgrammeItem, Reminder, Role, User
from models.text import REFUSED_IN_LINE, REFUSED_IN_LINES, TextError, clean_text
from tests.conftest import csrf_token, login
from tests.registration_helpers import bearer
from tests.test_registration_pages import SLUG, open_demo
from webapp.extensions import db

CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)]
# Mostly ordinary text, seasoned with every character the rule is about.
texts = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(CONTROLS),
                           st.sampled_from(["=", " ", "東京", "e\u0301", "\ufffe"])),
                 max_size=12).map("".join)
long_texts = st.integers(min_value=90, max_value=320).map(lambda n: "ж" * n)
any_text = st.one_of(texts, long_texts)
FEW = settings(max_examples=40, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


# --- the rule itself ------------------------------------------------------------------------


@given(value=any_text, limit=st.one_of(st.none(), st.integers(0, 200)), lines=st.booleans())
@settings(max_examples=500, deadline=None)
def test_a_cleaned_text_is_storable_normalised_and_fits(value: str, limit: int | None,
                                                        lines: bool) -> None:
    try:
        cleaned = clean_text(value, max_length=limit, multiline=lines)
    except TextError:
        return
    assert not (REFUSED_IN_LINES if lines else REFUSED_IN_LINE).search(cleaned)
    assert "\r" not in cleaned and (lines or "\n" not in cleaned)
    assert unicodedata.is_normalized("NFC", cleaned) and cleaned == cleaned.strip()
    assert limit is None or len(cleaned) <= limit
    assert clean_text(cleaned, max_length=limit, multiline=lines) == cleaned  # idempotent


@given(before=texts, after=texts, control=st.sampled_from(CONTROLS))
@settings(max_examples=200, deadline=None)
def test_a_control_character_inside_a_line_is_always_refused(before: str, after: str,
                                                             control: str) -> None:
    with pytest.raises(TextError):
        clean_text(f"x{before}{control}{after}x")


def test_a_textarea_keeps_its_lines_and_tabs() -> None:
    assert clean_text(" a\r\n\tb\rc ", multiline=True) == "a\n\tb\nc"


# --- every boundary -------------------------------------------------------------------------


@pytest.fixture
def liaison_api(app: Flask, make_user: Callable[..., User]) -> dict[str, str]:
    open_demo(app)
    return bearer(app, make_user, "jkt@example.org", Role.LIAISON, "JKT")


def _stored_cleanly(app: Flask) -> None:
    with app.app_context():
        for person in db.session.scalars(select(Delegate)):
            for text in (person.family_name, person.given_name, person.name_local,
                         person.honorific, *person.title.values()):
                assert not REFUSED_IN_LINE.search(text), repr(text)


@given(family=any_text, given_name=any_text, title=any_text)
@FEW
def test_api_names_are_refused_or_stored_clean(app: Flask, client: FlaskClient,
                                               liaison_api: dict[str, str], family: str,
                                               given_name: str, title: str) -> None:
    response = client.post(f"/api/v1/assemblies/{SLUG}/delegates", headers=liaison_api,
                           json={"family_name": family, "given_name": given_name,
                                 "title": {"en": title}})
    assert response.status_code in (201, 409, 422), response.get_data(as_text=True)[:500]
    if response.status_code == 422:
        assert response.get_json()["error"]["fields"]
    _stored_cleanly(app)


@pytest.fixture
def secretariat_api(app: Flask, make_user: Callable[..., User]) -> dict[str, str]:
    open_demo(app)
    return bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)


@given(title=any_text, location=any_text, subject=any_text, body=any_text)
@FEW
def test_api_titles_locations_and_templates_are_refused_or_stored_clean(
        app: Flask, client: FlaskClient, secretariat_api: dict[str, str], title: str,
        location: str, subject: str, body: str) -> None:
    sec = secretariat_api
    api = f"/api/v1/assemblies/{SLUG}"
    answers = [
        client.patch(api, headers=sec, json={"title": {"en": title}}),
        client.post(f"{api}/programme", headers=sec, json={
            "title": {"en": title}, "location": {"en": location},
            "starts_at": "2014-09-05T10:00:00", "ends_at": "2014-09-05T11:00:00"}),
        client.post(f"{api}/reminders", headers=sec, json={
            "anchor": "proxy_deadline", "offset": "-P1D", "audience": "delegates",
            "subject": {"en": subject, "ja": subject}, "body": {"en": body, "ja": body}}),
    ]
    for response in answers:
        assert response.status_code in (200, 201, 409, 422), response.get_data(as_text=True)
    with app.app_context():
        for item in db.session.scalars(select(ProgrammeItem)):
            for text in (*item.title.values(), *item.location.values()):
                assert not REFUSED_IN_LINE.search(text)
        for reminder in db.session.scalars(select(Reminder)):
            assert not any(REFUSED_IN_LINE.search(t) for t in reminder.subject.values())
            assert not any(REFUSED_IN_LINES.search(t) for t in reminder.body.values())


@pytest.fixture
def liaison_login(app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("jkt@example.org", Role.LIAISON, city="JKT")
    login(client, "jkt@example.org")


@given(family=any_text)
@FEW
def test_forms_and_imports_refuse_or_store_clean(app: Flask, client: FlaskClient,
                                                 liaison_login: None, family: str) -> None:
    token = csrf_token(client.get(f"/my/{SLUG}").get_data(as_text=True))
    response = client.post(f"/my/{SLUG}/delegates", data={
        "csrf_token": token, "family_name": family, "role": "delegate", "language": "en"})
    assert response.status_code in (302, 409, 422)
    cell = '"' + family.replace('"', '""') + '"'
    response = client.post(f"/my/{SLUG}/import", data={
        "csrf_token": token, "file": (io.BytesIO(f"family_name,role\n{cell},delegate\n"
                                                 .encode("utf-8", "surrogatepass")),
                                      "people.csv")}, content_type="multipart/form-data")
    assert response.status_code in (302, 409, 422)
    _stored_cleanly(app)
