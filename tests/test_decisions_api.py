"""The assembly's outcome through the API: the Tomsk Declaration as the seed report has it,
and a vote on another assembly with a proxy letter, an unverified letter and the quorum."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Majority, Role, User
from services.demo import DELEGATIONS
from tests.registration_helpers import PDF, bearer, enter_tomsk_through_api

SLUG = "anmc21-tomsk-2014"
API = f"/api/v1/assemblies/{SLUG}"
SIGNERS = ("HAN", "SEL", "TYO", "ULN", "TOF")  # Bangkok's minister did not sign


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


@pytest.mark.parametrize(("majority", "yes", "no", "adopted"), [
    (Majority.SIMPLE, 3, 2, True), (Majority.SIMPLE, 2, 2, False),
    (Majority.SIMPLE, 1, 0, True), (Majority.SIMPLE, 0, 0, False),
    (Majority.TWO_THIRDS, 4, 2, True), (Majority.TWO_THIRDS, 5, 3, False),
    (Majority.TWO_THIRDS, 2, 1, True), (Majority.TWO_THIRDS, 0, 0, False),
    (Majority.UNANIMOUS, 5, 0, True), (Majority.UNANIMOUS, 12, 1, False),
    (Majority.UNANIMOUS, 0, 0, False),
])
def test_majority_rules(majority: Majority, yes: int, no: int, adopted: bool) -> None:
    assert majority.adopts(yes, no) is adopted


def _delegate_ids(client: FlaskClient, sec: dict[str, str]) -> dict[str, int]:
    """The representative's id per city."""
    people = ok(client.get(f"{API}/delegates", headers=sec))
    return {p["city"]: p["id"] for p in people if p["role"] == "representative"}


def test_tomsk_declaration_through_the_api(app: Flask, client: FlaskClient,
                                           make_user: Callable[..., User]) -> None:
    tomsk = enter_tomsk_through_api(app, client, make_user)
    sec = tomsk.secretariat
    declaration = ok(client.post(f"{API}/decisions", headers=sec, json={
        "kind": "declaration", "method": "consensus",
        "title": {"en": "Tomsk Declaration", "ja": "トムスク宣言"},
        "text": {"en": "We, the representatives of Hanoi, Seoul, Tokyo, Ulaanbaatar and Tomsk…",
                 "ja": "我々、ハノイ、ソウル、東京、ウランバートル及びトムスクの代表は…"}}), 201)
    assert declaration["status"] == "draft" and declaration["snapshot"] is None
    # The text keeps its paragraphs; a title is one line.
    refused = error_of(client.post(f"{API}/decisions", headers=sec, json={
        "title": {"en": "Two\nlines"}, "text": {"en": "One.\nTwo."}}), 422)
    assert [name.split(".")[0] for name in refused["fields"]] == ["title"]
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/decisions", "/decisions/{decision_id}/open",
                 "/decisions/{decision_id}/votes/{city}", "/decisions/{decision_id}/close",
                 "/decisions/{decision_id}/adopt", "/decisions/{decision_id}/signatories"):
        assert f"/api/v1/assemblies/{{slug}}{path}" in spec["paths"], path
    assert "/api/v1/assemblies/{slug}/programme/{item_id}/minutes" in spec["paths"]
    url = f"{API}/decisions/{declaration['id']}"
    # Nobody but the secretariat writes; the public does not see a draft.
    assert client.post(f"{url}/open", headers=tomsk.jakarta, json={}).status_code == 403
    assert client.get(url).status_code == 404

    opened = ok(client.post(f"{url}/open", headers=sec,
                            json={"at": "2014-09-06T11:00:00+07:00"}))
    snapshot = opened["snapshot"]
    assert snapshot["present"] == ["BKK", "HAN", "SEL", "TYO", "TOF", "ULN"]
    assert [(p["city"], p["holder"]) for p in snapshot["represented"]] == [("JKT", "TYO")]
    assert len(snapshot["absent"]) == 6 and "DEL" in snapshot["absent"]
    assert snapshot["quorum"] == {"rule": "majority", "members": 13, "required": 7,
                                  "counted": 7, "reached": True}
    # Consensus: no votes, no closing.
    assert error_of(client.put(f"{url}/votes/TYO", headers=sec, json={"choice": "yes"}),
                    409)["code"] == "not_a_vote"
    adopted = ok(client.post(f"{url}/adopt", headers=sec,
                             json={"at": "2014-09-06T11:20:00+07:00"}))
    assert adopted["status"] == "adopted" and adopted["tally"] is None
    assert adopted["decided_at"].startswith("2014-09-06T04:20:00")

    reps = _delegate_ids(client, sec)
    for code in SIGNERS:
        ok(client.post(f"{url}/signatories", headers=sec,
                       json={"delegate": reps[code], "at": "2014-09-06T11:25:00+07:00"}), 201)
    assert error_of(client.post(f"{url}/signatories", headers=sec,
                                json={"delegate": reps["TYO"]}), 409)["code"] == "already_signed"
    assert error_of(client.post(f"{url}/signatories", headers=sec,
                                json={"delegate": 999999}), 422)["fields"] == {
        "delegate": ["There is no such delegate at this assembly."]}
    signed = ok(client.get(f"{url}/signatories"))  # the public reads an adopted decision
    assert [s["city"] for s in signed] == list(SIGNERS)
    tokyo = next(s for s in signed if s["city"] == "TYO")
    assert tokyo["name"] == "MASUZOE Yoichi" and tokyo["title"]["ja"] == "東京都知事"
    public = ok(client.get(url))
    assert public["votes"] == [] and public["snapshot"]["quorum"]["counted"] == 7
    assert [d["id"] for d in ok(client.get(f"{API}/decisions"))] == [declaration["id"]]
    # Decided: the wording stays as adopted.
    assert error_of(client.patch(url, headers=sec, json={"text": {"en": "x"}}),
                    409)["code"] == "decision_decided"

    # The minutes of the joint-project reports, with their presenting cities.
    items = ok(client.get(f"{API}/programme", headers=sec))
    reports = next(i for i in items if i["title"]["ja"] == "共同事業報告")
    minutes = ok(client.put(f"{API}/programme/{reports['id']}/minutes", headers=sec, json={
        "summary": {"ja": "12の共同事業のうち、以下の事業について報告した。"},
        "speakers": [reps["TYO"], reps["HAN"]],
        "points": [{"kind": "report", "title": {"ja": "都市と地球の環境問題"},
                    "cities": ["TYO", "uln"]}]}))
    assert [s["city"] for s in minutes["speakers"]] == ["TYO", "HAN"]
    assert minutes["points"][0]["cities"] == ["TYO", "ULN"]
    assert error_of(client.put(f"{API}/programme/{reports['id']}/minutes", headers=sec,
                               json={"points": [{"kind": "report", "cities": ["XXX"]}]}),
                    422)["fields"] == {"points.0.cities": ["Unknown member city XXX."]}
    assert ok(client.get(f"{API}/programme/{reports['id']}/minutes",
                         headers=tomsk.jakarta))["points"][0]["cities"] == ["TYO", "ULN"]


NEXT = "anmc21-next"
NEXT_API = f"/api/v1/assemblies/{NEXT}"


def _letter(client: FlaskClient, headers: dict[str, str], grantor: str, holder: str,
            instructions: str = "") -> dict[str, Any]:
    return ok(client.post(f"{NEXT_API}/proxies", headers=headers, data={
        "grantor": grantor, "holder": holder, "signatory_name": "Mayor",
        "instructions": instructions, "document": (io.BytesIO(PDF), "letter.pdf")},
        content_type="multipart/form-data"), 201)


def test_a_vote_with_proxies_on_another_assembly(app: Flask, client: FlaskClient,
                                                 make_user: Callable[..., User]) -> None:
    tomsk = enter_tomsk_through_api(app, client, make_user)
    sec = tomsk.secretariat
    ok(client.post("/api/v1/assemblies", headers=sec, json={
        "slug": NEXT, "host_city": "SEL", "timezone": "Asia/Seoul",
        "home_timezone": "Asia/Tokyo", "title": {"en": "Next assembly"},
        "venue": {"en": "Seoul City Hall"}, "starts_on": "2099-05-10", "ends_on": "2099-05-11",
        "registration_deadline": "2099-04-01T18:00:00+09:00",
        "proxy_deadline": "2099-05-01T18:00:00+09:00", "quorum": "majority",
        "max_proxies_per_holder": 2}), 201)
    ok(client.patch(NEXT_API, headers=sec, json={"status": "open"}))
    for code in ("TYO", "SEL", "HAN", "TOF", "ULN", "DEL"):
        ok(client.put(f"{NEXT_API}/delegations/{code}", headers=sec,
                      json={"status": "attending"}))
    for code in ("JKT", "BKK"):
        ok(client.put(f"{NEXT_API}/delegations/{code}", headers=sec, json={"status": "absent"}))
    jakarta_letter = _letter(client, tomsk.jakarta, "JKT", "TYO",
                             "Vote yes on the budget resolution.")
    bangkok = bearer(app, make_user, "liaison.bkk@example.org", Role.LIAISON, "BKK")
    _letter(client, bangkok, "BKK", "SEL")  # never verified

    resolution = ok(client.post(f"{NEXT_API}/decisions", headers=sec, json={
        "title": {"en": "Budget 2100", "ja": "2100年予算"}, "majority": "two_thirds"}), 201)
    url = f"{NEXT_API}/decisions/{resolution['id']}"
    # 6 present of 13, Jakarta's letter not yet verified: 7 needed.
    refused = error_of(client.post(f"{url}/open", headers=sec, json={}), 409)
    assert refused["code"] == "quorum_not_reached"
    assert "6 of 13" in refused["message"] and "7 needed" in refused["message"]
    ok(client.post(f"{NEXT_API}/proxies/{jakarta_letter['id']}/verify", headers=sec))
    opened = ok(client.post(f"{url}/open", headers=sec, json={}))
    assert opened["snapshot"]["represented"] == [{
        "city": "JKT", "holder": "TYO", "letter": jakarta_letter["id"],
        "instructions": "Vote yes on the budget resolution."}]
    assert "BKK" in opened["snapshot"]["absent"]

    jkt = ok(client.put(f"{url}/votes/JKT", headers=sec, json={"choice": "no"}))
    assert jkt["cast_by"] == "TYO" and jkt["by_proxy"] is True
    jkt = ok(client.put(f"{url}/votes/jkt", headers=sec, json={"choice": "yes"}))  # replaces
    assert jkt["choice"] == "yes" and jkt["cast_by"] == "TYO"
    refused = error_of(client.put(f"{url}/votes/BKK", headers=sec, json={"choice": "yes"}), 409)
    assert refused["code"] == "city_cannot_vote" and "city" in refused["fields"]
    assert error_of(client.put(f"{url}/votes/KUL", headers=sec, json={"choice": "yes"}),
                    409)["code"] == "city_cannot_vote"
    assert error_of(client.put(f"{url}/votes/TYO", headers=sec, json={"choice": "maybe"}),
                    422)["fields"]["choice"]
    assert error_of(client.put(f"{url}/votes/TYO", headers=tomsk.jakarta,
                               json={"choice": "yes"}), 403)
    for code, choice in (("TYO", "yes"), ("SEL", "yes"), ("HAN", "yes"), ("TOF", "no"),
                         ("ULN", "no"), ("DEL", "abstain")):
        assert ok(client.put(f"{url}/votes/{code}", headers=sec,
                             json={"choice": choice}))["cast_by"] == code
    # Jakarta's liaison reads its own city's vote only.
    seen = ok(client.get(url, headers=tomsk.jakarta))["votes"]
    assert [(v["city"], v["cast_by"]) for v in seen] == [("JKT", "TYO")]
    closed = ok(client.post(f"{url}/close", headers=sec, json={}))
    # 4 yes of 6 votes cast (the abstention does not count): exactly two thirds.
    assert closed["status"] == "adopted"
    assert closed["tally"] == {"yes": 4, "no": 2, "abstain": 1}
    assert error_of(client.put(f"{url}/votes/TYO", headers=sec, json={"choice": "no"}),
                    409)["code"] == "decision_not_open"

    unanimous = ok(client.post(f"{NEXT_API}/decisions", headers=sec, json={
        "title": {"en": "Change of the charter"}, "majority": "unanimous"}), 201)
    url = f"{NEXT_API}/decisions/{unanimous['id']}"
    ok(client.post(f"{url}/open", headers=sec, json={}))
    for code in ("TYO", "SEL", "HAN", "TOF", "ULN", "JKT"):
        ok(client.put(f"{url}/votes/{code}", headers=sec, json={"choice": "yes"}))
    ok(client.put(f"{url}/votes/DEL", headers=sec, json={"choice": "no"}))
    closed = ok(client.post(f"{url}/close", headers=sec, json={}))
    assert closed["status"] == "rejected" and closed["tally"]["no"] == 1
    # The public sees only the adopted resolution.
    assert [d["id"] for d in ok(client.get(f"{NEXT_API}/decisions"))] == [resolution["id"]]
    assert client.get(url).status_code == 404
    assert len(DELEGATIONS) == 6
