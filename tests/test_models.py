"""The domain model: aware instants, IANA zones, quorum arithmetic, participant counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from models import (
    Assembly,
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    MemberCity,
    Network,
    Quorum,
    UnknownTimeZoneError,
    participant_counts,
    validate_timezone,
)
from models.db import insert_unless_taken

TOMSK = ZoneInfo("Asia/Tomsk")


def _network(session) -> tuple[Network, MemberCity]:
    network = Network(code="NET", name={"en": "Net"}, secretariat_email="s@example.org",
                      home_timezone="Asia/Tokyo")
    city = MemberCity(network=network, code="tof", name={"en": "Tomsk", "ja": "トムスク"},
                      country="RU", timezone="Asia/Tomsk")
    session.add_all([network, city])
    return network, city


def _assembly(network: Network, city: MemberCity, **kwargs) -> Assembly:
    values = dict(
        network=network, slug="a", title={"en": "A"}, host_city=city, venue={"en": "V"},
        timezone="Asia/Tomsk", home_timezone="Asia/Tokyo", starts_on=date(2014, 9, 4),
        ends_on=date(2014, 9, 6),
        registration_deadline=datetime(2014, 8, 15, 18, tzinfo=TOMSK),
        proxy_deadline=datetime(2014, 9, 1, 18, tzinfo=TOMSK),
    )
    values.update(kwargs)
    return Assembly(**values)


def test_instants_are_stored_in_utc_and_come_back_aware(session) -> None:
    network, city = _network(session)
    session.add(_assembly(network, city))
    session.commit()
    session.expire_all()
    assembly = session.scalar(select(Assembly))
    # 18:00 in Tomsk was 11:00Z in September 2014 (UTC+7) ...
    assert assembly.registration_deadline == datetime(2014, 8, 15, 11, tzinfo=UTC)
    assert assembly.registration_deadline.tzinfo is not None
    assert city.code == "TOF"
    # ... and the same wall clock three months later is 12:00Z (UTC+6): zoneinfo, not offsets.
    assert datetime(2014, 12, 1, 18, tzinfo=TOMSK).astimezone(UTC).hour == 12


def test_a_naive_instant_is_refused(session) -> None:
    network, city = _network(session)
    session.add(_assembly(network, city, proxy_deadline=datetime(2014, 9, 1, 18)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


@pytest.mark.parametrize("name", ["UTC+7", "Mars/Olympus_Mons", "", "asia/tokyo", None])
def test_unknown_time_zones_are_refused(name) -> None:
    with pytest.raises(UnknownTimeZoneError):
        validate_timezone(name)


def test_a_city_with_an_unknown_zone_cannot_be_made() -> None:
    with pytest.raises(UnknownTimeZoneError, match="IANA"):
        MemberCity(code="X", name={"en": "X"}, country="XX", timezone="GMT+9:00")


@pytest.mark.parametrize(("rule", "members", "required"), [
    (Quorum.MAJORITY, 13, 7), (Quorum.MAJORITY, 12, 7), (Quorum.HALF, 13, 7),
    (Quorum.HALF, 12, 6), (Quorum.TWO_THIRDS, 13, 9), (Quorum.TWO_THIRDS, 12, 8),
    (Quorum.NONE, 13, 0),
])
def test_quorum_thresholds(rule: Quorum, members: int, required: int) -> None:
    assert rule.required(members) == required
    assert rule.reached(required, members)
    assert required == 0 or not rule.reached(required - 1, members)


def test_participants_count_only_attending_cities_and_live_registrations(session) -> None:
    network, city = _network(session)
    other = MemberCity(network=network, code="SEL", name={"en": "Seoul"}, country="KR",
                       timezone="Asia/Seoul")
    assembly = _assembly(network, city)
    session.add_all([other, assembly])
    session.flush()
    attending = Delegation(assembly=assembly, city=city, status=DelegationStatus.ATTENDING)
    absent = Delegation(assembly=assembly, city=other, status=DelegationStatus.ABSENT)
    session.add_all([attending, absent])
    session.flush()
    for delegation, count in ((attending, 3), (absent, 2)):
        for i in range(count):
            session.add(Delegate(assembly_id=assembly.id, delegation=delegation,
                                 family_name=f"P{i}", email=f"P{i}@{delegation.id}.Example"))
    session.add(Delegate(assembly_id=assembly.id, delegation=attending, family_name="Gone",
                         status="cancelled"))
    session.commit()
    assert participant_counts(session, assembly) == {city.id: 3}
    emails = session.scalars(select(Delegate.email).where(Delegate.email.is_not(None))).all()
    assert emails and all(email == email.lower() for email in emails)


def test_insert_unless_taken_writes_with_the_defaults_or_reports_the_clash(session) -> None:
    network, city = _network(session)
    assembly = _assembly(network, city)
    session.add(assembly)
    session.flush()
    delegation = Delegation(assembly=assembly, city=city)
    session.add(delegation)
    session.flush()

    def person(name: str, email: str | None) -> Delegate:
        return Delegate(assembly_id=assembly.id, delegation_id=delegation.id,
                        family_name=name, email=email)

    first = person("First", "One@Example.org")
    assert insert_unless_taken(session, first, ("assembly_id", "email"))
    # Persistent, with every value the INSERT wrote in hand (the model's Python defaults).
    assert first in session and first.id is not None and not session.dirty
    assert (first.status, first.role, first.title, first.email) == (
        DelegateStatus.REGISTERED, DelegateRole.DELEGATE, {}, "one@example.org")
    assert first.created_at.tzinfo is not None
    # Same address (any case): nothing written, the transaction still usable.
    assert not insert_unless_taken(session, person("Second", "ONE@example.org"),
                                   ("assembly_id", "email"))
    # No address never clashes.
    assert insert_unless_taken(session, person("Third", None), ("assembly_id", "email"))
    assert insert_unless_taken(session, person("Fourth", None), ("assembly_id", "email"))
    session.commit()
    stored = session.execute(select(Delegate.family_name, Delegate.status)
                             .order_by(Delegate.id)).all()
    assert stored == [("First", DelegateStatus.REGISTERED), ("Third", DelegateStatus.REGISTERED),
                      ("Fourth", DelegateStatus.REGISTERED)]
