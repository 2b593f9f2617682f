"""Helpers shared by the registration tests: tokens, a network, small PDFs."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from models import Network, Role, User
from services.accounts import issue_token
from services.demo import CITIES, DELEGATIONS, NETWORK, tomsk_programme
from webapp.extensions import db


def make_pdf(tweak: Callable[[Any], None] | None = None) -> bytes:
    """A real one-page PDF written by pypdf; `tweak(writer)` may add to it first."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if tweak is not None:
        tweak(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf()


def bearer(app: Flask, make_user: Callable[..., User], email: str, role: Role,
           city: str | None = None) -> dict[str, str]:
    make_user(email, role, city=city)
    with app.app_context():
        secret = issue_token(db.session, email)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def make_network(app: Flask) -> None:
    with app.app_context():
        db.session.add(Network(**NETWORK))
        db.session.commit()


TOMSK_SLUG = "anmc21-tomsk-2014"


@dataclass(frozen=True)
class TomskThroughApi:
    slug: str
    secretariat: dict[str, str]  # Authorization headers
    jakarta: dict[str, str]
    letter: dict[str, object]  # Jakarta's letter as the API returned it


def _ok(response, status: int = 201):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    return response.get_json()


def enter_cities_and_assembly(client: FlaskClient, sec: dict[str, str]) -> None:
    """The 13 member cities and the Tomsk assembly (open), as the secretariat enters them."""
    for code, en, ja, country, zone in CITIES:
        _ok(client.post("/api/v1/cities", headers=sec, json={
            "code": code, "name": {"en": en, "ja": ja}, "country": country, "timezone": zone}))
    created = _ok(client.post("/api/v1/assemblies", headers=sec, json={
        "slug": TOMSK_SLUG, "number": 13, "host_city": "TOF", "timezone": "Asia/Tomsk",
        "home_timezone": "Asia/Tokyo",
        "title": {"en": "13th General Assembly of the Asian Network of Major Cities 21",
                  "ja": "アジア大都市ネットワーク21 第13回総会"},
        "venue": {"en": "Tomsk Polytechnic University", "ja": "トムスク工科大学"},
        "starts_on": "2014-09-04", "ends_on": "2014-09-06",
        "registration_deadline": "2014-08-15T18:00:00+07:00",
        # Far ahead, so that a letter is not late when the test runs.
        "proxy_deadline": "2099-09-01T18:00:00+07:00",
        "quorum": "majority", "max_proxies_per_holder": 2, "proxy_to_chair_allowed": True}))
    assert created["registration_deadline"] == "2014-08-15T11:00:00+00:00"
    _ok(client.patch(f"/api/v1/assemblies/{TOMSK_SLUG}", headers=sec, json={"status": "open"}),
        200)


def enter_tomsk_through_api(app: Flask, client: FlaskClient, make_user: Callable[..., User],
                            *, verify: bool = True) -> TomskThroughApi:
    """The Tomsk 2014 assembly entered as a secretariat and a liaison would, through the API:
    13 cities, the assembly, 13 delegations, 107 delegates, the programme and Jakarta's proxy
    letter to Tokyo (verified unless `verify` is False). Only the network itself, which has no
    API, is written directly."""

    ok = _ok
    make_network(app)
    sec = bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)
    enter_cities_and_assembly(client, sec)
    for code, *_ in CITIES:
        ok(client.put(f"/api/v1/assemblies/{TOMSK_SLUG}/delegations/{code}", headers=sec,
                      json={"status": "attending" if code in DELEGATIONS else "absent"}), 200)
    for code, people in DELEGATIONS.items():
        for person in people:
            ok(client.post(f"/api/v1/assemblies/{TOMSK_SLUG}/delegates", headers=sec, json={
                "city": code, "family_name": person.family, "given_name": person.given,
                "name_local": person.local, "role": person.role.value,
                "title": {"en": person.title[0], "ja": person.title[1]}}))
    for item in tomsk_programme(None):
        ok(client.post(f"/api/v1/assemblies/{TOMSK_SLUG}/programme", headers=sec, json={
            "title": item.title, "starts_at": item.starts_at.isoformat(),
            "ends_at": item.ends_at.isoformat(), "kind": item.kind.value,
            "location": item.location, "capacity": item.capacity}))
    jakarta = bearer(app, make_user, "liaison.jkt@example.org", Role.LIAISON, "JKT")
    letter = ok(client.post(f"/api/v1/assemblies/{TOMSK_SLUG}/proxies", headers=jakarta, data={
        "grantor": "JKT", "holder": "TYO", "signatory_name": "Joko Widodo",
        "signatory_title": "Governor of Jakarta",
        "document": (io.BytesIO(PDF), "surat-kuasa.pdf")}, content_type="multipart/form-data"))
    if verify:
        letter = ok(client.post(
            f"/api/v1/assemblies/{TOMSK_SLUG}/proxies/{letter['id']}/verify", headers=sec), 200)
    return TomskThroughApi(TOMSK_SLUG, sec, jakarta, letter)
