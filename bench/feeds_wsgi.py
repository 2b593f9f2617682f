"""The app as `sokai run` serves it, plus a bare endpoint returning the same feed bytes.

Used by bench/feeds.py only: `gunicorn --pythonpath bench feeds_wsgi:app`. The bare endpoint
runs under the same server and the same Flask app (same hooks), so the ratio measures what
serving a stored feed costs on top of returning bytes.
"""

from __future__ import annotations

import os

from flask import Response

from models import StoredFeed
from webapp import create_app_or_exit
from webapp.extensions import db

app = create_app_or_exit()

with app.app_context():
    _row = db.session.get(StoredFeed, os.environ["BENCH_FEED_KEY"])
    assert _row is not None, "bench/feeds.py stores the feed before starting the server"
    BODY = _row.body
    db.session.remove()


@app.get("/bench/bare.ics")
def bare() -> Response:
    return Response(BODY, content_type="text/calendar; charset=utf-8")
