"""The secretariat's pages: the dashboard (more areas arrive with their issues)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from models import MemberCity, Role
from services.assemblies import assembly_counts, visible_assemblies
from services.attention import navigation_counts, needs_attention
from services.housekeeping import latest_worker_check, request_worker_check
from services.i18n import show_instant
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
                           form=FlaskForm())


@bp.post("/worker-check")
@roles_required(Role.SECRETARIAT)
def worker_check() -> Response:
    if FlaskForm().validate_on_submit():
        request_worker_check(db.session)
        db.session.commit()
        flash(_("A check was sent to the worker; reload in a moment to see its answer."), "info")
    return redirect(url_for("secretariat.dashboard"))
