"""Personal data kept only as long as needed: the scheduled anonymisation, export and
erasure on request; every count and report stays as it was apart from the names."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

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
    User,
    utcnow,
)
from services.accounts import issue_token
from services.assemblies import assembly_counts
from services.background import ANONYMISE_EXPIRED, dispatch
from services.delegations import add_delegate
from services.demo import load_tomsk_2014
from services.retention import ANONYMISED, add_months, anonymise_expired
from services.summaries.files import write_csv
from services.summaries.report import build_report, participant_rows
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

    assert client.delete(url, headers=as_sec).status_code == 204
    session.expire_all()
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
