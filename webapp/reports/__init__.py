"""The secretariat's summaries and report pages, and the side-event editor."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from models import Assembly, MemberCity, Role, SideEvent, SideEventContribution, SideEventKind
from models import SummaryJob as Job
from models.languages import REGISTRY
from services.assemblies import find_assembly
from services.side_events import save_contribution, save_side_event, side_events
from services.summaries.jobs import request_summary, retry_summary, summary_history
from services.summaries.report import (
    build_report,
    participant_count,
    participant_rows,
    side_event_kind_label,
)
from webapp.api.summaries import summary_file_response
from webapp.auth import roles_required, visible_assembly_or_404
from webapp.extensions import db
from webapp.forms import Form, PerLanguage, attempt, fill_localized, localized_data, per_language
from webapp.i18n import current_language
from webapp.paging import Page, requested_page

bp = Blueprint("reports", __name__, url_prefix="/secretariat")

secretariat = roles_required(Role.SECRETARIAT)


class GenerateForm(Form):
    language = SelectField(_l("Language of the report"),
                           choices=[(code, lang.name) for code, lang in REGISTRY.items()])


@per_language
class SideEventForm(Form):
    kind = SelectField(_l("Kind"), choices=[(k.value, k.value) for k in SideEventKind])
    title = PerLanguage(_l("Title"))
    venue = PerLanguage(_l("Venue"))
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])

    def localise(self) -> None:
        self.kind.choices = [(k.value, side_event_kind_label(k.value)) for k in SideEventKind]


@per_language
class ContributionForm(Form):
    city = SelectField(_l("City"), choices=[])
    description = PerLanguage(_l("What the city contributed"), max_length=2000)
    count = IntegerField(_l("Count (e.g. paintings)"),
                         validators=[Optional(), NumberRange(min=0, max=1_000_000)])


_assembly = visible_assembly_or_404


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    return job


# --- summaries ------------------------------------------------------------------------------


def stage_label(stage: str) -> str:
    return {"queued": _("waiting for a worker"), "starting": _("starting"),
            "collecting": _("reading the data"), "csv": _("writing the CSV file"),
            "xlsx": _("writing the Excel file"), "pdf": _("writing the PDF"),
            "done": _("done"), "failed": _("failed")}.get(stage, stage)


def job_status(job: Job) -> dict[str, Any]:
    """What the page's poll needs: the status, stage, percent and, once done, the links."""
    return {
        "id": job.id, "status": job.status.value, "stage": job.stage,
        "stage_label": stage_label(job.stage), "progress": job.progress,
        "error": job.error, "attempts": job.attempts,
        "downloads": ({f["format"]: url_for("reports.download", job_id=job.id,
                                            fmt=f["format"]) for f in job.files}
                      if job.status.value == "done" else {}),
    }


@bp.get("/assemblies/<slug>/summaries")
@secretariat
def summaries(slug: str) -> str:
    assembly = _assembly(slug)
    form = GenerateForm(language=current_language())
    return render_template("reports/summaries.html", assembly=assembly, form=form,
                           jobs=summary_history(db.session, assembly), action=FlaskForm(),
                           status=job_status)


@bp.post("/assemblies/<slug>/summaries")
@secretariat
def generate(slug: str) -> Response:
    assembly = _assembly(slug)
    form = GenerateForm()
    if not form.validate_on_submit():
        flash(_("The form has expired or the language is not right; please try again."),
              "danger")
        return redirect(url_for("reports.summaries", slug=slug))
    with attempt() as tried:
        job, created = request_summary(db.session, assembly, current_user, form.language.data)
    if tried.refused:
        return redirect(url_for("reports.summaries", slug=slug))
    flash(_("The summary is being built; this page shows its progress.") if created else
          _("A summary of the same data is already being built: you joined it."), "info")
    return redirect(url_for("reports.summaries", slug=slug, _anchor=f"job-{job.id}"))


@bp.get("/summaries/<int:job_id>")
@secretariat
def summary(job_id: int) -> Response:
    job = _job(job_id)
    return redirect(url_for("reports.summaries", slug=job.assembly.slug, _anchor=f"job-{job.id}"))


@bp.get("/summaries/<int:job_id>/status")
@secretariat
def status(job_id: int) -> Response:
    return jsonify(job_status(_job(job_id)))


@bp.post("/summaries/<int:job_id>/retry")
@secretariat
def retry(job_id: int) -> Response:
    job = _job(job_id)
    if FlaskForm().validate_on_submit():
        with attempt() as tried:
            job, _created = retry_summary(db.session, job, current_user)
        if not tried.refused:
            flash(_("The summary is being built again."), "info")
    return redirect(url_for("reports.summaries", slug=job.assembly.slug, _anchor=f"job-{job.id}"))


@bp.get("/summaries/<int:job_id>/download/<fmt>")
@secretariat
def download(job_id: int, fmt: str) -> Response:
    job = _job(job_id)
    if job.status.value != "done":
        flash(_("This summary is not ready yet."), "warning")
        return redirect(url_for("reports.summaries", slug=job.assembly.slug))
    return summary_file_response(job, fmt)


@bp.get("/assemblies/<slug>/report")
@secretariat
def report(slug: str) -> str:
    assembly = _assembly(slug)
    lang = current_language()
    content = build_report(db.session, assembly, lang)
    # The participant list is cut in pages: an assembly may have tens of thousands; the
    # summaries' files hold it whole.
    total = participant_count(db.session, assembly)
    pages = max((total + PARTICIPANTS_PAGE - 1) // PARTICIPANTS_PAGE, 1)
    number = min(requested_page(), pages)
    rows = list(participant_rows(db.session, assembly, lang,
                                 offset=(number - 1) * PARTICIPANTS_PAGE,
                                 limit=PARTICIPANTS_PAGE,
                                 cities=[row.city for row in content.attendance.rows]))
    return render_template("reports/report.html", assembly=assembly, report=content,
                           participants=rows,
                           page=Page(items=rows, number=number, pages=pages, total=total),
                           lang_arg=request.args.get("lang") or None)


PARTICIPANTS_PAGE = 250


# --- side events ----------------------------------------------------------------------------


@bp.route("/assemblies/<slug>/side-events", methods=["GET", "POST"])
@secretariat
def side_event_list(slug: str) -> Any:
    assembly = _assembly(slug)
    form = SideEventForm()
    form.localise()
    if form.validate_on_submit():
        with attempt(form) as tried:
            event = save_side_event(db.session, assembly, kind=form.kind.data,
                                    title=localized_data(form, "title"),
                                    venue=localized_data(form, "venue"),
                                    starts_on=form.starts_on.data, ends_on=form.ends_on.data)
            db.session.commit()
        if not tried.refused:
            flash(_("Side event added. Now add each city's part."), "success")
            return redirect(url_for("reports.side_event", event_id=event.id))
    # A refused form says what is wrong next to each field, with 422 like every other form.
    return render_template("reports/side_events.html", assembly=assembly, form=form,
                           events=side_events(db.session, assembly), action=FlaskForm(),
                           kind_label=side_event_kind_label), (
        422 if request.method == "POST" else 200)


def _event(event_id: int) -> SideEvent:
    event = db.session.get(SideEvent, event_id)
    if event is None or find_assembly(db.session, event.assembly.slug, current_user) is None:
        abort(404)
    return event


@bp.route("/side-events/<int:event_id>", methods=["GET", "POST"])
@secretariat
def side_event(event_id: int) -> Any:
    event = _event(event_id)
    form = SideEventForm()  # bound to the posted data on POST, empty on GET
    form.localise()
    if request.method == "GET":
        _fill(form, event)
    contribution_form = ContributionForm(formdata=None)
    _city_choices(contribution_form, event.assembly)
    if request.method == "POST" and form.validate_on_submit():
        with attempt(form) as tried:
            save_side_event(db.session, event.assembly, kind=form.kind.data,
                            title=localized_data(form, "title"),
                            venue=localized_data(form, "venue"),
                            starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                            event=event)
            db.session.commit()
        if not tried.refused:
            flash(_("Side event saved."), "success")
            return redirect(url_for("reports.side_event", event_id=event.id))
    return _render_event(event, form, contribution_form,
                         422 if request.method == "POST" else 200)


def _fill(form: SideEventForm, event: SideEvent) -> None:
    fill_localized(form, "title", event.title)
    fill_localized(form, "venue", event.venue)
    form.kind.data = event.kind.value
    form.starts_on.data, form.ends_on.data = event.starts_on, event.ends_on


def _render_event(event: SideEvent, form: SideEventForm, contribution_form: ContributionForm,
                  status: int = 200) -> Any:
    return render_template("reports/side_event.html", event=event, assembly=event.assembly,
                           form=form, contribution_form=contribution_form, action=FlaskForm(),
                           kind_label=side_event_kind_label), status


def _city_choices(form: ContributionForm, assembly: Assembly) -> dict[str, MemberCity]:
    cities = {c.code: c for c in db.session.scalars(
        select(MemberCity).where(MemberCity.network_id == assembly.network_id)
        .order_by(MemberCity.code))}
    lang = current_language()
    form.city.choices = [(code, f"{city.display_name(lang)} ({code})")
                         for code, city in cities.items()]
    return cities


@bp.post("/side-events/<int:event_id>/contributions")
@secretariat
def add_contribution(event_id: int) -> Any:
    event = _event(event_id)
    form = ContributionForm()
    cities = _city_choices(form, event.assembly)
    if form.validate_on_submit():
        with attempt(form) as tried:
            save_contribution(db.session, event, cities[form.city.data],
                              description=localized_data(form, "description"),
                              count=form.count.data)
            db.session.commit()
        if not tried.refused:
            flash(_("The city's part is saved."), "success")
            return redirect(url_for("reports.side_event", event_id=event.id))
    event_form = SideEventForm(formdata=None)
    event_form.localise()
    _fill(event_form, event)
    return _render_event(event, event_form, form, 422)


@bp.post("/side-events/<int:event_id>/delete")
@secretariat
def delete_side_event(event_id: int) -> Response:
    event = _event(event_id)
    slug = event.assembly.slug
    if FlaskForm().validate_on_submit():
        db.session.delete(event)
        db.session.commit()
        flash(_("Side event deleted."), "info")
    return redirect(url_for("reports.side_event_list", slug=slug))


@bp.post("/contributions/<int:contribution_id>/delete")
@secretariat
def delete_contribution(contribution_id: int) -> Response:
    contribution = db.session.get(SideEventContribution, contribution_id)
    if contribution is None:
        abort(404)
    event = _event(contribution.side_event_id)
    if FlaskForm().validate_on_submit():
        db.session.delete(contribution)
        db.session.commit()
        flash(_("The city's part is removed."), "info")
    return redirect(url_for("reports.side_event", event_id=event.id))
