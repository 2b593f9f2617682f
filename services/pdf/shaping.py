"""Shaping with HarfBuzz (uharfbuzz) for the scripts that need it (Thai, Devanagari, Myanmar,
decomposed Latin), drawn through reportlab's ShapedStr path.

Glyphs without a code point of their own (conjuncts, positional forms) get a private code from
reportlab; their cluster's text is remembered and written into the ToUnicode map, so the PDF
stays searchable and its coverage testable (reportlab alone writes private-use code points
there, and writes characters above U+FFFF in a form that is not UTF-16).
"""

from __future__ import annotations

from collections.abc import Sequence

import uharfbuzz as hb
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import ShapeData, ShapedStr

# ToUnicode text for glyphs that have no code point: face name -> {private code: text}
_PUA_TEXT: dict[str, dict[int, str]] = {}

_FEATURES = {"kern": True, "liga": True}


def shape(text: str, name: str) -> tuple[str, float]:
    """text shaped by HarfBuzz in font `name`: (ShapedStr for reportlab's text object,
    width in 1/1000 em). Glyphs without a code point get a private one from reportlab and
    their cluster's text is remembered for the ToUnicode map."""
    ttf = pdfmetrics.getFont(name)
    hbf = ttf.hbFont(10)  # also sets ttf.hbAddPrivate
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    buf.cluster_level = hb.BufferClusterLevel.MONOTONE_CHARACTERS
    hb.shape(hbf, buf, _FEATURES)
    infos, positions = buf.glyph_infos, buf.glyph_positions
    face = ttf.face
    scale = face._pdfScale
    glyph_to_char = face.glyphToChar
    widths = face.charWidths
    starts = sorted({info.cluster for info in infos})
    ends = dict(zip(starts, starts[1:] + [len(text)], strict=True))
    pua = _PUA_TEXT.setdefault(face.name.decode("latin-1") if isinstance(face.name, bytes)
                               else face.name, {})
    chars: list[str] = []
    data: list[ShapeData] = []
    total = 0.0
    mapped_in_cluster: dict[int, str] = {}
    private: list[tuple[int, int]] = []
    for info, pos in zip(infos, positions, strict=True):
        gid, cluster = info.codepoint, info.cluster
        advance = scale(pos.x_advance)
        try:
            code = glyph_to_char[gid][0]
            mapped_in_cluster[cluster] = mapped_in_cluster.get(cluster, "") + chr(code)
        except (KeyError, IndexError):
            code = ttf.hbAddPrivate(hbf.glyph_to_string(gid), gid, advance)
            private.append((code, cluster))
        chars.append(chr(code))
        data.append(ShapeData(cluster, advance, scale(pos.y_advance), scale(pos.x_offset),
                              scale(pos.y_offset), widths[code]))
        total += advance
    for code, cluster in private:
        if code not in pua:
            whole = text[cluster:ends[cluster]]
            shown = mapped_in_cluster.get(cluster, "")
            rest = "".join(c for c in whole if c not in shown)
            pua[code] = rest or whole
    return ShapedStr("".join(chars), shapeData=data), total


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's makeToUnicodeCMap with two fixes: private codes of shaped glyphs map to
    their cluster's text, and code points above U+FFFF are written as UTF-16 (reportlab
    writes <20BB7>, which is not UTF-16BE)."""
    face = fontname.split("+", 1)[-1]
    pua = _PUA_TEXT.get(face, {})
    for key, table in _PUA_TEXT.items():  # face.name may carry a subfont suffix
        if face.startswith(key):
            pua = table

    def utf16(text: str) -> str:
        return text.encode("utf-16-be").hex().upper()

    lines = [f"<{i:02X}> <{utf16(pua.get(v) or chr(v))}>" for i, v in enumerate(subset)]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo", f"<< /Registry ({fontname})", f"/Ordering ({fontname})",
        "/Supplement 0", ">> def", f"/CMapName /{fontname} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        f"{len(subset)} beginbfchar", *lines, "endbfchar", "endcmap",
        "CMapName currentdict /CMap defineresource pop", "end", "end"])


# reportlab's TTFont.addObjects calls this module-level function: replaced once, on import
# (checked against reportlab 5.1 by tests/test_pdf.py).
ttfonts.makeToUnicodeCMap = _to_unicode_cmap
