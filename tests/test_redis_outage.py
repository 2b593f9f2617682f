"""REDIS_URL set and Redis gone: people still log in (rate limits count in the process), the
feeds are served from the database, /healthz names Redis, and once Redis is back the feeds
built meanwhile reach it. A private redis-server on a free port is stopped and started."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from config import Settings
from models import FeedState, ProgrammeItem, Role, User
from services.calendar.builds import build_calendar, request_rebuild, stale_assemblies
from services.calendar.store import public_key
from services.programme import draft_of, update_item
from tests.conftest import login, wait_for
from tests.feed_helpers import give_token, load_tomsk
from webapp import create_app
from webapp.extensions import db

SLUG = "anmc21-tomsk-2014"
FEED = f"/calendar/{SLUG}.ics"


@pytest.fixture
def redis_app(app: Flask, settings: Settings, redis_server: Any) -> Iterator[Flask]:
    """The app with REDIS_URL on the private server (the suite's broker stays as it is)."""
    other = create_app(dataclasses.replace(settings, redis_url=redis_server.url), TESTING=True)
    yield other
    with other.app_context():
        db.engine.dispose()
    app.extensions["celery"].set_default()  # the suite's own Celery app again
    app.extensions["celery"].set_current()


def _rename_first_item(app: Flask, assembly_id: int, title: str) -> None:
    with app.app_context():
        item = db.session.scalars(select(ProgrammeItem).where(
            ProgrammeItem.assembly_id == assembly_id).order_by(ProgrammeItem.id)).first()
        draft = draft_of(item)
        draft.title = {**draft.title, "en": title}
        update_item(db.session, item, draft)
        request_rebuild(db.session, assembly_id)
        db.session.commit()


def _build(app: Flask, assembly_id: int, redis_url: str) -> None:
    """What the worker (and, for a build left behind, the sweep) runs."""
    with app.app_context():
        build_calendar(db.session, assembly_id, redis_url)


def _state(app: Flask, assembly_id: int) -> tuple[int, int]:
    with app.app_context():
        state = db.session.get(FeedState, assembly_id)
        db.session.commit()
        return state.wanted_version, state.built_version


def test_with_redis_down_logins_and_feeds_work_and_nothing_is_lost(
        redis_app: Flask, redis_server: Any, make_user: Callable[..., User]) -> None:
    url = redis_server.url
    store = redis.Redis.from_url(url)
    make_user("sec@example.org", Role.SECRETARIAT)
    make_user("other@example.org", Role.SECRETARIAT)
    assembly_id = load_tomsk(redis_app)
    client = redis_app.test_client()

    # Redis up: the feed is built into Redis (and the database) and served.
    _rename_first_item(redis_app, assembly_id, "Opening (before)")
    _build(redis_app, assembly_id, url)
    before = client.get(FEED)
    assert before.status_code == 200 and b"Opening (before)" in before.data
    assert store.exists("sokai:feed:" + public_key(assembly_id, "en"))
    secret = give_token(redis_app, _first_delegate(redis_app))
    personal = client.get(f"/calendar/p/{secret}.ics")
    assert personal.status_code == 200
    health = client.get("/healthz").get_json()
    assert health["redis"] == "ok" and health["status"] == "ok"

    redis_server.stop()

    # Logging in works, and failed attempts are still limited (in this process meanwhile).
    assert login(client, "sec@example.org").status_code == 302
    assert client.get("/secretariat/").status_code == 200
    stranger = redis_app.test_client()
    for _ in range(5):
        assert login(stranger, "other@example.org", "wrong password").status_code == 200
    assert login(stranger, "other@example.org").status_code == 429

    # The feeds are served from the database, conditional requests included.
    down = client.get(FEED)
    assert down.status_code == 200 and down.data == before.data
    assert client.get(FEED, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    assert client.get(f"/calendar/p/{secret}.ics").data == personal.data

    # A change while Redis is down reaches the feed through the database, and the build is
    # left for the sweep to write into Redis later.
    _rename_first_item(redis_app, assembly_id, "Opening (during)")
    _build(redis_app, assembly_id, url)
    assert b"Opening (during)" in client.get(FEED).data
    wanted, built = _state(redis_app, assembly_id)
    assert built < wanted
    with redis_app.app_context():
        assert assembly_id in stale_assemblies(db.session, timedelta(0))

    health = client.get("/healthz")
    body = health.get_json()
    assert health.status_code == 200, body  # the app works: degraded, not down
    assert body["status"] == "degraded" and body["degraded"] == ["redis"]
    assert body["redis"].startswith("error") and body["database"] == "ok"

    # Redis back, empty (no persistence): the sweep's rebuild fills it with the new feed.
    redis_server.start()

    def sweep_builds() -> bool:  # the sweep, every minute; Redis is retried after a pause
        _build(redis_app, assembly_id, url)
        wanted, built = _state(redis_app, assembly_id)
        return built == wanted

    assert wait_for(sweep_builds, timeout=30, interval=1)
    stored = store.hget("sokai:feed:" + public_key(assembly_id, "en"), "body")
    assert stored is not None and b"Opening (during)" in stored
    after = client.get(FEED)
    assert after.status_code == 200 and b"Opening (during)" in after.data
    assert client.get("/healthz").get_json()["redis"] == "ok"


def _first_delegate(app: Flask) -> int:
    from tests.feed_helpers import first_delegates

    return first_delegates(app, 1)[0]
