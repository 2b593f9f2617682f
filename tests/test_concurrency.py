"""Limits that must hold under concurrent requests: a holder's proxy letters, an item's places.

Real threads, each with its own database session, started together by a barrier. On
PostgreSQL the holder's delegation row is locked with SELECT … FOR UPDATE; on SQLite the first
write of the transaction takes the database's write lock. Both runs of CI execute these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from models import (
    ACTIVE_PROXY_STATUSES,
    Assembly,
    AssemblyStatus,
    Delegate,
    Delegation,
    DelegationStatus,
    MemberCity,
    Network,
    ProgrammeItem,
    ProxyLetter,
    Role,
    Signup,
    User,
)
from models.errors import DomainError
from services.delegations import add_delegate, update_delegate
from services.programme import sign_up
from services.proxies import Document, submit_letter
from tests.registration_helpers import PDF
from webapp.extensions import db

THREADS = 50


def _network(session: Any, cities: int, max_proxies: int = 2) -> Assembly:
    network = Network(code="LOAD", name={"en": "Load test"}, secretariat_email="s@example.org",
                      home_timezone="Asia/Tokyo")
    members = [MemberCity(network=network, code=f"C{i:03d}", name={"en": f"City {i}"},
                          country="JP", timezone="Asia/Tokyo") for i in range(cities)]
    assembly = Assembly(network=network, slug="load", title={"en": "Load"},
                        host_city=members[0], venue={}, timezone="Asia/Tokyo",
                        home_timezone="Asia/Tokyo", starts_on=date(2030, 1, 1),
                        ends_on=date(2030, 1, 2), status=AssemblyStatus.OPEN,
                        registration_deadline=datetime.now(UTC) + timedelta(days=30),
                        proxy_deadline=datetime.now(UTC) + timedelta(days=30),
                        max_proxies_per_holder=max_proxies)
    session.add_all([network, *members, assembly])
    for i, city in enumerate(members):
        status = DelegationStatus.ATTENDING if i == 0 else DelegationStatus.ABSENT
        session.add(Delegation(assembly=assembly, city=city, status=status))
    session.commit()
    return assembly


def _together(app: Flask, work: Callable[[Any, User | None, int], object]) -> list[str]:
    """Run work(session, secretariat, i) for every i in threads that start at the same
    moment, each in its own app context and transaction: "ok" once committed, else the
    DomainError's code ("" when anything else went wrong)."""
    barrier = threading.Barrier(THREADS)
    results: list[str] = [""] * THREADS

    def attempt(i: int) -> str:
        with app.app_context():
            session = db.session
            user = session.scalar(select(User).where(User.email == "sec@example.org"))
            try:
                work(session, user, i)
                session.commit()
                return "ok"
            except DomainError as exc:
                session.rollback()
                return exc.code

    def run(i: int) -> None:
        barrier.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_letters_naming_one_holder_leave_the_limit(app: Flask,
                                                         make_user: Callable[..., User]) -> None:
    with app.app_context():
        assembly_id = _network(db.session, THREADS + 1, max_proxies=2).id
    make_user("sec@example.org", Role.SECRETARIAT)

    def submit(session: Any, user: User | None, i: int) -> None:
        cities = {c.code: c for c in session.scalars(select(MemberCity))}
        submit_letter(session, session.get(Assembly, assembly_id), cities[f"C{i + 1:03d}"],
                      cities["C000"], signatory_name="Mayor", user=user,
                      document=Document(PDF, "letter.pdf"))

    results = _together(app, submit)
    assert results.count("ok") == 2, results
    assert set(results) == {"ok", "holder_limit"}, results
    with app.app_context():
        active = db.session.scalar(select(func.count(ProxyLetter.id)).where(
            ProxyLetter.status.in_(ACTIVE_PROXY_STATUSES)))
        assert active == 2


def test_fifty_signups_for_ten_places(app: Flask) -> None:
    with app.app_context():
        assembly = _network(db.session, 1)
        item = ProgrammeItem(assembly=assembly, title={"en": "Field trip"},
                             starts_at=datetime(2030, 1, 1, 1, tzinfo=UTC),
                             ends_at=datetime(2030, 1, 1, 5, tzinfo=UTC), capacity=10)
        delegation = db.session.scalar(select(Delegation))
        people = [Delegate(assembly_id=assembly.id, delegation=delegation,
                           family_name=f"Person {i}") for i in range(THREADS)]
        db.session.add_all([item, *people])
        db.session.commit()
        item_id, person_ids = item.id, [p.id for p in people]

    def take(session: Any, _user: User | None, i: int) -> None:
        sign_up(session, session.get(Delegate, person_ids[i]),
                session.get(ProgrammeItem, item_id))

    results = _together(app, take)
    assert results.count("ok") == 10 and results.count("full") == 40, results
    with app.app_context():
        assert db.session.scalar(select(func.count(Signup.id))) == 10
        assert db.session.get(ProgrammeItem, item_id).signup_count == 10


ACCEPTERS = 8


def test_an_invitation_link_accepted_eight_times_at_once_logs_in_one(
        app: Flask, make_user: Callable[..., User]) -> None:
    """Eight browsers post the same one-time link at the same moment: one sets the password
    and is logged in, the seven others are told the link was used."""
    from services.invitations import invite_liaison
    from tests.conftest import csrf_token

    make_user("sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        _network(db.session, 2)
        sec = db.session.scalar(select(User).where(User.email == "sec@example.org"))
        city = db.session.scalar(select(MemberCity).where(MemberCity.code == "C001"))
        _invitation, token = invite_liaison(db.session, city, "liaison@example.org", "en", sec)
        db.session.commit()
    path = f"/invitation/{token}"
    clients = [app.test_client() for _ in range(ACCEPTERS)]
    tokens = [csrf_token(c.get(path).get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(ACCEPTERS)
    statuses: list[int] = [0] * ACCEPTERS

    def accept(i: int) -> None:
        barrier.wait()
        response = clients[i].post(path, data={
            "csrf_token": tokens[i], "password": f"password number {i}",
            "confirm": f"password number {i}"})
        statuses[i] = response.status_code

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(ACCEPTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses.count(302) == 1, statuses
    assert set(statuses) == {302, 409}, statuses
    winner = statuses.index(302)
    logged_in = [c.get("/my/").status_code == 200 for c in clients]
    assert logged_in == [i == winner for i in range(ACCEPTERS)], logged_in
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "liaison@example.org"))
        # The password is the winner's, not whichever request wrote last.
        assert user.check_password(f"password number {winner}")


def test_fifty_registrations_of_one_address_at_once_keep_one(
        app: Flask, make_user: Callable[..., User]) -> None:
    """The unique (assembly, email) constraint answers in the INSERT itself: a check made
    before the write would let two of them through to an IntegrityError (a 500)."""
    with app.app_context():
        assembly_id = _network(db.session, THREADS).id
    make_user("sec@example.org", Role.SECRETARIAT)

    def register(session: Any, user: User | None, i: int) -> None:
        city = session.scalar(select(MemberCity).where(MemberCity.code == f"C{i:03d}"))
        add_delegate(session, session.get(Assembly, assembly_id), city,
                     {"family_name": f"Person {i}", "email": "same@example.org"}, user)

    results = _together(app, register)
    assert results.count("ok") == 1, results
    assert set(results) == {"ok", "duplicate_email"}, results
    with app.app_context():
        assert db.session.scalar(select(func.count(Delegate.id)).where(
            Delegate.email == "same@example.org")) == 1


def test_fifty_delegates_changed_to_one_address_at_once_keep_one(
        app: Flask, make_user: Callable[..., User]) -> None:
    with app.app_context():
        assembly = _network(db.session, 1)
        delegation = db.session.scalar(select(Delegation))
        people = [Delegate(assembly_id=assembly.id, delegation=delegation,
                           family_name=f"Person {i}") for i in range(THREADS)]
        db.session.add_all(people)
        db.session.commit()
        person_ids = [p.id for p in people]
    make_user("sec@example.org", Role.SECRETARIAT)

    def change(session: Any, user: User | None, i: int) -> None:
        update_delegate(session, session.get(Delegate, person_ids[i]),
                        {"email": "same@example.org"}, user)

    results = _together(app, change)
    assert results.count("ok") == 1, results
    assert set(results) == {"ok", "duplicate_email"}, results
