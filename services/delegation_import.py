"""Importing a delegation from CSV or XLSX: every row checked, nothing imported if one is bad.

Columns (header row, any order): family_name, given_name, name_local, name_order
(family_first or given_first; empty: the city's country's custom), honorific, one title
column per registered language (title_en, title_ja, title_ko, title_zh_hant, …), role, email,
language. Cells are stored as text exactly as given (a leading "="
stays text; exports escape it).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from models import Assembly, Delegate, DelegateRole, MemberCity, User
from models.errors import DomainError
from models.languages import REGISTRY
from services.access import require_city_access
from services.delegations import add_delegate, require_registration_open
from services.i18n import _

BASE_COLUMNS = ("family_name", "given_name", "name_local", "name_order", "honorific", "role",
                "email", "language")


def title_columns() -> dict[str, str]:
    """Column name -> language code, from the registry (headers are read in lower case)."""
    return {f"title_{lang.field_suffix.lower()}": code for code, lang in REGISTRY.items()}


def delegate_columns() -> tuple[str, ...]:
    return (*BASE_COLUMNS[:5], *title_columns(), *BASE_COLUMNS[5:])


MAX_ROWS = 1000


@dataclass
class ImportReport:
    imported: list[Delegate] = field(default_factory=list)
    # (row number as in the file, column, message)
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(content: bytes, filename: str, columns: tuple[str, ...] | None = None,
              required: str = "family_name", max_rows: int = MAX_ROWS) -> list[dict[str, str]]:
    """The file's data rows as {column: text}; DomainError if the file itself is unreadable.
    (Also read by services.city_import, with its own columns.)"""
    if filename.lower().endswith(".xlsx"):
        try:
            # Formulas are read as their text, never evaluated.
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=False).active
            table = [["" if cell is None else str(cell) for cell in row]
                     for row in sheet.iter_rows(values_only=True)]
        except Exception:  # openpyxl raises many kinds for a damaged or foreign file
            raise DomainError(_("This is not a readable XLSX file."), code="unreadable_file",
                              status=422, field="file") from None
    elif filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(_("Save the CSV file as UTF-8."), code="not_utf8", status=422,
                              field="file") from None
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise DomainError(_("Upload a .csv or .xlsx file."), code="unsupported_file", status=422,
                          field="file")
    table = [row for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise DomainError(_("The file is empty."), code="empty_file", status=422, field="file")
    header = [cell.strip().lower() for cell in table[0]]
    if required not in header:
        raise DomainError(_("The first row must name the columns, including %(column)s.",
                            column=required), code="no_header", status=422, field="file")
    if len(table) - 1 > max_rows:
        raise DomainError(_("At most %(n)d rows per file.", n=max_rows), code="too_many_rows",
                          status=422, field="file")
    known = set(columns if columns is not None else delegate_columns())
    return [{name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)
             if name in known} for row in table[1:]]


def import_delegation(session: Session, assembly: Assembly, city: MemberCity, content: bytes,
                      filename: str, user: User) -> ImportReport:
    """Add every row or none: the caller commits only when the report is ok."""
    require_city_access(user, city)
    require_registration_open(assembly, user)
    rows = read_rows(content, filename)
    report = ImportReport()
    savepoint = session.begin_nested()
    for number, row in enumerate(rows, start=2):
        role = row.get("role") or DelegateRole.DELEGATE.value
        if role not in {r.value for r in DelegateRole}:
            report.errors.append((number, "role", _("Unknown role %(role)s.", role=role)))
            continue
        data = {"family_name": row.get("family_name", ""), "given_name": row.get("given_name"),
                "name_local": row.get("name_local"), "role": role,
                "name_order": row.get("name_order") or None, "honorific": row.get("honorific"),
                "title": {code: row[column] for column, code in title_columns().items()
                          if row.get(column)},
                "email": row.get("email") or None, "language": row.get("language") or "en"}
        try:
            report.imported.append(add_delegate(session, assembly, city, data, user))
        except DomainError as exc:
            report.errors.append((number, exc.field or "", exc.message))
    if report.errors:
        savepoint.rollback()
        report.imported = []
    else:
        savepoint.commit()
    return report
