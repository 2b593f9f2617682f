"""API of assemblies: reading them (drafts only for the secretariat), creating and changing
them, opening and closing registration (secretariat)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Date, Integer, List, String
from apiflask.validators import OneOf, Range, Regexp

from models import AssemblyStatus, Quorum
from models.text import TITLE_MAX
from services.assemblies import create_assembly, update_assembly, visible_assemblies
from webapp.api import SECRETARIAT, api_user, assembly_or_404, bp, token_auth
from webapp.api.schemas import AssemblyOut, Instant, Int32, Localized, Text
from webapp.extensions import db


class AssemblyIn(Schema):
    slug = Text(required=True, min_length=1, max_length=80,
                validate=Regexp(r"^[a-z0-9-]+$"))
    number = Int32(allow_none=True)
    title = Localized(TITLE_MAX, required=True)
    host_city = Text(required=True, max_length=16, metadata={"description": "member city code"})
    venue = Localized(TITLE_MAX)
    host_organisation = Localized(TITLE_MAX, metadata={
        "description": "who hosts, when not the host city (主催 トムスク州)"})
    sitting_days = List(Date(), metadata={
        "description": "the days the assembly itself sits, within starts_on … ends_on "
                       "(default: all of them)"})
    timezone = Text(required=True, max_length=64,
                    metadata={"description": "the host's IANA zone"})
    home_timezone = Text(max_length=64, metadata={"description": "the secretariat's IANA zone"})
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    registration_deadline = Instant(required=True)
    proxy_deadline = Instant(required=True)
    quorum = String(validate=OneOf([q.value for q in Quorum]))
    max_proxies_per_holder = Integer(validate=Range(min=1, max=100))
    proxy_to_chair_allowed = Boolean()
    status = String(validate=OneOf([s.value for s in AssemblyStatus]))

class AssemblyPatch(Schema):
    number = Int32(allow_none=True)
    title = Localized(TITLE_MAX)
    host_city = Text(max_length=16)
    venue = Localized(TITLE_MAX)
    host_organisation = Localized(TITLE_MAX)
    sitting_days = List(Date())
    timezone = Text(max_length=64)
    home_timezone = Text(max_length=64)
    starts_on = Date()
    ends_on = Date()
    registration_deadline = Instant()
    proxy_deadline = Instant()
    quorum = String(validate=OneOf([q.value for q in Quorum]))
    max_proxies_per_holder = Integer(validate=Range(min=1, max=100))
    proxy_to_chair_allowed = Boolean()
    status = String(validate=OneOf([s.value for s in AssemblyStatus]))


@bp.get("/assemblies")
@bp.auth_required(token_auth)
@bp.output(AssemblyOut(many=True))
@bp.doc(summary="Assemblies (drafts only for the secretariat)")
def list_assemblies() -> Any:
    return visible_assemblies(db.session, api_user())


@bp.get("/assemblies/<slug>")
@bp.auth_required(token_auth)
@bp.output(AssemblyOut)
@bp.doc(summary="One assembly", responses=[404])
def get_assembly(slug: str) -> Any:
    return assembly_or_404(slug)


@bp.post("/assemblies")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(AssemblyIn, arg_name="data")
@bp.output(AssemblyOut, status_code=201)
@bp.doc(summary="Create an assembly (secretariat)", responses=[403, 409, 422])
def create_assembly_api(data: dict[str, Any]) -> Any:
    assembly = create_assembly(db.session, data)
    db.session.commit()
    return assembly

@bp.patch("/assemblies/<slug>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(AssemblyPatch, arg_name="data")
@bp.output(AssemblyOut)
@bp.doc(summary="Change an assembly, open or close registration (secretariat)",
        responses=[403, 404, 422])
def update_assembly_api(slug: str, data: dict[str, Any]) -> Any:
    assembly = update_assembly(db.session, assembly_or_404(slug), data)
    db.session.commit()
    return assembly
