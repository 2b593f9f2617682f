"""The JSON API under /api/v1/: the blueprint, token authentication and the checks every area
shares; each area's operations live in webapp/api/<area>.py."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, HTTPTokenAuth, abort
from flask import Flask

from models import Assembly, Role, User
from services.access import require_secretariat
from services.accounts import user_for_token
from services.assemblies import find_assembly
from webapp.errors import error_body
from webapp.extensions import csrf, db

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Sokai")
token_auth = HTTPTokenAuth(scheme="Bearer", description="`sokai tokens create EMAIL`")


@token_auth.verify_token
def _verify(token: str) -> User | None:
    if not token:
        return None
    user = user_for_token(db.session, token)
    if user is not None and db.session.dirty:
        db.session.commit()  # keeps last_used_at
    return user


@token_auth.error_processor
def _auth_error(error: Any) -> tuple[dict[str, Any], int, Any]:
    return (error_body(error.status_code, "a valid Bearer token is required"),
            error.status_code, error.headers)


def api_user() -> User:
    return token_auth.current_user  # type: ignore[return-value]


def assembly_or_404(slug: str) -> Assembly:
    """The assembly this token may see (drafts only for the secretariat), or a JSON 404."""
    assembly = find_assembly(db.session, slug, api_user())
    if assembly is None:
        abort(404, f"no assembly {slug!r}")
    return assembly


def secretariat_user() -> User:
    """The token's user, who must be the secretariat (403 otherwise)."""
    user = api_user()
    require_secretariat(user)
    return user


def liaison_or_secretariat() -> User:
    """The token's user, who must be the secretariat or a city's liaison (403 otherwise)."""
    user = api_user()
    if user.role not in (Role.SECRETARIAT, Role.LIAISON):
        abort(403, "only the secretariat and city liaisons may do this")
    return user


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # Bearer tokens, no cookies: cross-site forgery does not apply
    app.register_blueprint(bp)


# The API's areas add their operations to `bp`.
from webapp.api import (  # noqa: E402, F401
    assemblies,
    attendance,
    cities,
    delegations,
    programme,
    proxies,
    reminders,
    summaries,
)
