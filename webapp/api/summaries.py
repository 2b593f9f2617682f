"""Summaries in the API: ask for one (202, or the job already building the same data),
follow it, download its files. The secretariat only."""

from __future__ import annotations

from typing import Any

from apiflask import abort
from flask import send_file, url_for
from werkzeug.wrappers import Response

from models import SUMMARY_FORMATS, Role, SummaryJob
from services.summaries import SummaryError, request_summary, retry_summary, summary_history
from tasks.summaries import CONTENT_TYPES
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, token_auth
from webapp.api.summary_schemas import SummaryIn, SummaryOut
from webapp.extensions import db


def _secretariat_only() -> None:
    if api_user().role is not Role.SECRETARIAT:
        abort(403, "only the secretariat can generate and download summaries",
              extra_data={"code": "forbidden"})


def summary_out(job: SummaryJob, joined: bool = False) -> dict[str, Any]:
    files = [{"format": f["format"], "filename": f["filename"], "size": f["size"],
              "sha256": f["sha256"],
              "url": url_for("api.download_summary", job_id=job.id, fmt=f["format"],
                             _external=True)}
             for f in job.files] if job.status.value == "done" else []
    return {
        "id": job.id, "assembly": job.assembly.slug, "status": job.status.value,
        "progress": job.progress, "stage": job.stage, "language": job.language,
        "data_version": job.data_version, "error": job.error, "attempts": job.attempts,
        "requested_by": job.requested_by.email if job.requested_by else None,
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "files": files,
        "downloads": {f["format"]: f["url"] for f in files}, "joined": joined,
        "url": url_for("api.get_summary", job_id=job.id, _external=True),
    }


def _job(job_id: int) -> SummaryJob:
    job = db.session.get(SummaryJob, job_id)
    if job is None:
        abort(404, f"no summary {job_id}")
    return job


@bp.post("/assemblies/<slug>/summaries")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(SummaryIn, arg_name="data")
@bp.output(SummaryOut, status_code=202)
@bp.doc(summary="Generate the attendance summary and report (CSV, XLSX, PDF)",
        description="Returns at once with the job. A request while the same data version is "
                    "queued or running returns that job (`joined: true`).",
        responses=[403, 404])
def create_summary(slug: str, data: dict[str, Any]) -> Any:
    _secretariat_only()
    assembly = assembly_or_404(slug)
    try:
        job, created = request_summary(db.session, assembly, api_user(), data.get("language"))
    except SummaryError as exc:
        abort(422, str(exc), extra_data={"code": "validation_error"})
    return summary_out(job, joined=not created)


@bp.get("/assemblies/<slug>/summaries")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut(many=True))
@bp.doc(summary="Past and current summaries of an assembly, newest first", responses=[403, 404])
def list_summaries(slug: str) -> Any:
    _secretariat_only()
    return [summary_out(job) for job in summary_history(db.session, assembly_or_404(slug))]


@bp.get("/summaries/<int:job_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut)
@bp.doc(summary="A summary job: status, progress and download links", responses=[403, 404])
def get_summary(job_id: int) -> Any:
    _secretariat_only()
    return summary_out(_job(job_id))


@bp.post("/summaries/<int:job_id>/retry")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut, status_code=202)
@bp.doc(summary="Retry a failed summary", responses=[403, 404, 409])
def retry(job_id: int) -> Any:
    _secretariat_only()
    try:
        job, created = retry_summary(db.session, _job(job_id), api_user())
    except SummaryError as exc:
        abort(409, str(exc), extra_data={"code": "conflict"})
    return summary_out(job, joined=not created)


@bp.get("/summaries/<int:job_id>/files/<fmt>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.doc(summary="Download one file of a finished summary (csv, xlsx or pdf)",
        responses=[403, 404, 409])
def download_summary(job_id: int, fmt: str) -> Response:
    _secretariat_only()
    return summary_file_response(_job(job_id), fmt)


def summary_file_response(job: SummaryJob, fmt: str) -> Response:
    """The file as an attachment; 404 for an unknown format, 409 while it is not built."""
    from flask import current_app

    if fmt not in SUMMARY_FORMATS:
        abort(404, f"no format {fmt!r}: use csv, xlsx or pdf")
    entry = job.file(fmt) if job.status.value == "done" else None
    if entry is None:
        abort(409, f"summary {job.id} is {job.status.value}: its files are not ready",
              extra_data={"code": "not_ready"})
    instance = current_app.config["SOKAI_SETTINGS"].instance_path.resolve()
    path = (instance / entry["path"]).resolve()
    if not path.is_relative_to(instance) or not path.is_file():
        abort(404, "the file is gone; generate the summary again")
    return send_file(path, mimetype=CONTENT_TYPES[fmt], as_attachment=True,
                     download_name=entry["filename"], etag=entry["sha256"])
