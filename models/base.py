"""Declarative base, the aware-UTC datetime column type and shared column helpers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import (
    JSON,
    CursorResult,
    DateTime,
    Enum,
    ForeignKey,
    MetaData,
    Result,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so that Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class NaiveDatetimeError(ValueError):
    """An instant without a zone reached the database layer."""


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: refuses naive datetimes, stores UTC, always loads aware UTC.

    SQLite keeps no offset, PostgreSQL's timestamptz does; normalising to UTC on the way in
    and tagging UTC on the way out gives the same behaviour on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value!r}: every stored instant needs a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, str]: JSON(),
    }


class OfAssembly:
    """A row of one assembly, found by it (indexed) and deleted with it. The two columns come
    first in the table, as the migrations wrote them (sort_order)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id", ondelete="CASCADE"),
                                             index=True, sort_order=-1)


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (the conditional updates that keep jobs, places and
    claims right under concurrency read it)."""
    return cast(CursorResult[Any], result).rowcount


def utcnow() -> datetime:
    return datetime.now(UTC)


# Language-keyed text ({"en": ..., "ja": ...}); the column type is JSON on both databases.
Localized = dict[str, str]



def localized(value: Localized | None, lang: str, fallback: str = "en") -> str:
    """The text in `lang`, else in the fallback language, else any language given."""
    if not value:
        return ""
    return value.get(lang) or value.get(fallback) or next(iter(value.values()), "")


class UnknownTimeZoneError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo")
        self.name = name


def validate_timezone(name: Any) -> str:
    """An IANA zone known to zoneinfo; fixed offsets such as 'UTC+7' are refused."""
    if not isinstance(name, str) or not name or name not in _zone_names():
        raise UnknownTimeZoneError(str(name))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZoneError(name) from None
    return name


_ZONES: set[str] | None = None


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its string value, with a CHECK constraint, on both databases."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)
