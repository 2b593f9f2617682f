"""The languages Sokai speaks: one registry for the language switch, the per-language fields
of forms and the API, mail, feeds, exports and the fonts of the PDFs.

Adding a language is one entry here and one catalogue (see docs/translating.md).
"""

from __future__ import annotations

from collections.abc import KeysView
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as stored and as in URLs: "en", "ja", "zh-Hant"
    name: str  # in itself, for the switch: "日本語"
    locale: str  # Babel's locale for dates and numbers: "ja", "zh_Hant"
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
    # The catalogue's directory under services/translations ("" = the code with "_" for "-":
    # zh-Hant -> zh_Hant). Flask-Babel and services.i18n both load it by this name.
    catalogue: str = ""

    @property
    def catalogue_dir(self) -> str:
        return self.catalogue or self.code.replace("-", "_")

    @property
    def field_suffix(self) -> str:
        """How a per-language form field or CSV column ends: title_en, title_zh_Hant."""
        return self.code.replace("-", "_")


REGISTRY: dict[str, Language] = {
    language.code: language for language in (
        # "Thursday 4 September 2014", as the report's English pages write a day
        Language("en", "English", "en", "English", date_format="d MMMM y",
                 day_format="EEEE d MMMM y", scripts=("Latn",)),
        # 2014年9月4日（木）
        Language("ja", "日本語", "ja", "Japanese", family_name_first=True,
                 date_format="y年M月d日", day_format="y年M月d日（E）",
                 scripts=("Jpan", "Hani", "Hira", "Kana"), pdf_fonts=("han-ja",)),
        # 2014년 9월 4일 (목)
        Language("ko", "한국어", "ko", "Korean", family_name_first=True,
                 date_format="y년 M월 d일", day_format="y년 M월 d일 (E)",
                 scripts=("Kore", "Hang", "Hani"), pdf_fonts=("han-ko", "hang")),
        # 2014年9月4日 星期四 (Taiwan's usage)
        Language("zh-Hant", "繁體中文", "zh_Hant", "Traditional Chinese",
                 family_name_first=True, date_format="y年M月d日", day_format="y年M月d日 EEEE",
                 scripts=("Hant", "Hani"), pdf_fonts=("han-zh-Hant",)),
        # четверг, 4 сентября 2014 г.
        Language("ru", "Русский", "ru", "Russian", date_format="long", day_format="full",
                 scripts=("Cyrl",)),
        # Thứ Năm, 4 tháng 9, 2014; names family first: LE Hong Son
        Language("vi", "Tiếng Việt", "vi", "Vietnamese", family_name_first=True,
                 date_format="long", day_format="full", scripts=("Latn",)),
        # วันพฤหัสบดีที่ 4 กันยายน ค.ศ. 2014
        Language("th", "ไทย", "th", "Thai", date_format="long", day_format="full",
                 scripts=("Thai",), pdf_fonts=("thai",)),
        # Kamis, 04 September 2014
        Language("id", "Bahasa Indonesia", "id", "Indonesian", date_format="long",
                 day_format="full", scripts=("Latn",)),
        # Mongolian Cyrillic; in Latin script the given name comes first
        Language("mn", "Монгол", "mn", "Mongolian", date_format="long", day_format="full",
                 scripts=("Cyrl",)),
    )
}
DEFAULT_LANGUAGE = "en"
# The codes in registry order, a live view: a language added to REGISTRY (a test's tenth
# language) is in it at once, for membership checks and OneOf validators alike.
LANGUAGES: KeysView[str] = REGISTRY.keys()


def language_or_default(code: object) -> str:
    """The code if Sokai speaks it, else the default (English)."""
    return code if isinstance(code, str) and code in REGISTRY else DEFAULT_LANGUAGE


def language(code: str) -> Language:
    return REGISTRY[language_or_default(code)]


def code_of_locale(locale: object) -> str:
    """The registry code of a Babel locale or its string ("zh_Hant_TW" -> "zh-Hant")."""
    text = str(locale or "")
    if text in REGISTRY:
        return text
    for code, entry in REGISTRY.items():
        if text in (entry.locale, entry.catalogue_dir):
            return code
    return language_or_default(text.replace("_", "-"))
