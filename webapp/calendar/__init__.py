"""Calendar feeds and the delegate's personal programme page, keyed by the feed token.

The handlers serve stored bytes only: the worker builds them (a never-built feed is built
once here and stored). Conditional requests get 304, gzip when the client accepts it.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField

from config import current_settings
from models import Assembly, FeedToken
from models.languages import REGISTRY
from services.assemblies import find_assembly, programme_by_day
from services.calendar.content import ALARM_CHOICES, concerns, delegate_item_ids
from services.calendar.serving import personal_feed_for, public_feed
from services.calendar.store import BuiltFeed, FeedStore, feed_store
from services.calendar.tokens import choose_alarm, new_link, token_for
from webapp.calendar.responses import feed_answer
from webapp.extensions import db
from webapp.forms import Form

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

def _store() -> FeedStore:
    return feed_store(db.session, current_settings().redis_url)


def feed_response(feed: BuiltFeed, private: bool) -> Response:
    status, headers, body = feed_answer(feed, request.environ, private)
    return Response(body, status=status, headers=headers)


@bp.get("/<slug>.ics")
def public(slug: str) -> Response:
    lang = request.args.get("lang", "en")
    if lang not in REGISTRY:
        abort(400, description=f"lang must be one of {', '.join(REGISTRY)}")
    assembly = find_assembly(db.session, slug, None)
    if assembly is None:
        abort(404)
    return feed_response(public_feed(db.session, _store(), assembly, lang), private=False)


@bp.get("/p/<token>.ics")
def personal(token: str) -> Response:
    feed = personal_feed_for(db.session, _store(), token)
    if feed is None:
        abort(404)
    return feed_response(feed, private=True)


# --- the delegate's page ----------------------------------------------------------------------


class AlarmForm(Form):
    alarm = SelectField(_l("Reminder in my calendar"), choices=[], validate_choice=True)


def _alarm_form(token: FeedToken) -> AlarmForm:
    form = AlarmForm(alarm=str(token.alarm_minutes or 0))
    form.alarm.choices = [("0", _("No reminder"))] + [
        (str(m), _("%(minutes)s minutes before", minutes=m)) for m in ALARM_CHOICES]
    return form


def feed_links(https_url: str) -> dict[str, str]:
    parts = urlsplit(https_url)
    webcal = urlunsplit(("webcal", parts.netloc, parts.path, parts.query, ""))
    return {"https": https_url, "webcal": webcal,
            "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")}


def _base_url() -> str:
    return current_settings().base_url.rstrip("/")


@bp.get("/p/<token>")
def my_programme(token: str) -> str:
    found = token_for(db.session, token)
    if found is None:
        abort(404)
    delegate = found.delegate
    assembly = db.session.get(Assembly, delegate.assembly_id)
    assert assembly is not None
    signed_up = delegate_item_ids(db.session, delegate.id)
    days = [(day, [i for i in items if concerns(i, signed_up)])
            for day, items in programme_by_day(db.session, assembly)]
    days = [(day, items) for day, items in days if items]
    links = feed_links(_base_url() + url_for("calendar.personal", token=token))
    zones = [assembly.timezone, assembly.home_timezone]
    own = delegate.delegation.city.timezone
    if own not in zones:
        zones.append(own)
    return render_template("calendar/my_programme.html", assembly=assembly, delegate=delegate,
                           days=days, zones=zones, own_zone=own, links=links, token=token,
                           signed_up=signed_up, alarm_form=_alarm_form(found),
                           rotate_form=FlaskForm())


@bp.post("/p/<token>/alarm")
def set_alarm(token: str) -> Response | str:
    found = token_for(db.session, token)
    if found is None:
        abort(404)
    form = _alarm_form(found)
    if form.validate_on_submit():
        choose_alarm(db.session, found, int(form.alarm.data or 0))
        db.session.commit()
        flash(_("Saved. Your calendar app picks up the change at its next refresh."), "success")
    else:
        flash(_("Choose one of the reminder options."), "danger")
    return redirect(url_for("calendar.my_programme", token=token))


@bp.post("/p/<token>/rotate")
def rotate(token: str) -> Response:
    found = token_for(db.session, token)
    if found is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    secret = new_link(db.session, found.delegate)
    db.session.commit()
    flash(_("You have a new private link. The old one no longer works: subscribe again "
            "with the new link in your calendar app."), "warning")
    return redirect(url_for("calendar.my_programme", token=secret))
