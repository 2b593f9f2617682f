"""API of the live attendance picture: per city present / represented / absent, participants
and the quorum (secretariat)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import OneOf

from services.attendance import Attendance
from services.checkin.presence import BASES, attendance_on
from webapp.api import SECRETARIAT, assembly_or_404, bp, token_auth
from webapp.api.schemas import Localized, Text
from webapp.extensions import db


class AttendanceRowOut(Schema):
    city = String(required=True)
    name = Localized(required=True)
    presence = String(required=True,
                      validate=OneOf(["present", "represented", "undecided", "absent"]),
                      metadata={"description": "undecided: no answer yet and the assembly "
                                                "is not closed (then it counts as absent)"})
    delegation_status = String(required=True)
    participants = Integer(required=True)
    representative = Dict(allow_none=True)
    letter = Dict(allow_none=True, metadata={"description": "id, status, holder"})
    holder = Text(allow_none=True, max_length=16)

class QuorumOut(Schema):
    rule = String(required=True)
    members = Integer(required=True)
    present = Integer(required=True)
    represented = Integer(required=True)
    undecided = Integer(required=True)
    absent = Integer(required=True)
    counted = Integer(required=True)
    required = Integer(required=True)
    reached = Boolean(required=True)

class AttendanceQuery(Schema):
    basis = String(load_default="registration", validate=OneOf(BASES),
                   metadata={"description": "registration (who said they come) or checkin "
                                            "(who is at the venue: a city with at least one "
                                            "delegate checked in; 409 before check-in starts)"})


class AttendanceOut(Schema):
    assembly = String(required=True)
    basis = String(required=True)
    cities = List(Nested(AttendanceRowOut), required=True)
    participants = Integer(required=True)
    quorum = Nested(QuorumOut, required=True)


def attendance_json(picture: Attendance, basis: str = "registration") -> dict[str, Any]:
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
    return {"assembly": picture.assembly.slug, "basis": basis, "cities": rows,
            "participants": picture.participants,
            "quorum": {"rule": picture.quorum.value, "members": picture.members,
                       "present": picture.present, "represented": picture.represented,
                       "undecided": picture.undecided, "absent": picture.absent,
                       "counted": picture.counted,
                       "required": picture.required, "reached": picture.quorum_reached}}

@bp.get("/assemblies/<slug>/attendance")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(AttendanceQuery, location="query", arg_name="query")
@bp.output(AttendanceOut)
@bp.doc(summary="The live attendance picture and the quorum (secretariat)",
        responses=[403, 404, 409])
def attendance(slug: str, query: dict[str, Any]) -> Any:
    basis = query["basis"]
    return attendance_json(attendance_on(db.session, assembly_or_404(slug), basis), basis)
