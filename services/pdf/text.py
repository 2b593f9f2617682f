"""Laying out text of any script: runs per font, words, lines that fit a width, column widths
that fit a table's header and content, and drawing the lines on a canvas.

Everything is measured in the fonts' own metrics (1/1000 em) and cached: a participant list
repeats cities, roles and titles thousands of times.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from reportlab.pdfbase import pdfmetrics

from services.pdf.fonts import CJK_CHAR, COMBINING, SHAPED_SCRIPTS, font_name, segment
from services.pdf.shaping import shape

# Line height in em: the fonts keep within it (the UI variants, CJK ~0.88/-0.12).
LINE_EM = 1.36
ASCENT_EM = 1.069

@dataclass(frozen=True)
class Run:
    font: str
    text: Any = field(compare=False)  # str or ShapedStr
    width: float = field(compare=False)  # 1/1000 em
    source: str = ""  # the text before shaping: with font, what identifies the run


@dataclass(frozen=True)
class Word:
    text: str  # without the space after it
    runs: tuple[Run, ...]
    width: float  # 1/1000 em, without the space after it
    space: float  # width of the space(s) after it


@lru_cache(maxsize=32_768)
def layout_run(key: str, text: str, bold: bool) -> Run:
    name = font_name(key, bold)
    if key in SHAPED_SCRIPTS or (key == "base" and COMBINING.search(text)):
        shaped, width = shape(text, name)
        return Run(name, shaped, width, text)
    return Run(name, text, pdfmetrics.stringWidth(text, name, 1000), text)


@lru_cache(maxsize=32_768)
def layout_word(token: str, lang: str, bold: bool) -> Word:
    stripped = token.rstrip(" ")
    runs = tuple(layout_run(key, run, bold) for key, run in segment(stripped, lang))
    space = (len(token) - len(stripped)) * pdfmetrics.stringWidth(" ", font_name("base", bold),
                                                                   1000)
    return Word(stripped, runs, sum(r.width for r in runs), space)


_TOKENS = re.compile(r"[\u2E80-\u2FDF\u3000-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF"
                     r"\uF900-\uFAFF\uFF00-\uFFEF\U00020000-\U0003FFFF] *|[^ ]+ *| +")


def words(text: str, lang: str, bold: bool = False) -> list[Word]:
    """Break opportunities: after spaces and around every Han/kana character. (Thai has no
    spaces between words: a Thai run only breaks at spaces here, or by clusters when it is
    longer than the column; a dictionary breaker, e.g. ICU, would be the next step.)"""
    text = unicodedata.normalize("NFC", text)
    if not CJK_CHAR.search(text):
        return [layout_word(t, lang, bold) for t in text.replace(" ", " \0").split("\0") if t]
    return [layout_word(t, lang, bold) for t in _TOKENS.findall(text)]


def _split_long(word_text: str, lang: str, bold: bool, room: float) -> list[Word]:
    """A word wider than the column, cut between grapheme clusters (approximation: a base
    character with the marks that follow it)."""
    clusters = re.findall(r".[\u0300-\u036F\u0E31\u0E34-\u0E3A\u0E47-\u0E4E\u0900-\u0903"
                          r"\u093A-\u094F\u0951-\u0957\u0962\u0963\u102B-\u103E"
                          r"\u1056-\u1059\u200C\u200D]*", word_text)
    out, piece = [], ""
    for c in clusters:
        if piece and layout_word(piece + c, lang, bold).width > room:
            out.append(layout_word(piece, lang, bold))
            piece = ""
        piece += c
    if piece:
        out.append(layout_word(piece, lang, bold))
    return out


@lru_cache(maxsize=16_384)  # cells repeat: cities, roles, titles
def wrap(text: str, lang: str, width_pt: float, size: float,
         bold: bool = False) -> list[list[tuple[float, Run]]]:
    """Lines of (x offset in pt, run) fitting width_pt (cached: do not change the result)."""
    room = width_pt * 1000 / size
    lines: list[list[tuple[float, Run]]] = []
    line: list[tuple[float, Run]] = []
    x = 0.0
    pending = deque(words(text, lang, bold))
    while pending:
        w = pending.popleft()
        if x > 0 and x + w.width > room:
            lines.append(line)
            line, x = [], 0.0
        if x == 0 and w.width > room and len(w.text) > 1:
            parts = _split_long(w.text, lang, bold, room)
            if len(parts) > 1:
                pending.extendleft(reversed(parts))
                continue
        for r in w.runs:
            line.append((x * size / 1000, r))
            x += r.width
        x += w.space
    if line or not lines:
        lines.append(line)
    return lines


def natural_width(text: str, lang: str, size: float, bold: bool = False) -> tuple[float, float]:
    """(width on one line, widest unbreakable piece) in pt."""
    ws = words(text, lang, bold)
    full = sum(w.width + w.space for w in ws) - (ws[-1].space if ws else 0)
    widest = max((w.width for w in ws), default=0)
    return full * size / 1000, widest * size / 1000


def fit_columns(header: Sequence[str], sample: Iterable[Sequence[str]], total: float,
                size: float, padding: float, lang: str = "ja", cap: float = 0.45,
                quantile: float = 0.9) -> list[float]:
    """Column widths (pt) summing to total, from the header and a sample of rows, the way an
    HTML auto table does: every column at least as wide as its widest unbreakable header or
    content piece (capped at cap * total: longer pieces are cut between clusters), the room
    left shared in proportion to how much wider each column would like to be (its
    quantile-th natural width)."""
    n = len(header)
    mins, wants = [0.0] * n, [0.0] * n
    naturals: list[list[float]] = [[] for _ in range(n)]
    for i, h in enumerate(header):
        full, widest = natural_width(h, lang, size, bold=True)
        mins[i] = widest
        wants[i] = full
    for row in sample:
        for i, cell in enumerate(row):
            full, widest = natural_width(cell, "", size)
            mins[i] = max(mins[i], min(widest, cap * total))
            naturals[i].append(full)
    for i, values in enumerate(naturals):
        if values:
            values.sort()
            wants[i] = max(wants[i] / 2, values[min(len(values) - 1, int(len(values) * quantile))])
        wants[i] = max(wants[i], mins[i])
    mins = [m + 2 * padding for m in mins]
    wants = [w + 2 * padding for w in wants]
    if sum(wants) <= total:
        spare = total - sum(wants)
        return [w + spare * w / sum(wants) for w in wants]
    if sum(mins) >= total:
        return [m * total / sum(mins) for m in mins]
    spare = total - sum(mins)
    stretch = [w - m for w, m in zip(wants, mins, strict=True)]
    return [m + spare * s / sum(stretch) for m, s in zip(mins, stretch, strict=True)]


_formatted: dict = {}


def draw_lines(canvas: Any, x: float, top: float, lines: list[list[tuple[float, Run]]],
               size: float, leading: float, tx: Any = None) -> None:
    """Draw wrapped lines with the first baseline at top - ascent."""
    own = tx is None
    if own:
        tx = canvas.beginText()
    doc = canvas._doc
    y = top - ASCENT_EM * size
    for line in lines:
        # A text origin only where the pen is not already: the PDF advances by the glyph
        # widths (and the TJ adjustments of shaped runs), which are the widths the layout
        # used, so runs of one word follow each other; a space between words moves the pen.
        pen = None
        for dx, run in line:
            if pen is None or abs(pen - dx) > 0.01:
                tx.setTextOrigin(x + dx, y)
            pen = dx + run.width * size / 1000
            if tx._fontname != run.font or tx._fontsize != size:
                tx.setFont(run.font, size)
            # The PDF operators of a run depend only on the run and on the font subset in use
            # before it (reportlab's subset assignments never change once made), so they are
            # made once per document: most cells repeat (cities, roles, titles, name parts).
            key = (run, size, tx._curSubset)
            hit = _formatted.get(key)
            if hit is None or hit[2] is not doc:
                hit = (tx._formatText(run.text), 0, doc)
                hit = (hit[0], tx._curSubset, doc)
                if len(_formatted) > 65_536:
                    _formatted.clear()
                _formatted[key] = hit
            else:
                tx._curSubset = hit[1]
            tx._code.append(hit[0])
        y -= leading
    if own:
        canvas.drawText(tx)
