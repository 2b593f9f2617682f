"""The Tomsk Declaration entered through the API, as the secretariat would on 6 September
2014: drafted, put to the assembly at 11:00, adopted by consensus, signed by five."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from services.demo_outcome import DECLARATION_SIGNERS, DECLARATION_TEXT, DECLARATION_TITLE


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def enter_tomsk_declaration(client: FlaskClient, slug: str, sec: dict[str, str]) -> int:
    api = f"/api/v1/assemblies/{slug}"
    created = _ok(client.post(f"{api}/decisions", headers=sec, json={
        "kind": "declaration", "method": "consensus", "title": DECLARATION_TITLE,
        "text": DECLARATION_TEXT}), 201)
    url = f"{api}/decisions/{created['id']}"
    _ok(client.post(f"{url}/open", headers=sec, json={"at": "2014-09-06T11:00:00+07:00"}))
    _ok(client.post(f"{url}/adopt", headers=sec, json={"at": "2014-09-06T11:20:00+07:00"}))
    people = _ok(client.get(f"{api}/delegates", headers=sec))
    reps = {p["city"]: p["id"] for p in people if p["role"] == "representative"}
    for code in DECLARATION_SIGNERS:
        _ok(client.post(f"{url}/signatories", headers=sec,
                        json={"delegate": reps[code], "at": "2014-09-06T11:25:00+07:00"}), 201)
    return int(created["id"])
