"""Summaries and the assembly report: the Tomsk 2014 numbers in CSV, XLSX and PDF, safe cells,
determinism, one job per data version, a killed worker, the API, the pages and the mail."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from config import Settings
from models import (
    Assembly,
    Delegate,
    DelegateRole,
    Delegation,
    MemberCity,
    OutboxMessage,
    ProxyLetter,
    ProxyStatus,
    Role,
    SummaryJob,
    SummaryStatus,
    User,
    utcnow,
)
from services.accounts import issue_token
from services.demo import load_tomsk_2014
from services.side_events import load_tomsk_2014_side_events
from services.summaries.building import render_report, requeue_summaries
from services.summaries.jobs import request_summary
from services.summaries.report import data_version
from tests.conftest import csrf_token, login, service_env, wait_for
from tests.registration_helpers import enter_tomsk_through_api
from webapp.extensions import db

REPORT_COUNTS = {"BKK": 4, "HAN": 9, "SEL": 7, "TYO": 31, "TOF": 53, "ULN": 3}
ABSENT = {"DEL", "KUL", "MNL", "SIN", "TPE", "RGN"}
FORMULA = '=HYPERLINK("http://x","y")'


# --- the data: one fixture, so that it can later be entered through the API ----------------


@pytest.fixture
def tomsk_2014(app: Flask) -> str:
    """The Tomsk 2014 assembly with Jakarta's verified proxy letter (held by Tokyo)."""
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        cities = {c.code: c for c in db.session.scalars(select(MemberCity))}
        has_letter = db.session.scalar(select(ProxyLetter).where(
            ProxyLetter.assembly_id == assembly.id,
            ProxyLetter.grantor_city_id == cities["JKT"].id))
        if has_letter is None:
            db.session.add(ProxyLetter(
                assembly_id=assembly.id, grantor_city_id=cities["JKT"].id,
                holder_city_id=cities["TYO"].id, signatory_name="Joko Widodo",
                signatory_title="Governor of Jakarta", document_path="uploads/jkt.pdf",
                document_sha256="0" * 64, document_size=1024, status=ProxyStatus.VERIFIED,
                decided_at=utcnow()))
        db.session.commit()
        return assembly.slug


@pytest.fixture
def tomsk_2014_via_api(app: Flask, client: FlaskClient,
                       make_user: Callable[..., User]) -> str:
    """The same assembly entered through the API (cities, assembly, delegations, the 107
    delegates, the programme, Jakarta's letter and its verification); the side events, which
    have an editor but no API, through their use case."""
    tomsk = enter_tomsk_through_api(app, client, make_user)
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == tomsk.slug))
        load_tomsk_2014_side_events(db.session, assembly)
        db.session.commit()
    return tomsk.slug


@dataclass(frozen=True)
class Account:
    id: int
    email: str


@pytest.fixture
def secretariat(app: Flask, make_user: Callable[..., User]) -> Account:
    """The secretariat's account, reading Japanese (plain values: no detached rows)."""
    email = "sec@anmc21.example.org"
    make_user(email, Role.SECRETARIAT, language="ja")
    with app.app_context():
        return Account(id=db.session.scalar(select(User.id).where(User.email == email)),
                       email=email)


def _job(app: Flask, slug: str, user: Account, language: str = "ja") -> int:
    """A queued job row, without sending it to a worker (the tests run it themselves)."""
    with app.app_context():
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == slug))
        job = SummaryJob(assembly_id=assembly.id, requested_by_id=user.id, language=language,
                         data_version=data_version(db.session, assembly))
        db.session.add(job)
        db.session.commit()
        return job.id


def _build(app: Flask, settings: Settings, slug: str, user: Account,
           language: str = "ja") -> SummaryJob:
    job_id = _job(app, slug, user, language)
    with app.app_context():
        assert render_report(db.session, job_id, settings) == "done"
        return db.session.get(SummaryJob, job_id)


def _path(settings: Settings, job: SummaryJob, fmt: str) -> Path:
    entry = job.file(fmt)
    assert entry is not None
    return settings.instance_path / entry["path"]


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so that Excel reads Japanese"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# --- content ----------------------------------------------------------------------------------


def test_csv_xlsx_and_pdf_carry_the_reports_numbers(
        app: Flask, settings: Settings, tomsk_2014_via_api: str, secretariat: Account,
        tmp_path: Path) -> None:
    job = _build(app, settings, tomsk_2014_via_api, secretariat, "ja")
    assert job.status is SummaryStatus.DONE and job.progress == 100 and job.attempts == 1
    assert [f["format"] for f in job.files] == ["csv", "xlsx", "pdf"]

    # CSV: a line per city, the total, then the participants; every field quoted.
    rows = _csv_rows(_path(settings, job, "csv"))
    cities = {row[1]: row for row in rows[1:14]}
    # In the report's order: by English name, Bangkok to Yangon.
    assert [row[1] for row in rows[1:14]] == ["BKK", "DEL", "HAN", "JKT", "KUL", "MNL", "SEL",
                                              "SIN", "TPE", "TYO", "TOF", "ULN", "RGN"]
    assert set(cities) == set(REPORT_COUNTS) | ABSENT | {"JKT"}
    for code, count in REPORT_COUNTS.items():
        assert cities[code][4] == str(count)
    assert {code for code, row in cities.items() if row[4] == "0"} == ABSENT | {"JKT"}
    absent_marks = [row[3] for code, row in cities.items() if code in ABSENT]
    assert all(mark and "※" not in mark for mark in absent_marks)
    assert "※" in cities["JKT"][3] and cities["JKT"][5] == "東京"
    assert rows[14][4] == "107"
    participants = [row for row in rows[16:]]
    assert len(participants) == 107
    assert _path(settings, job, "csv").read_text(encoding="utf-8-sig").count('"') % 2 == 0
    assert next(r for r in participants if r[1] == "TYO")[8] == "舛添 要一"

    # XLSX: the six sheets, bold headers, the same numbers.
    from openpyxl import load_workbook

    book = load_workbook(_path(settings, job, "xlsx"))
    assert book.sheetnames == ["Summary", "Representatives", "Participants", "Programme",
                               "Proxies", "Side events", "Results"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    per_city = {r[0]: r for r in summary if r and r[0] in cities}
    assert {code: per_city[code][3] for code in REPORT_COUNTS} == REPORT_COUNTS
    assert "※" in per_city["JKT"][2]
    assert sum(1 for code in ABSENT if per_city[code][3] == 0) == 6
    assert book["Participants"].max_row == 108
    assert book["Participants"]["A1"].font.b
    assert book["Summary"].column_dimensions["B"].width > 10
    paintings = [r for r in book["Side events"].iter_rows(values_only=True)
                 if r[3] == "絵画" or r[3] == "Paintings"]
    assert {r[2]: r[4] for r in paintings} == {"ハノイ": 10, "東京": 27, "トムスク": 10,
                                               "ウランバートル": 24, "ヤンゴン": 20}

    # PDF: Japanese text that extracts, the numbers, and a page that renders.
    from pypdf import PdfReader

    pdf = _path(settings, job, "pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    for word in ("東京", "トムスク", "ジャカルタ", "※", "107", "舛添 要一", "トムスク宣言の署名"):
        assert word in text, word
    for count in REPORT_COUNTS.values():
        assert str(count) in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    if Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf").exists():
        assert any("IPAexGothic" in line and " yes " in line for line in fonts.splitlines())
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    from PIL import Image

    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    low, high = image.getextrema()
    assert high - low > 100, "the rendered page is blank"
    dark = sum(1 for value in image.getdata() if value < 128)
    assert dark > 1000, "too little ink on page 1"


def test_the_english_report_and_the_same_csv_bytes_for_the_same_data(
        app: Flask, settings: Settings, tomsk_2014: str, secretariat: Account) -> None:
    first = _build(app, settings, tomsk_2014, secretariat, "en")
    first_csv = _path(settings, first, "csv").read_bytes()
    second = _build(app, settings, tomsk_2014, secretariat, "en")
    assert second.data_version == first.data_version
    assert _path(settings, second, "csv").read_bytes() == first_csv
    assert second.file("csv")["sha256"] == first.file("csv")["sha256"]
    assert "Absent" in first_csv.decode("utf-8-sig") and "Tokyo" in first_csv.decode("utf-8-sig")

    with app.app_context():  # any change of the data gives another version
        delegate = db.session.scalar(select(Delegate).where(Delegate.family_name == "MASUZOE"))
        delegate.title = {"en": "Governor (changed)", "ja": "知事（変更）"}
        db.session.commit()
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == tomsk_2014))
        assert data_version(db.session, assembly) != first.data_version


def test_a_formula_like_name_stays_text_in_csv_and_xlsx(
        app: Flask, settings: Settings, tomsk_2014: str, secretariat: Account) -> None:
    with app.app_context():
        bangkok = db.session.scalar(select(Delegation).join(MemberCity)
                                    .where(MemberCity.code == "BKK"))
        db.session.add(Delegate(assembly_id=bangkok.assembly_id, delegation_id=bangkok.id,
                                family_name=FORMULA, given_name="@SUM(A1)",
                                name_local="+81 3", title={"en": "-1+2"},
                                role=DelegateRole.DELEGATE))
        db.session.commit()
    job = _build(app, settings, tomsk_2014, secretariat, "en")
    rows = _csv_rows(_path(settings, job, "csv"))
    # The family name in capitals (the report's Latin form, "Yoichi MASUZOE").
    person = next(r for r in rows if FORMULA.upper() in r[7])
    assert person[7].startswith("'@SUM(A1)") and person[8] == "'+81 3" and person[9] == "'-1+2"
    assert [r for r in rows if r[1] == "BKK"][0][4] == "5"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)

    from openpyxl import load_workbook

    sheet = load_workbook(_path(settings, job, "xlsx"))["Participants"]
    cells = [row for row in sheet.iter_rows() if FORMULA.upper() in str(row[3].value)]
    assert cells and all(cell.data_type == "s" for cell in cells[0])
    assert cells[0][3].value == "'@SUM(A1) " + FORMULA.upper()
    # No formula anywhere in the workbook.
    book = load_workbook(_path(settings, job, "xlsx"))
    assert not any(cell.data_type == "f" for ws in book for row in ws.iter_rows()
                   for cell in row)


# --- jobs -------------------------------------------------------------------------------------


def test_two_concurrent_triggers_make_one_job(app: Flask, celery_worker: Any, tomsk_2014: str,
                                              secretariat: Account) -> None:
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def trigger() -> None:
        try:
            with app.app_context():
                user = db.session.get(User, secretariat.id)
                assembly = db.session.scalar(select(Assembly).where(Assembly.slug == tomsk_2014))
                barrier.wait()
                job, created = request_summary(db.session, assembly, user, "ja")
                results.append((job.id, created))
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=trigger) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len({job_id for job_id, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SummaryJob)) == 1
        # Another language is another job.
        assembly = db.session.scalar(select(Assembly).where(Assembly.slug == tomsk_2014))
        other, created = request_summary(db.session, assembly,
                                         db.session.get(User, secretariat.id), "en")
        assert created and other.id != results[0][0]

    def all_done() -> bool:
        with app.app_context():
            statuses = db.session.scalars(select(SummaryJob.status)).all()
            return all(status is SummaryStatus.DONE for status in statuses)

    assert wait_for(all_done, timeout=120), "the worker did not finish both jobs"


def test_a_worker_killed_mid_job_the_sweep_requeues_and_it_completes_once(
        app: Flask, settings: Settings, celery_worker: Any, tomsk_2014: str,
        secretariat: Account) -> None:
    job_id = _job(app, tomsk_2014, secretariat)
    env = {**os.environ, **service_env(settings.instance_path),
           "SOKAI_SUMMARY_STAGE_DELAY": "3"}
    log = (settings.instance_path / "kill-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--pool", "solo",
         "-Q", "sokai-kill-test", "-n", f"doomed-{job_id}@%h", "--loglevel", "WARNING"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        app.extensions["celery"].send_task("sokai.render_summary", args=[job_id],
                                           queue="sokai-kill-test")

        def mid_job() -> bool:
            with app.app_context():
                job = db.session.get(SummaryJob, job_id)
                db.session.refresh(job)
                return job.status is SummaryStatus.RUNNING and job.stage in ("csv", "xlsx")

        assert wait_for(mid_job, timeout=180), "the subprocess worker never got to the job"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
        log.close()
    with app.app_context():
        job = db.session.get(SummaryJob, job_id)
        db.session.refresh(job)
        assert job.status is SummaryStatus.RUNNING and job.attempts == 1  # stuck, for now
        from services.housekeeping import SWEEPERS

        assert SWEEPERS["summaries"] is requeue_summaries  # beat's sweep runs it every minute
        # The scheduler's sweep, a few minutes later: the silent job goes back to the queue.
        assert requeue_summaries(db.session, now=utcnow() + timedelta(minutes=6)) == 1
        db.session.commit()

    def finished() -> SummaryJob | None:
        with app.app_context():
            job = db.session.get(SummaryJob, job_id)
            db.session.refresh(job)
            return job if job.status is SummaryStatus.DONE else None

    done = wait_for(finished, timeout=180)
    assert done is not None, "the re-queued job did not finish"
    assert done.attempts == 2 and done.progress == 100
    with app.app_context():
        # A late duplicate message changes nothing: done once, one email.
        assert render_report(db.session, job_id, settings) == "done"
        assert requeue_summaries(db.session) == 0
        mails = db.session.scalars(select(OutboxMessage)
                                   .where(OutboxMessage.kind == "summary_ready")).all()
        assert len(mails) == 1 and mails[0].to_address == "sec@anmc21.example.org"
    for fmt in ("csv", "xlsx", "pdf"):
        assert _path(settings, done, fmt).stat().st_size == done.file(fmt)["size"]
    assert not list((settings.instance_path / "summaries").glob(f".{job_id}-attempt-*"))


def test_a_worker_whose_job_was_taken_away_leaves_the_winners_files(
        app: Flask, settings: Settings, tomsk_2014: str, secretariat: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep gave a slow worker's job to another worker, which finished it; the slow one
    had passed its last progress check just before (here: its checks are made to pass) and
    ends its build afterwards. The job's folder keeps the finished attempt's files."""
    from sqlalchemy.orm import Session as PlainSession

    from services.summaries import building
    from services.summaries.jobs import claim

    job_id = _job(app, tomsk_2014, secretariat, language="en")
    with app.app_context():
        session = db.session
        assert claim(session, job_id, "slow") == 1
        # Taken away (the sweep's requeue), claimed and finished by another worker.
        job = session.get(SummaryJob, job_id)
        job.status = SummaryStatus.QUEUED
        session.commit()
        assert render_report(session, job_id, settings, worker="fast") == "done"
        winner = session.get(SummaryJob, job_id)
        session.refresh(winner)
        assert winner.attempts == 2
        kept = {fmt: _path(settings, winner, fmt).read_bytes() for fmt in ("csv", "xlsx", "pdf")}
        # The slow worker's data differs (a name changed since): its files must not land.
        person = session.scalar(select(Delegate).where(Delegate.family_name == "MASUZOE"))
        person.family_name = "SLOWWORKER"
        session.commit()
        monkeypatch.setattr(building, "report_progress", lambda *_args: True)
        progress = PlainSession(session.get_bind())
        try:
            files = building._build(session, progress, winner, 1, settings)
        finally:
            progress.close()
        assert building._finish(session, winner, 1, files, settings) == "taken_away"
        done = session.get(SummaryJob, job_id)
        session.refresh(done)
        assert done.status is SummaryStatus.DONE and done.attempts == 2
        for fmt, content in kept.items():
            assert _path(settings, done, fmt).read_bytes() == content, fmt
        assert b"SLOWWORKER" not in kept["csv"]
    assert not list((settings.instance_path / "summaries").glob(f".{job_id}-attempt-*"))


def test_a_failed_job_shows_its_error_and_can_be_retried(
        app: Flask, settings: Settings, client: FlaskClient, celery_worker: Any,
        tomsk_2014: str, secretariat: Account) -> None:
    job_id = _job(app, tomsk_2014, secretariat)
    # A file where the job's work folder goes: the build fails for real.
    blocker = settings.instance_path / "summaries" / f".{job_id}-attempt-1"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("in the way")
    with app.app_context():
        assert render_report(db.session, job_id, settings) == "failed"
        job = db.session.get(SummaryJob, job_id)
        assert "FileExistsError" in job.error and job.finished_at is not None
    blocker.unlink()

    login(client, secretariat.email)
    page = client.get(f"/secretariat/assemblies/{tomsk_2014}/summaries").get_data(as_text=True)
    assert "FileExistsError" in page and f"/secretariat/summaries/{job_id}/retry" in page
    response = client.post(f"/secretariat/summaries/{job_id}/retry",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302

    def done() -> SummaryJob | None:
        with app.app_context():
            job = db.session.get(SummaryJob, job_id)
            db.session.refresh(job)
            return job if job.status is SummaryStatus.DONE else None

    job = wait_for(done, timeout=60)
    assert job is not None, "the retried job did not finish on the worker"
    assert job.attempts == 2 and job.error == ""


# --- API --------------------------------------------------------------------------------------


def _token(app: Flask, make_user: Callable[..., User], email: str, role: Role,
           city: str | None = None) -> dict[str, str]:
    if role is not Role.SECRETARIAT or email != "sec@anmc21.example.org":
        make_user(email, role, city=city)
    with app.app_context():
        secret = issue_token(db.session, email)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_api_trigger_poll_download_and_the_requesters_email(
        app: Flask, settings: Settings, client: FlaskClient, celery_worker: Any,
        make_user: Callable[..., User], tomsk_2014: str, secretariat: Account) -> None:
    headers = _token(app, make_user, secretariat.email, Role.SECRETARIAT)
    liaison = _token(app, make_user, "liaison@tyo.example.org", Role.LIAISON, city="TYO")

    assert client.post(f"/api/v1/assemblies/{tomsk_2014}/summaries", json={},
                       headers=liaison).status_code == 403
    bad = client.post(f"/api/v1/assemblies/{tomsk_2014}/summaries", json={"language": "fr"},
                      headers=headers)
    assert bad.status_code == 422 and "language" in bad.get_json()["error"]["fields"]
    assert client.post("/api/v1/assemblies/nope/summaries", json={},
                       headers=headers).status_code == 404

    response = client.post(f"/api/v1/assemblies/{tomsk_2014}/summaries", json={"language": "ja"},
                           headers=headers)
    assert response.status_code == 202
    job = response.get_json()
    assert job["status"] in ("queued", "running", "done") and job["joined"] is False
    assert job["requested_by"] == secretariat.email

    def done() -> dict[str, Any] | None:
        body = client.get(f"/api/v1/summaries/{job['id']}", headers=headers).get_json()
        return body if body["status"] == "done" else None

    finished = wait_for(done, timeout=60)
    assert finished is not None
    assert set(finished["downloads"]) == {"csv", "xlsx", "pdf"}
    assert client.get(f"/api/v1/summaries/{job['id']}", headers=liaison).status_code == 403
    csv_url = finished["downloads"]["csv"].replace("http://sokai.test", "")
    assert client.get(csv_url, headers=liaison).status_code == 403
    download = client.get(csv_url, headers=headers)
    assert download.status_code == 200 and download.data.startswith(b"\xef\xbb\xbf")
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download.headers["Content-Disposition"]
    pdf = client.get(finished["downloads"]["pdf"].replace("http://sokai.test", ""),
                     headers=headers)
    assert pdf.data.startswith(b"%PDF")
    assert client.get(f"/api/v1/summaries/{job['id']}/files/doc",
                      headers=headers).status_code == 404
    listed = client.get(f"/api/v1/assemblies/{tomsk_2014}/summaries", headers=headers).get_json()
    assert [j["id"] for j in listed] == [job["id"]]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/assemblies/{slug}/summaries" in spec["paths"]
    assert "/api/v1/summaries/{job_id}" in spec["paths"]

    def mailed() -> OutboxMessage | None:
        with app.app_context():
            return db.session.scalar(select(OutboxMessage).where(
                OutboxMessage.kind == "summary_ready", OutboxMessage.status == "sent"))

    mail = wait_for(mailed, timeout=30)
    assert mail is not None and mail.to_address == secretariat.email
    assert f"/secretariat/summaries/{job['id']}/download/pdf" in mail.text_body


# --- pages ------------------------------------------------------------------------------------


def test_the_report_page_cuts_the_participant_list_in_pages(
        client: FlaskClient, tomsk_2014: str, secretariat: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An assembly of 20,000 (bench/pages.py): the report page lists its participants a page
    at a time, the overview still counting them all."""
    import webapp.reports as reports

    login(client, secretariat.email)
    whole = client.get(f"/secretariat/assemblies/{tomsk_2014}/report").get_data(as_text=True)
    assert 'class="pagination' not in whole
    monkeypatch.setattr(reports, "PARTICIPANTS_PAGE", 2)
    cut = client.get(f"/secretariat/assemblies/{tomsk_2014}/report?lang=ja")
    html = cut.get_data(as_text=True)
    total = re.search(r'data-testid="total">([^<]+)<', html)
    assert cut.status_code == 200 and total is not None
    assert total.group(1) in client.get(
        f"/secretariat/assemblies/{tomsk_2014}/report?lang=ja").get_data(as_text=True)
    section = html[html.index('id="participants"'):]
    assert section.count("<tr><td>") == 2
    assert "page=2" in section and "lang=ja" in section and "#participants" in section
    second = client.get(f"/secretariat/assemblies/{tomsk_2014}/report?lang=ja&page=2")
    assert second.get_data(as_text=True)[second.get_data(as_text=True).index(
        'id="participants"'):] != section


def test_secretariat_pages_generate_status_report_and_side_events(
        app: Flask, client: FlaskClient, celery_worker: Any, make_user: Callable[..., User],
        tomsk_2014: str, secretariat: Account) -> None:
    make_user("liaison@tyo.example.org", Role.LIAISON, city="TYO")
    login(client, "liaison@tyo.example.org")
    for url in (f"/secretariat/assemblies/{tomsk_2014}/summaries",
                f"/secretariat/assemblies/{tomsk_2014}/report",
                f"/secretariat/assemblies/{tomsk_2014}/side-events"):
        assert client.get(url).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(True))})

    login(client, secretariat.email)
    dashboard = client.get("/secretariat/").get_data(as_text=True)
    assert f"/secretariat/assemblies/{tomsk_2014}/summaries" in dashboard
    page = client.get(f"/secretariat/assemblies/{tomsk_2014}/summaries").get_data(as_text=True)
    assert 'data-testid="no-jobs"' in page
    response = client.post(f"/secretariat/assemblies/{tomsk_2014}/summaries",
                           data={"csrf_token": csrf_token(page), "language": "en"})
    assert response.status_code == 302
    again = client.post(f"/secretariat/assemblies/{tomsk_2014}/summaries",
                        data={"csrf_token": csrf_token(page), "language": "en"},
                        follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        jobs = db.session.scalars(select(SummaryJob)).all()
    assert len(jobs) == 1, "the second click joined the first job"
    assert "同じデータの集計がすでに作成中" in again  # the secretariat reads Japanese
    status = client.get(f"/secretariat/summaries/{jobs[0].id}/status").get_json()
    assert status["status"] in ("queued", "running", "done") and "progress" in status
    assert wait_for(lambda: client.get(f"/secretariat/summaries/{jobs[0].id}/status")
                    .get_json()["status"] == "done", timeout=120)
    xlsx = client.get(f"/secretariat/summaries/{jobs[0].id}/download/xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
    assert client.get(f"/secretariat/summaries/{jobs[0].id}/download/docx").status_code == 404

    report = client.get(f"/secretariat/assemblies/{tomsk_2014}/report?lang=ja")
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    for text in ("東京", "トムスク", "※", "107", "舛添 要一", "MASUZOE Yoichi", "(18:00)",
                 "Asia/Tokyo", "Asia/Tomsk", "ヤンゴン (20)"):
        assert text in html, text

    events = client.get(f"/secretariat/assemblies/{tomsk_2014}/side-events")
    html = events.get_data(as_text=True)
    assert "Asian children" in html or "アジアの子供の絵" in html
    token = csrf_token(html)
    empty = client.post(f"/secretariat/assemblies/{tomsk_2014}/side-events",
                        data={"csrf_token": token, "kind": "other", "title_en": "",
                              "title_ja": ""})
    assert empty.status_code == 422 and "is-invalid" in empty.get_data(as_text=True)
    created = client.post(f"/secretariat/assemblies/{tomsk_2014}/side-events",
                          data={"csrf_token": token, "kind": "stage_performance",
                                "title_en": "Closing concert", "title_ja": "閉会コンサート",
                                "starts_on": "2014-09-06", "ends_on": "2014-09-05"})
    assert created.status_code == 422 and "is-invalid" in created.get_data(as_text=True)
    created = client.post(f"/secretariat/assemblies/{tomsk_2014}/side-events",
                          data={"csrf_token": token, "kind": "stage_performance",
                                "title_en": "Closing concert", "title_ja": "閉会コンサート",
                                "starts_on": "2014-09-06"})
    assert created.status_code == 302
    event_url = created.headers["Location"]
    bad = client.post(f"{event_url}/contributions",
                      data={"csrf_token": token, "city": "SEL", "count": "-3"})
    assert bad.status_code == 422 and "invalid-feedback" in bad.get_data(as_text=True)
    ok = client.post(f"{event_url}/contributions",
                     data={"csrf_token": token, "city": "SEL", "description_en": "Drums",
                           "count": "12"})
    assert ok.status_code == 302
    edited = client.post(event_url, data={"csrf_token": token, "kind": "stage_performance",
                                          "title_en": "Farewell concert", "title_ja": ""})
    assert edited.status_code == 302
    page = client.get(event_url).get_data(as_text=True)
    assert "Farewell concert" in page and "Drums" in page and "12" in page
    delete = client.post(f"{event_url}/delete", data={"csrf_token": token})
    assert delete.status_code == 302
    assert "Farewell concert" not in client.get(
        f"/secretariat/assemblies/{tomsk_2014}/side-events").get_data(as_text=True)


@pytest.mark.browser
def test_the_page_shows_progress_and_links_without_reloading(
        app: Flask, page: Any, celery_worker: Any, tomsk_2014: str, secretariat: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SOKAI_SETTINGS", dataclasses.replace(
        app.config["SOKAI_SETTINGS"], summary_stage_delay=0.7))
    page.goto("/login")
    page.fill("input[name=email]", secretariat.email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.goto(f"/secretariat/assemblies/{tomsk_2014}/summaries")
    page.select_option("select[name=language]", "ja")
    page.click("[data-testid=generate]")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector(".job-stage:has-text('%')", timeout=30000)
    page.wait_for_selector("a[data-format=pdf]", timeout=60000)
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.locator("a[data-format=csv]").count() == 1


def test_a_queued_job_whose_message_was_lost_is_sent_again_by_the_sweep(
        app: Flask, celery_worker: Any, tomsk_2014: str, secretariat: Account) -> None:
    job_id = _job(app, tomsk_2014, secretariat)  # a row, but no message reached the broker
    with app.app_context():
        assert requeue_summaries(db.session) == 0  # too early to call it lost
        assert requeue_summaries(db.session, now=utcnow() + timedelta(minutes=3)) == 1

    def done() -> bool:
        with app.app_context():
            job = db.session.get(SummaryJob, job_id)
            db.session.refresh(job)
            return job.status is SummaryStatus.DONE

    assert wait_for(done, timeout=120)
