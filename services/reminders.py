"""Reminders: when they are due, who gets them, what they say, and turning them into mail.

The due instant is computed from the anchor on every sweep (anchor + offset), so a reminder
moves with its deadline. A due reminder becomes one ReminderDelivery per recipient (unique in
the database, inserted with ON CONFLICT DO NOTHING) and one outbox row per delivery actually
inserted, in the sweep's transaction: two sweeps at once, or a sweep after a crash, add nothing
twice. A reminder whose moment passed more than GRACE ago is skipped, not sent late.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import isodate
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _
from jinja2 import StrictUndefined, Template, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from models import (
    Assembly,
    AssemblyStatus,
    Delegate,
    Delegation,
    DelegationStatus,
    ItemStatus,
    MemberCity,
    ProgrammeItem,
    ProxyLetter,
    ProxyStatus,
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderStatus,
    Role,
    Signup,
    User,
    localized,
    utcnow,
)
from models.base import LANGUAGES
from models.delegation import COUNTED_STATUSES
from models.mail import new_message_id
from services.calendar import (
    assemble,
    calendar_head,
    concerns,
    current_secrets,
    delegate_item_ids,
    feed_name,
    feed_window,
    item_event,
    personal_feed_path,
)
from services.mail import Attachment, Draft, queue_messages

GRACE = timedelta(hours=1)
MAX_OFFSET = timedelta(days=366)


class ReminderError(ValueError):
    """Input a reminder cannot take; `field` names the form / API field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- when --------------------------------------------------------------------------------------


def parse_offset(text: str) -> timedelta:
    """An ISO 8601 duration ("-P7D", "-PT72H", "PT30M"); negative is before the anchor."""
    try:
        value = isodate.parse_duration((text or "").strip())
    except (isodate.ISO8601Error, ValueError, TypeError):
        raise ReminderError(_("Write the offset as an ISO 8601 duration, e.g. -P7D (7 days "
                              "before) or -PT72H (72 hours before)."), "offset") from None
    if isinstance(value, isodate.Duration):
        raise ReminderError(_("Use weeks, days, hours or minutes: months and years vary in "
                              "length."), "offset")
    if abs(value) > MAX_OFFSET:
        raise ReminderError(_("An offset may be at most a year."), "offset")
    return value


def anchor_instant(session: Session, reminder: Reminder) -> datetime | None:
    """The anchor's instant now (None: a cancelled or missing item)."""
    assembly = reminder.assembly
    match reminder.anchor:
        case ReminderAnchor.REGISTRATION_DEADLINE:
            return assembly.registration_deadline
        case ReminderAnchor.PROXY_DEADLINE:
            return assembly.proxy_deadline
        case ReminderAnchor.ASSEMBLY_START:
            return assembly_start(session, assembly)
        case ReminderAnchor.ITEM_START:
            item = reminder.item
            if item is None or item.status is ItemStatus.CANCELLED:
                return None
            return item.starts_at
    return None


def assembly_start(session: Session, assembly: Assembly) -> datetime:
    """The first scheduled item's start, else midnight of the first day in the host zone."""
    first = session.scalar(select(func.min(ProgrammeItem.starts_at)).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.status == ItemStatus.SCHEDULED))
    if first is not None:
        return first if first.tzinfo else first.replace(tzinfo=assembly.zone)
    return datetime.combine(assembly.starts_on, time(0), tzinfo=assembly.zone)


def due_at(session: Session, reminder: Reminder) -> datetime | None:
    anchor = anchor_instant(session, reminder)
    return None if anchor is None else anchor + timedelta(seconds=reminder.offset_seconds)


# --- who ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    language: str
    timezone: str
    city: MemberCity | None = None
    delegate_id: int | None = None


def _liaisons(session: Session, city_ids: Sequence[int]) -> list[Recipient]:
    users = session.scalars(select(User).where(
        User.role == Role.LIAISON, User.is_active.is_(True), User.city_id.in_(city_ids))
        .order_by(User.city_id, User.id))
    return [Recipient(address=u.email, name=u.display_name or u.email,
                      language=u.language if u.language in LANGUAGES else "en",
                      timezone=u.timezone or (u.city.timezone if u.city else "UTC"), city=u.city)
            for u in users]


_DELEGATE_COLUMNS = (Delegate.id, Delegate.email, Delegate.given_name, Delegate.family_name,
                     Delegate.language, Delegation.city_id)


def _delegates(session: Session, query: Any) -> list[Recipient]:
    # Plain columns, not ORM objects: a reminder to every delegate may load thousands.
    cities = {c.id: c for c in session.scalars(select(MemberCity))}
    return [Recipient(address=email, name=f"{given} {family}".strip(),
                      language=language if language in LANGUAGES else "en",
                      timezone=cities[city_id].timezone, city=cities[city_id],
                      delegate_id=delegate_id)
            for delegate_id, email, given, family, language, city_id in session.execute(query)
            if email]


def recipients(session: Session, reminder: Reminder) -> list[Recipient]:
    """Who the reminder goes to now (one entry per address)."""
    assembly = reminder.assembly
    statuses = dict(session.execute(select(Delegation.city_id, Delegation.status)
                                    .where(Delegation.assembly_id == assembly.id)).all())
    cities = session.scalars(select(MemberCity.id)
                             .where(MemberCity.network_id == assembly.network_id)).all()
    people: list[Recipient]
    match reminder.audience:
        case ReminderAudience.UNDECIDED_LIAISONS:
            # A city without a delegation row has not said anything yet.
            undecided = [c for c in cities
                         if statuses.get(c, DelegationStatus.UNDECIDED)
                         is DelegationStatus.UNDECIDED]
            people = _liaisons(session, undecided)
        case ReminderAudience.ABSENT_WITHOUT_PROXY:
            verified = set(session.scalars(select(ProxyLetter.grantor_city_id).where(
                ProxyLetter.assembly_id == assembly.id,
                ProxyLetter.status == ProxyStatus.VERIFIED)))
            absent = [c for c in cities
                      if statuses.get(c) is DelegationStatus.ABSENT and c not in verified]
            people = _liaisons(session, absent)
        case ReminderAudience.DELEGATES:
            people = _delegates(session, select(*_DELEGATE_COLUMNS).join(Delegation).where(
                Delegate.assembly_id == assembly.id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id))
        case ReminderAudience.ITEM_SIGNUPS:
            people = _delegates(session, select(*_DELEGATE_COLUMNS).join(Delegation)
                                .join(Signup, Signup.delegate_id == Delegate.id).where(
                Signup.item_id == reminder.item_id, Delegate.status.in_(COUNTED_STATUSES),
                Delegation.status == DelegationStatus.ATTENDING).order_by(Delegate.id))
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.address not in seen:
            seen.add(person.address)
            unique.append(person)
    return unique


def sample_recipient(session: Session, reminder: Reminder, language: str) -> Recipient:
    """Someone to preview the reminder for: a real recipient when there is one."""
    real = recipients(session, reminder)
    chosen = next((p for p in real if p.language == language), real[0] if real else None)
    if chosen is not None:
        return Recipient(address=chosen.address, name=chosen.name, language=language,
                         timezone=chosen.timezone, city=chosen.city, delegate_id=chosen.delegate_id)
    assembly = reminder.assembly
    return Recipient(address="someone@example.org",
                     name="山田 花子" if language == "ja" else "Hanako Yamada",
                     language=language, timezone=assembly.home_timezone, city=assembly.host_city)


# --- what --------------------------------------------------------------------------------------

# The secretariat's templates run in a sandbox: no attribute access to internals, no imports.
_lenient = SandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=True)
_strict = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)

TEMPLATE_VARIABLES = (
    "recipient_name", "city", "assembly_title", "venue", "host_city", "dates", "deadline",
    "deadline_host", "deadline_home", "item_title", "assembly_url", "my_city_url",
    "feed_url", "webcal_url",
)


@lru_cache(maxsize=256)
def _template(source: str, strict: bool) -> Template:
    # Compiling is the costly part of rendering: once per text, not once per recipient.
    return (_strict if strict else _lenient).from_string(source)


@dataclass(frozen=True)
class RenderedReminder:
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@lru_cache(maxsize=4096)
def _shown(moment: datetime, zone: str, lang: str) -> str:
    # Thousands of recipients share a handful of (zone, language) pairs.
    from webapp.i18n import show_instant

    with force_locale(lang):
        return show_instant(moment, zone)


@lru_cache(maxsize=256)
def _dates(starts_on: date, ends_on: date, lang: str) -> str:
    from webapp.i18n import show_date

    with force_locale(lang):
        return f"{show_date(starts_on)} – {show_date(ends_on)}"


@lru_cache(maxsize=16)
def _labels(lang: str) -> dict[str, str]:
    # Translated once per language for the HTML layout (not once per recipient).
    from flask_babel import gettext

    with force_locale(lang):
        return {"your_time": gettext("Your time"), "at_the_venue": gettext("At the venue"),
                "secretariat": gettext("Secretariat")}


def _feed_url(settings: Settings, secret: str | None) -> str:
    return f"{settings.base_url.rstrip('/')}{personal_feed_path(secret)}" if secret else ""


def _context(session: Session, reminder: Reminder, person: Recipient, settings: Settings,
             anchor: datetime | None, feed: str) -> dict[str, Any]:
    """The template variables; `feed` is the delegate's personal feed URL ("" for liaisons
    and for a delegate whose link the secretariat revoked)."""
    assembly = reminder.assembly
    lang = person.language
    assembly_url = f"{settings.base_url}/a/{assembly.slug}"
    return {
        "recipient_name": person.name,
        "city": person.city.display_name(lang) if person.city else "",
        "assembly_title": assembly.display_title(lang),
        "venue": localized(assembly.venue, lang),
        "host_city": assembly.host_city.display_name(lang),
        "dates": _dates(assembly.starts_on, assembly.ends_on, lang),
        "deadline": _shown(anchor, person.timezone, lang) if anchor else "",
        "deadline_host": _shown(anchor, assembly.timezone, lang) if anchor else "",
        "deadline_home": _shown(anchor, assembly.home_timezone, lang) if anchor else "",
        "item_title": reminder.item.display_title(lang) if reminder.item else "",
        "assembly_url": assembly_url,
        "my_city_url": f"{assembly_url}/my-city",
        "feed_url": feed,
        "webcal_url": feed.replace("https://", "webcal://").replace("http://", "webcal://"),
    }


_URL = re.compile(r"(https?://[^\s<]+)")


def text_to_html(text: str) -> Markup:
    """The body as HTML paragraphs: every character escaped, links made clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        html.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return Markup("\n".join(html))


def render(session: Session, reminder: Reminder, person: Recipient, settings: Settings,
           anchor: datetime | None = None, strict: bool = False) -> RenderedReminder:
    """The message for one recipient, in their language, times in their zone and the host's."""
    lang = person.language
    anchor = anchor if anchor is not None else anchor_instant(session, reminder)
    secrets = current_secrets(session, [person.delegate_id] if person.delegate_id else [])
    feed = _feed_url(settings, secrets.get(person.delegate_id or 0))
    with force_locale(lang):
        return _render_in_locale(session, reminder, person, settings, anchor, strict, feed)


# The .ics is UTF-8 (Japanese titles) and a published calendar, not an invitation to answer.
CALENDAR_ATTACHMENT = "text/calendar; charset=utf-8; method=PUBLISH"


def _render_in_locale(session: Session, reminder: Reminder, person: Recipient,
                      settings: Settings, anchor: datetime | None,
                      strict: bool, feed: str) -> RenderedReminder:
    lang = person.language
    context = _context(session, reminder, person, settings, anchor, feed)
    subject = _template(localized(reminder.subject, lang), strict).render(context)
    text = _template(localized(reminder.body, lang), strict).render(context)
    subject = " ".join(subject.split())  # one line: a header never carries a line break
    html = current_app.jinja_env.get_template("mail/reminder.html").render(
        subject=subject, body=text_to_html(text), lang=lang, context=context,
        labels=_labels(lang))
    attachments: tuple[Attachment, ...] = ()
    if reminder.attach_programme and person.delegate_id is not None:
        attachments = (Attachment("programme.ics", CALENDAR_ATTACHMENT, programme_ics(
            session, reminder.assembly, person.delegate_id, lang)),)
    return RenderedReminder(subject=subject, text=text, html=html, attachments=attachments)


def check_templates(subject: dict[str, str], body: dict[str, str]) -> None:
    """Refuse a template that does not compile or names an unknown variable."""
    sample = dict.fromkeys(TEMPLATE_VARIABLES, "x")
    for lang in LANGUAGES:
        for name, texts in (("subject", subject), ("body", body)):
            if not (texts.get(lang) or "").strip():
                raise ReminderError(_("Write the %(part)s in every language.", part=name),
                                    f"{name}_{lang}")
            try:
                rendered = _strict.from_string(texts[lang]).render(sample)
            except TemplateError as exc:
                raise ReminderError(_("The template cannot be used: %(error)s",
                                      error=str(exc)), f"{name}_{lang}") from None
            if name == "subject" and len(rendered) > 300:
                raise ReminderError(_("The subject is too long."), f"subject_{lang}")


# --- the programme as an .ics -----------------------------------------------------------------


def programme_ics(session: Session, assembly: Assembly, delegate_id: int, lang: str) -> bytes:
    """The delegate's programme: the scheduled items that concern them (everyone's items and
    their sign-ups), built with the calendar feeds' own pieces (services.calendar)."""
    signed_up = delegate_item_ids(session, delegate_id)
    items = [item for item in session.scalars(select(ProgrammeItem).where(
        ProgrammeItem.assembly_id == assembly.id, ProgrammeItem.status == ItemStatus.SCHEDULED)
        .order_by(ProgrammeItem.starts_at, ProgrammeItem.id)) if concerns(item, signed_up)]
    head = calendar_head(assembly, lang, feed_name(assembly, lang),
                         feed_window(assembly, items))
    return assemble(head, (item_event(item, assembly, lang).to_ical().decode()
                           for item in items))


# --- keeping reminders ------------------------------------------------------------------------


DEFAULTS: tuple[dict[str, Any], ...] = (
    {"anchor": ReminderAnchor.REGISTRATION_DEADLINE, "offset": "-P14D",
     "audience": ReminderAudience.UNDECIDED_LIAISONS, "kind": "registration"},
    {"anchor": ReminderAnchor.REGISTRATION_DEADLINE, "offset": "-P3D",
     "audience": ReminderAudience.UNDECIDED_LIAISONS, "kind": "registration"},
    {"anchor": ReminderAnchor.PROXY_DEADLINE, "offset": "-P7D",
     "audience": ReminderAudience.ABSENT_WITHOUT_PROXY, "kind": "proxy"},
    {"anchor": ReminderAnchor.PROXY_DEADLINE, "offset": "-PT72H",
     "audience": ReminderAudience.ABSENT_WITHOUT_PROXY, "kind": "proxy"},
    {"anchor": ReminderAnchor.ASSEMBLY_START, "offset": "-P2D",
     "audience": ReminderAudience.DELEGATES, "kind": "start", "attach_programme": True},
)

# Bilingual defaults; the secretariat edits them per assembly.
TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "registration": {
        "subject": {
            "en": "{{ assembly_title }}: will {{ city }} attend? Please reply by {{ deadline }}",
            "ja": "【ご出欠のお願い】{{ assembly_title }}（{{ deadline }}まで）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ city }} has not yet told us whether it will "
                  "attend {{ assembly_title }} ({{ dates }}, {{ venue }}).\n\nPlease register "
                  "your delegation, or tell us that {{ city }} will not attend, by "
                  "{{ deadline }} (at the venue: {{ deadline_host }}).\n\n{{ my_city_url }}\n\n"
                  "The secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ assembly_title }}（{{ dates }}、{{ venue }}）"
                  "へのご出欠について、{{ city }}からのご回答をまだいただいておりません。\n\n"
                  "{{ deadline }}（開催地時間：{{ deadline_host }}）までに、代表団のご登録"
                  "または欠席のご連絡をお願いいたします。\n\n{{ my_city_url }}\n\n事務局",
        },
    },
    "proxy": {
        "subject": {
            "en": "{{ assembly_title }}: proxy letter for {{ city }} due by {{ deadline }}",
            "ja": "【委任状のお願い】{{ assembly_title }}（{{ deadline }}まで）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ city }} will not attend {{ assembly_title }}."
                  " To be represented, please send a proxy letter naming a city that attends "
                  "by {{ deadline }} (at the venue: {{ deadline_host }}).\n\n{{ my_city_url }}"
                  "\n\nThe secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ city }}は{{ assembly_title }}にご欠席と"
                  "伺っております。議決権を行使される場合は、{{ deadline }}（開催地時間："
                  "{{ deadline_host }}）までに、出席都市を受任者とする委任状をご提出ください。"
                  "\n\n{{ my_city_url }}\n\n事務局",
        },
    },
    "start": {
        "subject": {
            "en": "{{ assembly_title }} begins {{ deadline }}",
            "ja": "【まもなく開催】{{ assembly_title }}（{{ deadline }}開始）",
        },
        "body": {
            "en": "Dear {{ recipient_name }},\n\n{{ assembly_title }} begins on {{ deadline }} "
                  "(in {{ host_city }}: {{ deadline_host }}) at {{ venue }}.\n\nYour programme "
                  "is attached (programme.ics). Subscribe to your personal calendar feed to "
                  "keep it up to date:\n{{ feed_url }}\n{{ webcal_url }}\n\nWe look forward "
                  "to seeing you.\nThe secretariat",
            "ja": "{{ recipient_name }} 様\n\n{{ assembly_title }}は{{ deadline }}（{{ host_city }}"
                  "時間：{{ deadline_host }}）に{{ venue }}で開会いたします。\n\nご自身の日程表を"
                  "添付いたしました（programme.ics）。個人用カレンダーフィードを登録いただくと、"
                  "変更も自動で反映されます。\n{{ feed_url }}\n{{ webcal_url }}\n\n"
                  "皆様のお越しをお待ちしております。\n事務局",
        },
    },
}


def create_default_reminders(session: Session, assembly: Assembly) -> list[Reminder]:
    """The default set for a new assembly (adds and flushes; the caller commits)."""
    made = []
    for spec in DEFAULTS:
        texts = TEXTS[spec["kind"]]
        made.append(create_reminder(
            session, assembly, anchor=spec["anchor"], offset=spec["offset"],
            audience=spec["audience"], subject=dict(texts["subject"]), body=dict(texts["body"]),
            attach_programme=spec.get("attach_programme", False)))
    return made


def _check_item(session: Session, assembly: Assembly, anchor: ReminderAnchor,
                audience: ReminderAudience, item_id: int | None) -> ProgrammeItem | None:
    needs_item = anchor is ReminderAnchor.ITEM_START or audience is ReminderAudience.ITEM_SIGNUPS
    if not needs_item:
        if item_id is not None:
            raise ReminderError(_("Only a programme item's start takes an item."), "item")
        return None
    if item_id is None:
        raise ReminderError(_("Choose the programme item."), "item")
    item = session.get(ProgrammeItem, item_id)
    if item is None or item.assembly_id != assembly.id:
        raise ReminderError(_("There is no such item in this assembly's programme."), "item")
    if anchor is not ReminderAnchor.ITEM_START:
        raise ReminderError(_("Delegates signed up to an item are reminded of that item's "
                              "start: choose the anchor “item start”."), "anchor")
    return item


def _choice(enum_cls: type[Any], value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise ReminderError(_("Choose one of: %(choices)s",
                              choices=", ".join(m.value for m in enum_cls)), field_name) from None


def create_reminder(session: Session, assembly: Assembly, *, anchor: str, offset: str,
                    audience: str, subject: dict[str, str], body: dict[str, str],
                    item_id: int | None = None, attach_programme: bool = False,
                    status: str = ReminderStatus.ACTIVE) -> Reminder:
    reminder = Reminder(assembly=assembly, assembly_id=assembly.id)
    _apply(session, reminder, anchor=anchor, offset=offset, audience=audience, subject=subject,
           body=body, item_id=item_id, attach_programme=attach_programme, status=status)
    session.add(reminder)
    session.flush()
    return reminder


def update_reminder(session: Session, reminder: Reminder, **changes: Any) -> Reminder:
    current = {"anchor": reminder.anchor, "offset": reminder.offset,
               "audience": reminder.audience, "subject": dict(reminder.subject),
               "body": dict(reminder.body), "item_id": reminder.item_id,
               "attach_programme": reminder.attach_programme, "status": reminder.status}
    current.update({k: v for k, v in changes.items() if k in current})
    if reminder.status in (ReminderStatus.SENT,) and set(changes) - {"status"}:
        raise ReminderError(_("This reminder has been sent; create a new one instead."))
    _apply(session, reminder, **current)
    session.flush()
    return reminder


def _apply(session: Session, reminder: Reminder, *, anchor: Any, offset: str, audience: Any,
           subject: dict[str, str], body: dict[str, str], item_id: int | None,
           attach_programme: bool, status: Any) -> None:
    anchor = _choice(ReminderAnchor, anchor, "anchor")
    audience = _choice(ReminderAudience, audience, "audience")
    status = _choice(ReminderStatus, status, "status")
    if status is not reminder.status and status not in (ReminderStatus.ACTIVE,
                                                         ReminderStatus.PAUSED):
        raise ReminderError(_("A reminder can be made active or paused."), "status")
    delta = parse_offset(offset)
    subject = {k: v for k, v in subject.items() if k in LANGUAGES}
    body = {k: v for k, v in body.items() if k in LANGUAGES}
    check_templates(subject, body)
    reminder.item = _check_item(session, reminder.assembly, anchor, audience, item_id)
    reminder.anchor, reminder.audience, reminder.status = anchor, audience, status
    reminder.offset = offset.strip().upper()
    reminder.offset_seconds = int(delta.total_seconds())
    reminder.subject, reminder.body = subject, body
    reminder.attach_programme = bool(attach_programme)
    if status is ReminderStatus.ACTIVE:
        reminder.note = ""


def preview(session: Session, assembly: Assembly, **fields: Any) -> dict[str, RenderedReminder]:
    """The reminder as a sample recipient would get it, in each language; nothing is saved."""
    draft = Reminder(assembly=assembly, assembly_id=assembly.id, status=ReminderStatus.ACTIVE)
    try:
        _apply(session, draft, **fields)
        settings: Settings = current_app.config["SOKAI_SETTINGS"]
        return {lang: render(session, draft, sample_recipient(session, draft, lang), settings,
                             strict=True) for lang in LANGUAGES}
    except TemplateError as exc:
        raise ReminderError(_("The template cannot be used: %(error)s", error=str(exc))) from None
    finally:
        if draft in session:
            session.expunge(draft)


def set_paused(reminder: Reminder, paused: bool) -> None:
    if reminder.status in (ReminderStatus.ACTIVE, ReminderStatus.PAUSED):
        reminder.status = ReminderStatus.PAUSED if paused else ReminderStatus.ACTIVE


# --- the sweep ---------------------------------------------------------------------------------


def _insert_deliveries(session: Session, reminder_id: int,
                       rows: list[dict[str, Any]]) -> dict[str, str]:
    """Insert the deliveries that do not exist yet; returns {address: Message-ID} of those.

    A plain executemany with ON CONFLICT DO NOTHING (one statement prepared once, not a huge
    multi-row statement), then a read of the reminder's deliveries: a row carrying the
    Message-ID generated here is one this sweep inserted; a concurrent sweep's rows carry
    theirs (PostgreSQL waited for that sweep to commit before skipping the conflict)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ReminderDelivery.__table__
    session.execute(insert(table).on_conflict_do_nothing(
        index_elements=["reminder_id", "to_address"]), rows)
    mine = {row["to_address"]: row["message_id"] for row in rows}
    stored = session.execute(select(table.c.to_address, table.c.message_id)
                             .where(table.c.reminder_id == reminder_id))
    return {address: message_id for address, message_id in stored
            if mine.get(address) == message_id}


def fan_out(session: Session, reminder: Reminder, settings: Settings, now: datetime) -> int:
    """Turn a due reminder into deliveries and outbox rows (in the caller's transaction)."""
    people = recipients(session, reminder)
    inserted = _insert_deliveries(session, reminder.id, [
        {"reminder_id": reminder.id, "to_address": p.address,
         "message_id": new_message_id(), "created_at": now} for p in people]) if people else {}
    anchor = anchor_instant(session, reminder)
    # Each delegate's working feed link (issued if they had none), for all of them at once.
    secrets = current_secrets(session, [p.delegate_id for p in people
                                        if p.delegate_id and p.address in inserted])
    drafts = []
    for lang in sorted({p.language for p in people}):
        with force_locale(lang):  # once per language, not once per recipient
            for person in people:
                if person.language != lang or person.address not in inserted:
                    continue  # another sweep got there first
                message = _render_in_locale(
                    session, reminder, person, settings, anchor, strict=False,
                    feed=_feed_url(settings, secrets.get(person.delegate_id or 0)))
                drafts.append(Draft(
                    kind="reminder", to_address=person.address, to_name=person.name,
                    subject=message.subject, text_body=message.text, html_body=message.html,
                    language=person.language, assembly_id=reminder.assembly_id,
                    attachments=message.attachments, message_id=inserted[person.address]))
    queue_messages(session, drafts)
    # SQL arithmetic, not the loaded values: a concurrent sweep may have counted already.
    session.execute(update(Reminder).where(Reminder.id == reminder.id).values(
        status=ReminderStatus.SENT, sent_at=func.coalesce(Reminder.sent_at, now),
        recipient_count=Reminder.recipient_count + len(drafts), note="")
        .execution_options(synchronize_session=False))
    return len(drafts)


def send_due_reminders(session: Session, settings: Settings, now: datetime | None = None,
                       grace: timedelta = GRACE) -> int:
    """Queue every reminder now due, once per recipient; skip those too late. Commits."""
    now = now or utcnow()
    queued = 0
    reminders = session.scalars(select(Reminder).join(Assembly).where(
        Reminder.status == ReminderStatus.ACTIVE, Assembly.status == AssemblyStatus.OPEN)
        .order_by(Reminder.id)).all()
    for reminder in reminders:
        due = due_at(session, reminder)
        if due is None or due > now:
            continue
        if now - due > grace:
            session.execute(update(Reminder).where(
                Reminder.id == reminder.id, Reminder.status == ReminderStatus.ACTIVE).values(
                status=ReminderStatus.SKIPPED,
                note=f"due {due:%Y-%m-%d %H:%M} UTC; not sent late (more than {grace} past)")
                .execution_options(synchronize_session=False))
            continue
        queued += fan_out(session, reminder, settings, now)
    session.commit()
    return queued


@dataclass(frozen=True)
class ReminderView:
    reminder: Reminder
    due_at: datetime | None
    audience_size: int


def reminders_of(session: Session, assembly: Assembly) -> list[ReminderView]:
    """The assembly's reminders in the order they fall due, with their audience size now."""
    views = [ReminderView(r, due_at(session, r), len(recipients(session, r)))
             for r in session.scalars(select(Reminder).where(Reminder.assembly_id == assembly.id)
                                      .order_by(Reminder.id))]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(views, key=lambda v: (v.due_at or far, v.reminder.id))
