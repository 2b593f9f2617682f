"""The report as files people use: CSV (Excel-safe), XLSX and PDF, each written as a stream.

Every writer takes the small parts of the report (services.report.Report), an iterator over
the participants (streamed from the database) and a path; it reports progress through
`tick(rows_done)` every few thousand rows so that the job's page can show it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from config import current_settings
from services.i18n import _
from services.summaries.report import PersonLine, Report

Tick = Callable[[int], None]
TICK_EVERY = 2000

# Characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell as text; a leading = + - @ tab or CR gets a single quote so Excel shows it as
    text instead of running it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _ticking(rows: Iterable[PersonLine], tick: Tick) -> Iterator[PersonLine]:
    for done, row in enumerate(rows, 1):
        if done % TICK_EVERY == 0:
            tick(done)
        yield row


# --- CSV ------------------------------------------------------------------------------------


def csv_header() -> list[str]:
    return [_("Section"), _("City code"), _("City"), _("Status"), _("Participants"),
            _("Proxy holder"), _("Role"), _("Name"), _("Name (local script)"), _("Title")]


def write_csv(report: Report, participants: Iterable[PersonLine], path: Path,
              tick: Tick) -> None:
    """One table: a line per city (the report's 参加者 list with its marks), the total, the
    quorum, then every participant by city and role. UTF-8 with a BOM, every field quoted;
    nothing time-dependent, so the same data gives the same bytes."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

        def put(*cells: object) -> None:
            writer.writerow([neutralise(c) for c in cells])

        put(*csv_header())
        for city in report.cities:
            status = city.mark or _("Present")
            put(_("Attendance"), city.code, city.name, status, city.participants, city.holder,
                "", "", "", "")
        put(_("Total"), "", "", "", report.total, "", "", "", "", "")
        put(_("Quorum"), "", "", report.quorum_line, report.attendance.counted, "", "", "", "",
            "")
        for person in _ticking(participants, tick):
            put(_("Participant"), person.city_code, person.city, "", "", "", person.role,
                person.name, person.name_local, person.title)


# --- XLSX -----------------------------------------------------------------------------------


def write_xlsx(report: Report, participants: Iterable[PersonLine], path: Path,
               tick: Tick) -> None:
    """openpyxl in write-only mode (rows go straight to disk); every value is a string or a
    number, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(title: str, widths: list[int]) -> Any:
        ws = book.create_sheet(title)
        for index, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + index)].width = width
        return ws

    def value(raw: object) -> object:
        # Neutralised text never starts with "=", so openpyxl stores it as a string, never a
        # formula; plain values (not cell objects) keep the writer fast.
        return raw if isinstance(raw, int) else neutralise(raw)

    def header(ws: Any, *names: str) -> None:
        cells = []
        for name in names:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)

    def row(ws: Any, *values: object) -> None:
        ws.append([value(v) for v in values])

    ws = sheet("Summary", [24, 36, 22, 14, 30])
    header(ws, report.title)
    row(ws, _("Network"), report.network)
    row(ws, _("Dates"), report.dates)
    row(ws, _("Venue"), report.venue)
    row(ws, _("Host"), report.host)
    row(ws, _("Participants"), report.total)
    row(ws, _("Quorum"), report.quorum_line)
    ws.append([])
    header(ws, _("City code"), _("City"), _("Status"), _("Participants"), _("Proxy holder"))
    for city in report.cities:
        row(ws, city.code, city.name, city.mark or _("Present"), city.participants, city.holder)
    header(ws, _("Total"), "", "", str(report.total), "")

    ws = sheet("Representatives", [10, 22, 30, 26, 60])
    header(ws, _("City code"), _("City"), _("Name"), _("Name (local script)"), _("Title"))
    for person in report.representatives:
        row(ws, person.city_code, person.city, person.name, person.name_local, person.title)

    ws = sheet("Participants", [10, 22, 18, 30, 26, 60])
    header(ws, _("City code"), _("City"), _("Role"), _("Name"), _("Name (local script)"),
           _("Title"))
    for person in _ticking(participants, tick):
        row(ws, person.city_code, person.city, person.role, person.name, person.name_local,
            person.title)

    ws = sheet("Programme", [12, 16, 16, 60, 36])
    header(ws, _("Date"), _("Host time (%(zone)s)", zone=report.host_zone),
           _("Home time (%(zone)s)", zone=report.home_zone), _("Item"), _("Place"))
    for item in report.programme:
        row(ws, item.day.isoformat(), item.host_time, item.home_time,
            item.title + (f" ({_('cancelled')})" if item.cancelled else ""), item.location)

    ws = sheet("Proxies", [22, 22, 26, 40, 28])
    header(ws, _("Grantor"), _("Holder"), _("Status"), _("Signatory"), _("Submitted"))
    for letter in report.proxies:
        row(ws, letter.grantor, letter.holder, letter.status, letter.signatory, letter.submitted)

    ws = sheet("Side events", [24, 40, 22, 40, 10])
    header(ws, _("Kind"), _("Side event"), _("City"), _("Contribution"), _("Count"))
    for event in report.side_events:
        for contributor, description, count in event.contributions or [("", "", None)]:
            row(ws, event.kind, event.title, contributor, description, count if count is not None
                else "")
        if event.total is not None:
            row(ws, event.kind, event.title, _("Total"), "", event.total)
    book.save(path)


# --- PDF ------------------------------------------------------------------------------------

# TrueType-outline Japanese fonts reportlab can embed (Debian: fonts-ipaexfont-gothic).
# Noto CJK ships CFF outlines, which reportlab cannot embed.
FONT_FILES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
)
CID_FONT = "HeiseiKakuGo-W5"  # built into reportlab and every PDF viewer with CJK support
_REGISTERED: dict[str, str] = {}


def pdf_font(choice: str = "") -> str:
    """Embed a Japanese TrueType font when one is installed, else use the CID font (not
    embedded: the viewer supplies the glyphs). `choice` (SOKAI_PDF_FONT) may name a .ttf
    file, or say "cid" to use the CID font."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    choice = choice.strip()
    if choice in _REGISTERED:
        return _REGISTERED[choice]
    candidates = [] if choice == "cid" else [choice, *FONT_FILES]
    for index, candidate in enumerate(filter(None, candidates)):
        if Path(candidate).is_file():
            name = f"SokaiJP{index}"
            try:
                pdfmetrics.registerFont(TTFont(name, candidate))
            except Exception:  # a CFF font or a broken file: try the next one
                continue
            _REGISTERED[choice] = name
            return name
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    _REGISTERED[choice] = CID_FONT
    return CID_FONT


class _LazyFlowables:
    """The list protocol platypus' build() uses (len, [0], del [0], [0:0] = …), filled
    from an iterator as pages are laid out: the document is streamed, never held whole."""

    def __init__(self, source: Iterable[Any]) -> None:
        self._head: list[Any] = []
        self._source = iter(source)

    LOOKAHEAD = 8  # enough for a heading kept with what follows it (keepWithNext)

    def _fill(self) -> None:
        while len(self._head) < self.LOOKAHEAD:
            nxt = next(self._source, None)
            if nxt is None:
                return
            self._head.append(nxt)

    def __len__(self) -> int:
        self._fill()
        return len(self._head)

    def __getitem__(self, index: int) -> Any:
        self._fill()
        return self._head[index]

    def __delitem__(self, index: int) -> None:
        self._fill()
        del self._head[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        # flowables[0:0] = parts: a split table's rest goes back in front.
        self._head[index] = value

    def insert(self, index: int, value: Any) -> None:
        self._head.insert(index, value)


PDF_ROWS_PER_TABLE = 50


def write_pdf(report: Report, participants: Iterable[PersonLine], path: Path, tick: Tick,
              generated: str = "") -> None:
    """The report as a document (A4), in the report's order; the participant list is laid out
    in tables of a few dozen rows as the rows arrive."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import (
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = pdf_font(current_settings().pdf_font)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    cramped = ParagraphStyle("cramped", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=body, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12, leading=17, spaceBefore=10,
                        spaceAfter=4, keepWithNext=1)
    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("LEADING", (0, 0), (-1, -1), 10),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP")])
    width = A4[0] - 30 * mm

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(text), style)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        t = Table(rows, colWidths=[w * width for w in widths], repeatRows=1)
        t.setStyle(grid)
        return t

    def story() -> Iterator[Any]:
        yield p(report.title, h1)
        yield p(_("Attendance summary and report"), small)
        if generated:
            yield p(_("Generated %(when)s", when=generated), small)
        yield p(_("Overview"), h2)
        yield table([[_("Network"), report.network], [_("Dates"), report.dates],
                     [_("Venue"), report.venue], [_("Host"), report.host],
                     [_("Participants"), _("%(count)d people", count=report.total)]],
                    [0.25, 0.75])
        yield p(_("Participants per city"), h2)
        rows: list[list[Any]] = [[_("City"), _("Participants"), _("Mark"), _("Proxy holder")]]
        for city in report.cities:
            rows.append([city.name, str(city.participants) if city.participants else "",
                         p(city.mark, small), city.holder])
        rows.append([_("Total"), str(report.total), "", ""])
        yield table(rows, [0.3, 0.15, 0.35, 0.2])
        yield Spacer(1, 4)
        yield p(_("Quorum") + ": " + report.quorum_line)
        yield p(_("Representatives"), h2)
        for person in report.representatives:
            lines = [p(f"【{person.city}】", body)]
            if person.name:
                lines.append(p(f"{person.name} ({person.title})"))
                if person.name_local:
                    lines.append(p(person.name_local))
            else:
                lines.append(p(person.title))
            yield KeepTogether(lines)
        yield p(_("Programme"), h2)
        rows = [[_("Date"), _("Host time (%(zone)s)", zone=report.host_zone),
                 _("Home time (%(zone)s)", zone=report.home_zone), _("Item"), _("Place")]]
        for item in report.programme:
            title = item.title + (f" ({_('cancelled')})" if item.cancelled else "")
            rows.append([item.day.isoformat(), item.host_time, f"({item.home_time})",
                         p(title, small), p(item.location, small)])
        yield table(rows, [0.13, 0.14, 0.14, 0.37, 0.22])
        yield p(_("Proxy letters"), h2)
        if report.proxies:
            rows = [[_("Grantor"), _("Holder"), _("Status"), _("Signatory")]]
            rows += [[x.grantor, x.holder, p(x.status, small), p(x.signatory, small)]
                     for x in report.proxies]
            yield table(rows, [0.22, 0.22, 0.26, 0.3])
        else:
            yield p(_("No proxy letter was submitted."))
        yield p(_("Side events"), h2)
        if not report.side_events:
            yield p(_("No side event was recorded."))
        for event in report.side_events:
            yield p(f"{event.title} — {event.kind}" + (f" · {event.venue}" if event.venue else "")
                    + (f" · {event.dates}" if event.dates else ""))
            rows = [[_("City"), _("Contribution"), _("Count")]]
            rows += [[city, p(description, small), "" if count is None else str(count)]
                     for city, description, count in event.contributions]
            if event.total is not None:
                rows.append([_("Total"), "", str(event.total)])
            yield table(rows, [0.3, 0.55, 0.15])
        yield PageBreak()
        yield p(_("Participants by city and role"), h2)
        head = [_("City"), _("Role"), _("Name"), _("Name (local script)"), _("Title")]
        shares = [0.12, 0.15, 0.2, 0.2, 0.33]
        room = [share * width - 6 for share in shares]  # minus the cell padding
        chunk: list[list[Any]] = []
        for person in _ticking(participants, tick):
            cells = [person.city, person.role, person.name, person.name_local, person.title]
            # Plain strings are fast; only a cell too long for its column wraps as a paragraph.
            chunk.append([p(cell, cramped) if stringWidth(cell, font, 8) > space else cell
                          for cell, space in zip(cells, room, strict=True)])
            if len(chunk) == PDF_ROWS_PER_TABLE:
                yield table([head, *chunk], shares)
                chunk = []
        if chunk:
            yield table([head, *chunk], shares)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont(font, 7)
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{report.title} · {doc.page}")

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm, title=report.title,
                            author="Sokai", invariant=1)
    doc.build(_LazyFlowables(story()), onFirstPage=footer,
              onLaterPages=footer)
