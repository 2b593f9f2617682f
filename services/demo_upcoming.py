"""The demo's upcoming assembly: the 14th General Assembly in Kuala Lumpur, a few months from
today, registration open, so that a newcomer can try everything Tomsk 2014 (closed) shows only
after the fact: Tokyo and the host attend, Jakarta is absent with a proxy letter waiting for the
secretariat's verification, Bangkok (whose liaison the demo prints) and the rest are undecided.

Kuala Lumpur keeps UTC+8 all year (no daylight saving), so the programme crosses no change
of offset; times are built with zoneinfo all the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    ItemKind,
    MemberCity,
    Network,
    ProgrammeItem,
    ProxyLetter,
    ProxyLetterEvent,
    ProxyStatus,
    Quorum,
    utcnow,
)
from models.names import default_order

KUALA_LUMPUR = ZoneInfo("Asia/Kuala_Lumpur")
HOST_CITY = "KUL"
SLUG = "anmc21-kuala-lumpur"
VENUE = {"en": "Kuala Lumpur Convention Centre", "ja": "クアラルンプール・コンベンションセンター"}
CITY_HALL = {"en": "Kuala Lumpur City Hall", "ja": "クアラルンプール市庁"}
DAYS_AHEAD = 120  # "a few months from today": deadlines are all in the future

# (day of the assembly from 0, local start, local end, kind, English, Japanese, place, capacity)
PROGRAMME: tuple[tuple[int, str, str, ItemKind, str, str, dict[str, str], int | None], ...] = (
    (0, "15:00", "17:00", ItemKind.MEETING, "Meeting of the member cities' liaisons",
     "連絡担当者会議", VENUE, None),
    (0, "19:00", "21:00", ItemKind.RECEPTION, "Welcome reception", "歓迎レセプション",
     CITY_HALL, None),
    (1, "09:30", "10:15", ItemKind.CEREMONY, "Opening ceremony", "開会式", VENUE, None),
    (1, "10:30", "12:30", ItemKind.PLENARY, "General Assembly: reports of the member cities",
     "総会：会員都市報告", VENUE, None),
    (1, "14:00", "17:00", ItemKind.POLICY_DIALOGUE,
     "Policy dialogue: liveable cities and urban heat", "政策対話：住みやすい都市と暑熱対策",
     VENUE, None),
    (2, "09:30", "11:30", ItemKind.PLENARY, "General Assembly: declaration", "総会：宣言採択",
     VENUE, None),
    (2, "11:45", "12:15", ItemKind.PRESS_CONFERENCE, "Press conference", "記者会見", VENUE,
     None),
    (2, "14:00", "17:30", ItemKind.FIELD_TRIP, "Field trip: River of Life project",
     "視察：リバー・オブ・ライフ計画", {"en": "Klang River, city centre",
                                       "ja": "クラン川（市中心部）"}, 40),
)

# Who has answered so far: (given, family, local-script name, role, English title, Japanese).
DELEGATIONS: dict[str, tuple[tuple[str, str, str, DelegateRole, str, str], ...]] = {
    "KUL": (
        ("Aminah", "Ismail", "", DelegateRole.REPRESENTATIVE, "Mayor of Kuala Lumpur",
         "クアラルンプール市長"),
        ("Farid", "Rahman", "", DelegateRole.STAFF, "International Relations Unit",
         "国際関係課"),
    ),
    "TYO": (
        ("Haruka", "Sato", "佐藤 遥", DelegateRole.REPRESENTATIVE,
         "Vice Governor of Tokyo", "東京都副知事"),
        ("Kenji", "Mori", "森 健二", DelegateRole.DELEGATE,
         "Director, International Affairs", "東京都 国際担当部長"),
        ("Yui", "Ito", "伊藤 結", DelegateRole.INTERPRETER, "Interpreter", "通訳"),
    ),
}
ABSENT_WITH_LETTER = ("JKT", "TYO")  # Jakarta's letter to Tokyo, waiting for verification
MAIL_DOMAIN = "demo.sokai.example"


def upcoming_start(today: date) -> date:
    """A Tuesday about DAYS_AHEAD days from today (the assembly runs Tuesday to Thursday)."""
    day = today + timedelta(days=DAYS_AHEAD)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=KUALA_LUMPUR).astimezone(UTC)


def load_upcoming(session: Session, today: date | None = None) -> Assembly:
    """Add the 14th General Assembly to the demo network (after services.demo's Tomsk 2014).
    Only adds and flushes; the caller commits."""
    network = session.scalars(select(Network).order_by(Network.id)).one()
    cities = {c.code: c for c in session.scalars(
        select(MemberCity).where(MemberCity.network_id == network.id))}
    starts = upcoming_start(today or datetime.now(KUALA_LUMPUR).date())
    data: dict[str, Any] = {
        "slug": f"{SLUG}-{starts.year}",
        "number": 14,
        "title": {"en": "14th General Assembly of the Asian Network of Major Cities 21",
                  "ja": "アジア大都市ネットワーク21 第14回総会"},
        "venue": VENUE,
        "timezone": "Asia/Kuala_Lumpur",
        "home_timezone": network.home_timezone,
        "starts_on": starts,
        "ends_on": starts + timedelta(days=2),
        "registration_deadline": _at(starts - timedelta(days=28), "18:00"),
        "proxy_deadline": _at(starts - timedelta(days=7), "18:00"),
        "quorum": Quorum.MAJORITY,
        "max_proxies_per_holder": 2,
        "proxy_to_chair_allowed": True,
        "status": AssemblyStatus.OPEN,
    }
    assembly = Assembly(network=network, host_city=cities[HOST_CITY], **data)
    session.add(assembly)
    session.flush()
    session.add_all(
        ProgrammeItem(assembly=assembly, title={"en": en, "ja": ja},
                      starts_at=_at(starts + timedelta(days=day), start),
                      ends_at=_at(starts + timedelta(days=day), end),
                      location=dict(place), kind=kind, capacity=capacity)
        for day, start, end, kind, en, ja, place, capacity in PROGRAMME)
    for code, people in DELEGATIONS.items():
        city = cities[code]
        delegation = Delegation(assembly=assembly, city=city, status=DelegationStatus.ATTENDING)
        delegation.delegates = [
            Delegate(assembly_id=assembly.id, given_name=given, family_name=family,
                     name_local=local, role=role, title={"en": title_en, "ja": title_ja},
                     email=f"{given.lower()}.{family.lower()}@{code.lower()}.{MAIL_DOMAIN}",
                     language="ja" if code == "TYO" else "en",
                     name_order=default_order(city.country), status=DelegateStatus.REGISTERED)
            for given, family, local, role, title_en, title_ja in people]
        session.add(delegation)
    grantor, holder = ABSENT_WITH_LETTER
    session.add(Delegation(assembly=assembly, city=cities[grantor],
                           status=DelegationStatus.ABSENT))
    session.flush()
    _waiting_letter(session, assembly, cities[grantor], cities[holder])
    return assembly


def _waiting_letter(session: Session, assembly: Assembly, grantor: MemberCity,
                    holder: MemberCity) -> ProxyLetter:
    from services.demo import _letter_pdf
    from services.proxies import Document, store_document

    content = _letter_pdf()
    path, digest = store_document(session, Document(content, "proxy-letter.pdf"))
    submitted = utcnow() - timedelta(days=1)
    letter = ProxyLetter(
        assembly=assembly, grantor=grantor, holder=holder,
        signatory_name="Governor of the Special Capital Region of Jakarta",
        signatory_title="Governor", instructions="", document_path=path,
        document_sha256=digest, document_size=len(content),
        document_filename="proxy-letter.pdf", status=ProxyStatus.SUBMITTED,
        submitted_at=submitted)
    letter.events = [ProxyLetterEvent(at=submitted, action="submitted", from_status=None,
                                      to_status=ProxyStatus.SUBMITTED.value,
                                      detail={"holder": holder.code})]
    session.add(letter)
    session.flush()
    return letter
