"""Personal data kept only as long as needed: the scheduled anonymisation, export and
erasure on request; every count and report stays as it was apart from the names, and no
stored badge PDF or mail-drop copy keeps a removed name."""

from __future__ import annotations

import csv
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from models import (
    Assembly,
    AssemblyStatus,
    AuditEntry,
    BadgeJob,
    BadgeJobStatus,
    Delegate,
    MemberCity,
    Network,
    Role,
    SummaryJob,
    SummaryStatus,
    User,
    utcnow,
)
from models.errors import DomainError
from services.accounts import issue_token
from services.assemblies import assembly_counts
from services.background import ANONYMISE_EXPIRED, BUILD_BADGES, RENDER_SUMMARY, dispatch
from services.checkin.badges import badges_folder, build_badges, request_badges
from services.delegations import add_delegate
from services.demo import load_tomsk_2014
from services.mail.delivery import deliver_batch, drop_file
from services.mail.outbox import queue_message
from services.retention import ANONYMISED, add_months, anonymise_expired, erase_delegate
from services.summaries.building import render_report
from services.summaries.files import write_csv
from services.summaries.jobs import request_summary, summary_file
from services.summaries.report import build_report, data_version, participant_rows
from tests.conftest import wait_for

NAME_COLUMNS = (7, 8, 9)  # Name, Name (local script), Title


def _summary_csv(session: Any, assembly: Assembly, path: Path) -> list[list[str]]:
    report = build_report(session, assembly, "en")
    write_csv(report, participant_rows(session, assembly, "en"), path, lambda _n: None)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _without_names(rows: list[list[str]]) -> list[list[str]]:
    return [[("*" if i in NAME_COLUMNS and row[0] == "Participant" else cell)
             for i, cell in enumerate(row)] for row in rows]


def test_add_months_keeps_to_the_calendar() -> None:
    assert add_months(date(2014, 9, 5), 12) == date(2015, 9, 5)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2014, 11, 30), 3) == date(2015, 2, 28)


def test_the_scheduled_job_anonymises_a_closed_assembly_past_retention_and_nothing_else(
        app: Flask, settings: Settings, session: Any, celery_worker: object,
        tmp_path: Path) -> None:
    assembly = load_tomsk_2014(session)  # the demo is the closed 2014 assembly
    assembly.status = AssemblyStatus.OPEN
    session.commit()
    people = session.scalar(select(func.count(Delegate.id))
                            .where(Delegate.assembly_id == assembly.id))
    assert people and people > 50
    before_csv = _summary_csv(session, assembly, tmp_path / "before.csv")
    before_counts = assembly_counts(session, assembly)
    names = {d.family_name for d in session.scalars(select(Delegate))}

    # Open, or closed but within the period: nothing happens.
    assert anonymise_expired(session) == 0
    assembly.status = AssemblyStatus.CLOSED
    assembly.ends_on = utcnow().date() - timedelta(days=30)
    session.commit()
    assert anonymise_expired(session) == 0

    # Printed badges (names on them) are removed with the names.
    badges = tmp_path / "badges.pdf"
    badges.write_bytes(b"%PDF-1.4 names")
    job = BadgeJob(assembly_id=assembly.id, status=BadgeJobStatus.DONE, path=str(badges))
    session.add(job)
    # … and the summary's files: deleted, and the summary built again (by the worker).
    summary = SummaryJob(assembly_id=assembly.id, language="en",
                         data_version=data_version(session, assembly))
    session.add(summary)
    session.commit()
    assert render_report(session, summary.id, settings) == "done"
    session.refresh(summary)
    summary_files = [settings.instance_path / entry["path"] for entry in summary.files]
    assert len(summary_files) == 3 and all(path.exists() for path in summary_files)
    # Closed 12 months and a day ago: the hourly job (through the real worker) acts.
    assembly.ends_on = add_months(utcnow().date(), -12) - timedelta(days=1)
    session.commit()
    dispatch(ANONYMISE_EXPIRED)
    assert wait_for(lambda: session.scalar(select(func.count(Delegate.id)).where(
        Delegate.anonymised_at.is_not(None))) == people, timeout=60)
    session.expire_all()

    after_csv = _summary_csv(session, assembly, tmp_path / "after.csv")
    assert _without_names(after_csv) == _without_names(before_csv)
    assert after_csv != before_csv
    assert assembly_counts(session, assembly) == before_counts
    left = {d.family_name for d in session.scalars(select(Delegate))}
    assert left == {ANONYMISED}
    assert not (names & left)
    assert session.scalar(select(func.count(Delegate.id)).where(
        Delegate.email.is_not(None))) == 0
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "retention.anonymised"))
    assert entry is not None and entry.after["delegates"] == people
    assert anonymise_expired(session) == 0  # done once
    assert not badges.exists() and session.get(BadgeJob, job.id).path == ""
    assert not any(path.exists() for path in summary_files)
    rebuilt = session.scalar(select(SummaryJob).where(SummaryJob.id != summary.id))
    assert rebuilt is not None and rebuilt.language == "en"

    def built() -> SummaryJob | None:
        session.expire_all()
        job = session.get(SummaryJob, rebuilt.id)
        return job if job.status is SummaryStatus.DONE else None

    done = wait_for(built, timeout=120)
    assert done is not None, "the summary was not built again"
    with (settings.instance_path / done.file("csv")["path"]).open(encoding="utf-8-sig") as fh:
        participants = [row for row in csv.reader(fh) if row[0] == "Participant"]
    assert len(participants) == people  # (the declaration's signatories keep theirs)
    assert {row[NAME_COLUMNS[0]] for row in participants} == {ANONYMISED.upper()}


def test_a_delegate_exports_and_erases_on_request(app: Flask, session: Any,
                                                  make_user: Any) -> None:
    assembly = load_tomsk_2014(session)
    assembly.status = AssemblyStatus.OPEN
    assembly.registration_deadline = assembly.proxy_deadline = utcnow() + timedelta(days=9)
    session.commit()
    make_user("ret.sec@example.org", Role.SECRETARIAT)
    make_user("ret.tyo@example.org", Role.LIAISON, city="TYO")
    session.commit()
    sec = session.scalar(select(User).where(User.email == "ret.sec@example.org"))
    tokyo = session.scalar(select(MemberCity).where(MemberCity.code == "TYO"))
    person = add_delegate(session, assembly, tokyo, {
        "family_name": "Yamada", "given_name": "Hanako", "name_local": "山田 花子",
        "email": "hanako@example.org", "title": {"en": "Director"}}, sec)
    session.commit()
    counts = assembly_counts(session, assembly)
    client = app.test_client()
    sec_token, liaison_token = (issue_token(session, e) for e in
                                ("ret.sec@example.org", "ret.tyo@example.org"))
    session.commit()
    url = f"/api/v1/assemblies/{assembly.slug}/delegates/{person.id}/personal-data"
    as_sec = {"Authorization": f"Bearer {sec_token}"}

    # A liaison may not (even for their own city's delegate): the secretariat answers.
    assert client.get(url, headers={"Authorization": f"Bearer {liaison_token}"}
                      ).status_code == 403
    exported = client.get(url, headers=as_sec)
    assert exported.status_code == 200
    data = exported.get_json()
    assert data["delegate"]["family_name"] == "Yamada"
    assert data["delegate"]["email"] == "hanako@example.org"
    assert data["city"] == "TYO"
    assert [e["action"] for e in data["audit"]] == ["delegate.added"]

    # Their calendar link works, and the stored feed carries their name.
    from models import StoredFeed
    from services.calendar.store import BuiltFeed, feed_store, personal_key
    from services.calendar.tokens import issue_token as issue_feed_token

    redis_url = app.config["SOKAI_SETTINGS"].redis_url
    secret = issue_feed_token(session, person)
    feed_store(session, redis_url).put(personal_key(person.id), BuiltFeed.of(
        b"BEGIN:VCALENDAR\r\nX-WR-CALNAME:Tomsk 2014 - Hanako YAMADA\r\nEND:VCALENDAR\r\n",
        utcnow()), person.id)
    session.commit()
    assert b"YAMADA" in client.get(f"/calendar/p/{secret}.ics").data

    assert client.delete(url, headers=as_sec).status_code == 204
    session.expire_all()
    assert client.get(f"/calendar/p/{secret}.ics").status_code == 404
    assert session.get(StoredFeed, personal_key(person.id)) is None
    assert feed_store(session, redis_url).get(personal_key(person.id)) is None
    person = session.get(Delegate, person.id)
    assert (person.family_name, person.given_name, person.name_local, person.email,
            person.title) == (ANONYMISED, "", "", None, {})
    assert person.anonymised_at is not None
    assert assembly_counts(session, assembly) == counts
    # The trail keeps its entries, without the person's values.
    added = session.scalar(select(AuditEntry).where(AuditEntry.action == "delegate.added",
                                                    AuditEntry.subject == f"delegate:{person.id}"))
    assert added.after["family_name"] is None and added.after["role"] == "delegate"
    assert "Yamada" not in str(client.get(url, headers=as_sec).get_json())
    again = client.delete(url, headers=as_sec)
    assert again.status_code == 409


def test_retention_is_set_per_network(app: Flask, session: Any) -> None:
    from click.testing import CliRunner

    from tests.test_backup import _env
    from webapp.cli import main

    load_tomsk_2014(session)
    session.commit()
    network = session.scalar(select(Network))
    assert network.retention_months == 12
    settings = app.config["SOKAI_SETTINGS"]
    result = CliRunner().invoke(main, ["retention", network.code, "24"], env=_env(settings))
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.scalar(select(Network)).retention_months == 24
    bad = CliRunner().invoke(main, ["retention", network.code, "0"], env=_env(settings))
    assert bad.exit_code == 2


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _erasure_venue(session: Any, make_user: Any) -> tuple[Assembly, User, Delegate, Delegate]:
    assembly = load_tomsk_2014(session)
    assembly.status = AssemblyStatus.OPEN
    assembly.registration_deadline = assembly.proxy_deadline = utcnow() + timedelta(days=9)
    session.commit()
    make_user("ret.sec@example.org", Role.SECRETARIAT)
    sec = session.scalar(select(User).where(User.email == "ret.sec@example.org"))
    tokyo, seoul = (session.scalar(select(MemberCity).where(MemberCity.code == code))
                    for code in ("TYO", "SEL"))
    person = add_delegate(session, assembly, tokyo, {
        "family_name": "Zenkoji", "given_name": "Hanako", "name_local": "善光寺 花子",
        "email": "hanako@example.org"}, sec)
    other = add_delegate(session, assembly, seoul, {
        "family_name": "Park", "given_name": "Jiwoo", "name_local": "박지우"}, sec)
    session.commit()
    return assembly, sec, person, other


@pytest.fixture
def queued(monkeypatch: Any) -> list[tuple[str, Any]]:
    """The badge, summary and mail jobs asked for: the test runs them here, one after the
    other (no worker takes one meanwhile)."""
    import services.checkin.badges as badges
    import services.mail.outbox as outbox
    import services.summaries.jobs as summary_jobs

    asked: list[tuple[str, Any]] = []
    for module in (badges, outbox, summary_jobs):
        monkeypatch.setattr(module, "enqueue_after_commit",
                            lambda _session, task, arg: asked.append((task, arg)))
    return asked


def test_erasure_rebuilds_the_badge_pdfs_that_showed_the_person(
        app: Flask, settings: Settings, session: Any, make_user: Any,
        queued: list[tuple[str, Any]]) -> None:
    assembly, sec, person, other = _erasure_venue(session, make_user)
    # Badges for everyone, Tokyo, the person, Seoul and the other one: three show her.
    scopes = {"all": {}, "tokyo": {"city": "TYO"}, "her": {"delegates": [person.id]},
              "seoul": {"city": "SEL"}, "other": {"delegates": [other.id]}}
    jobs = {}
    for name, scope in scopes.items():
        jobs[name] = request_badges(session, assembly, sec, layout="single", **scope)
        session.commit()
        assert build_badges(session, jobs[name].id, settings) == "done"
    session.expire_all()
    files = {name: Path(job.path) for name, job in jobs.items()}
    before = {name: path.read_bytes() for name, path in files.items()}
    for name, path in files.items():
        shown = "善光寺" in _text(path) and "Hanako" in _text(path)
        assert shown == (name in ("all", "tokyo", "her")), name
    # Her messages' copies in the mail drop (no SMTP_URL here) have her name too.
    mail = queue_message(session, kind="test", to_address="hanako@example.org",
                         to_name="Zenkoji Hanako", subject="Your badge", text_body="Hello",
                         assembly_id=assembly.id)
    session.commit()
    deliver_batch(session, [mail.id], settings, "Sokai <sokai@example.org>")
    dropped = drop_file(settings, mail.message_id)
    assert "hanako@example.org" in dropped.read_text()

    token = issue_token(session, "ret.sec@example.org")
    session.commit()
    answer = app.test_client().delete(
        f"/api/v1/assemblies/{assembly.slug}/delegates/{person.id}/personal-data",
        headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 204
    session.expire_all()

    for name in ("all", "tokyo", "her"):
        job = session.get(BadgeJob, jobs[name].id)
        assert not files[name].exists(), name  # the file with her name is gone at once
        assert (job.status, job.path) == (BadgeJobStatus.QUEUED, ""), name
        assert (BUILD_BADGES, job.id) in queued
        # … and built again (by the worker the erasure queued it for): nameless.
        assert build_badges(session, job.id, settings) == "done"
        session.refresh(job)
        text = _text(Path(job.path))
        assert "善光寺" not in text and "Hanako" not in text and "ZENKOJI" not in text.upper()
        assert ANONYMISED.upper() in text.upper()
    for name in ("seoul", "other"):  # never showed her: as they were
        job = session.get(BadgeJob, jobs[name].id)
        assert job.status is BadgeJobStatus.DONE and Path(job.path) == files[name]
        assert files[name].read_bytes() == before[name]
    assert not dropped.exists()


def test_erasure_deletes_the_summary_files_and_builds_the_summary_again_nameless(
        app: Flask, settings: Settings, session: Any, make_user: Any,
        queued: list[tuple[str, Any]]) -> None:
    assembly, sec, person, _other = _erasure_venue(session, make_user)
    built = {}
    for language in ("en", "ja", "en"):  # two English summaries: the newer is built again
        job, _new = request_summary(session, assembly, sec, language)
        assert render_report(session, job.id, settings) == "done"
        built[job.id] = job.language
        session.expire_all()
    old = [session.get(SummaryJob, job_id) for job_id in built]
    paths = [settings.instance_path / entry["path"] for job in old for entry in job.files]
    assert len(paths) == 9 and all(path.exists() for path in paths)
    assert "善光寺 花子" in next(p for p in paths if p.suffix == ".csv").read_text("utf-8-sig")

    erase_delegate(session, session.get(Delegate, person.id), sec)
    session.commit()
    assert not any(path.exists() for path in paths)  # at once, with the erasure
    assert all(session.get(SummaryJob, job_id).files == [] for job_id in built)  # no links
    again = session.scalars(select(SummaryJob).where(SummaryJob.id.not_in(list(built)))
                            .order_by(SummaryJob.language)).all()
    assert [(job.language, job.status) for job in again] == [
        ("en", SummaryStatus.QUEUED), ("ja", SummaryStatus.QUEUED)]
    assert all((RENDER_SUMMARY, job.id) in queued for job in again)
    with app.app_context(), pytest.raises(DomainError) as gone:  # a download says so
        summary_file(session.get(SummaryJob, old[0].id), "csv")
    assert gone.value.code == "file_gone"
    for job in again:  # … built by the worker the erasure queued them for: nameless
        assert render_report(session, job.id, settings) == "done"
        session.refresh(job)
        csv_path = settings.instance_path / job.file("csv")["path"]
        text = csv_path.read_text("utf-8-sig")
        assert "Hanako" not in text and "善光寺" not in text
        assert ANONYMISED.upper() in text  # a family name is written in capitals
    trail = session.scalars(select(AuditEntry.after).where(
        AuditEntry.action == "summary.triggered")).all()
    assert sum(1 for after in trail if after.get("because") == "personal data removed") == 2


def test_a_badge_build_under_way_when_the_name_is_erased_is_thrown_away(
        app: Flask, settings: Settings, session: Any, make_user: Any,
        monkeypatch: Any, queued: list[tuple[str, Any]]) -> None:
    import services.checkin.printing as printing

    assembly, sec, person, _other = _erasure_venue(session, make_user)
    job = request_badges(session, assembly, sec, layout="single", city="TYO")
    session.commit()
    write = printing.write_badges

    def erase_meanwhile(*args: Any, **kwargs: Any) -> int:
        # The worker has read the names; the secretariat erases her before the file is done.
        with Session(session.get_bind()) as other:
            erase_delegate(other, other.get(Delegate, person.id), other.get(User, sec.id))
            other.commit()
        return int(write(*args, **kwargs))

    monkeypatch.setattr(printing, "write_badges", erase_meanwhile)
    folder = badges_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    there = set(folder.iterdir())  # other tests' files (one instance folder for the run)
    assert build_badges(session, job.id, settings) == "queued"  # its file thrown away
    assert queued == [(BUILD_BADGES, job.id)] * 2  # asked for, then again by the erasure
    monkeypatch.setattr(printing, "write_badges", write)
    assert set(folder.iterdir()) == there  # neither the PDF nor its partial file
    assert build_badges(session, job.id, settings) == "done"
    session.refresh(job)
    text = _text(Path(job.path))
    assert "善光寺" not in text and "Hanako" not in text and "MASUZOE" in text
    assert set(folder.iterdir()) == there | {Path(job.path)}


def test_the_retention_job_deletes_real_badge_pdfs(app: Flask, settings: Settings,
                                                   session: Any, make_user: Any,
                                                   queued: list[tuple[str, Any]]) -> None:
    assembly, sec, person, _other = _erasure_venue(session, make_user)
    folder = badges_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    there = set(folder.iterdir())  # other tests' files (one instance folder for the run)
    job = request_badges(session, assembly, sec, layout="sheet", city="TYO")
    session.commit()
    assert build_badges(session, job.id, settings) == "done"
    session.refresh(job)
    path = Path(job.path)
    assert "善光寺" in _text(path)
    assembly.status = AssemblyStatus.CLOSED
    assembly.ends_on = add_months(utcnow().date(), -12) - timedelta(days=1)
    session.commit()
    assert anonymise_expired(session) > 0
    session.expire_all()
    assert not path.exists() and session.get(BadgeJob, job.id).path == ""
    assert set(folder.iterdir()) == there  # no badge file of it is left
