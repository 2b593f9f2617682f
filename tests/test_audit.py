"""The audit trail: every action in services.audit.ACTIONS leaves one entry with who, when
(aware), from where and the values before and after. One test per action, generated from
the table ACTIONS_DONE below; a new action without a row fails test_the_table_covers_….
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    AssemblyStatus,
    AuditEntry,
    DecisionMethod,
    Delegate,
    Delegation,
    DelegationStatus,
    MemberCity,
    Role,
    User,
    VoteChoice,
    utcnow,
)
from services.accounts import issue_token
from services.audit import ACTIONS, set_origin
from services.checkin.desk import check_in, undo_check_in
from services.decisions.lifecycle import (
    DecisionDraft,
    adopt_by_consensus,
    close_vote,
    create_decision,
    open_decision,
    withdraw_decision,
)
from services.decisions.votes import cast_vote
from services.delegations import (
    add_delegate,
    cancel_delegate,
    set_delegation_status,
    update_delegate,
)
from services.proxies import Document, reject_letter, submit_letter, verify_letter
from services.reminders.defaults import create_default_reminders
from services.reminders.sweep import send_due_reminders
from services.retention import anonymise_expired, erase_delegate
from services.summaries.jobs import request_summary
from tests.conftest import PASSWORD, login
from tests.registration_helpers import PDF
from tests.test_reminders import open_assembly

ORIGIN = "203.0.113.9"
SEC = "audit.sec@example.org"


@dataclass
class World:
    session: Any
    client: FlaskClient
    sec: User
    assembly: Any

    def city(self, code: str) -> MemberCity:
        return self.session.scalar(select(MemberCity).where(MemberCity.code == code))

    def letter(self) -> Any:
        return submit_letter(self.session, self.assembly, self.city("JKT"), self.city("TYO"),
                             signatory_name="Joko", user=self.sec,
                             document=Document(PDF, "letter.pdf"))

    def delegate(self) -> Delegate:
        return add_delegate(self.session, self.assembly, self.city("TYO"),
                            {"family_name": "Yamada", "email": "yamada@example.org"}, self.sec)


# action → (what does it, the subject it names, the actor, keys of before, keys of after)
Doer = Callable[[World], str]


def _submitted(w: World) -> str:
    return f"proxy_letter:{w.letter().id}"


def _verified(w: World) -> str:
    letter = w.letter()
    verify_letter(w.session, letter, w.sec)
    return f"proxy_letter:{letter.id}"


def _rejected(w: World) -> str:
    letter = w.letter()
    reject_letter(w.session, letter, w.sec, "unsigned")
    return f"proxy_letter:{letter.id}"


def _status(w: World) -> str:
    delegation = set_delegation_status(w.session, w.assembly, w.city("DEL"),
                                       DelegationStatus.ATTENDING, w.sec)
    return f"delegation:{delegation.id}"


def _added(w: World) -> str:
    return f"delegate:{w.delegate().id}"


def _changed(w: World) -> str:
    delegate = w.delegate()
    update_delegate(w.session, delegate, {"given_name": "Taro"}, w.sec)
    return f"delegate:{delegate.id}"


def _cancelled(w: World) -> str:
    delegate = w.delegate()
    cancel_delegate(w.session, delegate, w.sec)
    return f"delegate:{delegate.id}"


def _reminder(w: World) -> str:
    w.assembly.registration_deadline = utcnow() + timedelta(days=3) - timedelta(minutes=1)
    reminders = create_default_reminders(w.session, w.assembly)
    w.session.commit()
    assert send_due_reminders(w.session, w.client.application.config["SOKAI_SETTINGS"]) == 2
    return f"reminder:{reminders[1].id}"


def _summary(w: World) -> str:
    job, created = request_summary(w.session, w.assembly, w.sec, "en")
    assert created
    return f"summary_job:{job.id}"


def _erased(w: World) -> str:
    delegate = w.delegate()
    erase_delegate(w.session, delegate, w.sec)
    return f"delegate:{delegate.id}"


def _anonymised(w: World) -> str:
    w.assembly.status = AssemblyStatus.CLOSED
    w.assembly.ends_on = date(2014, 9, 5)
    w.session.commit()
    assert anonymise_expired(w.session) > 0
    return f"assembly:{w.assembly.slug}"


def _decision(w: World, method: DecisionMethod = DecisionMethod.VOTE) -> Any:
    # Delhi attends: seven of thirteen, the quorum is reached.
    delhi = w.session.scalar(select(Delegation).where(
        Delegation.assembly_id == w.assembly.id, Delegation.city_id == w.city("DEL").id))
    delhi.status = DelegationStatus.ATTENDING
    return create_decision(w.session, w.assembly, DecisionDraft(
        title={"en": "Resolution on audit"}, method=method), w.sec)


def _opened(w: World) -> str:
    decision = _decision(w)
    open_decision(w.session, decision, w.sec)
    return f"decision:{decision.id}"


def _voted(w: World) -> str:
    decision = _decision(w)
    open_decision(w.session, decision, w.sec)
    cast_vote(w.session, decision, w.city("TYO"), VoteChoice.YES, w.sec)
    return f"decision:{decision.id}"


def _closed(w: World) -> str:
    decision = _decision(w)
    open_decision(w.session, decision, w.sec)
    close_vote(w.session, decision, w.sec)
    return f"decision:{decision.id}"


def _adopted(w: World) -> str:
    decision = _decision(w, DecisionMethod.CONSENSUS)
    adopt_by_consensus(w.session, decision, w.sec)
    return f"decision:{decision.id}"


def _withdrawn(w: World) -> str:
    decision = _decision(w)
    withdraw_decision(w.session, decision, w.sec)
    return f"decision:{decision.id}"


def _present_delegate(w: World) -> Delegate:
    return w.session.scalar(select(Delegate).join(Delegation).join(MemberCity).where(
        Delegate.assembly_id == w.assembly.id, MemberCity.code == "TYO",
        Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id))


def _checked_in(w: World) -> str:
    delegate = _present_delegate(w)
    check_in(w.session, w.assembly, w.sec, delegate_id=delegate.id)
    return f"delegate:{delegate.id}"


def _check_in_undone(w: World) -> str:
    delegate = _present_delegate(w)
    check_in(w.session, w.assembly, w.sec, delegate_id=delegate.id)
    undo_check_in(w.session, w.assembly, w.sec, delegate.id)
    return f"delegate:{delegate.id}"


def _login(w: World) -> str:
    assert login(w.client, SEC).status_code == 302
    return f"user:{SEC}"


def _failed_login(w: World) -> str:
    assert login(w.client, SEC, "not the password").status_code == 200
    return f"user:{SEC}"


# action: (doer, actor, before keys, after keys, origin); None keys: no values (an event).
ACTIONS_DONE: dict[str, tuple[Doer, str, set[str] | None, set[str] | None, str]] = {
    "proxy.submitted": (_submitted, SEC, None, {"grantor", "holder", "status", "sha256"},
                        ORIGIN),
    "proxy.verified": (_verified, SEC, {"status"}, {"status"}, ORIGIN),
    "proxy.rejected": (_rejected, SEC, {"status"}, {"status", "reason"}, ORIGIN),
    "delegation.status_changed": (_status, SEC, {"city", "status"}, {"city", "status"},
                                  ORIGIN),
    "delegate.added": (_added, SEC, None, {"family_name", "email", "status"}, ORIGIN),
    "delegate.changed": (_changed, SEC, {"given_name"}, {"given_name"}, ORIGIN),
    "delegate.cancelled": (_cancelled, SEC, {"status"}, {"status"}, ORIGIN),
    "reminder.triggered": (_reminder, "system", {"status"}, {"status", "recipients"}, ORIGIN),
    "summary.triggered": (_summary, SEC, None, {"language", "data_version"}, ORIGIN),
    "delegate.erased": (_erased, SEC, None, {"anonymised"}, ORIGIN),
    "retention.anonymised": (_anonymised, "system", None, {"delegates", "retention_months"},
                             ORIGIN),
    "decision.opened": (_opened, SEC, {"status"}, {"status", "quorum", "opened_at"}, ORIGIN),
    "decision.voted": (_voted, SEC, None, {"city", "choice", "cast_by"}, ORIGIN),
    "decision.closed": (_closed, SEC, {"status"}, {"status", "tally"}, ORIGIN),
    "decision.adopted": (_adopted, SEC, {"status"}, {"status"}, ORIGIN),
    "decision.withdrawn": (_withdrawn, SEC, {"status"}, {"status"}, ORIGIN),
    "checkin.recorded": (_checked_in, SEC, {"checked_in_at"}, {"checked_in_at", "via"},
                         ORIGIN),
    "checkin.undone": (_check_in_undone, SEC, {"checked_in_at"}, {"checked_in_at"}, ORIGIN),
    # Through the login page: "from where" is the client's address.
    "login.succeeded": (_login, SEC, None, None, "127.0.0.1"),
    "login.failed": (_failed_login, SEC, None, None, "127.0.0.1"),
}


def test_the_table_covers_every_action() -> None:
    assert set(ACTIONS_DONE) == set(ACTIONS)


@pytest.fixture
def world(app: Flask, session: Any, make_user: Callable[..., User]) -> World:
    assembly = open_assembly(session)
    make_user(SEC, Role.SECRETARIAT)
    sec = session.scalar(select(User).where(User.email == SEC))
    session.commit()
    return World(session, app.test_client(), sec, assembly)


@pytest.mark.parametrize("action", sorted(ACTIONS_DONE))
def test_each_action_leaves_one_entry(world: World, action: str) -> None:
    doer, actor, before_keys, after_keys, origin = ACTIONS_DONE[action]
    session = world.session
    set_origin(ORIGIN)  # as the web app does for a request from this address
    try:
        started = utcnow()
        subject = doer(world)
        session.commit()
    finally:
        set_origin("system")
    found = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
    assert len(found) == 1, [(e.action, e.subject) for e in found]
    entry = found[0]
    assert entry.subject == subject
    assert entry.actor == actor
    assert entry.origin == origin
    assert entry.at.tzinfo is not None and entry.at >= started - timedelta(seconds=1)
    if before_keys is None:
        assert not entry.before or action == "proxy.submitted"
    else:
        assert before_keys <= set(entry.before or {})
    if after_keys is None:
        assert entry.after is None
    else:
        assert after_keys <= set(entry.after or {})


def test_the_trail_has_a_filterable_page_and_api(world: World) -> None:
    session = world.session
    set_origin(ORIGIN)
    try:
        _verified(world)
        _added(world)
        session.commit()
    finally:
        set_origin("system")
    client = world.client
    login(client, SEC, PASSWORD)
    page = client.get("/secretariat/audit?action=proxy.verified").get_data(as_text=True)
    assert 'data-action="proxy.verified"' in page and 'data-action="delegate.added"' not in page
    assert "(UTC+00:00)" in page  # every time with its zone
    everything = client.get("/secretariat/audit").get_data(as_text=True)
    assert 'data-action="delegate.added"' in everything
    bad = client.get("/secretariat/audit?since=yesterday")
    assert bad.status_code == 422 and "is-invalid" in bad.get_data(as_text=True)

    token = issue_token(session, SEC)
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/audit?subject=delegate", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert [e["action"] for e in body] == ["delegate.added"]
    assert body[0]["after"]["family_name"] == "Yamada" and body[0]["origin"] == ORIGIN
    assert body[0]["at"].endswith("+00:00") or body[0]["at"].endswith("Z")
    since = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/audit", headers=headers,
                      query_string={"since": since}).get_json() == []
    naive = client.get("/api/v1/audit?since=2014-09-04T16:00", headers=headers)
    assert naive.status_code == 422
    assert naive.get_json()["error"]["fields"].keys() >= {"since"}
    unknown = client.get("/api/v1/audit?action=nothing", headers=headers)
    assert unknown.status_code == 422


def test_entries_are_only_added(world: World) -> None:
    # Nothing in the services deletes an entry or updates entries in bulk: the trail only
    # grows (services.audit.redact blanks personal values inside entries, one by one).
    import pathlib

    source = pathlib.Path("services").rglob("*.py")
    offenders = [str(p) for p in source
                 if "AuditEntry" in (text := p.read_text())
                 and ("delete(AuditEntry" in text or "update(AuditEntry" in text)]
    assert offenders == []
    assert world.session.scalar(select(func.count(AuditEntry.id))) == 0
