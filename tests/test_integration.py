"""The three areas wired together: registration (issue 3), the programme and calendar feeds
(issue 4), mail and reminders (issue 5)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from models import Role, User
from services.demo import CITIES
from tests.registration_helpers import bearer, make_network


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
