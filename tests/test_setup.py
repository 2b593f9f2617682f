"""First run: from an empty instance to a liaison's registration without writing Python — the
setup page in a real browser, `sokai init`, the network API — and the mail it sends."""

from __future__ import annotations

import re
from typing import Any

from click.testing import CliRunner
from flask import Flask

from config import Settings
from services.network import setup_token
from tests.conftest import dropped_mail, wait_for
from webapp.cli import main


def _cli_env(settings: Settings) -> dict[str, str]:
    env = {"SOKAI_INSTANCE_PATH": str(settings.instance_path), "SECRET_KEY": settings.secret_key,
           "DATABASE_URL": settings.database_url, "SOKAI_BASE_URL": settings.base_url}
    if not settings.broker_is_embedded:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


def _invoke(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=_cli_env(settings))


INIT = ("init", "--network-code", "CITYNET", "--name-en", "City Network",
        "--name-ja", "都市ネットワーク", "--home-timezone", "Europe/Berlin",
        "--secretariat-email", "office@citynet.example.org", "--sender-name", "CityNet Office",
        "--admin-email", "admin@citynet.example.org", "--password", "a long password")


def test_setup_page_works_once_in_a_browser(app: Flask, settings: Settings, browser: Any,
                                            live_server: str) -> None:
    first = browser.new_context(base_url=live_server, locale="en-GB")
    page = first.new_page()
    # `/` on an empty instance says where the setup link is, without giving it away.
    page.goto("/")
    assert "has no network yet" in page.content()
    assert setup_token(settings) not in page.content()
    assert page.goto("/setup/not-the-token").status == 404

    link = f"/setup/{setup_token(settings)}"
    assert page.goto(link).status == 200
    page.fill("#code", "citynet")
    page.fill("#name_en", "City Network")
    page.fill("#name_ja", "都市ネットワーク")
    page.select_option("#home_timezone", "Europe/Berlin")
    page.fill("#secretariat_email", "office@citynet.example.org")
    page.fill("#sender_name", "CityNet Office")
    page.fill("#email", "admin@citynet.example.org")
    page.fill("#password", "a long password")
    page.fill("#confirm", "not the same")
    page.click("button[type=submit]")
    assert "The two passwords differ." in page.content()  # said next to the field
    page.fill("#password", "a long password")
    page.fill("#confirm", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url("**/secretariat/")
    assert page.get_by_test_id("next-steps").is_visible()
    assert "City Network is set up" in page.content()
    # Logged in as the new secretariat: the settings page shows what was entered.
    page.goto("/secretariat/network")
    assert page.input_value("#name_ja") == "都市ネットワーク"
    assert page.input_value("#home_timezone") == "Europe/Berlin"
    first.close()

    # A second visitor: the link is dead, and `/` is the ordinary home page.
    second = browser.new_context(base_url=live_server, locale="en-GB")
    other = second.new_page()
    assert other.goto(link).status == 404
    other.goto("/")
    assert "has no network yet" not in other.content()
    assert "Set up Sokai" not in other.content()
    second.close()
    # And the command line agrees.
    dead = _invoke(settings, "setup-link")
    assert dead.exit_code == 1 and "set up already" in dead.output


def test_from_init_to_a_liaisons_registration(app: Flask, settings: Settings,
                                              celery_worker: Any) -> None:
    printed = _invoke(settings, "setup-link")
    assert printed.exit_code == 0, printed.output
    assert printed.output.strip() == f"{settings.base_url}/setup/{setup_token(settings)}"

    result = _invoke(settings, *INIT)
    assert result.exit_code == 0, result.output
    assert "created the network CITYNET" in result.output
    again = _invoke(settings, *INIT)
    assert again.exit_code == 2 and "already has its network" in again.output
    client = app.test_client()
    assert client.get(f"/setup/{setup_token(settings)}").status_code == 404

    token = _invoke(settings, "tokens", "create", "admin@citynet.example.org").output.strip()
    sec = {"Authorization": f"Bearer {token}"}
    network = client.get("/api/v1/network", headers=sec)
    assert network.status_code == 200
    assert network.get_json() == {
        "code": "CITYNET", "name": {"en": "City Network", "ja": "都市ネットワーク"},
        "home_timezone": "Europe/Berlin", "secretariat_email": "office@citynet.example.org",
        "sender_name": "CityNet Office"}
    bad = client.patch("/api/v1/network", headers=sec, json={"home_timezone": "UTC+7"})
    assert bad.status_code == 422 and "home_timezone" in bad.get_json()["error"]["fields"]
    changed = client.patch("/api/v1/network", headers=sec,
                           json={"sender_name": "CityNet Secretariat"})
    assert changed.status_code == 200
    assert changed.get_json()["sender_name"] == "CityNet Secretariat"

    for code, name, country, zone in (("LIS", "Lisbon", "PT", "Europe/Lisbon"),
                                      ("OSA", "Osaka", "JP", "Asia/Osaka")):
        made = client.post("/api/v1/cities", headers=sec, json={
            "code": code, "name": {"en": name}, "country": country, "timezone": zone})
        assert made.status_code in (201, 422), made.get_json()
        if code == "OSA":  # Asia/Osaka is no IANA zone: refused, named
            assert made.get_json()["error"]["fields"] == {"timezone": made.get_json()[
                "error"]["fields"]["timezone"]}
            made = client.post("/api/v1/cities", headers=sec, json={
                "code": code, "name": {"en": name}, "country": country,
                "timezone": "Asia/Tokyo"})
        assert made.status_code == 201, made.get_json()
    created = client.post("/api/v1/assemblies", headers=sec, json={
        "slug": "citynet-2099", "number": 1, "host_city": "LIS", "timezone": "Europe/Lisbon",
        "home_timezone": "Europe/Berlin", "title": {"en": "First General Assembly"},
        "venue": {"en": "City Hall"}, "starts_on": "2099-10-20", "ends_on": "2099-10-21",
        "registration_deadline": "2099-09-30T18:00:00+01:00",
        "proxy_deadline": "2099-10-10T18:00:00+01:00", "quorum": "majority"})
    assert created.status_code == 201, created.get_json()
    opened = client.patch("/api/v1/assemblies/citynet-2099", headers=sec,
                          json={"status": "open"})
    assert opened.status_code == 200

    invited = client.post("/api/v1/cities/OSA/invitations", headers=sec,
                          json={"email": "liaison@osaka.example.org"})
    assert invited.status_code == 201, invited.get_json()
    assert invited.get_json()["state"] == "sent"
    mail = wait_for(lambda: [m for m in dropped_mail(settings)
                             if m["To"] == "liaison@osaka.example.org"], timeout=60)
    assert mail, "the invitation was not delivered"
    message = mail[0]
    # The sender the secretariat chose; a Message-ID of its domain; a real offset; text + HTML.
    assert message["From"] == "CityNet Secretariat <office@citynet.example.org>"
    host = settings.base_url.split("//")[1].split(":")[0].split("/")[0]
    assert message["Message-ID"].endswith(f"@{host}>")  # no MAIL_FROM: the public host
    assert message["Date"].endswith("+0000")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    link = re.search(r"(https?://\S+/invitation/\S+)", message.get_body(
        ("plain",)).get_content()).group(1)
    path = link.removeprefix(settings.base_url)
    page = client.get(path)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    accepted = client.post(path, data={"csrf_token": csrf.group(1),
                                       "password": "osaka liaison pw",
                                       "confirm": "osaka liaison pw"})
    assert accepted.status_code in (302, 303), accepted.get_data(as_text=True)[:2000]

    liaison = _invoke(settings, "tokens", "create", "liaison@osaka.example.org").output.strip()
    osaka = {"Authorization": f"Bearer {liaison}"}
    attending = client.put("/api/v1/assemblies/citynet-2099/delegations/OSA", headers=osaka,
                           json={"status": "attending"})
    assert attending.status_code == 200, attending.get_json()
    delegate = client.post("/api/v1/assemblies/citynet-2099/delegates", headers=osaka, json={
        "city": "OSA", "family_name": "Yamada", "given_name": "Hanako",
        "role": "representative"})
    assert delegate.status_code == 201, delegate.get_json()
    # Not another city's data.
    assert client.put("/api/v1/assemblies/citynet-2099/delegations/LIS", headers=osaka,
                      json={"status": "attending"}).status_code in (403, 404)
    picture = client.get("/api/v1/assemblies/citynet-2099/attendance", headers=sec).get_json()
    assert picture["participants"] == 1
    assert {row["city"]: row["presence"] for row in picture["cities"]} == {
        "LIS": "undecided", "OSA": "present"}  # undecided until the assembly is closed


def test_message_id_domain_and_mail_from(tmp_path: Any) -> None:
    import pytest

    from config import ConfigError, load_settings

    base = {"SOKAI_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
            "SOKAI_BASE_URL": "https://sokai.citynet.example.org:8443/"}
    assert load_settings(base).message_id_domain == "sokai.citynet.example.org"
    chosen = load_settings({**base, "MAIL_FROM": "CityNet <Office@CityNet.example.org>"})
    assert chosen.message_id_domain == "citynet.example.org"
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_settings({**base, "MAIL_FROM": "CityNet Office"})


def test_migration_0015_up_and_down(tmp_path: Any) -> None:
    """The sender name arrives with a default for existing networks and goes away again."""
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from models.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url, "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO networks (code, name, secretariat_email, home_timezone,"
                          " created_at) VALUES ('N', '{\"en\": \"N\"}', 'a@b.example',"
                          " 'Asia/Tokyo', '2026-01-01 00:00:00')"))
    upgrade(url, "0015")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sender_name FROM networks")).scalar_one() == ""
    command.downgrade(alembic_config(url), "0013")
    assert "sender_name" not in {c["name"] for c in inspect(engine).get_columns("networks")}
    engine.dispose()


def test_runtime_files_of_two_instances_stay_apart(tmp_path: Any) -> None:
    """Everything `sokai run` leaves on disk is in its instance folder (gunicorn's pid file,
    heartbeat files and control socket; beat's schedule by default), and the worker's node
    name carries the port: two instances on one host do not collide."""
    from config import load_settings
    from webapp.cli import _children, _control_socket

    argvs = []
    for name, port in (("one", 5001), ("two", 5002)):
        settings = load_settings({"SOKAI_INSTANCE_PATH": str(tmp_path / name),
                                  "SECRET_KEY": "x"})
        children = dict(_children(settings, "127.0.0.1", port))
        web, worker = children["web"], children["worker"]
        paths = [web[web.index(flag) + 1] for flag in ("--pid", "--worker-tmp-dir")]
        socket = _control_socket(settings)
        if "--control-socket" in socket:
            paths.append(socket[1])
        assert all(p.startswith(str(tmp_path / name)) for p in paths), paths
        assert worker[worker.index("--name") + 1] == f"sokai-{port}"
        argvs.append(paths)
    assert not set(argvs[0]) & set(argvs[1])


def test_start_up_warns_when_the_base_url_does_not_answer(tmp_path: Any, capsys: Any) -> None:
    from config import load_settings
    from tests.conftest import free_port
    from webapp.cli import _announce

    port = free_port()  # nothing listens there
    settings = load_settings({"SOKAI_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x",
                              "SOKAI_BASE_URL": f"http://127.0.0.1:{port}"})
    _announce(settings, "127.0.0.1", free_port(), ("the last line",))
    out, err = capsys.readouterr()
    assert f"SOKAI_BASE_URL http://127.0.0.1:{port} does not answer /healthz" in err
    assert out.rstrip().endswith("the last line")
