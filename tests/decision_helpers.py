"""The Tomsk Declaration entered through the API, as the secretariat would on 6 September
2014: drafted, put to the assembly at 11:00, adopted by consensus, signed by five."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    ProxyLetter,
    ProxyStatus,
    Quorum,
)
from services.demo_outcome import (
    DECLARATION_SIGNERS,
    DECLARATION_TEXT,
    DECLARATION_TITLE,
    add_draft_resolution,
)


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


UPCOMING_SLUG = "anmc21-upcoming"
UPCOMING_ATTENDING = ("BKK", "HAN", "SEL", "TYO", "TOF", "ULN")


def load_upcoming_assembly(session: Session, tomsk: Assembly, today: date) -> Assembly:
    """An assembly two months ahead (in Tokyo, open), six cities attending, Jakarta's verified
    letter to Tokyo with instructions, and a draft resolution to put to a vote."""
    from services.demo import add_jakarta_proxy_letter

    starts = today + timedelta(days=60)
    cities = {c.code: c for c in session.scalars(
        select(MemberCity).where(MemberCity.network_id == tomsk.network_id))}
    tokyo = datetime.combine(starts, time(18), tzinfo=tomsk.home_zone)
    assembly = Assembly(
        network_id=tomsk.network_id, slug=UPCOMING_SLUG,
        title={"en": "Next General Assembly (demo)", "ja": "次回総会（デモ）"},
        host_city=cities["TYO"], venue={"en": "Tokyo Metropolitan Government Building",
                                        "ja": "東京都庁"},
        timezone="Asia/Tokyo", home_timezone="Asia/Tokyo", starts_on=starts,
        ends_on=starts + timedelta(days=1),
        registration_deadline=tokyo - timedelta(days=21),
        proxy_deadline=tokyo - timedelta(days=7), quorum=Quorum.MAJORITY,
        max_proxies_per_holder=2, status=AssemblyStatus.OPEN)
    session.add(assembly)
    session.flush()
    for code, city in cities.items():
        status = (DelegationStatus.ATTENDING if code in UPCOMING_ATTENDING
                  else DelegationStatus.ABSENT if code == "JKT" else DelegationStatus.UNDECIDED)
        session.add(Delegation(assembly=assembly, city=city, status=status))
    session.flush()
    letter: ProxyLetter = add_jakarta_proxy_letter(session, assembly)
    letter.instructions = "Vote yes on the review of the network."
    assert letter.status is ProxyStatus.VERIFIED
    add_draft_resolution(session, assembly)
    session.flush()
    return assembly
