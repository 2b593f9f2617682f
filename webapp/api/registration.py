"""API of registration: cities and assemblies (secretariat), delegations, delegates, proxy
letters and the live attendance picture. A liaison's token only reaches its own city."""

from __future__ import annotations

from typing import Any

from apiflask import abort
from flask import Response, jsonify

from models import Assembly, Delegate, DelegationStatus, MemberCity, ProxyLetter, Role, User
from services.attendance import Attendance, compute_attendance
from services.delegation_import import import_delegation
from services.invitations import invite_liaison
from services.proxies import (
    Document,
    letters_of,
    may_see_letter,
    reject_letter,
    submit_letter,
    verify_letter,
)
from services.registration import (
    RuleError,
    add_delegate,
    cancel_delegate,
    create_assembly,
    create_city,
    delegates_of,
    delegation_for,
    find_city,
    require_city_access,
    require_secretariat,
    set_delegation_status,
    update_assembly,
    update_city,
    update_delegate,
)
from services.wording import _
from webapp.api import CITY_STAFF, SECRETARIAT, api_user, assembly_or_404, bp, token_auth
from webapp.api.registration_schemas import (
    AssemblyIn,
    AssemblyPatch,
    AttendanceOut,
    CityIn,
    CityPatch,
    DelegateIn,
    DelegateOut,
    DelegatePatch,
    DelegatesQuery,
    DelegationIn,
    DelegationOut,
    ImportIn,
    InvitationIn,
    InvitationOut,
    ProxyIn,
    ProxyOut,
    RejectIn,
)
from webapp.api.schemas import AssemblyOut, CityOut
from webapp.errors import error_body
from webapp.extensions import db
from webapp.registration import send_letter_document


@bp.errorhandler(RuleError)
def _rule_error(exc: RuleError) -> tuple[Response, int]:
    db.session.rollback()  # nothing half-written
    fields = {exc.field: [exc.message]} if exc.field else {}
    return jsonify(error_body(exc.status, exc.message, fields, exc.code)), exc.status


def _liaison_or_secretariat() -> User:
    user = api_user()
    if user.role not in (Role.SECRETARIAT, Role.LIAISON):
        abort(403, "only the secretariat and city liaisons may do this")
    return user


def _secretariat() -> User:
    user = api_user()
    require_secretariat(user)
    return user


# --- cities and assemblies (secretariat) -------------------------------------------------


@bp.post("/cities")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(CityIn, arg_name="data")
@bp.output(CityOut, status_code=201)
@bp.doc(summary="Add a member city (secretariat)", responses=[403, 409, 422])
def create_city_api(data: dict[str, Any]) -> Any:
    _secretariat()
    city = create_city(db.session, **data)
    db.session.commit()
    return city


@bp.patch("/cities/<code>")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(CityPatch, arg_name="data")
@bp.output(CityOut)
@bp.doc(summary="Change a member city (secretariat)", responses=[403, 404, 422])
def update_city_api(code: str, data: dict[str, Any]) -> Any:
    _secretariat()
    city = update_city(db.session, find_city(db.session, code), **data)
    db.session.commit()
    return city


@bp.post("/assemblies")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(AssemblyIn, arg_name="data")
@bp.output(AssemblyOut, status_code=201)
@bp.doc(summary="Create an assembly (secretariat)", responses=[403, 409, 422])
def create_assembly_api(data: dict[str, Any]) -> Any:
    _secretariat()
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
    _secretariat()
    assembly = update_assembly(db.session, assembly_or_404(slug), data)
    db.session.commit()
    return assembly


# --- delegations and delegates -----------------------------------------------------------


def _delegation_out(assembly: Assembly, city: MemberCity) -> dict[str, Any]:
    delegation = delegation_for(db.session, assembly, city)
    return {"city": city.code, "status": delegation.status.value,
            "participants": len(delegates_of(db.session, assembly, city))}


@bp.get("/assemblies/<slug>/delegations/<city>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegationOut)
@bp.doc(summary="A city's delegation: undecided, attending or absent", responses=[403, 404])
def get_delegation(slug: str, city: str) -> Any:
    user = _liaison_or_secretariat()
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
    user = _liaison_or_secretariat()
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
    user = _liaison_or_secretariat()
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
    user = _liaison_or_secretariat()
    assembly = assembly_or_404(slug)
    code = data.pop("city", None) or (user.city.code if user.city else None)
    if code is None:
        raise RuleError(_("Give the delegate's city."), code="city_required", status=422,
                        field="city")
    delegate = add_delegate(db.session, assembly, find_city(db.session, code, "city_field"),
                            data, user)
    db.session.commit()
    return delegate


def _delegate(assembly: Assembly, delegate_id: int, user: User) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    # Another city's delegate is as unknown to a liaison as a missing one.
    if (delegate is None or delegate.assembly_id != assembly.id
            or not (user.is_secretariat or delegate.delegation.city_id == user.city_id)):
        abort(404, f"no delegate {delegate_id} in your delegation")
    return delegate


@bp.get("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegateOut)
@bp.doc(summary="One delegate", responses=[403, 404])
def get_delegate(slug: str, delegate_id: int) -> Any:
    user = _liaison_or_secretariat()
    return _delegate(assembly_or_404(slug), delegate_id, user)


@bp.patch("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(DelegatePatch, arg_name="data")
@bp.output(DelegateOut)
@bp.doc(summary="Change a delegate", responses=[403, 404, 409, 422])
def patch_delegate(slug: str, delegate_id: int, data: dict[str, Any]) -> Any:
    user = _liaison_or_secretariat()
    delegate = update_delegate(db.session, _delegate(assembly_or_404(slug), delegate_id, user),
                               data, user)
    db.session.commit()
    return delegate


@bp.delete("/assemblies/<slug>/delegates/<int:delegate_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(DelegateOut)
@bp.doc(summary="Cancel a delegate (kept, marked cancelled)", responses=[403, 404, 409])
def delete_delegate(slug: str, delegate_id: int) -> Any:
    user = _liaison_or_secretariat()
    delegate = cancel_delegate(db.session, _delegate(assembly_or_404(slug), delegate_id, user),
                               user)
    db.session.commit()
    return delegate


@bp.post("/assemblies/<slug>/delegations/<city>/import")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(ImportIn, location="form_and_files", arg_name="data")
@bp.output(DelegateOut(many=True), status_code=201)
@bp.doc(summary="Import a delegation from CSV or XLSX: every row or none (422 lists the bad "
                "rows in `fields.rows`)", responses=[403, 404, 409, 413, 422])
def import_delegates(slug: str, city: str, data: dict[str, Any]) -> Any:
    user = _liaison_or_secretariat()
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


@bp.post("/cities/<code>/invitations")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(InvitationIn, arg_name="data")
@bp.output(InvitationOut, status_code=201)
@bp.doc(summary="Invite the city's liaison by email (secretariat): a one-time link to set a "
                "password", responses=[403, 404, 409, 422])
def invite_liaison_api(code: str, data: dict[str, Any]) -> Any:
    user = _secretariat()
    invitation, _token = invite_liaison(db.session, find_city(db.session, code), data["email"],
                                        data["language"], user)
    db.session.commit()
    return invitation


# --- proxy letters -----------------------------------------------------------------------


@bp.get("/assemblies/<slug>/proxies")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(ProxyOut(many=True))
@bp.doc(summary="Proxy letters with their history (a liaison: own city's)",
        responses=[403, 404])
def list_proxies(slug: str) -> Any:
    user = _liaison_or_secretariat()
    return letters_of(db.session, assembly_or_404(slug), user)


@bp.post("/assemblies/<slug>/proxies")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.input(ProxyIn, location="form_and_files", arg_name="data")
@bp.output(ProxyOut, status_code=201)
@bp.doc(summary="Submit a signed proxy letter (multipart, PDF up to 10 MB)",
        responses=[403, 404, 409, 413, 422])
def create_proxy(slug: str, data: dict[str, Any]) -> Any:
    user = _liaison_or_secretariat()
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
    letter = db.session.get(ProxyLetter, letter_id)
    if letter is None or letter.assembly_id != assembly.id or not may_see_letter(user, letter):
        abort(404, f"no proxy letter {letter_id}")
    return letter


@bp.get("/assemblies/<slug>/proxies/<int:letter_id>")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.output(ProxyOut)
@bp.doc(summary="One proxy letter and its history", responses=[403, 404])
def get_proxy(slug: str, letter_id: int) -> Any:
    user = _liaison_or_secretariat()
    return _letter(assembly_or_404(slug), letter_id, user)


@bp.get("/assemblies/<slug>/proxies/<int:letter_id>/document")
@bp.auth_required(token_auth, roles=CITY_STAFF)
@bp.doc(summary="The signed PDF (secretariat and the grantor's liaison only)",
        responses={200: "application/pdf", 403: "Forbidden", 404: "Not Found"})
def proxy_document(slug: str, letter_id: int) -> Response:
    user = _liaison_or_secretariat()
    return send_letter_document(_letter(assembly_or_404(slug), letter_id, user))


@bp.post("/assemblies/<slug>/proxies/<int:letter_id>/verify")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(ProxyOut)
@bp.doc(summary="Verify a letter (secretariat); the liaison is told by email",
        responses=[403, 404, 409])
def verify_proxy(slug: str, letter_id: int) -> Any:
    user = _secretariat()
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
    user = _secretariat()
    letter = reject_letter(db.session, _letter(assembly_or_404(slug), letter_id, user), user,
                           data["reason"])
    db.session.commit()
    return letter


# --- attendance --------------------------------------------------------------------------


def attendance_json(picture: Attendance) -> dict[str, Any]:
    rows = []
    for row in picture.rows:
        rep = row.representative
        rows.append({
            "city": row.city.code, "name": row.city.name, "presence": row.presence.value,
            "delegation_status": row.delegation_status.value,
            "participants": row.participants,
            "representative": None if rep is None else {
                "family_name": rep.family_name, "given_name": rep.given_name,
                "name_local": rep.name_local, "title": rep.title},
            "letter": None if row.letter is None else {
                "id": row.letter.id, "status": row.letter.status.value,
                "holder": row.holder.code if row.holder else None,
                "to_chair": row.letter.to_chair},
            "holder": row.holder.code if row.holder else None,
        })
    return {"assembly": picture.assembly.slug, "cities": rows,
            "participants": picture.participants,
            "quorum": {"rule": picture.quorum.value, "members": picture.members,
                       "present": picture.present, "represented": picture.represented,
                       "absent": picture.absent, "counted": picture.counted,
                       "required": picture.required, "reached": picture.quorum_reached}}


@bp.get("/assemblies/<slug>/attendance")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.output(AttendanceOut)
@bp.doc(summary="The live attendance picture and the quorum (secretariat)",
        responses=[403, 404])
def attendance(slug: str) -> Any:
    _secretariat()
    return attendance_json(compute_attendance(db.session, assembly_or_404(slug)))
