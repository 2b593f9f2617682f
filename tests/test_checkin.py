"""Check-in (issue 15): badge PDFs whose QR codes check the right people in, idempotent
check-in under concurrency, undo, cancelled and revoked refusals, door-staff rights, the counts
and attendance on the check-in basis."""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import CheckIn, Role, User
from tests.checkin_helpers import codes_of, decode_qr_codes, delegate_id, tomsk_venue
from tests.conftest import wait_for
from webapp.extensions import db


def _badges(client: FlaskClient, venue: Any, **body: Any) -> bytes:
    job = client.post(f"/api/v1/assemblies/{venue.slug}/badges", headers=venue.sec, json=body)
    assert job.status_code == 202, job.get_json()
    url = job.get_json()["url"]

    def done() -> Any:
        state = client.get(url, headers=venue.sec).get_json()
        return state if state["status"] in ("done", "failed") else None

    state = wait_for(done, timeout=240)
    assert state and state["status"] == "done", state
    assert state["progress"] == 100
    pdf = client.get(state["download"], headers=venue.sec)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    return pdf.data


def test_badge_qr_codes_decode_and_check_the_right_people_in(
        app: Flask, client: FlaskClient, make_user: Callable[..., User],
        celery_worker: Any) -> None:
    venue = tomsk_venue(app, make_user)
    pdf = _badges(client, venue, city="TYO", layout="sheet")
    decoded = decode_qr_codes(pdf)
    expected = codes_of(app)
    tokyo = {name: code for name, code in expected.items() if code in decoded}
    assert len(decoded) == 31 == len(set(decoded))  # Tokyo's 31, each once
    assert set(decoded) == set(tokyo.values())
    # Names in both scripts and the city in both languages are on the badges.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    assert "MASUZOE" in text and "舛添" in text and "Tokyo" in text and "東京" in text
    assert "Representative" in text and "代表者" in text
    for name, code in tokyo.items():
        answer = client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                             json={"code": code})
        assert answer.status_code == 201, answer.get_json()
        body = answer.get_json()
        assert body["delegate"]["family_name"] == name and body["city"] == "TYO"
        assert body["already"] is False
    # A revoked code answers 404; the new one works.
    masuzoe = delegate_id(app, "MASUZOE")
    assert client.delete(f"/api/v1/assemblies/{venue.slug}/delegates/{masuzoe}/badge",
                         headers=venue.sec).status_code == 204
    # Idempotent, like every DELETE: no live code left, nothing to do, 204 again.
    assert client.delete(f"/api/v1/assemblies/{venue.slug}/delegates/{masuzoe}/badge",
                         headers=venue.sec).status_code == 204
    gone = client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                       json={"code": tokyo["MASUZOE"]})
    assert gone.status_code == 404 and gone.get_json()["error"]["fields"] == {
        "code": [gone.get_json()["error"]["message"]]}
    new = client.post(f"/api/v1/assemblies/{venue.slug}/delegates/{masuzoe}/badge",
                      headers=venue.sec).get_json()["code"]
    assert new != tokyo["MASUZOE"] and len(new) >= 32
    again = client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                        json={"code": new})
    assert again.status_code == 200 and again.get_json()["already"] is True
    counts = client.get(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff)
    tokyo_row = next(c for c in counts.get_json()["cities"] if c["city"] == "TYO")
    assert tokyo_row == {"city": "TYO", "name": tokyo_row["name"], "registered": 31,
                         "checked_in": 31, "representatives": 1}
    assert counts.get_json()["checked_in"] == 31 and counts.get_json()["registered"] == 107


def test_badges_one_per_page_in_every_script(app: Flask, client: FlaskClient,
                                             make_user: Callable[..., User],
                                             celery_worker: Any) -> None:
    venue = tomsk_venue(app, make_user)
    people = [("Ким", "Мария", "Ким Мария", "ru"), ("Nguyễn", "Thị Hồng", "Nguyễn Thị Hồng", "en"),
              ("Kim", "Minsu", "김민수", "en"), ("Somchai", "Dee", "สมชาย ดี", "en"),
              ("Bat", "Erdene", "Бат-Эрдэнэ", "en"), ("Lin", "Mei", "林美", "en")]
    ids = []
    for family, given, local, _lang in people:
        made = client.post(f"/api/v1/assemblies/{venue.slug}/delegates", headers=venue.sec,
                           json={"city": "SEL", "family_name": family, "given_name": given,
                                 "name_local": local, "role": "press"})
        assert made.status_code == 201, made.get_json()
        ids.append(made.get_json()["id"])
    pdf = _badges(client, venue, delegates=ids, layout="single")
    assert len(decode_qr_codes(pdf)) == len(ids)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                              text=True).stdout
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+(\d+)", info).group(1) == str(len(ids)), info  # type: ignore[union-attr]
    for *_, local, _lang in people:
        assert local.replace(" ", "") in text.replace(" ", ""), local
    assert "Press" in text
    for font in ("NotoSans", "Nanum", "Thai"):
        assert font in fonts, fonts
    assert fonts.count(" yes yes ") >= 3  # embedded subsets


def test_check_in_is_idempotent_under_concurrency(app: Flask, make_user: Callable[..., User]
                                                  ) -> None:
    venue = tomsk_venue(app, make_user)
    code = codes_of(app, ["MASUZOE"])["MASUZOE"]
    url = f"/api/v1/assemblies/{venue.slug}/checkins"
    for attempt in range(3):
        if attempt:
            assert app.test_client().delete(
                f"{url}/{delegate_id(app, 'MASUZOE')}", headers=venue.sec).status_code == 204
        barrier = threading.Barrier(2)
        answers: list[Any] = []

        def scan(barrier: threading.Barrier = barrier, answers: list[Any] = answers) -> None:
            client = app.test_client()
            barrier.wait()
            answers.append(client.post(url, headers=venue.staff, json={"code": code}))

        threads = [threading.Thread(target=scan) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(a.status_code for a in answers) == [200, 201], [a.get_json()
                                                                      for a in answers]
        assert sorted(a.get_json()["already"] for a in answers) == [False, True]
        assert len({a.get_json()["checked_in_at"] for a in answers}) == 1
        with app.app_context():
            assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_undo_cancelled_unknown_and_offline_times(app: Flask, client: FlaskClient,
                                                   make_user: Callable[..., User]) -> None:
    venue = tomsk_venue(app, make_user)
    url = f"/api/v1/assemblies/{venue.slug}/checkins"
    masuzoe = delegate_id(app, "MASUZOE")
    scanned = datetime.now(UTC) - timedelta(minutes=7)
    first = client.post(url, headers=venue.staff,
                        json={"delegate": masuzoe, "at": scanned.isoformat()})
    assert first.status_code == 201
    assert datetime.fromisoformat(first.get_json()["checked_in_at"]) == scanned.replace(
        microsecond=scanned.microsecond)
    assert "Asia/Tomsk" in first.get_json()["checked_in_at_text"]
    assert client.delete(f"{url}/{masuzoe}", headers=venue.staff).status_code == 204
    assert client.delete(f"{url}/{masuzoe}", headers=venue.staff).status_code == 404
    assert client.post(url, headers=venue.staff, json={"delegate": masuzoe}).status_code == 201
    unknown = client.post(url, headers=venue.staff, json={"code": "not-a-badge-code"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_badge"
    assert client.post(url, headers=venue.staff, json={"delegate": 999999}).status_code == 404
    empty = client.post(url, headers=venue.staff, json={})
    assert empty.status_code == 422 and "code" in empty.get_json()["error"]["fields"]
    naive = client.post(url, headers=venue.staff, json={"delegate": masuzoe,
                                                        "at": "2014-09-04T09:12:00"})
    assert naive.status_code == 422 and "at" in naive.get_json()["error"]["fields"]
    future = client.post(url, headers=venue.staff, json={
        "delegate": masuzoe, "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    assert future.status_code == 422 and "at" in future.get_json()["error"]["fields"]
    # A cancelled registration: 409 with the reason.
    made = client.post(f"/api/v1/assemblies/{venue.slug}/delegates", headers=venue.sec,
                       json={"city": "TYO", "family_name": "Cancelled"}).get_json()
    assert client.delete(f"/api/v1/assemblies/{venue.slug}/delegates/{made['id']}",
                         headers=venue.sec).status_code in (200, 204)
    refused = client.post(url, headers=venue.staff, json={"delegate": made["id"]})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "cancelled"
    assert "cancelled" in refused.get_json()["error"]["message"]


def test_door_staff_rights(app: Flask, client: FlaskClient,
                           make_user: Callable[..., User]) -> None:
    venue = tomsk_venue(app, make_user)
    url = f"/api/v1/assemblies/{venue.slug}/checkins"
    masuzoe = delegate_id(app, "MASUZOE")
    # Liaisons never check in; staff not assigned to the assembly neither.
    assert client.post(url, headers=venue.liaison, json={"delegate": masuzoe}
                       ).status_code == 403
    make_user("other.staff@example.org", Role.STAFF)
    with app.app_context():
        from services.accounts import issue_token

        other = {"Authorization": "Bearer " + issue_token(db.session,
                                                          "other.staff@example.org")}
        db.session.commit()
    refused = client.post(url, headers=other, json={"delegate": masuzoe})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert client.get(url, headers=other).status_code == 403
    # Staff search in any script, by city too; and see nothing else.
    found = client.get(f"{url}/search", headers=venue.staff, query_string={"q": "舛添"})
    assert [p["delegate"]["family_name"] for p in found.get_json()["people"]] == ["MASUZOE"]
    found = client.get(f"{url}/search", headers=venue.staff, query_string={"q": "舛添要一"})
    assert len(found.get_json()["people"]) == 1
    found = client.get(f"{url}/search", headers=venue.staff,
                       query_string={"q": "yoichi masuzoe"})
    assert len(found.get_json()["people"]) == 1
    by_city = client.get(f"{url}/search", headers=venue.staff, query_string={"q": "東京"})
    assert len(by_city.get_json()["people"]) == 20  # the first 20 of Tokyo's 31
    assert {p["city"] for p in by_city.get_json()["people"]} == {"TYO"}
    assert client.get(f"{url}/search", headers=venue.staff).status_code == 422
    for path in ("/api/v1/assemblies/anmc21-tomsk-2014/delegates",
                 "/api/v1/assemblies/anmc21-tomsk-2014/attendance", "/api/v1/cities",
                 "/api/v1/assemblies"):
        assert client.get(path, headers=venue.staff).status_code == 403, path
    assert client.post(f"/api/v1/assemblies/{venue.slug}/badges", headers=venue.staff,
                       json={}).status_code == 403


def test_attendance_on_the_checkin_basis(app: Flask, client: FlaskClient,
                                         make_user: Callable[..., User]) -> None:
    venue = tomsk_venue(app, make_user)
    url = f"/api/v1/assemblies/{venue.slug}/attendance"
    registered = client.get(url, headers=venue.sec).get_json()
    assert registered["basis"] == "registration" and registered["quorum"]["present"] == 6
    early = client.get(url, headers=venue.sec, query_string={"basis": "checkin"})
    assert early.status_code == 409 and "basis" in early.get_json()["error"]["fields"]
    assert client.get(url, headers=venue.sec, query_string={"basis": "x"}).status_code == 422
    for name in ("MASUZOE",):
        assert client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                           json={"delegate": delegate_id(app, name)}).status_code == 201
    picture = client.get(url, headers=venue.sec, query_string={"basis": "checkin"}).get_json()
    by_city = {row["city"]: row for row in picture["cities"]}
    assert picture["basis"] == "checkin"
    assert by_city["TYO"]["presence"] == "present" and by_city["TYO"]["participants"] == 1
    assert by_city["TYO"]["representative"]["family_name"] == "MASUZOE"
    # Jakarta's verified letter names Tokyo, which is here: represented.
    assert by_city["JKT"]["presence"] == "represented"
    assert by_city["TOF"]["presence"] == "absent"  # registered, nobody here yet
    assert picture["quorum"]["present"] == 1 and picture["quorum"]["represented"] == 1
    assert picture["participants"] == 1 and picture["quorum"]["reached"] is False
    # What a decision put to the assembly counts, once check-in has started.
    with app.app_context():
        from models import Assembly
        from services.checkin.presence import attendance_for_decision

        assembly = db.session.scalar(select(Assembly))
        assert attendance_for_decision(db.session, assembly).present == 1


def test_sweep_resends_a_lost_badge_job(app: Flask, make_user: Callable[..., User]) -> None:
    tomsk_venue(app, make_user)
    with app.app_context():
        from models import Assembly, BadgeJob
        from services.checkin.badges import build_badges, requeue_badge_jobs

        assembly = db.session.scalar(select(Assembly))
        assert assembly is not None
        fresh = BadgeJob(assembly_id=assembly.id, scope={"city": "HAN"})
        lost = BadgeJob(assembly_id=assembly.id, scope={"city": "BKK"},
                        created_at=datetime.now(UTC) - timedelta(minutes=5))
        db.session.add_all([fresh, lost])
        db.session.commit()
        assert requeue_badge_jobs(db.session) == 1  # the fresh one is still on its way
        assert build_badges(db.session, lost.id, app.config["SOKAI_SETTINGS"]) == "done"
        assert build_badges(db.session, lost.id, app.config["SOKAI_SETTINGS"]) == "done"
        db.session.refresh(lost)
        assert lost.badges == 4 and lost.size > 0
        assert len(decode_qr_codes(Path(lost.path).read_bytes())) == 4


def test_staff_accounts_from_the_command_line(app: Flask, make_user: Callable[..., User],
                                              settings: Any) -> None:
    from click.testing import CliRunner

    from webapp.cli import main

    tomsk_venue(app, make_user)
    env = {"SOKAI_INSTANCE_PATH": str(settings.instance_path), "SECRET_KEY": "test-secret",
           "DATABASE_URL": settings.database_url}
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    runner = CliRunner()
    made = runner.invoke(main, ["users", "create", "gate@example.org", "--role", "staff",
                                "--assembly", "anmc21-tomsk-2014",
                                "--password", "a long password"], env=env)
    assert made.exit_code == 0, made.output
    assert "created staff gate@example.org" in made.output
    unknown = runner.invoke(main, ["users", "create", "gate2@example.org", "--role", "staff",
                                   "--assembly", "no-such-assembly",
                                   "--password", "a long password"], env=env)
    assert unknown.exit_code == 2 and "--assembly SLUG" in unknown.output
    liaison = runner.invoke(main, ["users", "create", "gate3@example.org", "--role", "liaison",
                                   "--city", "TYO", "--assembly", "anmc21-tomsk-2014",
                                   "--password", "a long password"], env=env)
    assert liaison.exit_code == 2
    token = runner.invoke(main, ["tokens", "create", "gate@example.org"], env=env)
    secret = token.output.strip().splitlines()[-1]
    client = app.test_client()
    answer = client.get("/api/v1/assemblies/anmc21-tomsk-2014/checkins",
                        headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.get_json()


def test_migration_0017_goes_up_and_down(tmp_path: Path, settings: Any) -> None:
    """Up to head, down to the revision before 0017 (the staff role and the tables go), and
    up again; on the test's database kind (a scratch database on PostgreSQL)."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, inspect, text

    from models.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    scratch = None
    if settings.database_url.startswith("postgresql"):
        scratch = "sokai_mig_" + tmp_path.name[-8:].replace("-", "_").lower()
        admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        admin.dispose()
        url = settings.database_url.rsplit("/", 1)[0] + "/" + scratch
    try:
        upgrade(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (email, display_name, role, language, "
                              "is_active, created_at, session_version) VALUES ('s@x.org', '', "
                              "'staff', 'en', true, CURRENT_TIMESTAMP, 0)"))
        assert {"badges", "checkins", "checkin_events", "badge_jobs",
                "staff_assignments"} <= set(inspect(engine).get_table_names())
        before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0017")
        command.downgrade(alembic_config(url), before.down_revision)
        engine.dispose()
        assert "checkins" not in inspect(engine).get_table_names()
        import sqlalchemy.exc

        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO users (email, display_name, role, language, "
                                  "is_active, created_at, session_version) VALUES ('t@x.org', "
                                  "'', 'staff', 'en', true, CURRENT_TIMESTAMP, 0)"))
            raise AssertionError("the staff role outlived the downgrade")
        except sqlalchemy.exc.IntegrityError:
            pass
        upgrade(url)
        engine.dispose()
    finally:
        if scratch:
            admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            admin.dispose()


def test_the_board_version_goes_through_redis(app: Flask, client: FlaskClient,
                                             make_user: Callable[..., User],
                                             redis_server: Any, monkeypatch: Any) -> None:
    """With REDIS_URL set, every web process reads the board's version from Redis (one GET);
    when Redis stops, the database answers the same."""
    import dataclasses

    import redis

    from tests.conftest import login

    venue = tomsk_venue(app, make_user)
    monkeypatch.setitem(app.config, "SOKAI_SETTINGS", dataclasses.replace(
        app.config["SOKAI_SETTINGS"], redis_url=redis_server.url))
    login(client, "door.sec@example.org")
    board = client.get(f"/secretariat/assemblies/{venue.slug}/board.json").get_json()
    assert board["version"] == 0 and board["checked_in"] == 0
    answer = client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                         json={"delegate": delegate_id(app, "MASUZOE")})
    assert answer.status_code == 201
    with app.app_context():
        assembly_id = db.session.scalar(select(CheckIn.assembly_id))
    stored = redis.Redis.from_url(redis_server.url).get(f"sokai:checkin:version:{assembly_id}")
    assert stored is not None and int(stored) >= 1
    version = int(stored)
    same = client.get(f"/secretariat/assemblies/{venue.slug}/board.json",
                      query_string={"v": version}).get_json()
    assert same == {"version": version, "changed": False}
    redis_server.stop()
    fallback = client.get(f"/secretariat/assemblies/{venue.slug}/board.json").get_json()
    assert fallback["version"] == version and fallback["checked_in"] == 1


def test_a_decision_put_on_the_checkin_basis(app: Flask, client: FlaskClient,
                                             make_user: Callable[..., User]) -> None:
    """The decisions area's "checkin" basis (registered by services.checkin.presence): the
    frozen picture is who is at the venue."""
    venue = tomsk_venue(app, make_user)
    api = f"/api/v1/assemblies/{venue.slug}"
    made = client.post(f"{api}/decisions", headers=venue.sec,
                       json={"title": {"en": "Venue motion"}, "majority": "simple"})
    assert made.status_code == 201, made.get_json()
    url = f"{api}/decisions/{made.get_json()['id']}"
    early = client.post(f"{url}/open", headers=venue.sec, json={"basis": "checkin"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "checkin_not_started"
    with app.app_context():
        from models import Delegate, Delegation, MemberCity

        firsts = {code: person for code, person in db.session.execute(
            select(MemberCity.code, func.min(Delegate.id))
            .join(Delegation, Delegation.city_id == MemberCity.id)
            .join(Delegate, Delegate.delegation_id == Delegation.id)
            .group_by(MemberCity.code))}
    assert len(firsts) == 6
    assert client.post(f"{api}/checkins", headers=venue.staff,
                       json={"delegate": firsts["TYO"]}).status_code == 201
    short = client.post(f"{url}/open", headers=venue.sec, json={"basis": "checkin"})
    assert short.status_code == 409 and short.get_json()["error"]["code"] == "quorum_not_reached"
    for person in firsts.values():
        client.post(f"{api}/checkins", headers=venue.staff, json={"delegate": person})
    opened = client.post(f"{url}/open", headers=venue.sec, json={"basis": "checkin"})
    assert opened.status_code == 200, opened.get_json()
    snapshot = opened.get_json()["snapshot"]
    assert snapshot["basis"] == "checkin" and len(snapshot["present"]) == 6
    assert [p["city"] for p in snapshot["represented"]] == ["JKT"]
    assert snapshot["quorum"]["counted"] == 7 and snapshot["quorum"]["reached"] is True


def test_the_report_states_registered_and_checked_in_per_city(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    import csv
    import io

    from tests.conftest import login

    venue = tomsk_venue(app, make_user)
    with app.app_context():
        from models import Assembly, SummaryJob
        from services.summaries.building import render_report
        from services.summaries.report import data_version

        assembly = db.session.scalar(select(Assembly))
        assert assembly is not None
        before = data_version(db.session, assembly)
    assert client.post(f"/api/v1/assemblies/{venue.slug}/checkins", headers=venue.staff,
                       json={"delegate": delegate_id(app, "MASUZOE")}).status_code == 201
    with app.app_context():
        assembly = db.session.scalar(select(Assembly))
        assert assembly is not None
        assert data_version(db.session, assembly) != before  # a check-in is new data
        job = SummaryJob(assembly_id=assembly.id, language="en",
                         data_version=data_version(db.session, assembly))
        db.session.add(job)
        db.session.commit()
        assert render_report(db.session, job.id, app.config["SOKAI_SETTINGS"]) == "done"
        db.session.refresh(job)
        folder = app.config["SOKAI_SETTINGS"].instance_path
        files = {f["format"]: folder / f["path"] for f in job.files}
    rows = list(csv.reader(io.StringIO(files["csv"].read_text(encoding="utf-8-sig"))))
    venue_rows = {r[1]: r for r in rows if r[0] == "Checked in"}
    assert venue_rows["TYO"][4:6] == ["31", "1"] and venue_rows["BKK"][4:6] == ["4", "0"]
    text = subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True,
                          text=True).stdout
    assert "At the venue" in text
    login(client, "door.sec@example.org")
    page = client.get(f"/secretariat/assemblies/{venue.slug}/report").get_data(as_text=True)
    assert 'data-testid="at-venue"' in page
