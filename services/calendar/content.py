"""What goes into a calendar feed: the VEVENT of an item, the calendar's head with the host
zone's VTIMEZONE, alarms, and which items a delegate's personal feed carries.

Output depends on the data alone (DTSTAMP and LAST-MODIFIED come from the rows), so unchanged
data gives byte-identical files and the same ETag.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Assembly, Delegate, ItemStatus, ProgrammeItem, Signup, localized
from services.i18n import gettext, in_language

PRODID = "-//Sokai//Sokai calendar feeds 1.0//EN"
# How often clients should poll: Google and Apple honour one of these two.
REFRESH = timedelta(hours=1)
# The VTIMEZONE covers the assembly with this margin on each side.
ZONE_MARGIN = timedelta(days=7)
END_CALENDAR = "END:VCALENDAR\r\n"
ALARM_CHOICES = (10, 15, 30, 60)


def whole_seconds(moment: datetime) -> datetime:
    # Whole seconds in UTC: iCalendar has no fractions, and the output must be reproducible.
    return moment.astimezone(UTC).replace(microsecond=0)


def item_event(item: ProgrammeItem, assembly: Assembly, lang: str) -> Event:
    """One item as a VEVENT: times in the host zone with TZID, stamps from the row."""
    zone = assembly.zone
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", whole_seconds(item.updated_at))
    event.add("created", whole_seconds(item.created_at))
    event.add("last-modified", whole_seconds(item.updated_at))
    event.add("sequence", item.sequence)
    if item.all_day:
        first = item.starts_at.astimezone(zone).date()
        last = (item.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))  # DTEND of a DATE is exclusive
    else:
        event.add("dtstart", item.starts_at.astimezone(zone).replace(microsecond=0))
        event.add("dtend", item.ends_at.astimezone(zone).replace(microsecond=0))
    event.add("summary", item.display_title(lang))
    place = localized(item.location, lang)
    if place:
        event.add("location", place)
    if item.latitude is not None and item.longitude is not None:
        event.add("geo", (item.latitude, item.longitude))
    home = item.starts_at.astimezone(assembly.home_zone)
    # The secretariat's time too, as the printed programme gives it (language-neutral).
    event.add("description", f"{home:%Y-%m-%d %H:%M} {assembly.home_timezone}")
    event.add("categories", [item.kind.value.replace("_", " ")])
    event.add("status", "CANCELLED" if item.status is ItemStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    network = assembly.network
    organizer = vCalAddress(f"mailto:{network.secretariat_email}")
    organizer.params["cn"] = localized(network.name, lang)
    event.add("organizer", organizer)
    return event


def fragment_stamp(item: ProgrammeItem) -> str:
    return f"{item.updated_at.isoformat()}#{item.sequence}"


def feed_window(assembly: Assembly, items: Iterable[ProgrammeItem]) -> tuple[date, date]:
    days = [assembly.starts_on, assembly.ends_on]
    for item in items:
        days += [item.starts_at.date(), item.ends_at.date()]
    return min(days) - ZONE_MARGIN, max(days) + ZONE_MARGIN


def zone_text(assembly: Assembly, window: tuple[date, date]) -> str:
    """The host zone's VTIMEZONE with the rules in force around the assembly (Asia/Tomsk was
    UTC+7 in September 2014), as Calendar.add_missing_timezones() would add it for this
    window."""
    return Timezone.from_tzid(assembly.timezone, first_date=window[0],
                              last_date=window[1]).to_ical().decode()


def calendar_head(assembly: Assembly, lang: str, name: str, window: tuple[date, date],
                  zone: str | None = None) -> str:
    """Everything before the events: calendar properties and the host zone's VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", assembly.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    text = calendar.to_ical().decode()
    assert text.endswith(END_CALENDAR)
    return text[: -len(END_CALENDAR)] + (zone or zone_text(assembly, window))


def alarm_text(minutes: int, lang: str, title: str = "") -> str:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(minutes=-minutes))
    if not title:
        with in_language(lang):
            title = gettext("Reminder")
    alarm.add("description", title)
    return alarm.to_ical().decode()


def assemble(head: str, fragments: Iterable[str], alarm: str | None = None) -> bytes:
    parts = [head]
    for text in fragments:
        if alarm:
            text = text.replace("END:VEVENT\r\n", alarm + "END:VEVENT\r\n")
        parts.append(text)
    parts.append(END_CALENDAR)
    return "".join(parts).encode()


def feed_name(assembly: Assembly, lang: str, delegate: Delegate | None = None) -> str:
    title = assembly.display_title(lang)
    if delegate is None:
        return title
    return f"{title} — {delegate.name_for(lang)}"


def delegate_item_ids(session: Session, delegate_id: int) -> set[int]:
    return set(session.scalars(select(Signup.item_id).where(Signup.delegate_id == delegate_id)))


def concerns(item: ProgrammeItem, signed_up: set[int]) -> bool:
    """Items for everyone (no capacity) and the optional ones the delegate signed up for."""
    return item.capacity is None or item.id in signed_up


def programme_ics(session: Session, assembly: Assembly, delegate_id: int, lang: str) -> bytes:
    """The delegate's programme as one .ics (scheduled items for everyone and the optional
    ones they signed up for), built like their personal feed."""
    signed_up = delegate_item_ids(session, delegate_id)
    items = [item for item in session.scalars(select(ProgrammeItem).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.status == ItemStatus.SCHEDULED)
        .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)) if concerns(item, signed_up)]
    head = calendar_head(assembly, lang, feed_name(assembly, lang),
                         feed_window(assembly, items))
    return assemble(head, (item_event(item, assembly, lang).to_ical().decode()
                           for item in items))
