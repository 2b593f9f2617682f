"""What a reminder says: the secretariat's templates (sandboxed Jinja2) rendered for one
recipient, in their language, with times in their zone, the host's and the secretariat's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from config import Settings
from models import Reminder, localized
from models.languages import DEFAULT_LANGUAGE, REGISTRY
from services.calendar.content import programme_ics
from services.calendar.tokens import personal_feed_path, personal_feed_url
from services.i18n import _, gettext, in_language, show_date, show_instant
from services.mail.html import render_mail_html, text_to_html
from services.mail.outbox import Attachment
from services.reminders.audience import Recipient
from services.reminders.timing import anchor_instant, invalid

# The secretariat's templates run in a sandbox: no attribute access to internals, no imports.
_lenient = SandboxedEnvironment(autoescape=False, undefined=Undefined, keep_trailing_newline=True)
_strict = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)

TEMPLATE_VARIABLES = (
    "recipient_name", "city", "assembly_title", "venue", "host_city", "dates", "deadline",
    "deadline_host", "deadline_home", "item_title", "assembly_url", "my_city_url",
    "feed_url", "webcal_url",
)


@lru_cache(maxsize=256)
def compile_texts(reminder: Reminder) -> None:
    """Raise if a text of the reminder does not compile: the reminder's own fault (the sweep
    marks it failed), not one recipient's."""
    for texts in (reminder.subject, reminder.body):
        for source in texts.values():
            _template(source, strict=False)


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
    with in_language(lang):
        return show_instant(moment, zone)


@lru_cache(maxsize=256)
def _dates(starts_on: date, ends_on: date, lang: str) -> str:
    with in_language(lang):
        return f"{show_date(starts_on)} – {show_date(ends_on)}"


def uses_feed_link(reminder: Reminder) -> bool:
    """Whether the reminder's texts show the delegate's personal feed link."""
    return any(name in text for texts in (reminder.subject, reminder.body)
               for text in texts.values() for name in ("feed_url", "webcal_url"))


def feed_url(settings: Settings, secret: str | None) -> str:
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


# The .ics is UTF-8 (Japanese titles) and a published calendar, not an invitation to answer.
CALENDAR_ATTACHMENT = "text/calendar; charset=utf-8; method=PUBLISH"


def render(session: Session, reminder: Reminder, person: Recipient, settings: Settings,
           anchor: datetime | None = None, strict: bool = False) -> RenderedReminder:
    """The message for one recipient, in their language, times in their zone and the host's."""
    lang = person.language
    anchor = anchor if anchor is not None else anchor_instant(session, reminder)
    feed = (personal_feed_url(session, person.delegate_id, settings.base_url) or ""
            if person.delegate_id else "")
    with in_language(lang):
        return render_in_language(session, reminder, person, settings, anchor, strict, feed)


def render_in_language(session: Session, reminder: Reminder, person: Recipient,
                       settings: Settings, anchor: datetime | None,
                       strict: bool, feed: str) -> RenderedReminder:
    """render() for a caller already in the recipient's language (the sweep renders many
    recipients of one language in a row)."""
    lang = person.language
    context = _context(session, reminder, person, settings, anchor, feed)
    subject = _template(localized(reminder.subject, lang), strict).render(context)
    text = _template(localized(reminder.body, lang), strict).render(context)
    subject = " ".join(subject.split())  # one line: a header never carries a line break
    html = render_mail_html(
        subject=subject, body=text_to_html(text), lang=lang,
        heading=context["assembly_title"], link=context["assembly_url"],
        times=[(gettext("Your time"), context["deadline"]),
               (gettext("At the venue"), context["deadline_host"]),
               (gettext("Secretariat"), context["deadline_home"])]
        if context["deadline"] else [])
    attachments: tuple[Attachment, ...] = ()
    if reminder.attach_programme and person.delegate_id is not None:
        attachments = (Attachment("programme.ics", CALENDAR_ATTACHMENT, programme_ics(
            session, reminder.assembly, person.delegate_id, lang)),)
    return RenderedReminder(subject=subject, text=text, html=html, attachments=attachments)


def check_templates(subject: dict[str, str], body: dict[str, str]) -> None:
    """Refuse a template that does not compile or names an unknown variable."""
    sample = dict.fromkeys(TEMPLATE_VARIABLES, "x")
    for lang in REGISTRY:
        for name, texts in (("subject", subject), ("body", body)):
            if not (texts.get(lang) or "").strip():
                # The default language is required: a recipient whose language has no text
                # reads it (models.localized falls back to it).
                if lang == DEFAULT_LANGUAGE:
                    raise invalid(_("Write the %(part)s in English at least.", part=name),
                                  f"{name}.{lang}")
                continue
            try:
                rendered = _strict.from_string(texts[lang]).render(sample)
            except TemplateError as exc:
                raise invalid(_("The template cannot be used: %(error)s",
                                error=str(exc)), f"{name}.{lang}") from None
            if name == "subject" and len(rendered) > 300:
                raise invalid(_("The subject is too long."), f"subject.{lang}")
