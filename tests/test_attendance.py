"""The attendance rules: present, represented only by a verified letter to a present city."""

from __future__ import annotations

from sqlalchemy import select

from models import Delegation, DelegationStatus, MemberCity, ProxyLetter, ProxyStatus, Role
from services.attendance import Presence, compute_attendance
from services.demo import load_tomsk_2014


def _city(session, code: str) -> MemberCity:
    return session.scalar(select(MemberCity).where(MemberCity.code == code))


def _letter(session, assembly, grantor: str, holder: str | None, status: ProxyStatus,
            to_chair: bool = False) -> ProxyLetter:
    letter = ProxyLetter(assembly=assembly, grantor=_city(session, grantor),
                         holder=_city(session, holder) if holder else None, to_chair=to_chair,
                         signatory_name="Signatory", document_path="x", document_sha256="0" * 64,
                         document_size=1, status=status)
    session.add(letter)
    session.commit()
    return letter


def test_tomsk_picture_with_jakartas_verified_letter(session) -> None:
    assembly = load_tomsk_2014(session)  # with Jakarta's verified letter to Tokyo
    session.commit()
    letter = session.scalar(select(ProxyLetter))
    letter.status = ProxyStatus.SUBMITTED
    session.commit()
    before = compute_attendance(session, assembly)
    assert (before.present, before.represented, before.absent) == (6, 0, 7)
    assert not before.quorum_reached  # 6 of 13 is not a majority: not verified yet
    letter.status = ProxyStatus.VERIFIED
    session.commit()

    picture = compute_attendance(session, assembly)
    assert (picture.members, picture.present, picture.represented, picture.absent) == (
        13, 6, 1, 6)
    assert picture.participants == 107
    assert picture.required == 7 and picture.counted == 7 and picture.quorum_reached
    jakarta = next(row for row in picture.rows if row.city.code == "JKT")
    assert jakarta.presence is Presence.REPRESENTED and jakarta.holder.code == "TYO"
    tokyo = next(row for row in picture.rows if row.city.code == "TYO")
    assert tokyo.representative.family_name == "MASUZOE" and tokyo.participants == 31


def _drop_demo_letter(session) -> None:
    from sqlalchemy import delete

    from models import ProxyLetterEvent

    session.execute(delete(ProxyLetterEvent))
    session.execute(delete(ProxyLetter))
    session.commit()


def test_a_letter_to_a_city_that_does_not_attend_does_not_count(session) -> None:
    assembly = load_tomsk_2014(session)
    _drop_demo_letter(session)
    _letter(session, assembly, "JKT", "TYO", ProxyStatus.VERIFIED)
    tokyo = session.scalar(select(Delegation).where(Delegation.city == _city(session, "TYO")))
    tokyo.status = DelegationStatus.ABSENT
    session.commit()
    jakarta = next(row for row in compute_attendance(session, assembly).rows
                   if row.city.code == "JKT")
    assert jakarta.presence is Presence.ABSENT


def test_a_letter_to_the_chair_counts_only_where_allowed(session) -> None:
    assembly = load_tomsk_2014(session)
    _drop_demo_letter(session)
    _letter(session, assembly, "JKT", None, ProxyStatus.VERIFIED, to_chair=True)
    assert compute_attendance(session, assembly).represented == 1
    assembly.proxy_to_chair_allowed = False
    session.commit()
    assert compute_attendance(session, assembly).represented == 0


def test_the_delegate_list_takes_one_query_whatever_the_number_of_delegations(session) -> None:
    from sqlalchemy import event

    from services.delegations import delegates_of

    assembly = load_tomsk_2014(session)
    session.commit()
    session.expire_all()
    assert assembly.id  # loaded again before counting
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        people = delegates_of(session, assembly)
        codes = [person.delegation.city.code for person in people]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(people) == 107 and codes == sorted(codes)
    assert len(statements) == 1, statements


def test_undecided_is_its_own_state_until_the_assembly_is_closed(app, client, make_user) -> None:
    """Open assembly, three cities that have not answered: the attendance page, the API and the
    report say undecided (not absent); once closed they are absent, as in the seed report."""
    from models import Assembly, AssemblyStatus
    from services.i18n import in_language
    from services.summaries.report import build_report
    from tests.conftest import login
    from tests.registration_helpers import bearer
    from webapp.extensions import db

    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        assembly.status = AssemblyStatus.OPEN
        for delegation in db.session.scalars(select(Delegation).join(MemberCity).where(
                MemberCity.code.in_(("DEL", "KUL", "SIN")))):
            delegation.status = DelegationStatus.UNDECIDED
        db.session.commit()
    sec = bearer(app, make_user, "u.sec@example.org", Role.SECRETARIAT)

    def report_lines() -> tuple[dict[str, str], str]:
        with app.app_context(), in_language("ja"):
            report = build_report(db.session, db.session.scalar(select(Assembly)), "ja")
            return {c.code: c.mark for c in report.cities}, report.quorum_line

    body = client.get("/api/v1/assemblies/anmc21-tomsk-2014/attendance", headers=sec).get_json()
    presence = {row["city"]: row["presence"] for row in body["cities"]}
    assert {presence[c] for c in ("DEL", "KUL", "SIN")} == {"undecided"}
    assert presence["MNL"] == "absent" and presence["JKT"] == "represented"
    assert (body["quorum"]["undecided"], body["quorum"]["absent"]) == (3, 3)
    login(client, "u.sec@example.org")
    page = client.get("/secretariat/assemblies/anmc21-tomsk-2014/attendance").get_data(
        as_text=True)
    assert page.count('data-presence="undecided"') == 3
    assert '<span data-count="undecided">3</span>' in page
    marks, line = report_lines()
    assert marks["DEL"] == "未回答" and marks["MNL"] == "欠席"
    assert "未回答3都市" in line

    with app.app_context():
        db.session.scalar(select(Assembly)).status = AssemblyStatus.CLOSED
        db.session.commit()
    body = client.get("/api/v1/assemblies/anmc21-tomsk-2014/attendance", headers=sec).get_json()
    assert {row["presence"] for row in body["cities"] if row["city"] in ("DEL", "KUL")} == {
        "absent"}
    assert (body["quorum"]["undecided"], body["quorum"]["absent"]) == (0, 6)
    marks, line = report_lines()
    assert marks["DEL"] == "欠席" and marks["JKT"] == "欠席 ※委任状提出"
    assert "未回答" not in line
