"""Importing member cities from CSV or XLSX: every row checked, nothing imported if one is bad.

Columns (header row, any order): code, name_<language> for each language of
models.languages.REGISTRY (name_en required), country (ISO 3166-1 alpha-2), timezone (IANA;
empty: the country's zone when it has one), liaison_email and liaison_language (optional: the
liaison is invited once the cities are in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from models import MemberCity, User
from models.errors import DomainError
from models.languages import REGISTRY, language_or_default
from services.access import require_secretariat
from services.cities import create_city
from services.delegation_import import read_rows
from services.i18n import _
from services.invitations import invite_liaison
from services.zones import country_zone

# One name column per registered language, read in lower case: name_en, name_zh_hant.
NAME_COLUMNS = tuple(f"name_{lang.field_suffix.lower()}" for lang in REGISTRY.values())
COLUMNS = ("code", *NAME_COLUMNS, "country", "timezone", "liaison_email", "liaison_language")
MAX_ROWS = 2000


@dataclass
class CityImportReport:
    imported: list[MemberCity] = field(default_factory=list)
    invited: int = 0
    # (row number as in the file, column, message)
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_cities(session: Session, content: bytes, filename: str,
                  actor: User) -> CityImportReport:
    """Add every row or none (the caller commits only when the report is ok)."""
    require_secretariat(actor)
    rows = read_rows(content, filename, COLUMNS, required="code", max_rows=MAX_ROWS)
    report = CityImportReport()
    savepoint = session.begin_nested()
    for number, row in enumerate(rows, start=2):
        country = row.get("country", "")
        zone = row.get("timezone") or country_zone(country) or ""
        if not zone:
            report.errors.append((number, "timezone", _(
                "Give the time zone: %(country)s has several or none.", country=country)))
            continue
        try:
            city = create_city(session, code=row.get("code", ""), country=country,
                               name={code: row.get(f"name_{lang.field_suffix.lower()}", "")
                                     for code, lang in REGISTRY.items()},
                               timezone=zone)
            report.imported.append(city)
            if row.get("liaison_email"):
                invite_liaison(session, city, row["liaison_email"],
                               language_or_default(row.get("liaison_language") or "en"), actor)
                report.invited += 1
        except DomainError as exc:
            column = {"name": "name_en", "email": "liaison_email"}.get(exc.field or "",
                                                                        exc.field or "")
            report.errors.append((number, column, exc.message))
    if report.errors:
        savepoint.rollback()
        report.imported, report.invited = [], 0
    else:
        savepoint.commit()
    return report
