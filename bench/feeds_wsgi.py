"""The app as `sokai run` serves it, plus a bare endpoint returning the same feed bytes.

Used by bench/feeds.py only: `gunicorn --pythonpath bench feeds_wsgi:app`. The bare endpoint
runs under the same server and the same Flask app (same hooks), so the ratio measures what
serving a stored feed costs on top of returning bytes.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response

from services.calendar.store import feed_store
from webapp import create_app_or_exit
from webapp.extensions import db

app = create_app_or_exit()

with app.app_context():
    _feed = feed_store(db.session, app.config["SOKAI_SETTINGS"].redis_url).get(
        os.environ["BENCH_FEED_KEY"])
    assert _feed is not None, "bench/feeds.py stores the feed before starting the server"
    BODY = _feed.body
    db.session.remove()


# A plain Flask blueprint, as the calendar routes are (APIFlask's app-level routes add their
# own wrapping, which would flatter the ratio).
bench = Blueprint("bench", __name__)


@bench.get("/bench/bare.ics")
def bare() -> Response:
    return Response(BODY, content_type="text/calendar; charset=utf-8")


app.register_blueprint(bench)
