"""API of delegations: a city attending or not, its delegates, and importing them from a
file. A liaison's token only reaches its own city."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import File, Integer, String
from apiflask.validators import OneOf
from flask import jsonify

from models import (
    Assembly,
    Delegate,
    DelegateRole,
    DelegateStatus,
    DelegationStatus,
    MemberCity,
    User,
)
from models.db import commit_as_written
from models.errors import DomainError
from models.languages import LANGUAGES
from models.names import NameOrder
from models.text import TITLE_MAX
from services.access import require_city_access
from services.cities import find_city
from services.delegation_import import import_delegation
from services.delegations import (
    add_delegate,
    cancel_delegate,
    delegates_of,
    delegation_for,
    registration_rows,
    set_delegation_status,
    update_delegate,
)
from services.i18n import _
from webapp.api import CITY_STAFF, api_user, assembly_or_404, bp, row_or_404, token_auth
from webapp.api.schemas import Localized, Text
from webapp.errors import error_body
from webapp.extensions import db


class DelegationIn(Schema):
    status = String(required=True, validate=OneOf([s.value for s in DelegationStatus]))

class DelegationOut(Schema):
    city = String(required=True)
    status = String(required=True)
    participants = Integer(required=True)

class DelegateFields(Schema):
    """What a delegate's registration says, to register one or to change one."""

    family_name = Text(min_length=1, max_length=100)
    given_name = Text(max_length=100)
    name_local = Text(max_length=200)
    name_order = String(validate=OneOf([o.value for o in NameOrder]),
                        metadata={"description": "family_first (LE Hong Son) or given_first "
                                                 "(Yoichi MASUZOE); default: the city's "
                                                 "country's custom"})
    honorific = Text(max_length=40, metadata={"example": "H.E."})
    title = Localized(TITLE_MAX)
    role = String(validate=OneOf([r.value for r in DelegateRole]))
    email = Text(allow_none=True, max_length=254)
    language = String(validate=OneOf(LANGUAGES))

# The subclasses keep these fields' order in the OpenAPI document (a redefined one stays put).
class DelegateIn(DelegateFields):
    family_name = Text(required=True, min_length=1, max_length=100)
    city = Text(max_length=16, metadata={"description": "member city code; a liaison's own "
                                                        "city when left out"})

class DelegatePatch(DelegateFields):
    status = String(validate=OneOf([DelegateStatus.REGISTERED.value,
                                    DelegateStatus.CONFIRMED.value]))

class DelegateOut(Schema):
    id = Integer(required=True)
    city = String(required=True, attribute="delegation.city.code")
    family_name = String(required=True)
    given_name = String(required=True)
    name_local = String(required=True)
    name_order = String(required=True)
    honorific = String(required=True)
    full_name = String(required=True, metadata={"description": "in Latin script, in the "
                                                               "person's order"})
    title = Localized(required=True)
    role = String(required=True)
    email = String(allow_none=True)
    language = String(required=True)
    status = String(required=True)

class DelegatesQuery(Schema):
    city = Text(max_length=16, metadata={"description": "only this member city"})

class ImportIn(Schema):
    file = File(required=True, metadata={"description": "CSV (UTF-8) or XLSX; first row names "
                                                        "the columns"})


def _delegation_out(assembly: Assembly, city: MemberCity) -> dict[str, Any]:
    delegation = delegation_for(db.session, assembly, city)
    return {"city": city.code, "status": delegation.status.value,
            "participants": len(delegates_of(db.session, assembly, city))}

@bp.get("/assemblies/<slug>/delegations/<city>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegationOut)
@bp.doc(summary="A city's delegation: undecided, attending or absent", responses=[403, 404])
def get_delegation(slug: str, city: str) -> Any:
    user = api_user()
    assembly, member = assembly_or_404(slug), find_city(db.session, city)
    require_city_access(user, member)
    out = _delegation_out(assembly, member)
    db.session.commit()
    return out

@bp.put("/assemblies/<slug>/delegations/<city>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(DelegationIn, arg_name="data")
@bp.output(DelegationOut)
@bp.doc(summary="Declare the city attending or absent (attending revokes its proxy letter)",
        responses=[403, 404, 409, 422])
def put_delegation(slug: str, city: str, data: dict[str, Any]) -> Any:
    user = api_user()
    assembly, member = assembly_or_404(slug), find_city(db.session, city)
    set_delegation_status(db.session, assembly, member, DelegationStatus(data["status"]), user)
    db.session.commit()
    return _delegation_out(assembly, member)

@bp.get("/assemblies/<slug>/delegates")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(DelegatesQuery, location="query", arg_name="query")
@bp.output(DelegateOut(many=True))
@bp.doc(summary="Delegates, by city with the representative first (a liaison: own city)",
        responses=[403, 404])
def list_delegates(slug: str, query: dict[str, Any]) -> Any:
    user = api_user()
    assembly = assembly_or_404(slug)
    city = find_city(db.session, query["city"]) if query.get("city") else None
    if not user.is_secretariat:
        if city is not None:
            require_city_access(user, city)
        city = user.city
    return delegates_of(db.session, assembly, city)

@bp.post("/assemblies/<slug>/delegates")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(DelegateIn, arg_name="data")
@bp.output(DelegateOut, status_code=201)
@bp.doc(summary="Register a delegate", responses=[403, 404, 409, 422])
def create_delegate(slug: str, data: dict[str, Any]) -> Any:
    user = api_user()
    code = data.pop("city", None) or (user.city.code if user.city else None)
    if code is None:
        assembly_or_404(slug)
        raise DomainError(_("Give the delegate's city."), code="city_required", status=422,
                        field="city")
    rows = registration_rows(db.session, slug, code, user)
    if rows is None:  # no such assembly (404) or city (422): the usual lookups say which
        rows = assembly_or_404(slug), find_city(db.session, code, "city_field"), None
    assembly, city, delegation = rows
    delegate = add_delegate(db.session, assembly, city, data, user, delegation=delegation)
    commit_as_written(db.session)
    return delegate

def _delegate(assembly: Assembly, delegate_id: int, user: User) -> Delegate:
    # Another city's delegate is as unknown to a liaison as a missing one.
    return row_or_404(Delegate, delegate_id, f"no delegate {delegate_id} in your delegation",
                      lambda d: d.assembly_id == assembly.id and (
                          user.is_secretariat or d.delegation.city_id == user.city_id))

@bp.get("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegateOut)
@bp.doc(summary="One delegate", responses=[403, 404])
def get_delegate(slug: str, delegate_id: int) -> Any:
    user = api_user()
    return _delegate(assembly_or_404(slug), delegate_id, user)

@bp.patch("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(DelegatePatch, arg_name="data")
@bp.output(DelegateOut)
@bp.doc(summary="Change a delegate", responses=[403, 404, 409, 422])
def patch_delegate(slug: str, delegate_id: int, data: dict[str, Any]) -> Any:
    user = api_user()
    delegate = update_delegate(db.session, _delegate(assembly_or_404(slug), delegate_id, user),
                               data, user)
    commit_as_written(db.session)
    return delegate

@bp.delete("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegateOut)
@bp.doc(summary="Cancel a delegate (kept, marked cancelled)", responses=[403, 404, 409])
def delete_delegate(slug: str, delegate_id: int) -> Any:
    user = api_user()
    delegate = cancel_delegate(db.session, _delegate(assembly_or_404(slug), delegate_id, user),
                               user)
    commit_as_written(db.session)
    return delegate

@bp.post("/assemblies/<slug>/delegations/<city>/import")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(ImportIn, location="form_and_files", arg_name="data")
@bp.output(DelegateOut(many=True), status_code=201)
@bp.doc(summary="Import a delegation from CSV or XLSX: every row or none (422 lists the bad "
                "rows in `fields.rows`)", responses=[403, 404, 409, 413, 422])
def import_delegates(slug: str, city: str, data: dict[str, Any]) -> Any:
    user = api_user()
    assembly, member = assembly_or_404(slug), find_city(db.session, city)
    upload = data["file"]
    report = import_delegation(db.session, assembly, member, upload.read(),
                               upload.filename or "", user)
    if not report.ok:
        db.session.rollback()
        rows = [{"row": row, "column": column, "message": message}
                for row, column, message in report.errors]
        response = jsonify(error_body(422, _("Nothing was imported: %(n)d rows are wrong.",
                                             n=len(rows)), {"rows": rows}, "import_failed"))
        response.status_code = 422  # a Response passes the output schema untouched
        return response
    db.session.commit()
    return report.imported
