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
    """`<int:…>` on every route: 0 … 2³¹−1, anything else does not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


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
        elif "\x00" in query or "%00" in query:
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


def bounded_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document says what the converter accepts (APIFlask writes plain
    integers)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in (operation.get("parameters") or []
                              if isinstance(operation, dict) else []):
                schema = parameter.get("schema") or {}
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.update({"minimum": 0, "maximum": MAX_ID})
    return spec
