"""Errors: JSON in the DESIGN.md shape under /api/, a page in the user's language elsewhere;
never a 500 for bad input.

A refused rule (models.errors.DomainError) reaches one handler here when no page caught it to
show next to a form field (webapp.forms.attempt does that).
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask, HTTPError
from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from models.db import db
from models.errors import DomainError

# Machine-readable codes for each status.
ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
    500: "internal_error", 503: "unavailable",
}


def error_body(status: int, message: str, fields: dict[str, Any] | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message,
                      "fields": fields or {}}}


def _flatten_validation(detail: dict[str, Any]) -> dict[str, list[str]]:
    # APIFlask reports {"json": {"field": ["msg"]}}; clients want {"field": ["msg"]}, and a
    # nested field's messages under its dotted name ({"title.en": ["msg"]}).
    fields: dict[str, list[str]] = {}
    for location in ("json", "query", "form", "files", "path", "headers", "cookies"):
        _flatten_into(fields, "", detail.get(location) or {})
    return fields


def _flatten_into(fields: dict[str, list[str]], prefix: str, messages: Any) -> None:
    if isinstance(messages, dict):
        for name, inner in messages.items():
            if name in ("key", "value") and prefix:  # a Dict's entry: "title.en", not
                _flatten_into(fields, prefix, inner)  # "title.en.value"
                continue
            _flatten_into(fields, f"{prefix}.{name}" if prefix else str(name), inner)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        fields.setdefault(prefix or "_schema", []).extend(messages)
    elif isinstance(messages, list):
        for index, inner in enumerate(messages):
            _flatten_into(fields, f"{prefix}.{index}", inner)
    else:
        fields.setdefault(prefix or "_schema", []).append(str(messages))


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    assert isinstance(app, APIFlask)

    @app.error_processor
    def api_error(error: HTTPError) -> tuple[dict[str, Any], int, Any]:
        fields = _flatten_validation(error.detail) if error.status_code == 422 else {}
        code = (error.extra_data or {}).get("code")
        return (error_body(error.status_code, error.message or "", fields, code),
                error.status_code, error.headers)

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> Any:
        db.session.rollback()  # nothing of a refused request is kept
        if is_api_request():
            return error_body(error.status, error.message, error.fields, error.code), \
                error.status
        return render_template("error.html", status=error.status, reason=error.message,
                               refused=True), error.status

    @app.errorhandler(DataError)
    def data_error(_exc: DataError) -> Any:
        # The database refused a value the boundary let through (an integer or a date out of
        # its range): the request was wrong, not the server.
        db.session.rollback()
        message = _("A value is out of the range this field can hold.")
        if is_api_request():
            return error_body(422, message), 422
        return render_template("error.html", status=422, reason=message, refused=True), 422

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        # A failed flush leaves the session unusable; the page below reads the user (the
        # locale selector) and must not fail in turn.
        db.session.rollback()
        status = exc.code or 500
        # A 405 says which methods the address takes (RFC 9110), on pages and API alike.
        headers = ({"Allow": ", ".join(sorted(exc.valid_methods or []))}
                   if isinstance(exc, MethodNotAllowed) else {})
        if is_api_request():
            return error_body(status, exc.description or exc.name), status, headers
        if isinstance(exc, CSRFError):
            return render_template("error.html", status=400, reason="csrf"), 400
        return render_template("error.html", status=status, reason=exc.name), status, headers
