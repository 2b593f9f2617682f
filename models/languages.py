"""The languages Sokai speaks: one registry for the language switch, the per-language fields
of forms and the API, mail, feeds, exports and the fonts of the PDFs.

Adding a language is one entry here and one catalogue (see docs/translating.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as stored and as in URLs: "en", "ja", "zh-Hant"
    name: str  # in itself, for the switch: "日本語"
    locale: str  # Babel's locale for dates, numbers and the catalogue: "ja", "zh_Hant_TW"
    english_name: str
    # How people of this language write their names by default (a person may differ).
    family_name_first: bool = False
    # Date formats (Babel patterns): a day on its own, and a day with its weekday.
    date_format: str = "medium"
    day_format: str = "full"
    # Scripts its local-script names are written in (ISO 15924), used to pick which name of a
    # person a reader of this language sees.
    scripts: tuple[str, ...] = ("Latn",)
    # The PDF fonts (services.pdf.fonts keys) that give its text its own forms: Han in
    # Japanese, Korean or Traditional Chinese shapes.
    pdf_fonts: tuple[str, ...] = ()


REGISTRY: dict[str, Language] = {
    language.code: language for language in (
        Language("en", "English", "en", "English", scripts=("Latn",)),
        Language("ja", "日本語", "ja", "Japanese", family_name_first=True,
                 date_format="y年M月d日", day_format="y年M月d日（E）",
                 scripts=("Jpan", "Hani", "Hira", "Kana"), pdf_fonts=("han-ja",)),
    )
}
DEFAULT_LANGUAGE = "en"
# The codes in registry order: what a "per language" field offers.
LANGUAGES: tuple[str, ...] = tuple(REGISTRY)


def language_or_default(code: object) -> str:
    """The code if Sokai speaks it, else the default (English)."""
    return code if isinstance(code, str) and code in REGISTRY else DEFAULT_LANGUAGE


def language(code: str) -> Language:
    return REGISTRY[language_or_default(code)]
