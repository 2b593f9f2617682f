"""Logging in and out, CSRF, role checks, the language switch."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from models import Role, User
from tests.conftest import PASSWORD, csrf_token, login


def test_login_and_logout(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("sec@example.org", Role.SECRETARIAT)
    response = login(client, "SEC@example.org")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/secretariat/")
    assert client.get("/secretariat/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert client.get("/secretariat/").status_code == 302  # back to the login page


def test_bad_credentials_get_one_generic_message(client: FlaskClient,
                                                 make_user: Callable[..., User]) -> None:
    make_user("sec@example.org")
    wrong_password = login(client, "sec@example.org", "not the password").get_data(as_text=True)
    unknown_user = login(client, "nobody@example.org").get_data(as_text=True)
    message = "The email or password is not right."
    assert message in wrong_password and message in unknown_user
    assert client.get("/secretariat/").status_code == 302


def test_a_form_without_csrf_token_is_refused(client: FlaskClient,
                                              make_user: Callable[..., User]) -> None:
    make_user("sec@example.org")
    response = client.post("/login", data={"email": "sec@example.org",
                                           "password": "correct horse battery"})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/secretariat/").status_code == 302  # not logged in


def test_logout_needs_csrf_too(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("sec@example.org")
    login(client, "sec@example.org")
    assert client.post("/logout").status_code == 400
    assert client.get("/secretariat/").status_code == 200  # still logged in


def test_a_liaison_cannot_open_the_secretariat_pages(client: FlaskClient,
                                                     make_user: Callable[..., User]) -> None:
    from services.demo import load_tomsk_2014
    from webapp.extensions import db

    with client.application.app_context():
        load_tomsk_2014(db.session)
        db.session.commit()
    make_user("liaison@example.org", Role.LIAISON, city="TYO")
    login(client, "liaison@example.org")
    assert client.get("/secretariat/").status_code == 403
    assert client.post("/secretariat/worker-check").status_code in (400, 403)


def test_language_switch(client: FlaskClient) -> None:
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log in" in english
    response = client.get("/lang/ja?next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    japanese = client.get("/login").get_data(as_text=True)
    assert "ログイン" in japanese and '<html lang="ja">' in japanese
    # The browser's language is the default when nothing was chosen.
    fresh = client.application.test_client()
    assert "ログイン" in fresh.get("/login", headers={"Accept-Language": "ja,en;q=0.5"}).get_data(
        as_text=True)


def test_language_switch_does_not_redirect_off_site(client: FlaskClient) -> None:
    response = client.get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def _replay(client: FlaskClient, cookie: str) -> FlaskClient:
    """A new browser that presents a session cookie captured from another."""
    thief = client.application.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    return thief


def test_logging_out_ends_every_earlier_session(client: FlaskClient,
                                                make_user: Callable[..., User]) -> None:
    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    laptop = client.application.test_client()
    login(laptop, "sec@example.org")
    captured = client.get_cookie("session").value
    assert _replay(client, captured).get("/secretariat/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    # The cookie from before the logout no longer opens anything, nor does the other device.
    assert _replay(client, captured).get("/secretariat/").status_code == 302
    assert laptop.get("/secretariat/").status_code == 302
    # Logging in again works and gives a session that does.
    assert login(client, "sec@example.org").status_code == 302
    assert client.get("/secretariat/").status_code == 200


def test_a_password_change_ends_every_earlier_session(client: FlaskClient,
                                                      make_user: Callable[..., User]) -> None:
    from sqlalchemy import select

    from webapp.extensions import db

    make_user("sec@example.org", Role.SECRETARIAT)
    login(client, "sec@example.org")
    captured = client.get_cookie("session").value
    with client.application.app_context():
        user = db.session.scalar(select(User).where(User.email == "sec@example.org"))
        user.set_password("a brand new password")
        db.session.commit()
    assert client.get("/secretariat/").status_code == 302
    assert _replay(client, captured).get("/secretariat/").status_code == 302
    assert login(client, "sec@example.org", "a brand new password").status_code == 302
    assert client.get("/secretariat/").status_code == 200


def test_a_password_hashed_with_older_parameters_still_logs_in_and_is_rehashed(
        app: Flask, client: FlaskClient, make_user: Callable[..., User]) -> None:
    """Passwords are hashed with OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane); a
    hash made with argon2-cffi's heavier defaults still verifies and is upgraded on login."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from webapp.extensions import db

    make_user("old@example.org", Role.SECRETARIAT)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "old@example.org"))
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        user.password_hash = PasswordHasher().hash(PASSWORD)  # m=65536,t=3,p=4
        db.session.commit()
    login(client, "old@example.org")
    assert client.get("/secretariat/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "old@example.org"))
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
