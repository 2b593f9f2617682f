"""Shared helpers for the programme and calendar-feed tests (issue 4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import vobject
from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    Delegation,
    DelegationStatus,
    ItemKind,
    MemberCity,
    Network,
    ProgrammeItem,
)
from services.calendar.builds import build_calendar
from services.calendar.tokens import issue_token
from services.demo import load_tomsk_2014
from webapp.extensions import db


def check_feed(raw: bytes) -> Calendar:
    """RFC 5545 on the wire: CRLF, lines of at most 75 octets, parses with icalendar and
    validates with vobject, and every TZID has its VTIMEZONE."""
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 75, line
    calendar = Calendar.from_ical(raw)
    assert calendar.get_used_tzids() <= {tz.tz_name for tz in calendar.timezones}
    assert calendar.get_missing_tzids() == set()
    vobject.readOne(raw.decode()).validate()
    return calendar


def load_tomsk(app: Flask) -> int:
    with app.app_context():
        assembly = load_tomsk_2014(db.session)
        db.session.commit()
        return assembly.id


def first_delegates(app: Flask, count: int = 2) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Delegate.id).join(Delegation)
                                       .where(Delegation.status == DelegationStatus.ATTENDING)
                                       .order_by(Delegate.id).limit(count)))


def give_token(app: Flask, delegate_id: int) -> str:
    with app.app_context():
        secret = issue_token(db.session, db.session.get(Delegate, delegate_id))
        db.session.commit()
        return secret


def build(app: Flask, assembly_id: int) -> None:
    with app.app_context():
        build_calendar(db.session, assembly_id, app.config["SOKAI_SETTINGS"].redis_url)


def item_by_title(app: Flask, title: str) -> ProgrammeItem:
    with app.app_context():
        item = db.session.scalar(select(ProgrammeItem)
                                 .where(ProgrammeItem.title["en"].as_string() == title))
        assert item is not None
        return item


def sydney_assembly(app: Flask, starts: date = date(2026, 10, 3), days: int = 3) -> int:
    """An assembly over Sydney's DST change (clocks forward on 4 October 2026, 02:00)."""
    from zoneinfo import ZoneInfo

    sydney = ZoneInfo("Australia/Sydney")
    with app.app_context():
        network = Network(code="SYD", name={"en": "Pacific Cities", "ja": "太平洋都市"},
                          secretariat_email="office@pacific.example.org",
                          home_timezone="Asia/Tokyo")
        city = MemberCity(network=network, code="SYD", name={"en": "Sydney", "ja": "シドニー"},
                          country="AU", timezone="Australia/Sydney")
        deadline = datetime(2026, 9, 1, tzinfo=UTC)
        assembly = Assembly(network=network, slug="sydney-2026", title={"en": "Sydney 2026"},
                            host_city=city, venue={"en": "Town Hall"},
                            timezone="Australia/Sydney", home_timezone="Asia/Tokyo",
                            starts_on=starts, ends_on=starts + timedelta(days=days - 1),
                            registration_deadline=deadline, proxy_deadline=deadline,
                            status=AssemblyStatus.OPEN)
        db.session.add_all([network, city, assembly])
        for offset in range(days):
            day = starts + timedelta(days=offset)
            start = datetime(day.year, day.month, day.day, 10, tzinfo=sydney)
            db.session.add(ProgrammeItem(
                assembly=assembly,
                title={"en": f"Plenary {day:%d %B}", "ja": f"全体会議 {day:%m/%d}"},
                starts_at=start.astimezone(UTC),
                ends_at=(start + timedelta(hours=2)).astimezone(UTC),
                kind=ItemKind.PLENARY, location={"en": "Town Hall"},
                latitude=-33.8732, longitude=151.2061))
        db.session.commit()
        return assembly.id


def events_by_uid(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}
