"""API of proxy letters (委任状): submitting (a liaison for its own city), reading them with
their history, the document, and verifying or rejecting (secretariat)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, File, Integer, List, Nested, String
from flask import Response

from models import Assembly, ProxyLetter, User
from services.access import require_city_access
from services.cities import find_city
from services.proxies import (
    Document,
    letters_of,
    may_see_letter,
    reject_letter,
    submit_letter,
    verify_letter,
)
from webapp.api import (
    CITY_STAFF,
    SECRETARIAT,
    api_user,
    assembly_or_404,
    bp,
    row_or_404,
    token_auth,
)
from webapp.api.schemas import Text
from webapp.extensions import db
from webapp.registration import send_letter_document


class ProxyIn(Schema):
    grantor = Text(required=True, max_length=16, metadata={"description": "the absent city's code"})
    holder = Text(required=True, max_length=16,
                  metadata={"description": "the holder city's code, or `chair` where allowed"})
    signatory_name = Text(required=True, min_length=1, max_length=200)
    signatory_title = Text(max_length=200)
    instructions = Text(max_length=5000, multiline=True)
    document = File(required=True, metadata={"description": "the signed letter (PDF, 10 MB)"})

class ProxyEventOut(Schema):
    at = DateTime(required=True)
    action = String(required=True)
    from_status = String(allow_none=True)
    to_status = String(required=True)
    actor = String(allow_none=True, attribute="actor.email")
    detail = Dict()

class ProxyOut(Schema):
    id = Integer(required=True)
    grantor = Text(required=True, max_length=16, attribute="grantor.code")
    holder = String(allow_none=True, attribute="holder.code")
    to_chair = Boolean(required=True)
    signatory_name = String(required=True)
    signatory_title = String(required=True)
    instructions = String(required=True)
    status = String(required=True)
    rejection_reason = String(required=True)
    submitted_at = DateTime(required=True)
    decided_at = DateTime(allow_none=True)
    document_filename = String(required=True)
    document_size = Integer(required=True)
    document_sha256 = String(required=True)
    events = List(Nested(ProxyEventOut))

class RejectIn(Schema):
    reason = Text(required=True, min_length=1, max_length=2000, multiline=True)


@bp.get("/assemblies/<slug>/proxies")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(ProxyOut(many=True))
@bp.doc(summary="Proxy letters with their history (a liaison: own city's)",
        responses=[403, 404])
def list_proxies(slug: str) -> Any:
    user = api_user()
    return letters_of(db.session, assembly_or_404(slug), user)

@bp.post("/assemblies/<slug>/proxies")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(ProxyIn, location="form_and_files", arg_name="data")
@bp.output(ProxyOut, status_code=201)
@bp.doc(summary="Submit a signed proxy letter (multipart, PDF up to 10 MB)",
        responses=[403, 404, 409, 413, 422])
def create_proxy(slug: str, data: dict[str, Any]) -> Any:
    user = api_user()
    assembly = assembly_or_404(slug)
    grantor = find_city(db.session, data["grantor"], "grantor")
    require_city_access(user, grantor)
    to_chair = data["holder"].strip().lower() == "chair"
    holder = None if to_chair else find_city(db.session, data["holder"], "holder")
    upload = data["document"]
    letter = submit_letter(
        db.session, assembly, grantor, holder, to_chair=to_chair, user=user,
        signatory_name=data["signatory_name"], signatory_title=data.get("signatory_title", ""),
        instructions=data.get("instructions", ""),
        document=Document(upload.read(), upload.filename or "letter.pdf"))
    db.session.commit()
    return letter

def _letter(assembly: Assembly, letter_id: int, user: User) -> ProxyLetter:
    return row_or_404(ProxyLetter, letter_id, f"no proxy letter {letter_id}",
                      lambda x: x.assembly_id == assembly.id and may_see_letter(user, x))

@bp.get("/assemblies/<slug>/proxies/<int:letter_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(ProxyOut)
@bp.doc(summary="One proxy letter and its history", responses=[403, 404])
def get_proxy(slug: str, letter_id: int) -> Any:
    user = api_user()
    return _letter(assembly_or_404(slug), letter_id, user)

@bp.get("/assemblies/<slug>/proxies/<int:letter_id>/document")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.doc(summary="The signed PDF (secretariat and the grantor's liaison only)",
        responses={200: {"description": "the signed letter", "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
            403: "Forbidden", 404: "Not Found"})
def proxy_document(slug: str, letter_id: int) -> Response:
    user = api_user()
    return send_letter_document(_letter(assembly_or_404(slug), letter_id, user))

@bp.post("/assemblies/<slug>/proxies/<int:letter_id>/verify")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(ProxyOut)
@bp.doc(summary="Verify a letter (secretariat); the liaison is told by email",
        responses=[403, 404, 409])
def verify_proxy(slug: str, letter_id: int) -> Any:
    user = api_user()
    letter = verify_letter(db.session, _letter(assembly_or_404(slug), letter_id, user), user)
    db.session.commit()
    return letter

@bp.post("/assemblies/<slug>/proxies/<int:letter_id>/reject")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(RejectIn, arg_name="data")
@bp.output(ProxyOut)
@bp.doc(summary="Reject a letter with a reason (secretariat); the liaison is told by email",
        responses=[403, 404, 409, 422])
def reject_proxy(slug: str, letter_id: int, data: dict[str, Any]) -> Any:
    user = api_user()
    letter = reject_letter(db.session, _letter(assembly_or_404(slug), letter_id, user), user,
                           data["reason"])
    db.session.commit()
    return letter
