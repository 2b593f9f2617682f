"""The language of each request, the language switch, and the template filters that show
days and instants (always with their zone). The languages come from the one registry
(models.languages); the words from the one catalogue (services.i18n)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from models import localized
from models.languages import DEFAULT_LANGUAGE, REGISTRY
from services import i18n
from services.attendance import quorum_label
from services.i18n import show_date, show_instant, show_time, utc_offset

__all__ = ["current_language", "select_locale", "show_date", "show_instant", "show_time",
           "utc_offset"]

# For the switch and every per-language list: code → the language's name in itself.
LANGUAGE_NAMES = {code: language.name for code, language in REGISTRY.items()}
LANG_COOKIE = "sokai_lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The switch (?lang= or the cookie), else the account's language, else the browser's."""
    chosen = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in REGISTRY:
        return str(chosen)
    if getattr(current_user, "is_authenticated", False) and current_user.language in REGISTRY:
        return str(current_user.language)
    return request.accept_languages.best_match(REGISTRY.keys()) or DEFAULT_LANGUAGE


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


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
    app.jinja_env.filters.update(
        instant=show_instant, clock=show_time, day=show_date, offset=utc_offset,
        tr=lambda value: localized(value, current_language()),
        quorum=quorum_label,  # the rule in words, shared with the report and decisions
    )

    @app.before_request
    def _language_of_the_request() -> None:
        # What use cases say during this request (refusals, labels) is in the reader's
        # language too; reset afterwards so the thread carries nothing to the next one.
        g.sokai_language = i18n.use_language(current_language())

    @app.teardown_request
    def _forget_language(_exc: BaseException | None) -> None:
        token = g.pop("sokai_language", None)
        if token is not None:
            i18n.restore_language(token)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"LANGUAGES": LANGUAGE_NAMES, "current_language": current_language}
