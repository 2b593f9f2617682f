"""Rate limits on logging in: per account and per address, counting failed attempts only.

Flask-Limiter keeps its counters in Redis when REDIS_URL is set (shared by every web replica),
in the process otherwise. When Redis does not answer, the limits count in the process until it
does again (Flask-Limiter's in-memory fallback): logging in never depends on Redis.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

# Failed logins allowed before a pause; a successful login (a redirect) is not counted.
PER_ACCOUNT = "5 per 15 minutes"
PER_ADDRESS = "50 per 15 minutes"



def _account() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()


def _no_account() -> bool:
    # A form without an email names no account; the per-address limit still counts it.
    return not (request.form.get("email") or "").strip()


def _failed(response: Response) -> bool:
    return response.status_code != 302


def init_app(app: Flask) -> None:
    settings = app.config["SOKAI_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.redis_url or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if settings.redis_url:
        # A Redis that does not answer must cost a login a moment, not a hang.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 1, "socket_timeout": 1})
    # One limiter per app: its storage belongs to that app's settings.
    limiter = Limiter(key_func=get_remote_address, default_limits=[],
                      headers_enabled=True, strategy="moving-window")
    limiter.init_app(app)
    app.extensions["sokai.limiter"] = limiter
    login = app.view_functions["auth.login"]
    limited = limiter.limit(PER_ADDRESS, methods=["POST"], deduct_when=_failed)(
        limiter.limit(PER_ACCOUNT, key_func=_account, methods=["POST"],
                      deduct_when=_failed, exempt_when=_no_account)(login))
    app.view_functions["auth.login"] = limited


def limiter_of(app: Flask) -> Limiter:
    limiter: Limiter = app.extensions["sokai.limiter"]
    return limiter
