"""The secretariat's pages: the dashboard and the audit trail (more areas arrive with their
issues)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta as short_timedelta
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from models import MemberCity, Role
from models.errors import DomainError
from services.assemblies import assembly_counts, visible_assemblies
from services.attention import navigation_counts, needs_attention
from services.audit import ACTIONS, AuditFilter, entries, parse_filter
from services.housekeeping import latest_worker_check, request_worker_check
from services.i18n import show_instant
from services.operations import background_status
from webapp.auth import roles_required
from webapp.extensions import db
from webapp.health import worker_report

bp = Blueprint("secretariat", __name__, url_prefix="/secretariat")


@bp.app_template_filter("time_left")
def _time_left(left: timedelta) -> str:
    """"in 5 days", "in 3 hours": how long until a deadline, in the reader's language."""
    return format_timedelta(left, add_direction=True, threshold=1.5)


@bp.app_template_filter("iso_instant")
def _iso_instant(value: str, zone: str) -> str:
    """An ISO timestamp from the health report, shown to the minute with its zone."""
    return show_instant(datetime.fromisoformat(value), zone)


@bp.app_context_processor
def _attention_counts() -> dict[str, Any]:
    """The counts on the navigation links, for the secretariat only (computed lazily)."""
    def counts() -> dict[str, int]:
        if current_user.is_authenticated and current_user.is_secretariat:
            return navigation_counts(db.session)
        return {}
    return {"attention_counts": counts}


@bp.get("/")
@roles_required(Role.SECRETARIAT)
def dashboard() -> str:
    assemblies = visible_assemblies(db.session, current_user)
    rows = [(a, assembly_counts(db.session, a)) for a in assemblies]
    attention = {a.id: needs_attention(db.session, a) for a in assemblies}
    city_count = db.session.scalar(select(func.count(MemberCity.id))) or 0
    return render_template("secretariat/dashboard.html", rows=rows, attention=attention,
                           city_count=city_count,
                           worker=worker_report(), check=latest_worker_check(db.session),
                           form=FlaskForm(), background=background_status(db.session),
                           in_words=_age_in_words)


def _age_in_words(seconds: float | None) -> str:
    """"2 min", "40 sec" in the reader's language (the Background work panel)."""
    return short_timedelta(timedelta(seconds=seconds or 0), format="short", threshold=1.5,
                            locale=get_locale() or "en")


@bp.post("/worker-check")
@roles_required(Role.SECRETARIAT)
def worker_check() -> Response:
    if FlaskForm().validate_on_submit():
        request_worker_check(db.session)
        db.session.commit()
        flash(_("A check was sent to the worker; reload in a moment to see its answer."), "info")
    return redirect(url_for("secretariat.dashboard"))


@bp.get("/audit")
@roles_required(Role.SECRETARIAT)
def audit() -> tuple[str, int]:
    """Who did what: the audit trail, newest first, filtered by the query string."""
    error: DomainError | None = None
    try:
        where = parse_filter(request.args)
    except DomainError as exc:
        error, where = exc, AuditFilter()
    before = request.args.get("before", type=int)
    found = entries(db.session, where, limit=PAGE + 1, before_id=before)
    older = None
    if len(found) > PAGE:  # a link to the next page back, keeping the filter
        older = {k: v for k, v in request.args.items() if k != "before"}
        older["before"] = str(found[PAGE - 1].id)
    return render_template("secretariat/audit.html", entries=found[:PAGE], older=older,
                           actions=ACTIONS, args=request.args, error=error,
                           zone=current_user.timezone or "UTC"), 422 if error else 200


PAGE = 100
