"""The web side of Sokai: create_app() builds the Flask app from the settings."""

from __future__ import annotations

import logging
import sys
from typing import Any

from apiflask import APIFlask
from flask import Flask, appcontext_pushed
from flask_talisman import Talisman
from sqlalchemy import event

from config import ConfigError, Settings, install_settings_provider, load_settings
from services.i18n import CATALOGUES
from webapp.api.schemas import ErrorOut
from webapp.extensions import (
    CONTENT_SECURITY_POLICY,
    babel,
    csrf,
    db,
    login_manager,
)

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = APIFlask(
        __name__,
        title="Sokai API",
        version="1",
        spec_path="/openapi.json",
        docs_path=None,  # webapp.api.docs_bp serves it: vendored Swagger UI, no inline script
        openapi_blueprint_url_prefix="/api/v1",
        json_errors=False,  # HTML pages keep HTML errors; the API formats its own
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        SOKAI_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(CATALOGUES),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        VALIDATION_ERROR_STATUS_CODE=422,
        # The OpenAPI document describes the error shape the API really answers with.
        HTTP_ERROR_SCHEMA=ErrorOut,
        VALIDATION_ERROR_SCHEMA=ErrorOut,
        INFO={"description": "The JSON API of Sokai. Authenticate with "
                             "`Authorization: Bearer <token>` (`sokai tokens create EMAIL`)."},
    )
    app.config.update(overrides)
    from webapp import paths

    paths.init_app(app)  # bounded <int:> ids, before any route is added

    def _settings_in_force(sender: Flask, **_kwargs: Any) -> None:
        # Use cases read the settings of the app whose context they run in (read afresh on
        # each call, so a test may replace them).
        install_settings_provider(lambda: sender.config["SOKAI_SETTINGS"])

    appcontext_pushed.connect(_settings_in_force, app, weak=False)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    csrf.init_app(app)
    login_manager.init_app(app)
    _security_headers(app, settings)

    from webapp import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    from tasks import init_celery

    init_celery(app)

    from webapp import api, auth, errors, health, public, secretariat

    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(secretariat.bp)
    from webapp import (
        calendar,
        checkin,
        decisions,
        mailing,
        network,
        programme,
        registration,
        reports,
        security,
    )
    from webapp.calendar.fast import FeedFastPath
    from webapp.registration import admin as registration_admin

    app.register_blueprint(mailing.bp)
    app.register_blueprint(network.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(programme.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(registration_admin.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(decisions.bp)
    app.register_blueprint(checkin.bp)
    api.init_app(app)
    security.init_app(app)  # login rate limits
    from webapp import metrics

    metrics.init_app(app)  # /metrics, request timing and ids
    # Feeds this process holds are answered before Flask (webapp/calendar/fast.py).
    app.wsgi_app = FeedFastPath(app.wsgi_app)  # type: ignore[method-assign]
    # Outermost: a NUL byte in the URL never reaches the fast path or a view.
    app.wsgi_app = paths.RefuseNul(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # Behind TLS at a proxy: the client's scheme, host and address from its headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _security_headers(app: Flask, settings: Settings) -> None:
    https = settings.base_url.startswith("https://")
    Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        # TLS ends at the proxy in front: no redirects here; HSTS (sent on https requests
        # only) and secure cookies when the public address is https.
        force_https=False,
        strict_transport_security=https,
        session_cookie_secure=https,
        x_xss_protection=False,  # obsolete; the CSP does this job
    )


def create_app_or_exit(**overrides: Any) -> Flask:
    """For entry points (gunicorn, celery): a bad setting is one line and exit status 2."""
    try:
        return create_app(**overrides)
    except ConfigError as exc:
        print(f"sokai: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # A worker thread and the web server share the file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
