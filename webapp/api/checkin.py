"""The venue day in the API: badge jobs and codes (secretariat), check-in, its undo, the
search and the counts (secretariat and the assembly's door staff; liaisons never check in)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import OneOf
from flask import send_file, url_for
from werkzeug.wrappers import Response

from models import BadgeJob, BadgeJobStatus, BadgeLayout, Role
from services.checkin.badges import badge_file, reissue_badge, request_badges, revoke_badge
from services.checkin.desk import (
    check_in,
    checkin_counts,
    delegate_of,
    describe,
    search_delegates,
    undo_check_in,
)
from services.checkin.staff import require_check_in
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, row_or_404, token_auth
from webapp.api.schemas import Instant, Int32, Localized, Text
from webapp.extensions import db

DOOR = [Role.SECRETARIAT.value, Role.STAFF.value]


class CheckInIn(Schema):
    code = Text(min_length=1, max_length=64,
                  metadata={"description": "the badge code (what the QR code carries)"})
    delegate = Int32(minimum=1,
                       metadata={"description": "a delegate id (found by the search)"})
    # When the scan was made (a phone that was offline sends its own time); default: now.
    at = Instant()


class PersonOut(Schema):
    id = Integer(required=True)
    name = String(required=True, metadata={"description": "in Latin script, in their order"})
    name_local = String(required=True)
    family_name = String(required=True)
    given_name = String(required=True)
    role = String(required=True)
    status = String(required=True)


class CheckInOut(Schema):
    delegate = Nested(PersonOut, required=True)
    city = String(required=True)
    city_name = Localized(required=True)
    checked_in = Boolean(required=True)
    checked_in_at = DateTime(allow_none=True)
    checked_in_at_text = String(required=True, metadata={"example": "09:12 Asia/Tomsk "
                                                                    "(UTC+07:00)"})
    already = Boolean(required=True)


class SearchQuery(Schema):
    q = Text(required=True, min_length=1, max_length=200,
               metadata={"description": "any part of a name, in any script, or a city"})


class SearchOut(Schema):
    people = List(Nested(CheckInOut), required=True)


class CityCountOut(Schema):
    city = String(required=True)
    name = Localized(required=True)
    registered = Integer(required=True)
    checked_in = Integer(required=True)
    representatives = Integer(required=True, metadata={"description": "checked in"})


class CountsOut(Schema):
    cities = List(Nested(CityCountOut), required=True)
    registered = Integer(required=True)
    checked_in = Integer(required=True)


class BadgesIn(Schema):
    layout = String(load_default="sheet", validate=OneOf([v.value for v in BadgeLayout]),
                    metadata={"description": "sheet: A4, four with cut marks; single: one "
                                             "badge per page"})
    city = Text(max_length=16, metadata={"description": "only this city's delegates"})
    delegates = List(Int32(minimum=0), metadata={"description": "only these delegates"})


class BadgeJobOut(Schema):
    id = Integer(required=True)
    assembly = String(required=True)
    status = String(required=True, validate=OneOf([s.value for s in BadgeJobStatus]))
    progress = Integer(required=True, metadata={"description": "percent"})
    layout = String(required=True)
    scope = Dict(required=True)
    badges = Integer(required=True)
    size = Integer(required=True)
    error = String(required=True)
    created_at = DateTime(required=True)
    finished_at = DateTime(allow_none=True)
    download = String(allow_none=True)
    url = String(required=True)


class BadgeCodeOut(Schema):
    delegate = Integer(required=True)
    code = String(required=True)
    issued_at = DateTime(required=True)


def job_out(job: BadgeJob) -> dict[str, Any]:
    done = job.status is BadgeJobStatus.DONE
    return {"id": job.id, "assembly": job.assembly.slug, "status": job.status.value,
            "progress": job.progress, "layout": job.layout.value, "scope": job.scope,
            "badges": job.badges, "size": job.size, "error": job.error,
            "created_at": job.created_at, "finished_at": job.finished_at,
            "download": (url_for("api.badge_download", job_id=job.id, _external=True)
                         if done else None),
            "url": url_for("api.get_badge_job", job_id=job.id, _external=True)}


def _door(slug: str) -> Any:
    assembly = assembly_or_404(slug)
    require_check_in(db.session, api_user(), assembly)
    return assembly


@bp.post("/assemblies/<slug>/checkins")
@bp.auth_required(token_auth, roles=DOOR)
@bp.input(CheckInIn, arg_name="data")
@bp.output(CheckInOut, status_code=201)
@bp.doc(summary="Check a delegate in by badge code or id (idempotent)",
        description="201 for a new check-in; 200 with `already: true` when the person was "
                    "checked in before. 404 for an unknown or revoked code, 409 for a "
                    "cancelled registration.",
        responses={200: "already checked in", 403: "forbidden", 404: "unknown or revoked code",
                   409: "registration cancelled", 422: "invalid input"})
def create_checkin(slug: str, data: dict[str, Any]) -> Any:
    assembly = _door(slug)
    result = check_in(db.session, assembly, api_user(), code=data.get("code"),
                      delegate_id=data.get("delegate"), at=data.get("at"))
    return result.shown, 200 if result.already else 201


@bp.delete("/assemblies/<slug>/checkins/<int:delegate_id>")
@bp.auth_required(token_auth, roles=DOOR)
@bp.output({}, status_code=204)
@bp.doc(summary="Undo a check-in", responses=[403, 404])
def delete_checkin(slug: str, delegate_id: int) -> Any:
    undo_check_in(db.session, _door(slug), api_user(), delegate_id)
    return ""


@bp.get("/assemblies/<slug>/checkins")
@bp.auth_required(token_auth, roles=DOOR)
@bp.output(CountsOut)
@bp.doc(summary="Registered and checked in, per city and in total", responses=[403, 404])
def list_checkins(slug: str) -> Any:
    counts = checkin_counts(db.session, _door(slug))
    return {"cities": [{"city": c.city.code, "name": c.city.name, "registered": c.registered,
                        "checked_in": c.checked_in, "representatives": c.representatives}
                       for c in counts.cities],
            "registered": counts.registered, "checked_in": counts.checked_in}


@bp.get("/assemblies/<slug>/checkins/search")
@bp.auth_required(token_auth, roles=DOOR)
@bp.input(SearchQuery, location="query", arg_name="query")
@bp.output(SearchOut)
@bp.doc(summary="Find people without their badge: any part of a name or a city",
        responses=[403, 404])
def search_checkins(slug: str, query: dict[str, Any]) -> Any:
    assembly = _door(slug)
    return {"people": [describe(db.session, assembly, d, c)
                       for d, c in search_delegates(db.session, assembly, query["q"])]}


@bp.post("/assemblies/<slug>/badges")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(BadgesIn, arg_name="data")
@bp.output(BadgeJobOut, status_code=202)
@bp.doc(summary="Build badge PDFs on the worker (everyone, a city or chosen delegates)",
        responses=[403, 404, 422])
def create_badges(slug: str, data: dict[str, Any]) -> Any:
    job = request_badges(db.session, assembly_or_404(slug), api_user(),
                         layout=data["layout"], city=data.get("city"),
                         delegates=data.get("delegates"))
    db.session.commit()
    return job_out(job)


def _job(job_id: int) -> BadgeJob:
    return row_or_404(BadgeJob, job_id, f"no badge job {job_id}")


@bp.get("/badges/<int:job_id>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(BadgeJobOut)
@bp.doc(summary="A badge job: status, progress, the download once done", responses=[403, 404])
def get_badge_job(job_id: int) -> Any:
    return job_out(_job(job_id))


@bp.get("/badges/<int:job_id>/file")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.doc(summary="The badges PDF", responses={200: "application/pdf", 403: "forbidden",
                                             404: "not found", 409: "not ready"})
def badge_download(job_id: int) -> Response:
    job = _job(job_id)
    return send_file(badge_file(db.session, job), mimetype="application/pdf",
                     as_attachment=True, download_name=f"{job.assembly.slug}-badges-{job.id}.pdf")


@bp.post("/assemblies/<slug>/delegates/<int:delegate_id>/badge")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(BadgeCodeOut, status_code=201)
@bp.doc(summary="Issue a new badge code (the old one, if any, stops working)",
        responses=[403, 404])
def reissue_badge_api(slug: str, delegate_id: int) -> Any:
    assembly = assembly_or_404(slug)
    badge = reissue_badge(db.session, assembly, delegate_of(db.session, assembly, delegate_id))
    db.session.commit()
    return {"delegate": badge.delegate_id, "code": badge.code, "issued_at": badge.issued_at}


@bp.delete("/assemblies/<slug>/delegates/<int:delegate_id>/badge")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke a delegate's badge code (a scan of it then answers 404; "
                "idempotent: 204 when none is live)",
        responses=[403, 404])
def revoke_badge_api(slug: str, delegate_id: int) -> Any:
    assembly = assembly_or_404(slug)
    revoke_badge(db.session, assembly, delegate_of(db.session, assembly, delegate_id))
    db.session.commit()
    return ""
