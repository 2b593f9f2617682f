"""The registration API end to end: the Tomsk 2014 numbers entered through the API, and bad
input answered with a clear 4xx that writes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import Delegate, ProxyLetter, Role, User
from tests.registration_helpers import (
    PDF,
    bearer,
    enter_cities_and_assembly,
    enter_tomsk_through_api,
    make_network,
    make_pdf,
)
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"


def _open_with_javascript(writer: object) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({  # type: ignore[attr-defined]
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")})


@pytest.fixture
def secretariat(app: Flask, make_user: Callable[..., User]) -> dict[str, str]:
    make_network(app)
    return bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)


def test_tomsk_numbers_through_the_api(app: Flask, client: FlaskClient,
                                       make_user: Callable[..., User]) -> None:
    tomsk = enter_tomsk_through_api(app, client, make_user, verify=False)
    secretariat, jakarta, letter = tomsk.secretariat, tomsk.jakarta, tomsk.letter
    assert letter["status"] == "submitted" and letter["holder"] == "TYO"
    assert len(letter["document_sha256"]) == 64 and letter["events"][0]["action"] == "submitted"

    picture = client.get(f"/api/v1/assemblies/{SLUG}/attendance", headers=secretariat)
    assert picture.get_json()["quorum"]["reached"] is False  # not verified yet: 6 of 13

    response = client.post(f"/api/v1/assemblies/{SLUG}/proxies/{letter['id']}/verify",
                           headers=secretariat)
    assert response.status_code == 200 and response.get_json()["status"] == "verified"

    picture = client.get(f"/api/v1/assemblies/{SLUG}/attendance",
                         headers=secretariat).get_json()
    quorum = picture["quorum"]
    assert (quorum["members"], quorum["present"], quorum["represented"], quorum["absent"]) == (
        13, 6, 1, 6)
    assert picture["participants"] == 107
    assert quorum["rule"] == "majority" and quorum["required"] == 7
    assert quorum["counted"] == 7 and quorum["reached"] is True
    rows = {row["city"]: row for row in picture["cities"]}
    assert rows["JKT"]["presence"] == "represented" and rows["JKT"]["holder"] == "TYO"
    assert rows["TYO"]["participants"] == 31
    assert rows["TYO"]["representative"]["family_name"] == "MASUZOE"
    assert rows["DEL"]["presence"] == "absent"

    # A liaison sees its own city only.
    assert client.get(f"/api/v1/assemblies/{SLUG}/attendance", headers=jakarta).status_code == 403
    assert client.get(f"/api/v1/assemblies/{SLUG}/delegations/TYO",
                      headers=jakarta).status_code == 403
    own = client.get(f"/api/v1/assemblies/{SLUG}/proxies", headers=jakarta).get_json()
    assert [item["grantor"] for item in own] == ["JKT"]
    document = client.get(f"/api/v1/assemblies/{SLUG}/proxies/{letter['id']}/document",
                          headers=jakarta)
    assert document.status_code == 200 and document.data == PDF
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert document.headers["Content-Disposition"].startswith("attachment")
    tokyo = bearer(app, make_user, "liaison.tyo@example.org", Role.LIAISON, "TYO")
    assert client.get(f"/api/v1/assemblies/{SLUG}/proxies/{letter['id']}/document",
                      headers=tokyo).status_code == 404


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_bad_input_is_a_clear_4xx_and_writes_nothing(app: Flask, client: FlaskClient,
                                                     make_user: Callable[..., User],
                                                     secretariat: dict[str, str]) -> None:
    enter_cities_and_assembly(client, secretariat)
    for code, status in (("JKT", "absent"), ("TYO", "attending")):
        client.put(f"/api/v1/assemblies/{SLUG}/delegations/{code}", headers=secretariat,
                   json={"status": status})
    jakarta = bearer(app, make_user, "liaison.jkt@example.org", Role.LIAISON, "JKT")
    proxies = f"/api/v1/assemblies/{SLUG}/proxies"
    stored = app.config["SOKAI_SETTINGS"].uploads_path / "proxies"
    files_before = len(list(stored.glob("*")))

    def upload(content: bytes, name: str = "letter.pdf", **fields: str):
        data = {"grantor": "JKT", "holder": "TYO", "signatory_name": "Signatory", **fields,
                "document": (io.BytesIO(content), name)}
        return client.post(proxies, headers=jakarta, data=data,
                           content_type="multipart/form-data")

    cases = [
        (upload(b"MZ\x90\x00 not a pdf at all", "letter.pdf"), 422, "not_a_pdf"),
        (upload(b""), 422, "empty_document"),
        (upload(b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)), 413, "payload_too_large"),
        (upload(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)), 413, "payload_too_large"),
        (upload(PDF, holder="XXX"), 422, "unknown_city"),
        (upload(PDF[:150]), 422, "unreadable_pdf"),
        (upload(make_pdf(_open_with_javascript)), 422, "active_pdf"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.data[:300]
        body = response.get_json()
        assert body["error"]["message"], body
        if status != 413 or code == "payload_too_large":
            assert body["error"]["code"] == code, body
        if code.endswith("_pdf"):
            assert list(body["error"]["fields"]) == ["document"], body
    assert _count(app, ProxyLetter) == 0
    assert len(list(stored.glob("*"))) == files_before

    delegates = f"/api/v1/assemblies/{SLUG}/delegates"
    response = client.post(delegates, headers=secretariat,
                           json={"city": "XXX", "family_name": "Nobody"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "unknown_city"
    response = client.put(f"/api/v1/assemblies/{SLUG}/delegations/XXX", headers=secretariat,
                          json={"status": "absent"})
    assert response.status_code == 404
    response = client.patch(f"/api/v1/assemblies/{SLUG}", headers=secretariat,
                            json={"proxy_deadline": "2014-09-01T18:00:00"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "proxy_deadline" in error["fields"] and "offset" in str(error["fields"])
    response = client.post("/api/v1/cities", headers=secretariat, json={
        "code": "ABC", "name": {"en": "Abc"}, "country": "XX", "timezone": "UTC+7"})
    assert response.status_code == 422 and "timezone" in response.get_json()["error"]["fields"]
    assert _count(app, Delegate) == 0

    # Names are stored as given (a formula stays text; markup is escaped where shown).
    for name in ("=HYPERLINK(\"http://evil\")", "<script>alert(1)</script>"):
        response = client.post(delegates, headers=secretariat,
                               json={"city": "TYO", "family_name": name})
        assert response.status_code == 201 and response.get_json()["family_name"] == name


def test_registering_a_delegate_answers_every_case(app: Flask, client: FlaskClient,
                                                  make_user: Callable[..., User],
                                                  secretariat: dict[str, str]) -> None:
    """The registration call reads the assembly, the city and its delegation in one round
    trip and lets the unique constraint judge the address: each answer as before."""
    enter_cities_and_assembly(client, secretariat)
    url = f"/api/v1/assemblies/{SLUG}/delegates"
    # A city that has said nothing yet (no delegation row): made on the way; any case of code.
    response = client.post(url, headers=secretariat,
                           json={"city": " tyo ", "family_name": "Ando", "email": "A@Example.org"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["city"], body["email"], body["status"], body["role"]) == (
        "TYO", "a@example.org", "registered", "delegate")
    again = client.post(url, headers=secretariat, json={"city": "TYO", "family_name": "Baba"})
    assert again.status_code == 201 and again.get_json()["id"] == body["id"] + 1
    # The same address again, in any case and for another city: 409 on the field, nothing kept.
    response = client.post(url, headers=secretariat,
                           json={"city": "SEL", "family_name": "Cho", "email": "a@example.ORG"})
    error = response.get_json()["error"]
    assert response.status_code == 409 and error["code"] == "duplicate_email", error
    assert "email" in error["fields"]
    # Unknown assembly 404, unknown city 422; a liaison registers for its own city only.
    assert client.post("/api/v1/assemblies/nope/delegates", headers=secretariat,
                       json={"city": "TYO", "family_name": "Doi"}).status_code == 404
    jakarta = bearer(app, make_user, "liaison.jkt@example.org", Role.LIAISON, "JKT")
    assert client.post(url, headers=jakarta,
                       json={"city": "TYO", "family_name": "Endo"}).status_code == 403
    # A draft is unknown to a liaison, and the secretariat's to fill.
    draft = client.post("/api/v1/assemblies", headers=secretariat, json={
        "slug": "draft-2030", "number": 29, "host_city": "JKT", "timezone": "Asia/Jakarta",
        "home_timezone": "Asia/Tokyo", "title": {"en": "Draft"}, "venue": {"en": "Hall"},
        "starts_on": "2030-09-04", "ends_on": "2030-09-06",
        "registration_deadline": "2030-08-15T18:00:00+07:00",
        "proxy_deadline": "2030-09-01T18:00:00+07:00", "quorum": "majority",
        "max_proxies_per_holder": 2, "proxy_to_chair_allowed": True})
    assert draft.status_code == 201 and draft.get_json()["status"] == "draft"
    drafted = "/api/v1/assemblies/draft-2030/delegates"
    assert client.post(drafted, headers=jakarta,
                       json={"family_name": "Fujii"}).status_code == 404
    assert client.post(drafted, headers=secretariat,
                       json={"city": "JKT", "family_name": "Goto"}).status_code == 201
    with app.app_context():
        names = db.session.scalars(select(Delegate.family_name).order_by(Delegate.id)).all()
    assert names == ["Ando", "Baba", "Goto"]


def test_the_registration_api_is_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, method in (
            ("/api/v1/cities", "post"), ("/api/v1/cities/{code}", "patch"),
            ("/api/v1/assemblies", "post"), ("/api/v1/assemblies/{slug}", "patch"),
            ("/api/v1/assemblies/{slug}/delegations/{city}", "put"),
            ("/api/v1/assemblies/{slug}/delegates", "post"),
            ("/api/v1/assemblies/{slug}/delegates/{delegate_id}", "delete"),
            ("/api/v1/assemblies/{slug}/proxies", "post"),
            ("/api/v1/assemblies/{slug}/proxies/{letter_id}/verify", "post"),
            ("/api/v1/assemblies/{slug}/proxies/{letter_id}/reject", "post"),
            ("/api/v1/assemblies/{slug}/attendance", "get")):
        assert method in paths.get(path, {}), (path, method)
    upload = paths["/api/v1/assemblies/{slug}/proxies"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    schema = spec["components"]["schemas"]["AttendanceOut"]["properties"]
    assert {"cities", "participants", "quorum"} <= set(schema)


def test_import_and_invitations_through_the_api(app: Flask, client: FlaskClient,
                                                make_user: Callable[..., User],
                                                secretariat: dict[str, str]) -> None:
    enter_cities_and_assembly(client, secretariat)
    response = client.patch(f"/api/v1/assemblies/{SLUG}", headers=secretariat,
                            json={"registration_deadline": "2099-01-01T00:00:00+07:00"})
    assert response.status_code == 200
    tokyo = bearer(app, make_user, "api.tyo@example.org", Role.LIAISON, "TYO")
    url = f"/api/v1/assemblies/{SLUG}/delegations/TYO/import"

    def send(content: bytes, name: str, headers: dict[str, str] = tokyo):
        return client.post(url, headers=headers, data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")

    bad = (b"family_name,given_name,role\n"
           b"MASUZOE,Yoichi,representative\n"
           b"=HYPERLINK(\"http://evil\"),Formula,delegate\n"
           b",NoFamily,delegate\n")
    response = send(bad, "tokyo.csv")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "import_failed"
    assert [row["row"] for row in error["fields"]["rows"]] == [4]
    assert _count(app, Delegate) == 0
    for content, name, code in ((b"\xff\xfe not utf-8", "x.csv", "not_utf8"),
                                (b"PK not a workbook", "x.xlsx", "unreadable_file"),
                                (b"family_name\n", "x.txt", "unsupported_file"),
                                (b"", "x.csv", "empty_file")):
        response = send(content, name)
        assert response.status_code == 422, name
        assert response.get_json()["error"]["code"] == code
    jakarta = bearer(app, make_user, "api.jkt@example.org", Role.LIAISON, "JKT")
    assert send(bad, "tokyo.csv", jakarta).status_code == 403

    good = bad.replace(b",NoFamily,delegate\n", b"OK,Fine,delegate\n")
    response = send(good, "tokyo.csv")
    assert response.status_code == 201
    assert [p["family_name"] for p in response.get_json()] == [
        "MASUZOE", '=HYPERLINK("http://evil")', "OK"]

    response = client.post("/api/v1/cities/JKT/invitations", headers=secretariat,
                           json={"email": "new.jkt@example.org", "language": "ja"})
    assert response.status_code == 201 and response.get_json()["city"] == "JKT"
    response = client.post("/api/v1/cities/JKT/invitations", headers=secretariat,
                           json={"email": "api.tyo@example.org"})
    assert response.status_code == 409  # Tokyo's liaison cannot become Jakarta's
    assert client.post("/api/v1/cities/JKT/invitations", headers=tokyo,
                       json={"email": "x@example.org"}).status_code == 403
