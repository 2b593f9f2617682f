"""Issue 9, "What was seen": one test per item that failed on the code before the fix.

Items 4–7, 9 and 11 landed earlier with their own tests (test_redis_outage, test_concurrency,
test_security_headers, test_auth, test_proxies, test_feeds, test_cli …); docs/security.md
lists them. Here: the text rule at every boundary (1, 2), no 500 for bad input (3), formulas
in every cell (8), and jobs that recover from a killed worker at once (10).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from config import Settings
from models import (
    Assembly,
    Delegate,
    Delegation,
    DelegationStatus,
    MailStatus,
    MemberCity,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Role,
    SummaryJob,
    SummaryStatus,
    User,
    utcnow,
)
from services.reminders.editing import create_reminder
from services.reminders.sweep import send_due_reminders
from services.summaries.building import render_report
from services.summaries.jobs import TAKEOVER, claim
from services.summaries.report import data_version
from tests.conftest import csrf_token, login, service_env, wait_for
from tests.registration_helpers import PDF, bearer
from tests.test_registration_pages import SLUG, open_demo
from webapp.extensions import db

EVIL = "Crlf\r\nBcc: x@evil.org"
POSTGRES = bool(os.environ.get("SOKAI_TEST_DATABASE_URL", "").startswith("postgresql"))


@pytest.fixture
def liaison(app: Flask, make_user: Callable[..., User]) -> dict[str, str]:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    return bearer(app, make_user, "jkt@example.org", Role.LIAISON, "JKT")


def _delegates(app: Flask, family_name: str) -> list[Delegate]:
    with app.app_context():
        return list(db.session.scalars(select(Delegate).where(
            Delegate.family_name == family_name)))


def _csv(*rows: str) -> bytes:
    return ("family_name,given_name,role\n" + "\n".join(rows) + "\n").encode()


# --- 1. a CR/LF name is refused everywhere it could enter -----------------------------------


def test_1_a_crlf_name_is_refused_with_422_by_api_form_and_import(
        app: Flask, client: FlaskClient, liaison: dict[str, str]) -> None:
    api = f"/api/v1/assemblies/{SLUG}/delegates"
    response = client.post(api, headers=liaison, json={"family_name": EVIL})
    assert response.status_code == 422, response.get_json()
    assert "family_name" in response.get_json()["error"]["fields"]
    response = client.post(api, headers=liaison, json={"family_name": "Widodo",
                                                       "title": {"en": "Gov\nernor"}})
    assert response.status_code == 422
    assert "title.en" in response.get_json()["error"]["fields"]
    person = client.post(api, headers=liaison, json={"family_name": "Widodo"}).get_json()
    response = client.patch(f"{api}/{person['id']}", headers=liaison,
                            json={"given_name": EVIL})
    assert response.status_code == 422
    assert "given_name" in response.get_json()["error"]["fields"]

    response = client.post(f"/api/v1/assemblies/{SLUG}/delegations/JKT/import",
                           headers=liaison, data={"file": (io.BytesIO(_csv(
                               f'"{EVIL}",Joko,delegate')), "jakarta.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["rows"][0]["column"] == "family_name"

    login(client, "jkt@example.org")
    token = csrf_token(client.get(f"/my/{SLUG}").get_data(as_text=True))
    response = client.post(f"/my/{SLUG}/delegates", data={
        "csrf_token": token, "family_name": EVIL, "role": "delegate", "language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "line breaks are not allowed" in html
    response = client.post(f"/my/{SLUG}/import", data={
        "csrf_token": token, "file": (io.BytesIO(_csv(f'"{EVIL}",Joko,delegate')),
                                      "jakarta.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert _delegates(app, EVIL) == [] and _delegates(app, "Crlf") == []


def _due_reminders(app: Flask, count: int) -> list[int]:
    """`count` reminders to all delegates, due now."""
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == SLUG))
        assembly.proxy_deadline = utcnow() + timedelta(hours=1)
        ids = []
        for n in range(count):
            reminder = create_reminder(
                db.session, assembly, anchor="proxy_deadline", offset="-PT1H",
                audience="delegates", subject={"en": f"Reminder {n}", "ja": f"お知らせ {n}"},
                body={"en": "Dear {{ recipient_name }}", "ja": "{{ recipient_name }} 様"})
            ids.append(reminder.id)
        db.session.commit()
        return ids


def test_1_a_bad_name_already_stored_fails_alone_and_the_sweep_goes_on(
        app: Flask, settings: Settings) -> None:
    open_demo(app)
    with app.app_context():
        # Written as data kept from before the rule would be: straight into the table.
        jakarta = db.session.scalar(select(Delegation).join(MemberCity).where(
            MemberCity.code == "JKT", Delegation.assembly.has(Assembly.slug == SLUG)))
        jakarta.status = DelegationStatus.ATTENDING
        db.session.add(Delegate(assembly_id=jakarta.assembly_id, delegation=jakarta,
                                family_name=EVIL, email="crlf@example.org", title={}))
        db.session.execute(update(Delegate).where(Delegate.email.is_(None)).values(
            email=Delegate.id.cast(db.String) + "@people.example.org"))
        db.session.commit()
    first, second = _due_reminders(app, 2)
    with app.app_context():
        queued = send_due_reminders(db.session, settings)
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "reminder")).all()
        bad = [m for m in rows if m.to_address == "crlf@example.org"]
        assert len(bad) == 2 and {m.status for m in bad} == {MailStatus.FAILED}
        assert all("HeaderInjectionError" in m.last_error for m in bad)
        # Queued for delivery (a running worker may already have sent some of them).
        good = [m for m in rows if m.status is not MailStatus.FAILED]
        assert queued == len(rows) and len(good) == len(rows) - 2 > 100
        statuses = {r.id: r.status for r in db.session.scalars(select(Reminder).where(
            Reminder.id.in_([first, second])))}
        assert statuses == {first: ReminderStatus.SENT, second: ReminderStatus.SENT}


def test_1_a_reminder_that_cannot_be_built_is_failed_with_its_reason_and_others_go_out(
        app: Flask, client: FlaskClient, settings: Settings,
        make_user: Callable[..., User]) -> None:
    open_demo(app)
    broken, fine = _due_reminders(app, 2)
    with app.app_context():
        # A template stored before its check, that does not even compile.
        db.session.execute(update(Reminder).where(Reminder.id == broken).values(
            body={"en": "Dear {{ recipient_name ", "ja": "{% if %}"}))
        db.session.commit()
        assert send_due_reminders(db.session, settings) > 50
        broken_row, fine_row = db.session.get(Reminder, broken), db.session.get(Reminder, fine)
        assert broken_row.status is ReminderStatus.FAILED and "not sent" in broken_row.note
        assert fine_row.status is ReminderStatus.SENT and fine_row.recipient_count > 50
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    html = client.get(f"/secretariat/assemblies/{SLUG}/reminders").get_data(as_text=True)
    assert "failed" in html and "not sent" in html


# --- 2. control characters never reach the summary; a summary never fails on a cell ------


@pytest.mark.parametrize("name", ["Vertical\vTab", "Device\x12Control", "Nul\x00", "Esc\x1b",
                                  "C1\x85", "Sep\u2028"])
def test_2_control_characters_in_a_name_are_refused(
        app: Flask, client: FlaskClient, liaison: dict[str, str], name: str) -> None:
    response = client.post(f"/api/v1/assemblies/{SLUG}/delegates", headers=liaison,
                           json={"family_name": name})
    assert response.status_code == 422, response.get_json()
    assert "family_name" in response.get_json()["error"]["fields"]


def test_2_a_nul_in_an_assembly_title_is_refused(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_demo(app)
    sec = bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)
    response = client.patch(f"/api/v1/assemblies/{SLUG}", headers=sec,
                            json={"title": {"en": "Tomsk\x00"}})
    assert response.status_code == 422
    assert "title.en" in response.get_json()["error"]["fields"]


def test_2_a_summary_of_old_bad_cells_is_built_and_its_mail_queued(
        app: Flask, settings: Settings, make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == SLUG))
        person = db.session.scalars(select(Delegate).join(Delegation).where(
            Delegate.assembly_id == assembly.id,
            Delegation.status == DelegationStatus.ATTENDING)).first()
        person.family_name, person.given_name = "Vertical\vTab", "Device\x12Control"
        # PostgreSQL cannot even store a NUL: there, a title starting with a formula.
        assembly.title = {"en": "=cmd|' /C calc'!A0" + ("" if POSTGRES else "\x00 Tomsk"),
                          "ja": "トムスク"}
        user = db.session.scalar(select(User).where(User.email == "sec@example.org"))
        job = SummaryJob(assembly_id=assembly.id, requested_by_id=user.id, language="en",
                         data_version=data_version(db.session, assembly))
        db.session.add(job)
        db.session.commit()
        assert render_report(db.session, job.id, settings) == "done"
        db.session.refresh(job)
        path = settings.instance_path / job.file("xlsx")["path"]
        mail = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "summary_ready"))
        assert mail is not None and "\x00" not in mail.subject
    book = load_workbook(path)
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    text = " ".join(cells).upper()  # family names are written in capitals
    assert "VERTICALTAB" in text and "DEVICECONTROL" in text
    # 8. The title heads the first sheet: text, never a formula.
    title = book.worksheets[0]["A1"]
    assert title.data_type == "s" and title.value.startswith("'=cmd")


# --- 3. bad input is a 4xx, never a 500 ------------------------------------------------------


def test_3_nul_bytes_and_huge_ids_in_urls_are_404_or_400(
        app: Flask, client: FlaskClient, liaison: dict[str, str]) -> None:
    for path in ("/a/%00", f"/a/{SLUG}%00", "/calendar/%00.ics",
                 f"/api/v1/assemblies/{SLUG}%00/delegates"):
        response = client.get(path, headers=liaison)
        assert response.status_code == 404, path
    assert client.get(f"/a/{SLUG}?lang=%00").status_code == 400
    big = 2**31
    for path in (f"/api/v1/assemblies/{SLUG}/delegates/{big}",
                 f"/api/v1/assemblies/{SLUG}/delegates/{2**63}",
                 f"/api/v1/assemblies/{SLUG}/proxies/{big}", f"/letters/{big}/document"):
        response = client.get(path, headers=liaison)
        assert response.status_code == 404, path
    response = client.get(f"/api/v1/assemblies/{SLUG}/delegates/{big}", headers=liaison)
    assert response.get_json()["error"]["code"] == "not_found"


def test_3_nul_in_json_csv_and_filenames_and_overlong_cells_are_422(
        app: Flask, client: FlaskClient, liaison: dict[str, str]) -> None:
    api = f"/api/v1/assemblies/{SLUG}"
    response = client.post(f"{api}/delegates", headers=liaison,
                           json={"family_name": "Widodo", "honorific": "\u0000"})
    assert response.status_code == 422 and "honorific" in response.get_json()["error"]["fields"]
    for row in ("Wido\x00do,Joko,delegate", "W" * 101 + ",Joko,delegate",
                "Widodo," + "J" * 101 + ",delegate"):
        response = client.post(f"{api}/delegations/JKT/import", headers=liaison, data={
            "file": (io.BytesIO(_csv(row)), "jakarta.csv")}, content_type="multipart/form-data")
        assert response.status_code == 422, row
        assert response.get_json()["error"]["code"] == "import_failed"
    response = client.post(f"{api}/proxies", headers=liaison, data={
        "grantor": "JKT", "holder": "TYO", "signatory_name": "Joko Widodo",
        "document": (io.BytesIO(PDF), "sur\x00at.pdf")}, content_type="multipart/form-data")
    assert response.status_code in (201, 409), response.get_json()
    if response.status_code == 201:
        assert response.get_json()["document_filename"] == "surat.pdf"


def test_3_instants_out_of_range_and_integers_out_of_range_are_422(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    open_demo(app)
    sec = bearer(app, make_user, "sec@example.org", Role.SECRETARIAT)
    api = f"/api/v1/assemblies/{SLUG}"
    response = client.patch(api, headers=sec,
                            json={"registration_deadline": "9999-12-31T23:59:59-23:59"})
    assert response.status_code == 422
    assert "registration_deadline" in response.get_json()["error"]["fields"]
    response = client.post(f"{api}/programme", headers=sec, json={
        "title": {"en": "Dawn"}, "starts_at": "0001-01-01T00:00:00",
        "ends_at": "0001-01-01T01:00:00"})
    assert response.status_code == 422
    # In UTC it fits, in host time (UTC+7) it is past year 9999: refused, not a 500.
    response = client.post(f"{api}/programme", headers=sec, json={
        "title": {"en": "Dusk"}, "starts_at": "9999-12-31T20:00:00Z",
        "ends_at": "9999-12-31T21:00:00Z"})
    assert response.status_code == 422 and "starts_at" in response.get_json()["error"]["fields"]
    # Tomsk kept local mean time (+05:39:51) until 1919; a date-time offset has no seconds,
    # so the answer gives it to the minute and the instant stays the same.
    response = client.post(f"{api}/programme", headers=sec, json={
        "title": {"en": "Founding"}, "starts_at": "1900-09-11T16:32:39Z",
        "ends_at": "1900-09-11T17:32:39Z"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["starts_at"] == "1900-09-11T22:12:39+05:40"
    listed = client.get(f"{api}/programme", headers=sec).get_json()
    assert listed[0]["starts_at"] == "1900-09-11T22:12:39+05:40"
    response = client.patch(api, headers=sec, json={"number": 2**40})
    assert response.status_code == 422, response.get_json()


def test_3_the_error_page_renders_after_a_failed_flush(
        app: Flask, settings: Settings, make_user: Callable[..., User]) -> None:
    """A view whose flush fails: the 500 page renders in the user's language (the locale
    selector reads the user, whose row the commit before expired)."""
    from webapp import create_app

    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT, language="ja")
    # An app of its own: the shared one keeps its routes (and its OpenAPI document) as built.
    own = create_app(settings)

    @own.get("/_test/failed-flush")
    def failed_flush() -> str:
        db.session.commit()  # expires the logged-in user's row
        db.session.add(MemberCity(network_id=-1, code="X", name={"en": "X"}, country="XX",
                                  timezone="UTC"))
        db.session.flush()  # no network -1: the foreign key fails here
        return "unreachable"

    client = own.test_client()
    login(client, "sec@example.org")
    response = client.get("/_test/failed-flush")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "総会" in html or "アジア" in html or 'lang="ja"' in html, html[:300]


# --- 10. a killed worker's job is taken over at once ---------------------------------------


def test_10_a_silent_running_job_is_taken_over_by_a_redelivered_message(
        app: Flask, make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == SLUG))
        job = SummaryJob(assembly_id=assembly.id, language="en", data_version="v",
                         status=SummaryStatus.RUNNING, attempts=1, worker="dead:1",
                         heartbeat_at=utcnow())
        db.session.add(job)
        db.session.commit()
        assert claim(db.session, job.id, "second:2") is None  # its worker is beating
        db.session.execute(update(SummaryJob).where(SummaryJob.id == job.id).values(
            heartbeat_at=utcnow() - TAKEOVER - timedelta(seconds=1)))
        db.session.commit()
        assert claim(db.session, job.id, "second:2") == 2
        assert claim(db.session, job.id, "third:3") is None  # one winner


def test_10_sigkill_of_a_worker_child_mid_summary_the_job_finishes_once(
        app: Flask, settings: Settings, make_user: Callable[..., User]) -> None:
    open_demo(app)
    make_user("sec@example.org", Role.SECRETARIAT)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == SLUG))
        user = db.session.scalar(select(User).where(User.email == "sec@example.org"))
        job = SummaryJob(assembly_id=assembly.id, requested_by_id=user.id, language="en",
                         data_version=data_version(db.session, assembly))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    env = {**os.environ, **service_env(settings.instance_path),
           "SOKAI_SUMMARY_STAGE_DELAY": "2"}
    queue = f"sokai-hardening-kill-{job_id}"
    log = (settings.instance_path / "hardening-kill.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--pool", "prefork",
         "--concurrency", "1", "-Q", queue, "-n", f"prefork-{job_id}@%h",
         "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle",
         "--without-gossip"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def state() -> tuple[SummaryStatus, str, int, str]:
        with app.app_context():
            row = db.session.get(SummaryJob, job_id)
            db.session.refresh(row)
            return row.status, row.stage, row.attempts, row.worker

    try:
        app.extensions["celery"].send_task("sokai.render_summary", args=[job_id], queue=queue)
        running = wait_for(lambda: state() if state()[0] is SummaryStatus.RUNNING
                           and state()[1] in ("csv", "xlsx") else None, timeout=180)
        assert running, "the worker never got to the job"
        child = int(running[3].rsplit(":", 1)[1])
        assert child != worker.pid  # the pool's child, not the main process
        os.kill(child, signal.SIGKILL)
        # No sweep runs here (its wait is a minute): only the redelivered message can finish
        # the job, by taking it over once the heartbeat stopped.
        done = wait_for(lambda: state()[0] is SummaryStatus.DONE, timeout=120)
        assert done, f"the job did not finish after the kill: {state()}"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
        log.close()
    status, _stage, attempts, _worker = state()
    assert status is SummaryStatus.DONE and attempts == 2
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "summary_ready")).all()
        assert len(mails) == 1
