"""The API's shared schemas and field types: they validate input and generate the OpenAPI
document. Each area's own schemas live with its operations (webapp/api/<area>.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

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
    Raw,
    String,
)
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError

from models import AssemblyStatus, Quorum
from models.languages import LANGUAGES
from models.text import LINE_PATTERN, LINES_PATTERN, TextError, clean_text
from services.text import text_message


class Text(String):
    """A text under the rule of models.text: one line unless `multiline`, NFC, trimmed, at
    most `max_length` characters. The OpenAPI document shows the rule as maxLength and a
    pattern; a refusal is a 422 naming the field."""

    def __init__(self, *, max_length: int | None = None, min_length: int | None = None,
                 multiline: bool = False, **kwargs: Any) -> None:
        self.max_length, self.multiline = max_length, multiline
        metadata = {"pattern": LINES_PATTERN if multiline else LINE_PATTERN,
                    **kwargs.pop("metadata", {})}
        given = kwargs.pop("validate", None)
        validators = list(given) if isinstance(given, list | tuple) else [given] if given else []
        if max_length is not None or min_length is not None:
            validators.append(Length(min=min_length, max=max_length))
        super().__init__(metadata=metadata, validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(text, max_length=self.max_length, multiline=self.multiline)
        except TextError as error:
            raise ValidationError(text_message(error)) from None


# PostgreSQL `integer`: what an integer field of the API may carry (larger is a 422 on it).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def Int32(*, minimum: int = INT_MIN, **kwargs: Any) -> Integer:  # noqa: N802
    return Integer(validate=Range(min=minimum, max=INT_MAX), **kwargs)


_LOCALIZED: dict[tuple[int | None, bool, tuple[str, ...]], type[Schema]] = {}


def _localized_schema(max_length: int | None, multiline: bool) -> type[Schema]:
    """The schema for the languages registered now (a language added later gets its own)."""
    codes = tuple(LANGUAGES)
    key = (max_length, multiline, codes)
    if key not in _LOCALIZED:
        name = f"Localized{max_length or ''}{'Lines' if multiline else ''}"
        if len([k for k in _LOCALIZED if k[:2] == key[:2]]):
            name += "".join(c.capitalize() for c in codes)  # distinct in the document
        fields: dict[str, Any] = {lang: Text(max_length=max_length, multiline=multiline)
                                  for lang in codes}
        _LOCALIZED[key] = type(name, (Schema,), {
            **fields, "__doc__": "Text per language (ISO 639-1 codes)."})
    return _LOCALIZED[key]


class _LocalizedField(Nested):
    """Nested, with the properties of the languages registered when it validates."""

    def __init__(self, max_length: int | None, multiline: bool, **kwargs: Any) -> None:
        self._spec = (max_length, multiline)
        self._codes: tuple[str, ...] = ()
        super().__init__(_localized_schema(max_length, multiline), **kwargs)

    @property
    def schema(self) -> Schema:
        codes = tuple(LANGUAGES)
        if codes != self._codes:
            self._codes, self._schema = codes, None
            self.nested = _localized_schema(*self._spec)
        return super().schema


def Localized(max_length: int | None = None, multiline: bool = False,  # noqa: N802
              **kwargs: Any) -> Nested:
    """Text per language: {"en": "Tokyo", "ja": "東京"}. An object with one property per
    language Sokai speaks and no other (the document says so: additionalProperties false),
    each a Text under the rule."""
    return _LocalizedField(max_length, multiline, **kwargs)


ZONE_REQUIRED = ("Give the instant with its offset or zone, e.g. 2014-09-01T18:00:00+07:00 "
                 "(an instant without a zone is ambiguous).")


OUT_OF_RANGE = "The instant is out of range (years 1 to 9999 in UTC)."


class _Instant(AwareDateTime):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:  # 9999-12-31T23:59:59-23:59 is after the last instant Python can hold in UTC
            instant.astimezone(UTC)
        except OverflowError:
            raise ValidationError(OUT_OF_RANGE) from None
        return instant


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """The instant with `zone`'s offset, as RFC 3339 can write it. Before standard time a
    zone keeps local mean time (Asia/Tomsk: +05:39:51 until 1919), an offset with seconds
    that no `date-time` allows; that offset is rounded to the minute, the instant unchanged."""
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    if offset is None or not offset.seconds % 60:
        return local
    return moment.astimezone(timezone(timedelta(minutes=round(offset.total_seconds() / 60))))


def Instant(**kwargs: object) -> AwareDateTime:  # noqa: N802 - reads as a field type
    return _Instant(format="iso", error_messages={"invalid_awareness": ZONE_REQUIRED},
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
    fields = Dict(keys=String(), values=Raw(), required=True,
                  metadata={"description": "messages per input field at fault (a list of "
                                           "messages; a nested field is named with dots, "
                                           "`title.en`; an import lists its bad rows as "
                                           "`rows`: [{row, column, message}])",
                            "example": {"family_name": ["The family name is required."]}})


class ErrorOut(Schema):
    """Every error the API answers (400–422, and 503): the same shape."""

    error = Nested(ErrorDetail, required=True)
