"""A separate, bare Flask app serving the same feed bytes as Sokai: the floor bench/feeds.py
measures Sokai against. `gunicorn --pythonpath bench feeds_bare:app`, with the same settings
as `sokai run`. BENCH_BARE_FILES names "path=file" pairs; each path answers its file's bytes
with a strong ETag and 304 for a matching If-None-Match, as a minimal feed server would."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, Response, request

app = Flask(__name__)
FILES: dict[str, tuple[bytes, str]] = {}
for pair in os.environ["BENCH_BARE_FILES"].split(","):
    path, file = pair.split("=", 1)
    body = Path(file).read_bytes()
    FILES[path] = (body, f'"{hashlib.sha256(body).hexdigest()}"')


@app.get("/<path:name>")
def serve(name: str) -> Response:
    body, etag = FILES["/" + name]
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers=headers)
    return Response(body, headers=headers, content_type="text/calendar; charset=utf-8")
