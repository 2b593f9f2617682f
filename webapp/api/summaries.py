"""Summaries in the API: ask for one (202, or the job already building the same data),
follow it, download its files. The secretariat only."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import OneOf
from flask import send_file, url_for
from werkzeug.wrappers import Response

from models import SUMMARY_FORMATS, SummaryJob, SummaryStatus
from models.languages import REGISTRY
from services.summaries.jobs import (
    CONTENT_TYPES,
    request_summary,
    retry_summary,
    summary_file,
    summary_history,
)
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, row_or_404, token_auth
from webapp.extensions import db


class SummaryIn(Schema):
    language = String(validate=OneOf(REGISTRY),
                      metadata={"description": "the report's language; default: yours"})


class SummaryFileOut(Schema):
    format = String(required=True, validate=OneOf(list(SUMMARY_FORMATS)))
    filename = String(required=True)
    size = Integer(required=True)
    sha256 = String(required=True)
    url = String(required=True)


class SummaryOut(Schema):
    id = Integer(required=True)
    assembly = String(required=True)
    status = String(required=True, validate=OneOf([s.value for s in SummaryStatus]))
    progress = Integer(required=True, metadata={"description": "percent"})
    stage = String(required=True, metadata={"example": "pdf"})
    language = String(required=True)
    data_version = String(required=True, metadata={"description": "fingerprint of the data"})
    error = String(required=True)
    attempts = Integer(required=True)
    requested_by = String(allow_none=True)
    created_at = DateTime(required=True)
    started_at = DateTime(allow_none=True)
    finished_at = DateTime(allow_none=True)
    files = List(Nested(SummaryFileOut), required=True)
    downloads = Dict(keys=String(), values=String(), required=True,
                     metadata={"description": "format → download URL, once done"})
    joined = Boolean(required=True, metadata={"description": "an existing job was returned"})
    url = String(required=True)


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
    return row_or_404(SummaryJob, job_id, f"no summary {job_id}")


@bp.post("/assemblies/<slug>/summaries")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(SummaryIn, arg_name="data")
@bp.output(SummaryOut, status_code=202)
@bp.doc(summary="Generate the attendance summary and report (CSV, XLSX, PDF)",
        description="Returns at once with the job. A request while the same data version is "
                    "queued or running returns that job (`joined: true`).",
        responses=[403, 404])
def create_summary(slug: str, data: dict[str, Any]) -> Any:
    assembly = assembly_or_404(slug)
    job, created = request_summary(db.session, assembly, api_user(), data.get("language"))
    return summary_out(job, joined=not created)


@bp.get("/assemblies/<slug>/summaries")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut(many=True))
@bp.doc(summary="Past and current summaries of an assembly, newest first", responses=[403, 404])
def list_summaries(slug: str) -> Any:
    return [summary_out(job) for job in summary_history(db.session, assembly_or_404(slug))]


@bp.get("/summaries/<int:job_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut)
@bp.doc(summary="A summary job: status, progress and download links", responses=[403, 404])
def get_summary(job_id: int) -> Any:
    return summary_out(_job(job_id))


@bp.post("/summaries/<int:job_id>/retry")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(SummaryOut, status_code=202)
@bp.doc(summary="Retry a failed summary", responses=[403, 404, 409])
def retry(job_id: int) -> Any:
    job, created = retry_summary(db.session, _job(job_id), api_user())
    return summary_out(job, joined=not created)


@bp.get("/summaries/<int:job_id>/files/<fmt>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.doc(summary="Download one file of a finished summary (csv, xlsx or pdf)",
        responses={200: {"description": "the file, as an attachment", "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("text/csv", CONTENT_TYPES["xlsx"], "application/pdf")}},
            403: "Forbidden", 404: "Not Found", 409: "Conflict"})
def download_summary(job_id: int, fmt: str) -> Response:
    return summary_file_response(_job(job_id), fmt)


def summary_file_response(job: SummaryJob, fmt: str) -> Response:
    """The file as an attachment; 404 for an unknown format, 409 while it is not built."""
    found = summary_file(job, fmt)
    return send_file(found.path, mimetype=found.content_type, as_attachment=True,
                     download_name=found.filename, etag=found.sha256)
