"""Flowables for reportlab's platypus built on services.pdf.text: a table streamed page by page
(the header row repeated at the top of every page, rows pulled from an iterator so a
100,000-row list is never held whole) and a wrapped block of text of any script."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import Flowable

from services.pdf.text import LINE_EM, draw_lines, wrap


@dataclass
class TableLayout:
    header: Sequence[str]
    widths: Sequence[float]
    size: float = 8
    padding: float = 3
    vpad: float = 1.5
    header_lang: str = "ja"
    header_fill: Any = field(default_factory=lambda: colors.HexColor("#e9ecef"))
    grid: Any = field(default_factory=lambda: colors.grey)

    @property
    def leading(self) -> float:
        return self.size * LINE_EM

    def lay_row(self, cells: Sequence[str], lang: str = "", bold: bool = False) -> tuple:
        laid = [wrap(text, lang, w - 2 * self.padding, self.size, bold)
                for text, w in zip(cells, self.widths, strict=True)]
        height = max(len(c) for c in laid) * self.leading + 2 * self.vpad
        return height, laid

    def header_row(self) -> tuple:
        if not hasattr(self, "_header"):
            self._header = self.lay_row(self.header, self.header_lang, bold=True)
        return self._header


class PageOfRows(Flowable):
    """The header plus the rows that fit on one page."""

    def __init__(self, layout: TableLayout, rows: list) -> None:
        super().__init__()
        self.layout, self.rows = layout, rows
        self.height = layout.header_row()[0] + sum(r[0] for r in rows)
        self.width = sum(layout.widths)

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return min(self.width, aw), self.height

    def draw(self) -> None:
        lay, canv = self.layout, self.canv
        widths = lay.widths
        xs = [0.0]
        for w in widths:
            xs.append(xs[-1] + w)
        header = lay.header_row()
        top = self.height
        canv.setFillColor(lay.header_fill)
        canv.rect(0, top - header[0], xs[-1], header[0], stroke=0, fill=1)
        canv.setFillColor(colors.black)
        tx = canv.beginText()
        ys = [top]
        for height, cells in [header, *self.rows]:
            for x, lines in zip(xs, cells, strict=False):
                draw_lines(canv, x + lay.padding, ys[-1] - lay.vpad, lines, lay.size,
                           lay.leading, tx)
            ys.append(ys[-1] - height)
        canv.drawText(tx)
        canv.setStrokeColor(lay.grid)
        canv.setLineWidth(0.25)
        path = canv.beginPath()
        for y in ys:
            path.moveTo(0, y)
            path.lineTo(xs[-1], y)
        for x in xs:
            path.moveTo(x, ys[0])
            path.lineTo(x, ys[-1])
        canv.drawPath(path, stroke=1, fill=0)


class LiveTable(Flowable):
    """Rows pulled from an iterator as pages are filled: split() cuts a page's worth
    (PageOfRows, with the header) and returns itself for the rest."""

    def __init__(self, layout: TableLayout, rows: Iterator[tuple]) -> None:
        super().__init__()
        self.layout, self._rows = layout, rows
        self._buffer: deque = deque()
        self._buffered = 0.0  # the rows' height in the buffer, kept as rows come and go
        self._done = False

    def _fill_until(self, height: float) -> float:
        have = self.layout.header_row()[0] + self._buffered
        while have <= height and not self._done:
            nxt = next(self._rows, None)
            if nxt is None:
                self._done = True
                break
            self._buffer.append(nxt)
            self._buffered += nxt[0]
            have += nxt[0]
        return have

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        have = self._fill_until(ah)
        self.width = min(sum(self.layout.widths), aw)
        self.height = have
        return self.width, have

    def split(self, aw: float, ah: float) -> list[Flowable]:
        self._fill_until(ah)
        used = self.layout.header_row()[0]
        page: list = []
        while self._buffer and used + self._buffer[0][0] <= ah:
            row = self._buffer.popleft()
            self._buffered -= row[0]
            page.append(row)
            used += row[0]
        if not page:
            return []  # not even one row fits: platypus moves on to the next page
        if not self._buffer and self._done:
            return [PageOfRows(self.layout, page)]
        # a new object for the rest: platypus marks a flowable it had to move to the next page
        # (_postponed) and refuses to move the same object twice
        rest = LiveTable(self.layout, self._rows)
        rest._buffer, rest._buffered, rest._done = self._buffer, self._buffered, self._done
        return [PageOfRows(self.layout, page), rest]

    def draw(self) -> None:  # the whole rest fitted
        PageOfRows(self.layout, list(self._buffer)).drawOn(self.canv, 0, 0)


class TextBlock(Flowable):
    """A wrapped paragraph of mixed scripts (headings, notes)."""

    def __init__(self, text: str, size: float = 9, lang: str = "", bold: bool = False,
                 space_after: float = 2) -> None:
        super().__init__()
        self.text, self.size, self.lang, self.bold = text, size, lang, bold
        self.spaceAfter = space_after

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        self.lines = wrap(self.text, self.lang, aw, self.size, self.bold)
        self.width, self.height = aw, len(self.lines) * self.size * LINE_EM
        return self.width, self.height

    def draw(self) -> None:
        draw_lines(self.canv, 0, self.height, self.lines, self.size, self.size * LINE_EM)
