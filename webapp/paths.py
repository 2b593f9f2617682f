"""What a URL may carry before any view runs: ids that fit the database's integer columns and
no NUL byte (PostgreSQL refuses both with an error, which would be a 500)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from webapp.errors import error_body

# Ids are PostgreSQL `integer` columns.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` on every route: digits that are not an id (above 2³¹−1) answer 404 at once,
    whatever the method (a converter that merely does not match would let another route's
    methods answer 405)."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise NotFound()
        return number


class RefuseNul:
    """A NUL byte in the path answers 404, in the query string 400 — before routing, the
    feed fast path, sessions or the database see it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        error = None
        if "\x00" in path:  # PATH_INFO arrives decoded; the query string does not
            error = NotFound()
        elif ("\x00" in query or "%00" in query) and not path.startswith("/api/"):
            # Pages read query arguments as they are; the API's query schemas refuse a NUL
            # with a 422 naming the parameter.
            error = BadRequest("A NUL byte is not allowed in a query.")
        if error is None:
            return self.app(environ, start_response)
        if path.startswith("/api/"):
            body = Response(json.dumps(error_body(error.code or 400, error.description or "")),
                            status=error.code, mimetype="application/json")
            return body(environ, start_response)
        return error(environ, start_response)


def init_app(app: Flask) -> None:
    """Before any route is added: the converter is looked up when a rule is bound."""
    app.url_map.converters["int"] = IdConverter

    spec_processor = getattr(app, "spec_processor", None)  # APIFlask's
    if spec_processor is not None:
        spec_processor(bounded_ids)


BAD_REQUEST = {"description": "Bad Request (a body that is not JSON, a malformed upload)",
               "content": {"application/json": {
                   "schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def bounded_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document says what the API really answers: ids within the converter's
    range, and a 400 for a body that cannot be parsed at all (any operation)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters") or []:
                schema = parameter.get("schema") or {}
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.update({"minimum": 0, "maximum": MAX_ID})
            operation.setdefault("responses", {}).setdefault("400", BAD_REQUEST)
    return spec
