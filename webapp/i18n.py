"""The language of each request, the language switch, and the template filters that show
days and instants (always with their zone). The languages come from the one registry
(models.languages); the words from the one catalogue (services.i18n)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_babel import get_locale, refresh
from flask_login import current_user
from werkzeug.wrappers import Response

from models import localized
from models.languages import DEFAULT_LANGUAGE, REGISTRY, code_of_locale, language
from services import i18n
from services.attendance import quorum_label
from services.i18n import show_date, show_day, show_instant, show_number, show_time, utc_offset
from webapp.forms import language_fields

__all__ = ["current_language", "select_locale", "show_date", "show_instant", "show_time",
           "utc_offset"]

# For the switch and every per-language list: code → the language's name in itself.
LANGUAGE_NAMES = {code: language.name for code, language in REGISTRY.items()}
LANG_COOKIE = "sokai_lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The switch (?lang= or the cookie), else the account's language, else the browser's."""
    return language(chosen_language()).locale  # Flask-Babel wants Babel's locale: zh_Hant


def chosen_language() -> str:
    """The registry code: the switch, else the account's language, else the browser's best
    match among the registered languages (zh-TW and zh-Hant-HK find zh-Hant)."""
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in REGISTRY:
        return str(chosen)
    reader = g.get("sokai_reader_language")
    if reader in REGISTRY:
        return str(reader)
    if getattr(current_user, "is_authenticated", False) and current_user.language in REGISTRY:
        return str(current_user.language)
    return _browser_language()


# What browsers send for a registered language besides its own code.
_BROWSER_ALIASES = {"zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant", "in": "id"}


def _browser_language() -> str:
    for value, _quality in request.accept_languages:
        tag = value.lower()
        for code in REGISTRY:
            if tag == code.lower() or tag.startswith(code.lower() + "-"):
                return code
        if tag in _BROWSER_ALIASES and _BROWSER_ALIASES[tag] in REGISTRY:
            return _BROWSER_ALIASES[tag]
        base = tag.split("-")[0]
        if base in REGISTRY:
            return base
    return DEFAULT_LANGUAGE


def read_by(code: str | None) -> None:
    """For a page addressed to one person without a login (the delegate's page, an
    invitation): their language, unless the reader chose another with the switch."""
    if code not in REGISTRY:
        return
    g.sokai_reader_language = code
    refresh()  # Flask-Babel chose the request's locale already; choose again
    i18n.restore_language(g.pop("sokai_language"))
    g.sokai_language = i18n.use_language(current_language())


def current_language() -> str:
    return code_of_locale(get_locale() or DEFAULT_LANGUAGE)


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
    if code in REGISTRY:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["language_fields"] = language_fields
    app.jinja_env.filters.update(
        instant=show_instant, clock=show_time, day=show_date, weekday=show_day,
        number=show_number, offset=utc_offset,
        tr=lambda value: localized(value, current_language()),
        quorum=quorum_label,  # the rule in words, shared with the report and decisions
    )

    @app.before_request
    def _language_of_the_request() -> None:
        # What use cases say during this request (refusals, labels) is in the reader's
        # language too; reset afterwards so the thread carries nothing to the next one.
        # Chosen afresh: a request inside an app context already pushed (the CLI, tests)
        # would otherwise inherit the locale Flask-Babel kept on `g` for an earlier one.
        refresh()
        g.sokai_language = i18n.use_language(current_language())

    @app.teardown_request
    def _forget_language(_exc: BaseException | None) -> None:
        token = g.pop("sokai_language", None)
        if token is not None:
            i18n.restore_language(token)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"LANGUAGES": LANGUAGE_NAMES, "current_language": current_language}
