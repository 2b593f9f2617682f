"""People's names as they write them: the order of family and given name, the family name in
capitals in Latin script ("LE Hong Son", "Yoichi MASUZOE"), and the local-script name for a
reader whose language reads that script (舛添 要一 for a Japanese reader, 오세훈 for a Korean
one)."""

from __future__ import annotations

import enum
import unicodedata
from functools import lru_cache

from models.languages import language as language_of
from models.languages import language_or_default


class NameOrder(enum.StrEnum):
    FAMILY_FIRST = "family_first"  # 舛添 要一, LE Hong Son, OH Se-hoon
    GIVEN_FIRST = "given_first"  # Sergei ZHVACHKIN, Nitaya JESSADACHATR


# Where people write the family name first, also in Latin script. (Mongolian usage puts the
# given name first in Latin script; the patronymic is not a family name.)
FAMILY_FIRST_COUNTRIES = frozenset({"JP", "KR", "KP", "CN", "TW", "HK", "MO", "VN", "KH", "HU",
                                    "SG"})


def default_order(country: str | None) -> NameOrder:
    return (NameOrder.FAMILY_FIRST if (country or "").upper() in FAMILY_FIRST_COUNTRIES
            else NameOrder.GIVEN_FIRST)


def latin_name(given: str, family: str, order: NameOrder | str | None = None) -> str:
    """The name in Latin script, in the person's order, the family name in capitals."""
    family, given = (family or "").strip().upper(), (given or "").strip()
    parts = [family, given] if order == NameOrder.FAMILY_FIRST else [given, family]
    return " ".join(part for part in parts if part)


# Unicode script of a character, by block, for the scripts of the network.
_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0400, 0x052F, "Cyrl"), (0x0900, 0x097F, "Deva"), (0x0E00, 0x0E7F, "Thai"),
    (0x1000, 0x109F, "Mymr"), (0x1100, 0x11FF, "Hang"), (0x3040, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"), (0x3130, 0x318F, "Hang"), (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"), (0xAC00, 0xD7AF, "Hang"), (0xF900, 0xFAFF, "Hani"),
    (0x20000, 0x3FFFF, "Hani"),
)


@lru_cache(maxsize=4096)
def _script_of(char: str) -> str | None:
    if not unicodedata.category(char).startswith("L"):
        return None
    code = ord(char)
    return next((script for low, high, script in _BLOCKS if low <= code <= high), "Latn")


@lru_cache(maxsize=8192)  # pages name thousands of people
def scripts_of(text: str) -> frozenset[str]:
    """The scripts a text is written in (letters only; Latin as "Latn")."""
    return frozenset(script for char in text if (script := _script_of(char)) is not None)


@lru_cache(maxsize=64)
def _scripts_read_by(reader_language: str) -> frozenset[str]:
    return frozenset(language_of(reader_language).scripts)


def reads(reader_language: str, text: str) -> bool:
    """Whether a reader of this language reads the text's script (a Japanese reader reads
    kanji and kana; a Korean reader Hangul; nobody is assumed to read another's script)."""
    scripts = scripts_of(text)
    return bool(scripts) and scripts <= _scripts_read_by(reader_language)


def name_for(reader_language: str, *, given: str, family: str, local: str,
             order: NameOrder | str | None) -> str:
    """The name a reader sees: the local-script name when they read its script, else Latin."""
    if local.strip() and reads(language_or_default(reader_language), local):
        return local.strip()
    return latin_name(given, family, order)
