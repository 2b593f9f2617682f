"""The JSON API under /api/v1/: the blueprint, token authentication and the checks every area
shares; each area's operations live in webapp/api/<area>.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from apiflask import APIBlueprint, HTTPTokenAuth, abort
from flask import Blueprint, Flask, current_app, render_template, request

from models import Assembly, Role, User
from models.errors import DomainError
from services.accounts import user_for_token
from services.assemblies import find_assembly
from services.i18n import _
from webapp.errors import error_body
from webapp.extensions import csrf, db

Row = TypeVar("Row")

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Sokai")
token_auth = HTTPTokenAuth(scheme="Bearer", description="`sokai tokens create EMAIL`")


# Roles for `bp.auth_required(token_auth, roles=…)`: the role is checked with the token,
# before the body is parsed, so a caller who may not write gets 403, never a 422 about the
# schema. Object-level rules (which city) stay in the operations and services.
SECRETARIAT = [Role.SECRETARIAT.value]
CITY_STAFF = [Role.SECRETARIAT.value, Role.LIAISON.value]


@token_auth.get_user_roles
def _roles(user: User) -> list[str]:
    return [user.role.value]


# Door staff (webapp/api/checkin.py) may search, scan and check in, and read what anybody
# may read without a token (adopted decisions); nothing else, not even what every other
# token may read.
STAFF_ENDPOINTS = frozenset({"api.create_checkin", "api.delete_checkin", "api.list_checkins",
                             "api.search_checkins",
                             "api.list_decisions", "api.get_decision", "api.list_signatories"})


@token_auth.verify_token
def _verify(token: str) -> User | None:
    if not token:
        return None
    user = user_for_token(db.session, token)
    if user is not None and db.session.dirty:
        db.session.commit()  # keeps last_used_at
    if user is not None and user.role is Role.STAFF and request.endpoint not in STAFF_ENDPOINTS:
        raise DomainError(_("Door staff may only search, scan and check people in."),
                          code="forbidden", status=403)
    return user


@token_auth.error_processor
def _auth_error(error: Any) -> tuple[dict[str, Any], int, Any]:
    message = ("this token's role may not do this" if error.status_code == 403
               else "a valid Bearer token is required")
    return error_body(error.status_code, message), error.status_code, error.headers


def api_user() -> User:
    return token_auth.current_user  # type: ignore[return-value]


def assembly_or_404(slug: str) -> Assembly:
    """The assembly this token may see (drafts only for the secretariat), or a JSON 404."""
    assembly = find_assembly(db.session, slug, api_user())
    if assembly is None:
        abort(404, f"no assembly {slug!r}")
    return assembly


def row_or_404(model: type[Row], row_id: int, missing: str,
               visible: Callable[[Row], bool] = lambda _row: True) -> Row:
    """The row with this id, or a JSON 404 saying `missing`: also when `visible` says the
    caller may not know it exists (another assembly's, another city's)."""
    row = db.session.get(model, row_id)
    if row is None or not visible(row):
        abort(404, missing)
    return row


# The docs page: Swagger UI from webapp/static/vendor (no CDN), started by a script file
# (the CSP allows no inline script), so not APIFlask's built-in page.
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@docs_bp.get("/docs")
def docs() -> str:
    app = current_app
    return render_template("api/docs.html", title=getattr(app, "title", "API"),
                           version=getattr(app, "version", ""))


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # Bearer tokens, no cookies: cross-site forgery does not apply
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)


# The API's areas add their operations to `bp`.
from webapp.api import (  # noqa: E402, F401
    assemblies,
    attendance,
    audit,
    checkin,
    cities,
    decisions,
    delegations,
    network,
    programme,
    proxies,
    reminders,
    retention,
    summaries,
)
