"""Feeds at the floor: a WSGI layer in front of Flask that answers a calendar feed whose bytes
this process already holds (looked up less than a second ago), paying nothing else — no
session, login, locale or database work. Anything it does not know goes to Flask, which
serves it and so teaches this layer; a change made in another process reaches it within
services.calendar.store.LOOKUP_TTL.

The security headers are those Flask adds to the same feeds (learnt from Flask's own answers),
so both paths answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from models.languages import DEFAULT_LANGUAGE
from services.calendar.serving import known_personal, known_public
from services.calendar.store import BuiltFeed
from webapp.calendar.responses import feed_answer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PERSONAL = re.compile(r"^/calendar/p/([A-Za-z0-9_-]{1,100})\.ics$")
_PUBLIC = re.compile(r"^/calendar/([a-z0-9][a-z0-9-]{0,79})\.ics$")
# What Flask's security layer adds and a fast answer must carry too.
_LEARNT = {"content-security-policy", "x-frame-options", "x-content-type-options",
           "referrer-policy", "strict-transport-security", "permissions-policy",
           "cross-origin-opener-policy", "x-xss-protection"}
_REASONS = {200: "200 OK", 304: "304 Not Modified"}


class FeedFastPath:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.security: list[tuple[str, str]] | None = None  # learnt from Flask's answers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/calendar/") and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            found = self._known(path, environ)
            if found is not None and self.security is not None:
                feed, private = found
                status, headers, body = feed_answer(feed, environ, private)
                headers.extend(self.security)
                headers.append(("Content-Length", str(len(body))))
                start_response(_REASONS[status], headers)
                return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
            if path.endswith(".ics"):
                return self.app(environ, self._learning(start_response))
        return self.app(environ, start_response)

    @staticmethod
    def _known(path: str, environ: dict[str, Any]) -> tuple[BuiltFeed, bool] | None:
        match = _PERSONAL.match(path)
        if match:
            feed = known_personal(match.group(1))
            return (feed, True) if feed is not None else None
        match = _PUBLIC.match(path)
        if match:
            query = environ.get("QUERY_STRING", "")
            langs = parse_qs(query).get("lang", [DEFAULT_LANGUAGE]) if query else [
                DEFAULT_LANGUAGE]
            feed = known_public(match.group(1), langs[-1])
            return (feed, False) if feed is not None else None
        return None

    def _learning(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            if status.startswith(("200", "304")):
                self.security = [(name, value) for name, value in headers
                                 if name.lower() in _LEARNT]
            return start_response(status, headers, *args)

        return start
