"""/api/v1/audit: the audit trail for the secretariat (newest first, filtered)."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import DateTime, Dict, Integer, String
from apiflask.validators import OneOf, Range

from services.audit import ACTIONS, entries, parse_filter
from webapp.api import SECRETARIAT, bp, token_auth
from webapp.api.schemas import Int32
from webapp.extensions import db


class AuditQuery(Schema):
    action = String(validate=OneOf(ACTIONS))
    actor = String(metadata={"description": "an account's e-mail, or system / cli"})
    subject = String(metadata={"description": "kind (proxy_letter) or kind:id "
                                              "(proxy_letter:12)"})
    since = String(metadata={"description": "a day (UTC) or an instant with its offset",
                             "example": "2014-09-04T16:00+07:00"})
    until = String(metadata={"description": "as since; entries before it"})
    before = Int32(minimum=0, metadata={"description": "page back: entries older than this id"})
    limit = Integer(load_default=100, validate=Range(1, 500))


class AuditEntryOut(Schema):
    id = Integer(required=True)
    at = DateTime(required=True, metadata={"description": "UTC, with its offset"})
    action = String(required=True)
    subject = String(required=True)
    actor = String(required=True)
    origin = String(required=True, metadata={"description": "client address, worker or cli"})
    before = Dict(allow_none=True)
    after = Dict(allow_none=True)


@bp.get("/audit")
@bp.auth_required(token_auth, roles=SECRETARIAT)
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditEntryOut(many=True))
@bp.doc(summary="The audit trail, newest first", responses=[403, 422])
def list_audit(query: dict[str, Any]) -> Any:
    where = parse_filter({k: str(v) for k, v in query.items()})
    return entries(db.session, where, limit=query["limit"], before_id=query.get("before"))
