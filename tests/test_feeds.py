"""Calendar feeds (issue 4): content every client gets right, built in the background,
served from stored bytes with working conditional requests."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from models import (
    Delegate,
    FeedState,
    ItemFragment,
    ItemStatus,
    ProgrammeItem,
    Signup,
    StoredFeed,
)
from services.calendar.builds import build_pending
from services.calendar.store import RedisFeedStore
from services.calendar.tokens import revoke_token
from services.programme import draft_of, set_status, update_item
from tests.conftest import wait_for
from tests.feed_helpers import (
    build,
    check_feed,
    events_by_uid,
    first_delegates,
    give_token,
    item_by_title,
    load_tomsk,
    sydney_assembly,
)
from webapp.extensions import db

TOMSK_FEED = "/calendar/anmc21-tomsk-2014.ics"


def test_public_feed_is_valid_and_matches_the_database(app: Flask, client: FlaskClient) -> None:
    assembly_id = load_tomsk(app)
    for lang in ("en", "ja"):
        response = client.get(f"{TOMSK_FEED}?lang={lang}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        calendar = check_feed(response.data)
        assert calendar["VERSION"] == "2.0" and "Sokai" in str(calendar["PRODID"])
        assert str(calendar["METHOD"]) == "PUBLISH"
        assert "X-WR-CALNAME" in calendar and "NAME" in calendar
        raw = response.data.decode()
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in raw
        assert "X-PUBLISHED-TTL:PT1H\r\n" in raw
        assert "mailto:secretariat@anmc21.example.org" in raw.replace("\r\n ", "")
        with app.app_context():
            items = db.session.scalars(select(ProgrammeItem)
                                       .where(ProgrammeItem.assembly_id == assembly_id)).all()
            events = events_by_uid(calendar)
            assert set(events) == {item.uid for item in items}
            for item in items:
                event = events[item.uid]
                assert event.decoded("DTSTART").astimezone(UTC) == item.starts_at
                assert event.decoded("DTEND").astimezone(UTC) == item.ends_at
                assert str(event["DTSTART"].params["TZID"]) == "Asia/Tomsk"
                assert event["SEQUENCE"] == item.sequence
                assert event.decoded("DTSTAMP") == item.updated_at.replace(microsecond=0)
                assert event.decoded("LAST-MODIFIED") == item.updated_at.replace(microsecond=0)
                assert str(event["SUMMARY"]) == item.title[lang]
        assert "@" in next(iter(events)) and "sokai.test" not in raw.split("UID:")[1][:60]
    assert "トムスク宣言の署名" in client.get(f"{TOMSK_FEED}?lang=ja").data.decode()
    assert client.get(f"{TOMSK_FEED}?lang=fr").status_code == 400
    assert client.get("/calendar/no-such-assembly.ics").status_code == 404


def test_tomsk_4_september_2014_16_00_is_18_00_in_tokyo_and_09_00_utc(
        app: Flask, client: FlaskClient) -> None:
    load_tomsk(app)
    calendar = check_feed(client.get(TOMSK_FEED).data)
    # Asia/Tomsk was UTC+7 that month (UTC+6 from October 2014): the VTIMEZONE says so.
    (zone,) = calendar.timezones
    assert zone.tz_name == "Asia/Tomsk"
    assert "TZOFFSETTO:+0700" in zone.to_ical().decode()
    meeting = next(e for e in calendar.walk("VEVENT")
                   if str(e["SUMMARY"]) == "Meeting with the representatives of the cities")
    start = meeting.decoded("DTSTART")
    assert (start.hour, start.minute) == (16, 0)
    assert start.astimezone(UTC) == datetime(2014, 9, 4, 9, 0, tzinfo=UTC)
    from zoneinfo import ZoneInfo

    assert start.astimezone(ZoneInfo("Asia/Tokyo")).hour == 18
    assert "2014-09-04 18:00 Asia/Tokyo" in str(meeting["DESCRIPTION"])


def test_a_dst_change_during_the_assembly_has_the_right_offsets(
        app: Flask, client: FlaskClient) -> None:
    sydney_assembly(app)
    calendar = check_feed(client.get("/calendar/sydney-2026.ics").data)
    zone_text = calendar.timezones[0].to_ical().decode()
    assert "TZOFFSETTO:+1000" in zone_text and "TZOFFSETTO:+1100" in zone_text
    starts = sorted(e.decoded("DTSTART") for e in calendar.walk("VEVENT"))
    assert [s.utcoffset() for s in starts] == [timedelta(hours=10), timedelta(hours=11),
                                               timedelta(hours=11)]
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2026, 10, 3, 0, tzinfo=UTC), datetime(2026, 10, 3, 23, tzinfo=UTC),
        datetime(2026, 10, 4, 23, tzinfo=UTC)]
    assert "GEO:-33.8732;151.2061" in client.get("/calendar/sydney-2026.ics").data.decode()


def test_all_day_items_are_dates_and_cancelled_items_stay_until_they_end(
        app: Flask, client: FlaskClient) -> None:
    assembly_id = sydney_assembly(app, starts=datetime.now(UTC).date() + timedelta(days=30))
    with app.app_context():
        items = db.session.scalars(select(ProgrammeItem).order_by(ProgrammeItem.starts_at)).all()
        first, second, _ = items
        draft = draft_of(first)
        draft.all_day = True
        update_item(db.session, first, draft)
        set_status(db.session, second, ItemStatus.CANCELLED)
        # An item cancelled long ago, already over: it leaves the feeds.
        past = ProgrammeItem(assembly_id=assembly_id, title={"en": "Old"},
                             starts_at=datetime(2020, 1, 1, tzinfo=UTC),
                             ends_at=datetime(2020, 1, 1, 1, tzinfo=UTC),
                             status=ItemStatus.CANCELLED)
        db.session.add(past)
        db.session.commit()
        uids = (first.uid, second.uid, past.uid)
    build(app, assembly_id)
    raw = client.get("/calendar/sydney-2026.ics").data
    events = events_by_uid(check_feed(raw))
    assert uids[2] not in events
    all_day = events[uids[0]]
    assert "DTSTART;VALUE=DATE:" in all_day.to_ical().decode()
    assert all_day.decoded("DTEND") - all_day.decoded("DTSTART") == timedelta(days=1)
    assert str(events[uids[1]]["STATUS"]) == "CANCELLED"
    assert events[uids[1]]["SEQUENCE"] == 1


def test_unchanged_data_gives_the_same_bytes_and_etag(app: Flask, client: FlaskClient) -> None:
    assembly_id = load_tomsk(app)
    first = client.get(TOMSK_FEED)
    with app.app_context():
        # Throw away every stored byte and fragment, mark dirty, rebuild from the rows.
        db.session.execute(delete(StoredFeed))
        db.session.execute(delete(ItemFragment))
        db.session.commit()
        from services.calendar.builds import request_rebuild

        request_rebuild(db.session, assembly_id)
        db.session.commit()
    build(app, assembly_id)
    second = client.get(TOMSK_FEED)
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]


def test_conditional_requests_and_gzip(app: Flask, client: FlaskClient) -> None:
    load_tomsk(app)
    secret = give_token(app, first_delegates(app, 1)[0])
    for url, cache in ((TOMSK_FEED, "public"), (f"/calendar/p/{secret}.ics", "private")):
        full = client.get(url)
        assert full.status_code == 200 and full.headers["Cache-Control"].startswith(cache)
        etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
        assert etag.startswith('"') and not etag.startswith('W/')
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
        # If-None-Match wins when both are sent.
        assert client.get(url, headers={"If-None-Match": '"other"',
                                        "If-Modified-Since": modified}).status_code == 200
        zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.data) == full.data
        assert "Accept-Encoding" in zipped.headers["Vary"]
        # Two representations, two strong ETags (RFC 9110 8.8.3.3).
        zipped_etag = zipped.headers["ETag"]
        assert zipped_etag != etag and zipped_etag.startswith('"')
        again = client.get(url, headers={"If-None-Match": zipped_etag,
                                         "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.headers["ETag"] == zipped_etag
        # If-None-Match compares weakly: a W/ tag from a proxy or a list still matches.
        for header in (f"W/{etag}", f'"other", W/{etag}', "*"):
            assert client.get(url, headers={"If-None-Match": header}).status_code == 304, header
        assert client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_personal_feeds_and_tokens(app: Flask, client: FlaskClient) -> None:
    load_tomsk(app)
    trip = item_by_title(app, "Field work (Special Economic Zone, tree planting, dacha)")
    alice, bob = first_delegates(app, 2)
    with app.app_context():
        db.session.add(Signup(delegate_id=alice, item_id=trip.id))
        db.session.commit()
    alice_secret, bob_secret = give_token(app, alice), give_token(app, bob)
    assert len(alice_secret) >= 43  # 32 random bytes, URL-safe
    with app.app_context():
        from models import FeedToken

        assert db.session.scalar(select(FeedToken.token_hash)
                                 .where(FeedToken.delegate_id == alice)) != alice_secret
    alice_feed = check_feed(client.get(f"/calendar/p/{alice_secret}.ics").data)
    bob_feed = check_feed(client.get(f"/calendar/p/{bob_secret}.ics").data)
    assert trip.uid in events_by_uid(alice_feed)
    assert trip.uid not in events_by_uid(bob_feed)  # never another delegate's sign-ups
    plenary = item_by_title(app, "Reports on the joint projects")
    assert plenary.uid in events_by_uid(alice_feed) and plenary.uid in events_by_uid(bob_feed)
    assert "BEGIN:VALARM" not in client.get(f"/calendar/p/{alice_secret}.ics").data.decode()

    assert client.get("/calendar/p/not-a-token.ics").status_code == 404
    assert client.get("/calendar/p/not-a-token").status_code == 404
    with app.app_context():
        assert revoke_token(db.session, db.session.get(Delegate, bob))
        db.session.commit()
    assert client.get(f"/calendar/p/{bob_secret}.ics").status_code == 404
    assert client.get(f"/calendar/p/{bob_secret}").status_code == 404


def test_the_delegate_page_switches_alarms_and_rotates(app: Flask, client: FlaskClient) -> None:
    assembly_id = load_tomsk(app)
    secret = give_token(app, first_delegates(app, 1)[0])
    page = client.get(f"/calendar/p/{secret}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("Asia/Tomsk", "Asia/Tokyo", "UTC+07:00", "UTC+09:00",
                 f"webcal://sokai.test/calendar/p/{secret}.ics",
                 f"http://sokai.test/calendar/p/{secret}.ics",
                 "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fsokai.test"):
        assert text in html, text
    from tests.conftest import csrf_token

    response = client.post(f"/calendar/p/{secret}/alarm",
                           data={"alarm": "30", "csrf_token": csrf_token(html)})
    assert response.status_code == 302
    build(app, assembly_id)
    raw = client.get(f"/calendar/p/{secret}.ics").data
    check_feed(raw)
    assert raw.decode().count("BEGIN:VALARM") == raw.decode().count("BEGIN:VEVENT")
    assert "TRIGGER:-PT30M" in raw.decode()

    response = client.post(f"/calendar/p/{secret}/rotate", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302
    new_secret = response.headers["Location"].rsplit("/", 1)[-1]
    assert new_secret != secret
    assert client.get(f"/calendar/p/{secret}.ics").status_code == 404
    assert client.get(f"/calendar/p/{new_secret}.ics").status_code == 200


def test_an_edit_is_rebuilt_by_the_worker_and_served(app: Flask, client: FlaskClient,
                                                     celery_worker: Any) -> None:
    assembly_id = load_tomsk(app)
    secret = give_token(app, first_delegates(app, 1)[0])
    before = client.get(TOMSK_FEED)
    personal_before = client.get(f"/calendar/p/{secret}.ics")
    opening = item_by_title(app, "Opening ceremony")
    with app.app_context():
        item = db.session.get(ProgrammeItem, opening.id)
        draft = draft_of(item)
        draft.starts_at += timedelta(minutes=30)
        draft.ends_at += timedelta(minutes=30)
        assert update_item(db.session, item, draft)
        db.session.commit()
    changed = wait_for(lambda: (r := client.get(TOMSK_FEED)).headers["ETag"]
                       != before.headers["ETag"] and r, timeout=30)
    assert changed, "the worker did not rebuild the public feed"
    event = events_by_uid(check_feed(changed.data))[opening.uid]
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").astimezone(UTC) == opening.starts_at + timedelta(minutes=30)
    personal = wait_for(lambda: (r := client.get(f"/calendar/p/{secret}.ics")).headers["ETag"]
                        != personal_before.headers["ETag"] and r, timeout=30)
    assert personal and events_by_uid(check_feed(personal.data))[opening.uid]["SEQUENCE"] == 1
    assert client.get(TOMSK_FEED, headers={"If-None-Match": before.headers["ETag"]}
                      ).status_code == 200
    with app.app_context():
        state = db.session.get(FeedState, assembly_id)
        assert state.built_version == state.wanted_version


def test_a_burst_of_50_edits_does_not_build_50_times(app: Flask, client: FlaskClient,
                                                     celery_worker: Any) -> None:
    assembly_id = load_tomsk(app)
    give_token(app, first_delegates(app, 1)[0])
    lunch = item_by_title(app, "Lunch")
    with app.app_context():
        for n in range(50):
            item = db.session.get(ProgrammeItem, lunch.id)
            draft = draft_of(item)
            draft.title = {"en": f"Lunch ({n})", "ja": "昼食"}
            update_item(db.session, item, draft)
            db.session.commit()

    def settled() -> FeedState | None:
        with app.app_context():
            db.session.expire_all()
            state = db.session.get(FeedState, assembly_id)
            return state if state and state.built_version == state.wanted_version else None

    state = wait_for(settled, timeout=60)
    assert state is not None and state.wanted_version >= 50
    assert 1 <= state.builds < 10, f"{state.builds} builds for 50 edits"
    assert "SUMMARY:Lunch (49)" in client.get(TOMSK_FEED).data.decode()


@pytest.mark.skipif("not __import__('os').environ.get('SOKAI_TEST_BROKER_URL', '')"
                    ".startswith('redis')", reason="needs Redis (SOKAI_TEST_BROKER_URL)")
def test_feeds_stored_in_redis(app: Flask) -> None:
    import os

    import redis

    client = redis.Redis.from_url(os.environ["SOKAI_TEST_BROKER_URL"])
    assembly_id = load_tomsk(app)
    try:
        with app.app_context():
            store = RedisFeedStore(client, db.session)
            from services.calendar.builds import request_rebuild

            request_rebuild(db.session, assembly_id)
            db.session.commit()
            build_pending(db.session, assembly_id, store)
            feed = store.get(f"public:{assembly_id}:en")
            assert feed is not None and store.etag(f"public:{assembly_id}:en") == feed.etag
            check_feed(feed.body)
            assert gzip.decompress(feed.gzip_body) == feed.body
    finally:
        for key in client.scan_iter("sokai:feed:*"):
            client.delete(key)


def test_the_sweep_rebuilds_feeds_whose_message_was_lost(app: Flask, client: FlaskClient) -> None:
    assembly_id = load_tomsk(app)
    first = client.get(TOMSK_FEED)
    with app.app_context():
        from services.calendar.builds import feeds_changed, rebuild_stale

        # A change whose build message never reached a worker.
        feeds_changed(db.session, assembly_id)
        db.session.get(FeedState, assembly_id).changed_at = datetime.now(UTC) - timedelta(
            minutes=5)
        db.session.commit()
        assert rebuild_stale(db.session) == 1
    build(app, assembly_id)
    with app.app_context():
        from services.calendar.builds import rebuild_stale

        assert rebuild_stale(db.session) == 0
    assert client.get(TOMSK_FEED).data == first.data


def test_the_api_revokes_a_delegate_link(app: Flask, client: FlaskClient,
                                         make_user: Any) -> None:
    from models import Role
    from tests.test_api import token_for

    load_tomsk(app)
    delegate_id = first_delegates(app, 1)[0]
    secret = give_token(app, delegate_id)
    url = f"/api/v1/assemblies/anmc21-tomsk-2014/delegates/{delegate_id}/feed-token"
    liaison = token_for(app, make_user, "tyo@example.org", Role.LIAISON, city="TYO")
    assert client.delete(url, headers=liaison).status_code == 403
    secretariat = token_for(app, make_user, "sec@example.org", Role.SECRETARIAT)
    assert client.delete(url, headers=secretariat).status_code == 204
    assert client.get(f"/calendar/p/{secret}.ics").status_code == 404
    missing = client.delete(url.replace(str(delegate_id), "999999"), headers=secretariat)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_the_sweep_drops_cancelled_items_once_they_have_ended(app: Flask) -> None:
    assembly_id = sydney_assembly(app)
    with app.app_context():
        from services.calendar.builds import rebuild_stale, request_rebuild

        now = datetime.now(UTC)
        item = ProgrammeItem(assembly_id=assembly_id, title={"en": "Cancelled walk"},
                             starts_at=now - timedelta(hours=1),
                             ends_at=now - timedelta(minutes=30), status=ItemStatus.CANCELLED)
        db.session.add(item)
        request_rebuild(db.session, assembly_id)
        db.session.commit()
    build(app, assembly_id)
    with app.app_context():
        # The last build ran before the cancelled item ended.
        state = db.session.get(FeedState, assembly_id)
        state.built_at = datetime.now(UTC) - timedelta(hours=2)
        db.session.commit()
        wanted = state.wanted_version
        rebuild_stale(db.session)
        db.session.refresh(state)
        assert state.wanted_version == wanted + 1  # a rebuild was asked for
    build(app, assembly_id)  # (or the worker, when one runs)
    with app.app_context():
        assert rebuild_stale(db.session) == 0
        state = db.session.get(FeedState, assembly_id)
        db.session.refresh(state)
        assert state.wanted_version == state.built_version
