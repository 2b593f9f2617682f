"""A stored feed as an HTTP answer, shared by the Flask views and the fast path in front of
Flask: strong ETag and Last-Modified, 304 when the client has the bytes, gzip when it takes
it. The gzip bytes are another representation, so they get their own ETag (the identity ETag
with "-gzip"); If-None-Match compares weakly (RFC 9110 13.1.2), and either tag means the
client holds the current content. If-None-Match wins over If-Modified-Since (13.1.3)."""

from __future__ import annotations

from typing import Any

from werkzeug.http import parse_date, parse_etags

from services.calendar.store import BuiltFeed

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRIVATE = "private, max-age=0, must-revalidate"
PUBLIC = "public, max-age=300"


def feed_answer(feed: BuiltFeed, environ: dict[str, Any],
                private: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for this request."""
    headers = feed.headers(PRIVATE if private else PUBLIC)
    zipped = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "") and _takes_gzip(
        environ["HTTP_ACCEPT_ENCODING"])
    gzip_etag = f'"{feed.etag}-gzip"'
    if zipped:
        headers = [("ETag", gzip_etag) if name == "ETag" else (name, value)
                   for name, value in headers]
    wanted = environ.get("HTTP_IF_NONE_MATCH")
    if wanted:
        if wanted == (gzip_etag if zipped else feed.etag_header):
            fresh = True  # the common case, without parsing the header
        else:
            tags = parse_etags(wanted)
            fresh = tags.contains_weak(feed.etag) or tags.contains_weak(f"{feed.etag}-gzip")
    else:
        since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        fresh = since is not None and feed.last_modified <= since
    if fresh:
        return 304, headers, b""
    headers.append(("Content-Type", CONTENT_TYPE))
    if zipped:
        headers.append(("Content-Encoding", "gzip"))
        return 200, headers, feed.gzip_body
    return 200, headers, feed.body


def _takes_gzip(accept_encoding: str) -> bool:
    """gzip is acceptable unless given q=0 (the common headers say "gzip, deflate, br")."""
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False
