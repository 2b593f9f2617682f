"""The API's schemas: they validate input and generate the OpenAPI document."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Date, DateTime, Dict, Integer, String
from apiflask.validators import OneOf

from models import AssemblyStatus, Quorum


def Localized(**kwargs: object) -> Dict:  # noqa: N802 - reads as a field type
    """Text per language: {"en": "Tokyo", "ja": "東京"}."""
    return Dict(keys=String(validate=OneOf(["en", "ja"])), values=String(), **kwargs)


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
    code = String(required=True)
    message = String(required=True)
    fields = Dict(required=True)


class ErrorOut(Schema):
    error = Dict(required=True, metadata={"description": "code, message and fields"})
