"""User-facing wording from use cases: translated in a request, plain English elsewhere.

Use cases refuse things with messages people read (a deadline in their zone, a rule broken).
Inside a request Flask-Babel picks the language; in a task or a plain test the message falls
back to English instead of failing for want of a request.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import has_app_context, has_request_context
from flask_babel import force_locale, gettext


def _(msgid: str, **params: object) -> str:
    if has_request_context():
        return gettext(msgid, **params)
    if has_app_context():
        with force_locale("en"):
            return gettext(msgid, **params)
    return msgid % params if params else msgid


def instant_in_zone(moment: datetime, zone: str) -> str:
    """'2014-09-01 22:00 Asia/Tokyo (UTC+09:00)': an instant that names its zone."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {zone} (UTC{offset[:3]}:{offset[3:]})"
