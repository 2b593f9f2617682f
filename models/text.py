"""What a stored text may contain: the one rule, applied at every boundary (API fields, forms,
CSV/XLSX import, use cases) so that nothing downstream (mail headers, XLSX cells, PDFs,
PostgreSQL) ever meets a character it cannot carry.

A text is normalised to NFC and trimmed. A single-line text (a name, a title, a subject)
refuses every control character of C0 and C1 (NUL, CR, LF, VT, TAB, ESC, U+0080–U+009F), the
line and paragraph separators U+2028/U+2029, lone surrogates and the non-characters U+FFFE and
U+FFFF. A multi-line text (a reminder body, instructions) allows "\\n" and "\\t" too; CR LF and
lone CR (what browsers send from a textarea) become "\\n". The length is counted in characters
after normalising and must fit the column.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import Any

# Refused in every text. C0 except TAB and LF, DEL, C1, separators, surrogates, non-characters.
_REFUSED_ALWAYS = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff"
REFUSED_IN_LINES = re.compile(f"[{_REFUSED_ALWAYS}]")
REFUSED_IN_LINE = re.compile(f"[\\t\\n{_REFUSED_ALWAYS}]")

# The same rule as a JSON-schema pattern for the OpenAPI document (ECMA 262 syntax; lone
# surrogates left out: no valid UTF-8 text carries them).
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]*$"
LINES_PATTERN = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]*$"

# Lengths of the texts kept as JSON per language (no column length says them).
TITLE_MAX = 300  # an assembly's or a programme item's title, a venue, a location, a job title
CITY_NAME_MAX = 200
SUBJECT_MAX = 200  # a reminder's subject
BODY_MAX = 10_000  # a reminder's body


class TextProblem(enum.StrEnum):
    CONTROL = "control"  # a character the field does not allow
    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"


class TextError(ValueError):
    def __init__(self, problem: TextProblem, *, max_length: int | None = None,
                 character: str = "") -> None:
        super().__init__(f"{problem.value}: {character!r}" if character else problem.value)
        self.problem = problem
        self.max_length = max_length
        self.character = character


def clean_text(value: Any, *, max_length: int | None = None, multiline: bool = False) -> str:
    """The text as it is stored (NFC, trimmed), or TextError saying what is wrong."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TextError(TextProblem.NOT_TEXT)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    refused = (REFUSED_IN_LINES if multiline else REFUSED_IN_LINE).search(value)
    if refused:
        raise TextError(TextProblem.CONTROL, character=refused.group())
    text = unicodedata.normalize("NFC", value).strip()
    if max_length is not None and len(text) > max_length:
        raise TextError(TextProblem.TOO_LONG, max_length=max_length)
    return text


def column_limit(column: Any) -> int | None:
    """The length of a String column (an ORM attribute such as Delegate.family_name)."""
    return getattr(getattr(column, "type", None), "length", None)


def strip_unstorable(value: str) -> str:
    """For exports of what was stored before the rule: the characters XML 1.0 (XLSX) and
    mail headers cannot carry are dropped, not refused (a bad cell never fails a job)."""
    return REFUSED_IN_LINES.sub("", value)
