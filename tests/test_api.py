"""The JSON API skeleton: Bearer tokens, the error format, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from models import Assembly, AssemblyStatus, Role, User
from services.accounts import issue_token
from services.demo import load_tomsk_2014
from webapp.extensions import db


def token_for(app: Flask, make_user: Callable[..., User], email: str, role: Role,
              city: str | None = None) -> dict[str, str]:
    make_user(email, role, city=city)
    with app.app_context():
        secret = issue_token(db.session, email)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def load_demo(app: Flask) -> None:
    with app.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()


def test_a_token_is_required(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_not-a-token"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/cities", headers=headers)
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["code"] == "unauthorized" and error["message"] and error["fields"] == {}


def test_cities_and_assemblies(app: Flask, client: FlaskClient,
                               make_user: Callable[..., User]) -> None:
    load_demo(app)
    headers = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    cities = client.get("/api/v1/cities", headers=headers).get_json()
    assert len(cities) == 13
    tokyo = next(city for city in cities if city["code"] == "TYO")
    assert tokyo == {"code": "TYO", "name": {"en": "Tokyo", "ja": "東京"}, "country": "JP",
                     "timezone": "Asia/Tokyo"}
    assert client.get("/api/v1/cities/tof", headers=headers).get_json()["timezone"] == "Asia/Tomsk"

    assemblies = client.get("/api/v1/assemblies", headers=headers).get_json()
    assert [a["slug"] for a in assemblies] == ["anmc21-tomsk-2014"]
    tomsk = client.get("/api/v1/assemblies/anmc21-tomsk-2014", headers=headers).get_json()
    assert tomsk["host_city"] == "TOF"
    assert tomsk["timezone"] == "Asia/Tomsk" and tomsk["home_timezone"] == "Asia/Tokyo"
    assert tomsk["starts_on"] == "2014-09-04" and tomsk["ends_on"] == "2014-09-06"
    assert tomsk["quorum"] == "majority"
    assert tomsk["registration_deadline"].endswith("+00:00")  # ISO 8601 with its offset
    for field in ("title", "venue", "proxy_deadline", "max_proxies_per_holder",
                  "proxy_to_chair_allowed", "status"):
        assert field in tomsk


def test_unknown_things_are_404_json(app: Flask, client: FlaskClient,
                                     make_user: Callable[..., User]) -> None:
    headers = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    for path in ("/api/v1/assemblies/nope", "/api/v1/cities/XXX", "/api/v1/no-such-thing"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] in ("not_found", "unknown_city")
    response = client.delete("/api/v1/cities", headers=headers)  # POST adds a city (issue 3)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_drafts_are_for_the_secretariat_only(app: Flask, client: FlaskClient,
                                             make_user: Callable[..., User]) -> None:
    load_demo(app)
    with app.app_context():
        assembly = db.session.query(Assembly).one()
        assembly.status = AssemblyStatus.DRAFT
        db.session.commit()
    secretariat = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    liaison = token_for(app, make_user, "liaison@example.org", Role.LIAISON, city="TYO")
    path = "/api/v1/assemblies/anmc21-tomsk-2014"
    assert client.get(path, headers=secretariat).status_code == 200
    assert client.get(path, headers=liaison).status_code == 404
    assert client.get("/api/v1/assemblies", headers=liaison).get_json() == []
    assert client.get("/a/anmc21-tomsk-2014").status_code == 404


def test_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/cities", "/api/v1/cities/{code}", "/api/v1/assemblies",
                 "/api/v1/assemblies/{slug}"):
        assert path in spec["paths"], path
    # Only the API is documented, not the HTML pages.
    assert not any(path.startswith(("/login", "/secretariat", "/healthz"))
                   for path in spec["paths"])
    assert spec["components"]["securitySchemes"]
    assembly = spec["components"]["schemas"]["AssemblyOut"]["properties"]
    assert {"slug", "title", "host_city", "timezone", "home_timezone", "quorum",
            "registration_deadline"} <= set(assembly)
