"""The API's shared schemas and field types: they validate input and generate the OpenAPI
document. Each area's own schemas live with its operations (webapp/api/<area>.py)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import (
    AwareDateTime,
    Boolean,
    Date,
    DateTime,
    Dict,
    Integer,
    List,
    Nested,
    String,
)
from apiflask.validators import OneOf

from models import AssemblyStatus, Quorum
from models.languages import REGISTRY


def Localized(**kwargs: object) -> Dict:  # noqa: N802 - reads as a field type
    """Text per language: {"en": "Tokyo", "ja": "東京"} (any language Sokai speaks)."""
    return Dict(keys=String(validate=OneOf(REGISTRY)), values=String(), **kwargs)


ZONE_REQUIRED = ("Give the instant with its offset or zone, e.g. 2014-09-01T18:00:00+07:00 "
                 "(an instant without a zone is ambiguous).")


def Instant(**kwargs: object) -> AwareDateTime:  # noqa: N802 - reads as a field type
    return AwareDateTime(format="iso", error_messages={"invalid_awareness": ZONE_REQUIRED},
                         metadata={"description": "ISO 8601 with an offset"}, **kwargs)


class CityOut(Schema):
    code = String(required=True, metadata={"example": "TYO"})
    name = Localized(required=True, metadata={"example": {"en": "Tokyo", "ja": "東京"}})
    country = String(required=True, metadata={"description": "ISO 3166-1 alpha-2",
                                              "example": "JP"})
    timezone = String(required=True, metadata={"description": "IANA time zone",
                                               "example": "Asia/Tokyo"})


class AssemblyOut(Schema):
    slug = String(required=True, metadata={"example": "anmc21-tomsk-2014"})
    number = Integer(allow_none=True)
    title = Localized(required=True)
    host_city = String(required=True, attribute="host_city.code",
                       metadata={"description": "member city code"})
    venue = Localized(required=True)
    host_organisation = Localized(required=True)
    sitting_days = List(Date(), required=True, attribute="sitting",
                        metadata={"description": "the days the assembly itself sits"})
    timezone = String(required=True, metadata={"description": "the host's IANA zone"})
    home_timezone = String(required=True, metadata={"description": "the secretariat's zone"})
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    registration_deadline = DateTime(required=True,
                                     metadata={"description": "ISO 8601 with offset"})
    proxy_deadline = DateTime(required=True)
    quorum = String(required=True, validate=OneOf([q.value for q in Quorum]))
    max_proxies_per_holder = Integer(required=True)
    proxy_to_chair_allowed = Boolean(required=True)
    status = String(required=True, validate=OneOf([s.value for s in AssemblyStatus]))


class ErrorDetail(Schema):
    code = String(required=True, metadata={"example": "deadline_passed"})
    message = String(required=True, metadata={"description": "for people, in their language"})
    fields = Dict(keys=String(), values=List(String()), required=True,
                  metadata={"description": "messages per input field at fault",
                            "example": {"family_name": ["The family name is required."]}})


class ErrorOut(Schema):
    """Every error the API answers (400–422, and 503): the same shape."""

    error = Nested(ErrorDetail, required=True)
