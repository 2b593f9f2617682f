"""The secretariat's pages: the dashboard (more areas arrive with their issues)."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_timedelta
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import Role
from services.assemblies import assembly_counts, visible_assemblies
from services.housekeeping import latest_worker_check, request_worker_check
from services.operations import background_status
from webapp.auth import roles_required
from webapp.extensions import db
from webapp.health import worker_report

bp = Blueprint("secretariat", __name__, url_prefix="/secretariat")


@bp.get("/")
@roles_required(Role.SECRETARIAT)
def dashboard() -> str:
    assemblies = visible_assemblies(db.session, current_user)
    rows = [(a, assembly_counts(db.session, a)) for a in assemblies]
    return render_template("secretariat/dashboard.html", rows=rows,
                           worker=worker_report(), check=latest_worker_check(db.session),
                           form=FlaskForm(), background=background_status(db.session),
                           in_words=_age_in_words)


def _age_in_words(seconds: float | None) -> str:
    """"2 min", "40 sec" in the reader's language (the Background work panel)."""
    return format_timedelta(timedelta(seconds=seconds or 0), format="short", threshold=1.5,
                            locale=get_locale() or "en")


@bp.post("/worker-check")
@roles_required(Role.SECRETARIAT)
def worker_check() -> Response:
    if FlaskForm().validate_on_submit():
        request_worker_check(db.session)
        db.session.commit()
        flash(_("A check was sent to the worker; reload in a moment to see its answer."), "info")
    return redirect(url_for("secretariat.dashboard"))
