"""The fonts of Sokai's PDFs: one TrueType font per script (Debian packages), chosen per run
of text, Han in the regional forms of the reader's or the person's language.

reportlab embeds TrueType (glyf) outlines only, not CFF (Noto CJK), hence one file per script:

| script | file (Debian package) |
| --- | --- |
| Latin incl. Vietnamese, Cyrillic, Greek | NotoSans (fonts-noto-core) |
| Thai, Devanagari, Myanmar | Noto Sans *UI (fonts-noto-ui-core): Noto Sans' line metrics |
| Hangul, Han for ko | NanumGothic (fonts-nanum) |
| Han and kana for ja, the default Han | IPAex Gothic (fonts-ipaexfont-gothic) |
| Han for zh-Hant | AR PL UMing TW (fonts-arphic-uming) |
| Han none of these has (Extension B) | HanaMin A/B (fonts-hanazono), loaded only when needed |

Every font is registered on first use, so a Latin-only PDF parses none of the CJK files.
"""

from __future__ import annotations

import re
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from models.languages import REGISTRY

NOTO = "/usr/share/fonts/truetype/noto/"
# script key -> (Debian package, regular file, bold file or None, face index in a collection)
FONTS: dict[str, tuple[str, str, str | None, int]] = {
    # Latin incl. Vietnamese, Cyrillic (ru, mn), Greek, general punctuation
    "base": ("fonts-noto-core", NOTO + "NotoSans-Regular.ttf", NOTO + "NotoSans-Bold.ttf", 0),
    # UI variants: same vertical metrics as Noto Sans (1.069/-0.293 em), so rows stay even
    "thai": ("fonts-noto-ui-core", NOTO + "NotoSansThaiUI-Regular.ttf",
             NOTO + "NotoSansThaiUI-Bold.ttf", 0),
    "deva": ("fonts-noto-ui-core", NOTO + "NotoSansDevanagariUI-Regular.ttf",
             NOTO + "NotoSansDevanagariUI-Bold.ttf", 0),
    "mymr": ("fonts-noto-ui-core", NOTO + "NotoSansMyanmarUI-Regular.ttf",
             NOTO + "NotoSansMyanmarUI-Bold.ttf", 0),
    "hang": ("fonts-nanum", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
             "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", 0),
    "han-ja": ("fonts-ipaexfont-gothic", "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
               None, 0),
    "han-ko": ("fonts-nanum", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
               "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", 0),
    # AR PL UMing TW (face 2 of uming.ttc): Traditional forms, TrueType outlines
    "han-zh-Hant": ("fonts-arphic-uming", "/usr/share/fonts/truetype/arphic/uming.ttc", None, 2),
    # Last resort for Han the fonts above lack (e.g. 𠮷 U+20BB7 is in none of them); Mincho
    # style, loaded only when such a character turns up (each file ~25 MB in memory)
    "han-x": ("fonts-hanazono", "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", None, 0),
    "han-xb": ("fonts-hanazono", "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", None, 0),
}
# When the script's font lacks a character, the next font of its chain that has it.
FALLBACK: dict[str, tuple[str, ...]] = {
    "base": ("base", "han-ja"),  # IPAex has many symbols (①, ※, ℃) Noto Sans lacks
    "han-ja": ("han-ja", "han-zh-Hant", "han-x", "han-xb"),
    "han-zh-Hant": ("han-zh-Hant", "han-ja", "han-x", "han-xb"),
    "han-ko": ("han-ko", "han-ja", "han-zh-Hant", "han-x", "han-xb"),
}
SHAPED_SCRIPTS = {"thai", "deva", "mymr"}  # always through HarfBuzz
# Han in the forms of a language: from the registry (Language.pdf_fonts names the key),
# Japanese forms for every other language.
HAN_BY_LANG = {code: next((f for f in lang.pdf_fonts if f.startswith("han-")), "han-ja")
               for code, lang in REGISTRY.items()}
# Line height in em: the fonts above keep within it (UI variants, CJK ~0.88/-0.12).
LINE_EM = 1.36
ASCENT_EM = 1.069

_RUNS = re.compile(
    r"(?P<thai>[\u0E00-\u0E7F]+)"
    r"|(?P<deva>[\u0900-\u097F\uA8E0-\uA8FF\u1CD0-\u1CFF][\u0900-\u097F\uA8E0-\uA8FF"
    r"\u1CD0-\u1CFF\u200C\u200D]*)"
    r"|(?P<mymr>[\u1000-\u109F\uA9E0-\uA9FF\uAA60-\uAA7F][\u1000-\u109F\uA9E0-\uA9FF"
    r"\uAA60-\uAA7F\u200C\u200D]*)"
    r"|(?P<hang>[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uAC00-\uD7FF]+)"
    r"|(?P<han>[\u2E80-\u2FDF\u3000-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF"
    r"\uFF00-\uFFEF\U00020000-\U0003FFFF]+)"
)
CJK_CHAR = re.compile(r"[\u2E80-\u2FDF\u3000-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF"
                       r"\uF900-\uFAFF\uFF00-\uFFEF\U00020000-\U0003FFFF]")
COMBINING = re.compile(r"[\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF]")

_registered: dict[tuple[str, bool], str] = {}
# ToUnicode text for glyphs that have no code point: face name -> {private code: text}
_PUA_TEXT: dict[str, dict[int, str]] = {}


def font_name(key: str, bold: bool = False) -> str:
    """The reportlab name of a script's font, registering it on first use (lazily: each
    TTFont parses its file, ~0.1-0.5 s for the CJK ones, so a Latin-only PDF loads none)."""
    name = _registered.get((key, bold))
    if name:
        return name
    _package, regular, bold_file, face = FONTS[key]
    path = bold_file if bold and bold_file else regular
    name = _by_file.get((path, face)) or f"Sokai-{key}{'-B' if bold and bold_file else ''}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=face, shapable=True))
    _registered[(key, bold)] = _by_file[(path, face)] = name  # one TTFont per file and face
    return name


_by_file: dict[tuple[str, int], str] = {}


def _cmap(key: str) -> dict[int, int]:
    return pdfmetrics.getFont(font_name(key)).face.charToGlyph


def _fall_back(key: str, run: str) -> list[tuple[str, str]]:
    """run split where its font lacks characters, each piece in the first font of the
    script's chain that has them (a character no font has stays in the first: the coverage
    check then reports it)."""
    chain = FALLBACK.get(key)
    if not chain or run.isascii():
        return [(key, run)]
    cmap = _cmap(key)
    if all(ord(c) in cmap or c in " \u200c\u200d" for c in run):
        return [(key, run)]
    out: list[tuple[str, str]] = []
    for c in run:
        pick = key
        if ord(c) not in cmap and not (COMBINING.match(c) and out):
            pick = next((k for k in chain[1:] if ord(c) in _cmap(k)), key)
        elif COMBINING.match(c) and out:
            pick = out[-1][0]
        if out and out[-1][0] == pick:
            out[-1] = (pick, out[-1][1] + c)
        else:
            out.append((pick, c))
    return out


def segment(text: str, lang: str = "") -> list[tuple[str, str]]:
    """[(script key, run), ...]; neutrals (spaces, digits, punctuation) go to "base"; a
    character the script's font lacks goes to the next font of FALLBACK that has it."""
    if text.isascii():
        return [("base", text)]
    runs: list[tuple[str, str]] = []
    pos = 0
    for m in _RUNS.finditer(text):
        if m.start() > pos:
            runs.extend(_fall_back("base", text[pos:m.start()]))
        key = m.lastgroup or "base"
        if key == "han":
            key = HAN_BY_LANG.get(lang, "han-ja")
        runs.extend(_fall_back(key, m.group()))
        pos = m.end()
    if pos < len(text):
        runs.extend(_fall_back("base", text[pos:]))
    return runs


def missing_font_files() -> list[str]:
    """Font files of the table above that are not installed (with their Debian package)."""
    return sorted({f"{path} ({package})" for package, regular, bold, _face in FONTS.values()
                   for path in (regular, bold) if path and not Path(path).is_file()})
