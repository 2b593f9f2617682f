"""Languages (English, Japanese) and how instants are shown: always with their zone."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from models import localized

LANGUAGES = {"en": "English", "ja": "日本語"}
LANG_COOKIE = "sokai_lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(LANGUAGES.keys()) or "en"


def current_language() -> str:
    return str(get_locale() or "en")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an open redirect to another host.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("public.index")


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    target = request.args.get("next")
    if not target and request.referrer:
        ref = urlsplit(request.referrer)
        target = ref.path + (f"?{ref.query}" if ref.query else "")
    response = redirect(_safe_next(target))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response


def utc_offset(moment: datetime, zone: str) -> str:
    """'UTC+07:00' for that instant in that zone (offsets change with DST and with law)."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def show_time(moment: datetime | None, zone: str) -> str:
    """'16:00' in `zone`, in the current language's form."""
    if moment is None:
        return ""
    return format_time(moment.astimezone(ZoneInfo(zone)), "HH:mm", locale=current_language())


def show_instant(moment: datetime | None, zone: str) -> str:
    """A full instant with its zone: '4 Sep 2014, 16:00 Asia/Tomsk (UTC+07:00)'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    day = format_date(local.date(), "medium", locale=current_language())
    return f"{day} {local:%H:%M} {zone} ({utc_offset(moment, zone)})"


def show_date(day: date | None, fmt: str = "medium") -> str:
    if day is None:
        return ""
    return format_date(day, fmt, locale=current_language())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters.update(
        instant=show_instant, clock=show_time, day=show_date, offset=utc_offset,
        tr=lambda value: localized(value, current_language()),
    )

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"LANGUAGES": LANGUAGES, "current_language": current_language}
