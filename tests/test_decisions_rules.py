"""The outcome's rules on the model: the demo's Tomsk outcome, the attendance bases registry,
the frozen picture, who may sign."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import (
    Decision,
    DecisionKind,
    DecisionMethod,
    Delegate,
    DelegateRole,
    Delegation,
    MemberCity,
    Minutes,
    MinutesPointKind,
    ProxyLetter,
    ProxyStatus,
    Role,
    User,
    VoteChoice,
)
from models.errors import DomainError
from services.decisions import snapshot
from services.decisions.lifecycle import DecisionDraft, create_decision, open_decision
from services.decisions.signatories import add_signatory
from services.decisions.snapshot import PICTURES, Picture, Proxy, register_picture
from services.decisions.votes import cast_vote
from services.demo import load_tomsk_2014


def _secretariat(session) -> User:
    user = User(email="sec@example.org", role=Role.SECRETARIAT, password_hash="x")
    session.add(user)
    session.flush()
    return user


def _city(session, code: str) -> MemberCity:
    return session.scalar(select(MemberCity).where(MemberCity.code == code))


def test_the_demo_carries_the_tomsk_outcome(session) -> None:
    assembly = load_tomsk_2014(session)
    session.commit()
    minutes = session.scalars(select(Minutes).where(Minutes.assembly_id == assembly.id)).all()
    assert len(minutes) == 4
    reports = [p for m in minutes for p in m.points if p.kind is MinutesPointKind.REPORT]
    assert len(reports) == 9
    environment = next(p for p in reports if p.title["ja"] == "都市と地球の環境問題")
    assert environment.cities == ["TYO", "ULN"]
    declaration = session.scalar(select(Decision).where(Decision.assembly_id == assembly.id))
    assert declaration.kind is DecisionKind.DECLARATION
    assert declaration.method is DecisionMethod.CONSENSUS
    assert declaration.decided_at.astimezone(ZoneInfo("Asia/Tomsk")).date().isoformat() == \
        "2014-09-06"
    frozen = declaration.snapshot
    assert frozen["basis"] == "registration" and frozen["quorum"]["counted"] == 7
    assert frozen["represented"][0]["city"] == "JKT" and frozen["represented"][0]["holder"] == "TYO"
    assert [s.city.code for s in declaration.signatories] == ["HAN", "SEL", "TYO", "ULN", "TOF"]
    assert "BKK" in frozen["present"]  # present, yet its minister did not sign


def test_another_basis_can_be_registered_and_used(session, monkeypatch) -> None:
    # Removed again after the test (monkeypatch remembers the key was absent).
    monkeypatch.setitem(PICTURES, "venue", snapshot.registration_picture)
    assembly = load_tomsk_2014(session)
    user = _secretariat(session)

    def at_the_venue(_session, _assembly) -> Picture:  # only Tokyo's representative arrived
        return Picture(present=["TYO"], represented=[Proxy("JKT", "TYO", 1)],
                       absent=["BKK", "DEL"], extra={"source": "badges"})

    register_picture("venue", at_the_venue)
    decision = create_decision(session, assembly, DecisionDraft(title={"en": "Budget"}), user)
    with pytest.raises(DomainError) as refused:
        open_decision(session, decision, user, basis="venue")
    assert refused.value.code == "quorum_not_reached" and refused.value.status == 409
    assert "2 of 4" in refused.value.message and "3 needed" in refused.value.message
    with pytest.raises(DomainError) as unknown:
        open_decision(session, decision, user, basis="badges")
    assert unknown.value.status == 422 and unknown.value.field == "basis"
    assembly.quorum = assembly.quorum.HALF
    opened = open_decision(session, decision, user, basis="venue")
    assert opened.snapshot["basis"] == "venue" and opened.snapshot["extra"] == {
        "source": "badges"}


def test_the_picture_stays_frozen_and_absent_cities_neither_vote_nor_sign(session) -> None:
    assembly = load_tomsk_2014(session)
    user = _secretariat(session)
    decision = create_decision(session, assembly, DecisionDraft(
        title={"en": "Declaration"}, kind=DecisionKind.DECLARATION), user)
    with pytest.raises(DomainError):  # a draft takes no votes
        cast_vote(session, decision, _city(session, "TYO"), VoteChoice.YES, user)
    open_decision(session, decision, user, datetime(2014, 9, 6, 4, tzinfo=UTC))
    # Jakarta's letter is rejected after the decision was put: its vote still counts as
    # frozen, cast by Tokyo.
    letter = session.scalar(select(ProxyLetter))
    letter.status = ProxyStatus.REJECTED
    session.flush()
    vote = cast_vote(session, decision, _city(session, "JKT"), VoteChoice.YES, user)
    assert vote.cast_by.code == "TYO" and vote.by_proxy and vote.letter_id == letter.id
    delhi = session.scalar(select(Delegation).where(
        Delegation.assembly_id == assembly.id, Delegation.city_id == _city(session, "DEL").id))
    stranger = Delegate(assembly_id=assembly.id, delegation=delhi, family_name="Kumar")
    session.add(stranger)
    session.flush()
    with pytest.raises(DomainError) as refused:
        add_signatory(session, decision, stranger.id, user)
    assert refused.value.code == "city_not_present"
    with pytest.raises(DomainError) as refused:
        cast_vote(session, decision, _city(session, "DEL"), VoteChoice.YES, user)
    assert refused.value.code == "city_cannot_vote"


def test_migration_0016_goes_down_and_up(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from models.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "0015")
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"decisions", "votes", "decision_signatories", "minutes",
                         "minutes_speakers", "minutes_points"}
    command.upgrade(config, "head")
    assert {"decisions", "votes", "minutes"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_clerks_at_the_same_moment_one_vote_per_city_one_signatory_per_city(app) -> None:
    import threading
    from datetime import date

    from tests.decision_helpers import load_upcoming_assembly
    from webapp.extensions import db

    threads = 8
    with app.app_context():
        session = db.session
        tomsk = load_tomsk_2014(session)
        upcoming = load_upcoming_assembly(session, tomsk, date.today())
        user = _secretariat(session)
        resolution = session.scalar(select(Decision).where(Decision.assembly_id == upcoming.id))
        open_decision(session, resolution, user)
        declaration = session.scalar(select(Decision).where(Decision.assembly_id == tomsk.id))
        tokyo = session.scalars(select(Delegate.id).join(Delegate.delegation).where(
            Delegation.assembly_id == tomsk.id,
            Delegation.city_id == _city(session, "TYO").id)).all()[:threads]
        session.commit()
        ids = (resolution.id, declaration.id)

    def together(work) -> list[str]:
        barrier = threading.Barrier(threads)
        results = [""] * threads

        def run(i: int) -> None:
            barrier.wait()
            with app.app_context():
                try:
                    work(i)
                    db.session.commit()
                    results[i] = "ok"
                except DomainError as exc:
                    db.session.rollback()
                    results[i] = exc.code

        workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        return results

    def vote(i: int) -> None:
        session = db.session
        user = session.scalar(select(User).where(User.email == "sec@example.org"))
        cast_vote(session, session.get(Decision, ids[0]), _city(session, "JKT"),
                  VoteChoice.YES if i % 2 else VoteChoice.NO, user)

    assert together(vote) == ["ok"] * threads

    with app.app_context():
        from models import Signatory, Vote

        votes = db.session.scalars(select(Vote).where(Vote.decision_id == ids[0])).all()
        assert [v.city.code for v in votes] == ["JKT"] and votes[0].cast_by.code == "TYO"
        db.session.query(Signatory).delete()
        db.session.commit()

    def sign_fresh(i: int) -> None:
        session = db.session
        user = session.scalar(select(User).where(User.email == "sec@example.org"))
        add_signatory(session, session.get(Decision, ids[1]), tokyo[i], user)

    results = together(sign_fresh)
    assert results.count("ok") == 1 and set(results) == {"ok", "already_signed"}, results


def test_a_decision_put_on_the_checkin_basis_counts_who_is_at_the_venue(session) -> None:
    from services.checkin.desk import check_in

    assembly = load_tomsk_2014(session)
    user = _secretariat(session)
    session.commit()
    decision = create_decision(session, assembly, DecisionDraft(title={"en": "Budget"}), user)
    with pytest.raises(DomainError) as refused:
        open_decision(session, decision, user, basis="checkin")
    assert refused.value.code == "checkin_not_started" and refused.value.status == 409
    session.rollback()
    decision = create_decision(session, assembly, DecisionDraft(title={"en": "Budget"}), user)
    session.commit()
    representatives = session.scalars(
        select(Delegate).join(Delegate.delegation)
        .where(Delegation.assembly_id == assembly.id,
               Delegate.role == DelegateRole.REPRESENTATIVE)).all()
    bangkok = next(p for p in representatives if p.delegation.city.code == "BKK")
    for person in representatives:
        if person is not bangkok:  # Bangkok's minister has not arrived yet
            check_in(session, assembly, user, delegate_id=person.id)
    with pytest.raises(DomainError) as refused:
        open_decision(session, decision, user, basis="checkin")
    assert refused.value.code == "quorum_not_reached"
    assert "6 of 13" in refused.value.message  # five here and Jakarta through Tokyo
    session.rollback()
    check_in(session, assembly, user, delegate_id=bangkok.id)
    decision = session.get(Decision, decision.id)
    opened = open_decision(session, decision, user, basis="checkin")
    frozen = opened.snapshot
    assert frozen["basis"] == "checkin" and frozen["quorum"]["counted"] == 7
    assert sorted(frozen["present"]) == ["BKK", "HAN", "SEL", "TOF", "TYO", "ULN"]
    assert frozen["represented"][0]["city"] == "JKT"  # its holder, Tokyo, is here
