"""The fast path in front of Flask: a feed this process holds is answered without Flask (no
request handling, no database), with the same headers; what it does not know, Flask serves;
a change made elsewhere reaches it within a second."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient
from sqlalchemy import select

from models import ProgrammeItem
from services.calendar.store import LOOKUP_TTL
from services.programme import draft_of, update_item
from tests.feed_helpers import build, first_delegates, give_token, load_tomsk
from webapp.extensions import db

FEED = "/calendar/anmc21-tomsk-2014.ics"
PER_REQUEST = {"date", "etag", "content-length", "content-encoding", "vary", "set-cookie",
               "x-request-id"}


@pytest.fixture
def flask_requests(app: Flask) -> Iterator[list[str]]:
    """The requests Flask itself handled during the test."""
    seen: list[str] = []

    def record(sender: Flask, **_: object) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def test_a_held_feed_is_answered_before_flask_with_the_same_headers(
        app: Flask, client: FlaskClient, flask_requests: list[str]) -> None:
    assembly_id = load_tomsk(app)
    build(app, assembly_id)
    secret = give_token(app, first_delegates(app, 1)[0])
    build(app, assembly_id)
    for path in (FEED, f"{FEED}?lang=ja", f"/calendar/p/{secret}.ics"):
        flask_requests.clear()
        slow = client.get(path)
        fast = client.get(path)
        assert slow.status_code == fast.status_code == 200
        assert flask_requests == [path.split("?")[0]], "the second answer went through Flask"
        assert fast.data == slow.data
        assert ({k: v for k, v in fast.headers.items() if k.lower() not in PER_REQUEST}
                == {k: v for k, v in slow.headers.items() if k.lower() not in PER_REQUEST})
        assert "frame-ancestors 'none'" in fast.headers["Content-Security-Policy"]
        etag = fast.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(path, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
        zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["ETag"] != etag
        assert client.head(path).status_code == 200
    assert len(flask_requests) == 1  # all the rest answered before Flask


def test_unknown_and_revoked_feeds_still_go_through_flask(
        app: Flask, client: FlaskClient, flask_requests: list[str]) -> None:
    load_tomsk(app)
    assert client.get("/calendar/p/no-such-token.ics").status_code == 404
    assert client.get("/calendar/no-such-assembly.ics").status_code == 404
    assert flask_requests == ["/calendar/p/no-such-token.ics", "/calendar/no-such-assembly.ics"]


def test_a_change_made_by_another_process_is_served_within_a_second(
        app: Flask, client: FlaskClient) -> None:
    """Another process (a worker) rebuilds the feed; this process holds the old bytes and
    answers with them at most LOOKUP_TTL longer."""
    assembly_id = load_tomsk(app)
    build(app, assembly_id)
    before = client.get(FEED).data
    with app.app_context():
        item = db.session.scalars(select(ProgrammeItem)
                                  .where(ProgrammeItem.assembly_id == assembly_id)).first()
        draft = draft_of(item)
        draft.title = {**draft.title, "en": "Moved to another hall"}
        update_item(db.session, item, draft)
        db.session.commit()
    build(app, assembly_id)
    time.sleep(LOOKUP_TTL + 0.1)
    after = client.get(FEED).data
    assert after != before and b"Moved to another hall" in after
