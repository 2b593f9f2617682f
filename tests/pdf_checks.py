"""What a PDF really shows: which characters each embedded font draws (read with pypdf and
fontTools from the ToUnicode map and the glyphs present in the embedded subset), fonts that are
not embedded, and characters of given strings no embedded font covers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _parse_tounicode(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap (bfchar and bfrange) as {code: text}."""
    out: dict[int, str] = {}
    text = data.decode("latin-1")

    def u(hexstr: str) -> str:
        return bytes.fromhex(hexstr).decode("utf-16-be", "replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = u(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if dst.startswith("["):
                for k, d in enumerate(re.findall(r"<([0-9A-Fa-f]*)>", dst)):
                    out[lo_i + k] = u(d)
            else:
                base = bytes.fromhex(dst[1:-1])
                for k in range(hi_i - lo_i + 1):
                    last = int.from_bytes(base[-2:], "big") + k
                    out[lo_i + k] = (base[:-2] + last.to_bytes(2, "big")).decode(
                        "utf-16-be", "replace")
    return out


def _glyph_ok(program: bytes | None, subtype: str, descendant: Any) -> Any:
    """A function code -> does the embedded font draw a real glyph (not .notdef, not empty)?"""
    if program is None:
        return lambda code: False
    import io

    from fontTools.ttLib import TTFont as FTFont

    try:
        font = FTFont(io.BytesIO(program), lazy=True)
    except Exception:  # bare CFF (FontFile3/CIDFontType0C)
        from fontTools.cffLib import CFFFontSet

        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program), None)
        top = cff[cff.fontNames[0]]
        charset = top.charset
        return lambda code: 0 < code < len(charset)
    order = font.getGlyphOrder()
    glyf = font.get("glyf")

    def has_outline(gid: int) -> bool:
        if not 0 < gid < len(order):
            return False
        if glyf is None:
            return True
        g = glyf[order[gid]]
        return g.numberOfContours != 0

    if subtype == "/TrueType":  # simple font: code -> glyph through the subset's own cmap
        cmap: dict[int, str] = {}
        for table in font["cmap"].tables:
            for code, gname in table.cmap.items():
                cmap.setdefault(code & 0xFF, gname)
        names = {n: i for i, n in enumerate(order)}
        return lambda code: has_outline(names.get(cmap.get(code, ".notdef"), 0))
    # Type0 / Identity-H: code = CID; CIDToGIDMap identity unless a stream says otherwise
    c2g = descendant.get("/CIDToGIDMap") if descendant is not None else None
    if c2g is not None and hasattr(c2g, "get_data"):
        raw = c2g.get_data()
        return lambda code: has_outline(int.from_bytes(raw[2 * code:2 * code + 2], "big"))
    return has_outline


def pdf_coverage(path: str | Path) -> dict[str, set[str]]:
    """{embedded font name: the characters it can show}, from every font used on every page
    (also inside form XObjects): the ToUnicode text of each code whose glyph exists in the
    embedded program. A font that is not embedded counts as covering nothing."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    result: dict[str, set[str]] = {}
    seen: set = set()

    def visit(resources: Any) -> None:
        if not resources:
            return
        resources = resources.get_object()
        fonts = resources.get("/Font")
        for ref in (fonts.get_object().values() if fonts else []):
            key = getattr(ref, "idnum", id(ref))
            if key in seen:
                continue
            seen.add(key)
            font = ref.get_object()
            subtype = font.get("/Subtype")
            descendant = None
            fd = font.get("/FontDescriptor")
            if subtype == "/Type0":
                descendant = font["/DescendantFonts"][0].get_object()
                fd = descendant.get("/FontDescriptor")
            program = None
            if fd is not None:
                fd = fd.get_object()
                for k in ("/FontFile2", "/FontFile3", "/FontFile"):
                    if k in fd:
                        program = fd[k].get_object().get_data()
                        break
            ok = _glyph_ok(program, subtype, descendant)
            chars: set[str] = set()
            if "/ToUnicode" in font:
                for code, text in _parse_tounicode(font["/ToUnicode"].get_object()
                                                   .get_data()).items():
                    if ok(code):
                        chars.update(text)
            name = str(font.get("/BaseFont", "?"))[1:]
            result.setdefault(name, set()).update(chars)
        xobjects = resources.get("/XObject")
        for ref in (xobjects.get_object().values() if xobjects else []):
            xo = ref.get_object()
            if xo.get("/Subtype") == "/Form":
                visit(xo.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return result


def unembedded_fonts(path: str | Path) -> list[str]:
    """Names of the fonts some page uses without embedding their program."""
    from pypdf import PdfReader

    out = []
    for page in PdfReader(str(path)).pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font")
        for ref in (fonts.get_object().values() if fonts else []):
            font = ref.get_object()
            fd = font.get("/FontDescriptor")
            if font.get("/Subtype") == "/Type0":
                fd = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            fd = fd.get_object() if fd is not None else {}
            if not any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                out.append(str(font.get("/BaseFont")))
    return sorted(set(out))


def missing_chars(path: str | Path, strings: Iterable[str]) -> dict[str, set[str]]:
    """{string: characters of it that no embedded font of the PDF shows}; spaces and format
    characters (ZWJ, ZWNJ) are not glyphs and are not asked for."""
    covered = set().union(*pdf_coverage(path).values())
    out = {}
    for s in strings:
        need = {ch for ch in unicodedata.normalize("NFC", s)
                if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Zs")}
        lacking = need - covered
        if lacking:
            out[s] = lacking
    return out
