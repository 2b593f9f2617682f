"""The secretariat's pages: the dashboard (more areas arrive with their issues)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from models import MemberCity, Role
from services.assemblies import assembly_counts, visible_assemblies
from services.housekeeping import latest_worker_check, request_worker_check
from webapp.auth import roles_required
from webapp.extensions import db
from webapp.health import worker_report

bp = Blueprint("secretariat", __name__, url_prefix="/secretariat")


@bp.get("/")
@roles_required(Role.SECRETARIAT)
def dashboard() -> str:
    assemblies = visible_assemblies(db.session, current_user)
    rows = [(a, assembly_counts(db.session, a)) for a in assemblies]
    city_count = db.session.scalar(select(func.count(MemberCity.id))) or 0
    return render_template("secretariat/dashboard.html", rows=rows, city_count=city_count,
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
