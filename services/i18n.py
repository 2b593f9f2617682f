"""What Sokai says, in the reader's language, and how it shows days and instants.

One catalogue (services/translations/) serves every layer: the web app's templates read it
through Flask-Babel, use cases and tasks through the functions here. The language in force is
a context variable: the web app sets it for each request from the language switch, a use case
that writes to somebody else (a mail, a file) says whose language with `in_language(code)`.
Outside both, it is the default language (English).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

from models.languages import DEFAULT_LANGUAGE, language, language_or_default

CATALOGUES = Path(__file__).parent / "translations"

_current: ContextVar[str] = ContextVar("sokai_language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def use_language(code: str) -> Token[str]:
    """For the web app: the language of the request being served, until restore_language."""
    return _current.set(language_or_default(code))


def restore_language(token: Token[str]) -> None:
    _current.reset(token)


@contextmanager
def in_language(code: str) -> Iterator[str]:
    """Say things in `code` (falling back to English for a language Sokai does not speak)."""
    token = _current.set(language_or_default(code))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@lru_cache(maxsize=32)
def translations(code: str) -> NullTranslations:
    """The compiled catalogue of a language: services/translations/<catalogue_dir>/LC_MESSAGES
    (an absolute catalogue_dir is used as it is). None yet: the msgids, i.e. English."""
    mo = CATALOGUES / language(code).catalogue_dir / "LC_MESSAGES" / "messages.mo"
    if not mo.is_file():
        return NullTranslations()
    with mo.open("rb") as handle:
        return Translations(handle, domain="messages")


def gettext(msgid: str, **params: Any) -> str:
    """The message in the current language; %(name)s placeholders filled from `params`."""
    text = translations(current_language()).ugettext(msgid)
    return text % params if params else text


_ = gettext


def salutation(name: str) -> str:
    """How a message opens, in the current language: "Dear Hanako SUZUKI," / "鈴木 花子 様";
    with no name, the language's general opening."""
    if not name.strip():
        return gettext("Hello,")
    return gettext("Dear %(name)s,", name=name.strip())


def lazy_gettext(msgid: str, **params: Any) -> LazyProxy:
    """A message translated when it is shown (for texts defined at import time)."""
    return LazyProxy(gettext, msgid, enable_cache=False, **params)


def N_(msgid: str) -> str:  # noqa: N802 - the conventional name of the extraction marker
    """Marks a message for extraction; translated later with gettext(value)."""
    return msgid


# --- days and instants, always with their zone ------------------------------------------------


def utc_offset(moment: datetime, zone: str) -> str:
    """'UTC+07:00' for that instant in that zone (offsets change with DST and with law)."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _locale() -> str:
    return language(current_language()).locale


def show_time(moment: datetime | None, zone: str) -> str:
    """'16:00' in `zone`, in the current language's form."""
    if moment is None:
        return ""
    return format_time(moment.astimezone(ZoneInfo(zone)), "HH:mm", locale=_locale())


def show_instant(moment: datetime | None, zone: str) -> str:
    """A full instant with its zone: '4 September 2014 16:00 Asia/Tomsk (UTC+07:00)'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local.date(), language(current_language()).date_format, locale=_locale())
    return f"{day} {local:%H:%M} {zone} ({utc_offset(moment, zone)})"


def show_date(day: date | None, fmt: str = "") -> str:
    """A day as the reader's language writes it (its registry date format, or a Babel
    pattern or width given): 2014年9月4日, 4 September 2014."""
    if day is None:
        return ""
    return format_date(day, fmt or language(current_language()).date_format, locale=_locale())


def show_day(day: date | None) -> str:
    """A day with its weekday, as a heading: 2014年9月4日（木）, Thursday 4 September 2014."""
    if day is None:
        return ""
    return format_date(day, language(current_language()).day_format, locale=_locale())


def show_days(days: list[date]) -> str:
    """Several days as a list of the reader's language: 2014年9月5日（金）、2014年9月6日（土）;
    Friday 5 September 2014 and Saturday 6 September 2014."""
    return format_list([show_day(day) for day in days], locale=_locale()) if days else ""


def show_number(value: float | int) -> str:
    """A number with the reader's grouping and decimal signs (1,234.5; 1 234,5 in ru)."""
    return format_decimal(value, locale=_locale())


def instant_in_zone(moment: datetime, zone: str) -> str:
    """'2014-09-01 22:00:00 Asia/Tokyo (UTC+09:00)': an instant that names its zone, the same
    in every language (for refusals that quote a deadline to the second)."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {zone} ({utc_offset(moment, zone)})"
