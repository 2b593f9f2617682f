"""The venue day's pages: the scanner (phone; staff and secretariat) and the live board (big
screen; secretariat). The scanner talks JSON to the routes below with the login session and
the CSRF token; the board polls a version and re-reads the counts when it changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from models import Assembly, Role
from models.errors import DomainError
from services.checkin.board import board_version
from services.checkin.desk import (
    check_in,
    checkin_counts,
    checkin_of,
    describe,
    search_delegates,
    undo_check_in,
)
from services.checkin.presence import checkin_attendance
from services.checkin.staff import require_check_in
from services.i18n import current_language
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import CONTENT_SECURITY_POLICY, db, talisman

bp = Blueprint("checkin", __name__, url_prefix="/secretariat/assemblies/<slug>")

# The QR decoder is WebAssembly (zxing-wasm, vendored): compiling it needs 'wasm-unsafe-eval'
# (not 'unsafe-eval': no JavaScript eval), the camera picture is a blob:/mediastream.
SCANNER_CSP = {**CONTENT_SECURITY_POLICY,
               "script-src": "'self' 'wasm-unsafe-eval'",
               "media-src": "'self' blob: mediastream:"}


# What a door-staff login may open besides the scanner: logging in and out, the language,
# static files and what anybody may open (public pages, a delegate's personal link).
STAFF_OPEN = ("checkin.", "auth.", "i18n.", "health.", "public.", "openapi.", "api_docs.",
              "api.")  # the API checks staff tokens itself (webapp.api.STAFF_ENDPOINTS)
STAFF_OPEN_ENDPOINTS = frozenset({
    "static", "programme.page", "calendar.public", "calendar.personal",
    "calendar.my_programme", "calendar.set_alarm", "calendar.rotate",
    "registration.delegate_page", "registration.accept_invitation",
    "decisions.public_decisions", "decisions.public_decision",
    "network.setup"})  # answers 404 once the network exists, to anybody


@bp.before_app_request
def _staff_only_at_the_door() -> None:
    """A door-staff account sees the check-in and nothing else of Sokai's data."""
    endpoint = request.endpoint or ""
    if (current_user.is_authenticated and current_user.role is Role.STAFF
            and not endpoint.startswith(STAFF_OPEN) and endpoint not in STAFF_OPEN_ENDPOINTS):
        abort(403)


def _door(slug: str) -> Assembly:
    assembly = visible_assembly_or_404(slug)
    try:
        require_check_in(db.session, current_user, assembly)
    except DomainError:
        abort(403)
    return assembly


def _json_error(exc: DomainError) -> tuple[Response, int]:
    return jsonify({"error": {"code": exc.code, "message": exc.message,
                              "fields": exc.fields}}), exc.status


@bp.get("/checkin")
@talisman(content_security_policy=SCANNER_CSP)
@roles_required(Role.SECRETARIAT, Role.STAFF)
def scanner(slug: str) -> str:
    assembly = _door(slug)
    return render_template("checkin/scanner.html", assembly=assembly)


@bp.post("/checkin/scan")
@roles_required(Role.SECRETARIAT, Role.STAFF)
def scan(slug: str) -> Any:
    assembly = _door(slug)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"error": {"code": "invalid", "message": "a JSON object is expected",
                                  "fields": {}}}), 400
    at: datetime | None = None
    try:
        if data.get("at"):
            try:
                at = datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
            except ValueError:
                raise DomainError("at: not an ISO 8601 instant", code="invalid_time",
                                  status=422, field="at") from None
        delegate = data.get("delegate")
        if delegate is not None and not isinstance(delegate, int):
            raise DomainError("delegate: an id is expected", code="invalid", status=422,
                              field="delegate")
        code = data.get("code")
        result = check_in(db.session, assembly, current_user,
                          code=code if isinstance(code, str) else None,
                          delegate_id=delegate, at=at)
    except DomainError as exc:
        db.session.rollback()
        return _json_error(exc)
    return jsonify(result.shown), 200 if result.already else 201


@bp.post("/checkin/<int:delegate_id>/undo")
@roles_required(Role.SECRETARIAT, Role.STAFF)
def undo(slug: str, delegate_id: int) -> Any:
    assembly = _door(slug)
    try:
        delegate = undo_check_in(db.session, assembly, current_user, delegate_id)
    except DomainError as exc:
        db.session.rollback()
        return _json_error(exc)
    return jsonify(describe(db.session, assembly, delegate, None))


@bp.get("/checkin/search")
@roles_required(Role.SECRETARIAT, Role.STAFF)
def search(slug: str) -> Any:
    assembly = _door(slug)
    query = (request.args.get("q") or "").strip()[:200]
    people = [describe(db.session, assembly, d, c)
              for d, c in search_delegates(db.session, assembly, query)]
    return jsonify({"people": people})


@bp.get("/checkin/<int:delegate_id>")
@roles_required(Role.SECRETARIAT, Role.STAFF)
def person(slug: str, delegate_id: int) -> Any:
    from services.checkin.desk import delegate_of

    assembly = _door(slug)
    try:
        delegate = delegate_of(db.session, assembly, delegate_id)
    except DomainError as exc:
        return _json_error(exc)
    return jsonify(describe(db.session, assembly, delegate, checkin_of(db.session, delegate)))


@bp.get("/board")
@roles_required(Role.SECRETARIAT)
def board(slug: str) -> str:
    assembly = visible_assembly_or_404(slug)
    return render_template("checkin/board.html", assembly=assembly,
                           data=board_data(assembly))


def board_data(assembly: Assembly) -> dict[str, Any]:
    counts = checkin_counts(db.session, assembly)
    picture = checkin_attendance(db.session, assembly)
    lang = current_language()
    return {
        "version": board_version(db.session, assembly.id),
        "cities": [{"city": c.city.code, "name": c.city.display_name(lang),
                    "registered": c.registered, "checked_in": c.checked_in,
                    "representatives": c.representatives} for c in counts.cities],
        "registered": counts.registered, "checked_in": counts.checked_in,
        "quorum": {"present": picture.present, "represented": picture.represented,
                   "counted": picture.counted, "members": picture.members,
                   "required": picture.required, "reached": picture.quorum_reached},
    }


@bp.get("/board.json")
@login_required
def board_json(slug: str) -> Any:
    if current_user.role is not Role.SECRETARIAT:
        abort(403)
    assembly = visible_assembly_or_404(slug)
    # A poll that names the version it has gets a short answer when nothing changed.
    known = request.args.get("v", type=int)
    version = board_version(db.session, assembly.id)
    if known is not None and known == version:
        return jsonify({"version": version, "changed": False})
    return jsonify({**board_data(assembly), "changed": True})
