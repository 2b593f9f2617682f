"""Schemas of the registration API: cities, assemblies, delegations, delegates, proxy letters
and the attendance picture. They validate input and make the OpenAPI document."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import (
    AwareDateTime,
    Boolean,
    Date,
    DateTime,
    Dict,
    File,
    Integer,
    List,
    Nested,
    String,
)
from apiflask.validators import Length, OneOf, Range

from models import AssemblyStatus, DelegateRole, DelegateStatus, DelegationStatus, Quorum
from webapp.api.schemas import Localized

ZONE_REQUIRED = ("Give the instant with its offset or zone, e.g. 2014-09-01T18:00:00+07:00 "
                 "(an instant without a zone is ambiguous).")


def Instant(**kwargs: object) -> AwareDateTime:  # noqa: N802 - reads as a field type
    return AwareDateTime(format="iso", error_messages={"invalid_awareness": ZONE_REQUIRED},
                         metadata={"description": "ISO 8601 with an offset"}, **kwargs)


class CityIn(Schema):
    code = String(required=True, validate=Length(1, 16), metadata={"example": "JKT"})
    name = Localized(required=True, metadata={"example": {"en": "Jakarta", "ja": "ジャカルタ"}})
    country = String(required=True, validate=Length(2, 2), metadata={"example": "ID"})
    timezone = String(required=True, metadata={"example": "Asia/Jakarta"})


class CityPatch(Schema):
    name = Localized()
    country = String(validate=Length(2, 2))
    timezone = String()


class AssemblyIn(Schema):
    slug = String(required=True, validate=Length(1, 80))
    number = Integer(allow_none=True)
    title = Localized(required=True)
    host_city = String(required=True, metadata={"description": "member city code"})
    venue = Localized()
    timezone = String(required=True, metadata={"description": "the host's IANA zone"})
    home_timezone = String(metadata={"description": "the secretariat's IANA zone"})
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    registration_deadline = Instant(required=True)
    proxy_deadline = Instant(required=True)
    quorum = String(validate=OneOf([q.value for q in Quorum]))
    max_proxies_per_holder = Integer(validate=Range(min=1, max=100))
    proxy_to_chair_allowed = Boolean()
    status = String(validate=OneOf([s.value for s in AssemblyStatus]))


class AssemblyPatch(Schema):
    number = Integer(allow_none=True)
    title = Localized()
    host_city = String()
    venue = Localized()
    timezone = String()
    home_timezone = String()
    starts_on = Date()
    ends_on = Date()
    registration_deadline = Instant()
    proxy_deadline = Instant()
    quorum = String(validate=OneOf([q.value for q in Quorum]))
    max_proxies_per_holder = Integer(validate=Range(min=1, max=100))
    proxy_to_chair_allowed = Boolean()
    status = String(validate=OneOf([s.value for s in AssemblyStatus]))


class DelegationIn(Schema):
    status = String(required=True, validate=OneOf([s.value for s in DelegationStatus]))


class DelegationOut(Schema):
    city = String(required=True)
    status = String(required=True)
    participants = Integer(required=True)


class DelegateIn(Schema):
    family_name = String(required=True, validate=Length(1, 100))
    given_name = String(validate=Length(max=100))
    name_local = String(validate=Length(max=200))
    title = Localized()
    role = String(validate=OneOf([r.value for r in DelegateRole]))
    email = String(allow_none=True, validate=Length(max=254))
    language = String(validate=OneOf(["en", "ja"]))
    city = String(metadata={"description": "member city code; a liaison's own city when left "
                                           "out"})


class DelegatePatch(Schema):
    family_name = String(validate=Length(1, 100))
    given_name = String(validate=Length(max=100))
    name_local = String(validate=Length(max=200))
    title = Localized()
    role = String(validate=OneOf([r.value for r in DelegateRole]))
    email = String(allow_none=True, validate=Length(max=254))
    language = String(validate=OneOf(["en", "ja"]))
    status = String(validate=OneOf([DelegateStatus.REGISTERED.value,
                                    DelegateStatus.CONFIRMED.value]))


class DelegateOut(Schema):
    id = Integer(required=True)
    city = String(required=True, attribute="delegation.city.code")
    family_name = String(required=True)
    given_name = String(required=True)
    name_local = String(required=True)
    title = Localized(required=True)
    role = String(required=True)
    email = String(allow_none=True)
    language = String(required=True)
    status = String(required=True)


class DelegatesQuery(Schema):
    city = String(metadata={"description": "only this member city"})


class ProxyIn(Schema):
    grantor = String(required=True, metadata={"description": "the absent city's code"})
    holder = String(required=True, metadata={"description": "the holder city's code, or "
                                                            "`chair` where allowed"})
    signatory_name = String(required=True, validate=Length(1, 200))
    signatory_title = String(validate=Length(max=200))
    instructions = String(validate=Length(max=5000))
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
    grantor = String(required=True, attribute="grantor.code")
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
    reason = String(required=True, validate=Length(1, 2000))


class AttendanceRowOut(Schema):
    city = String(required=True)
    name = Localized(required=True)
    presence = String(required=True, validate=OneOf(["present", "represented", "absent"]))
    delegation_status = String(required=True)
    participants = Integer(required=True)
    representative = Dict(allow_none=True)
    letter = Dict(allow_none=True, metadata={"description": "id, status, holder"})
    holder = String(allow_none=True)


class QuorumOut(Schema):
    rule = String(required=True)
    members = Integer(required=True)
    present = Integer(required=True)
    represented = Integer(required=True)
    absent = Integer(required=True)
    counted = Integer(required=True)
    required = Integer(required=True)
    reached = Boolean(required=True)


class AttendanceOut(Schema):
    assembly = String(required=True)
    cities = List(Nested(AttendanceRowOut), required=True)
    participants = Integer(required=True)
    quorum = Nested(QuorumOut, required=True)


class ImportIn(Schema):
    file = File(required=True, metadata={"description": "CSV (UTF-8) or XLSX; first row names "
                                                        "the columns"})


class ImportErrorOut(Schema):
    row = Integer(required=True)
    column = String(required=True)
    message = String(required=True)


class InvitationIn(Schema):
    email = String(required=True, validate=Length(3, 254))
    language = String(load_default="en", validate=OneOf(["en", "ja"]))


class InvitationOut(Schema):
    id = Integer(required=True)
    city = String(required=True, attribute="city.code")
    email = String(required=True)
    expires_at = DateTime(required=True)
    accepted_at = DateTime(allow_none=True)
