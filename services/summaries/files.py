"""The report as files people use: CSV (Excel-safe), XLSX and PDF, each written as a stream.

Every writer takes the small parts of the report (services.report.Report), an iterator over
the participants (streamed from the database) and a path; it reports progress through
`tick(rows_done)` every few thousand rows so that the job's page can show it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from models.languages import language
from models.text import strip_unstorable
from services.decisions.record import DecisionLine
from services.i18n import _, show_date, show_day
from services.summaries.report import PersonLine, Report

Tick = Callable[[int], None]
TICK_EVERY = 2000

# Characters that make a spreadsheet read a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell as text: the characters a spreadsheet cannot hold (openpyxl's
    ILLEGAL_CHARACTERS_RE, XML 1.0) dropped — a bad cell never fails a job —, and a leading
    = + - @ tab or CR gets a single quote so Excel shows it as text instead of running it."""
    text = ILLEGAL_CHARACTERS_RE.sub("", strip_unstorable("" if value is None else str(value)))
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
        for line in report.at_venue:  # once check-in has started: who is at the venue
            put(_("Checked in"), line.code, line.name, _("Registered"), line.registered,
                line.checked_in, "", "", "", "")
        for person in _ticking(participants, tick):
            put(_("Participant"), person.city_code, person.city, "", "", "", person.role,
                person.name, person.name_local, person.title)
        # 会議結果: the minutes, then each decision with its signatories.
        for minutes in report.minutes:
            put(_("Minutes"), "", "", minutes.item, "", "", "", minutes.day.isoformat(), "",
                minutes.summary)
            for point in minutes.points:
                put(_("Minutes"), "", point.cities, minutes.item, "", "", point.kind,
                    point.title, "", point.text)
        for decision in report.decisions:
            put(_("Decision"), "", decision.place, decision.result, "", "", decision.kind,
                decision.title, decision.day.isoformat() if decision.day else "",
                "\n\n".join(text for _lang, text in decision.texts))
            for signer in decision.signatories:
                put(_("Signatory"), "", signer.city, decision.title, "", "", "", signer.name,
                    signer.name_local, signer.title)


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
            cell = WriteOnlyCell(ws, value=neutralise(name))  # a title may start with "="
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
    if report.at_venue:
        ws.append([])
        header(ws, _("City code"), _("City"), _("Registered"), _("Checked in"), "")
        for line in report.at_venue:
            row(ws, line.code, line.name, line.registered, line.checked_in, "")

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

    ws = sheet("Results", [12, 40, 18, 40, 80])
    header(ws, _("Results of the meeting"))
    header(ws, _("Date"), _("Item"), _("Kind"), _("City"), _("Minutes"))
    for minutes in report.minutes:
        row(ws, minutes.day.isoformat(), minutes.item, "", "", minutes.summary)
        for speaker in minutes.speakers:
            row(ws, "", minutes.item, _("Speaker"), speaker.city,
                f"{speaker.name} ({speaker.title})" if speaker.title else speaker.name)
        for point in minutes.points:
            row(ws, "", minutes.item, point.kind, point.cities,
                "\n".join(filter(None, [point.title, point.text])))
    for decision in report.decisions:
        ws.append([])
        header(ws, decision.title)
        row(ws, _("Kind"), decision.kind)
        row(ws, _("Date"), decision.day.isoformat() if decision.day else "")
        row(ws, _("Result"), decision.result)
        row(ws, _("Attendance"), decision.attendance)
        for lang, text in decision.texts:
            row(ws, language(lang).name, text)
        for signer in decision.signatories:
            row(ws, _("Signatory"), signer.city, signer.name, signer.name_local, signer.title)
    book.save(path)


# --- PDF ------------------------------------------------------------------------------------

PDF_SAMPLE_ROWS = 400  # the participant rows the column widths are measured on


def write_pdf(report: Report, participants: Iterable[PersonLine], path: Path, tick: Tick,
              generated: str = "") -> None:
    """The report as a document (A4), in the report's order, every script shaped and its
    font embedded (services.pdf). Tables take column widths that fit their headers and
    repeat the header on every page; the participant list is streamed row by row."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

    from services.pdf.flowables import LiveTable, TableLayout, TextBlock
    from services.pdf.fonts import font_name, missing_font_files
    from services.pdf.text import LINE_EM, draw_lines, fit_columns, wrap

    missing = missing_font_files()
    if missing:
        raise RuntimeError("fonts for the PDF are not installed: " + ", ".join(missing))
    lang = report.language
    margin = 15 * mm
    width = A4[0] - 2 * margin - 12  # the frame pads 6 pt on each side

    def heading(text: str, size: float = 12) -> TextBlock:
        block = TextBlock(text, size, lang, bold=True, space_after=4)
        block.spaceBefore = 8
        block.keepWithNext = 1
        return block

    def text(value: str, size: float = 9) -> TextBlock:
        return TextBlock(value, size, lang)

    def table(header: list[str], rows: Iterable[tuple[list[str], str]],
              sample: list[list[str]] | None = None) -> LiveTable:
        """rows: (cells, the language whose Han forms the row's names take)."""
        rows = list(rows) if sample is None else rows
        measured = sample if sample is not None else [cells for cells, _ in rows]
        layout = TableLayout(header, [], header_lang=lang)
        layout.widths = fit_columns(header, measured, width, layout.size, layout.padding,
                                    lang=lang)
        return LiveTable(layout, (layout.lay_row(cells, row_lang) for cells, row_lang in rows))

    def story() -> Iterator[Any]:
        yield TextBlock(report.title, 16, lang, bold=True, space_after=4)
        yield text(_("Attendance summary and report"), 7.5)
        if generated:
            yield text(_("Generated %(when)s", when=generated), 7.5)
        yield heading(_("Overview"))
        yield table([_("Item"), _("Details")], [
            ([_("Network"), report.network], lang), ([_("Sitting days"), report.sitting], lang),
            ([_("Dates"), report.dates], lang),
            ([_("Venue"), report.venue], lang), ([_("Host"), report.host], lang),
            ([_("Participants"), _("%(count)d people", count=report.total)], lang)])
        yield heading(_("Participants per city"))
        yield table([_("City"), _("Participants"), _("Mark"), _("Proxy holder")], [
            *(([c.name, str(c.participants) if c.participants else "", c.mark, c.holder], lang)
              for c in report.cities),
            ([_("Total"), str(report.total), "", ""], lang)])
        yield Spacer(1, 4)
        yield text(_("Quorum") + ": " + report.quorum_line)
        if report.at_venue:
            yield heading(_("At the venue"))
            yield table([_("City"), _("Registered"), _("Checked in")], [
                *(([line.name, str(line.registered), str(line.checked_in)], lang)
                  for line in report.at_venue),
                ([_("Total"), str(sum(v.registered for v in report.at_venue)),
                  str(sum(v.checked_in for v in report.at_venue))], lang)])
        yield heading(_("Representatives"))
        for entry in report.roll:
            yield TextBlock(entry.heading, 9, lang, bold=True, space_after=0)
            yield TextBlock(entry.english, 9, "en")
            if entry.second:
                yield TextBlock(entry.second, 9, entry.second_lang)
        yield heading(_("Programme"))
        yield table([_("Date"), _("Host time (%(zone)s)", zone=report.host_zone),
                     _("Home time (%(zone)s)", zone=report.home_zone), _("Item"), _("Place")],
                    [([show_date(item.day), item.host_time, f"({item.home_time})",
                       item.title + (f" ({_('cancelled')})" if item.cancelled else ""),
                       item.location], lang) for item in report.programme])
        yield heading(_("Proxy letters"))
        if report.proxies:
            yield table([_("Grantor"), _("Holder"), _("Status"), _("Signatory")],
                        [([x.grantor, x.holder, x.status, x.signatory], lang)
                         for x in report.proxies])
        else:
            yield text(_("No proxy letter was submitted."))
        yield heading(_("Side events"))
        if not report.side_events:
            yield text(_("No side event was recorded."))
        for event in report.side_events:
            title = text(f"{event.title} — {event.kind}"
                         + (f" · {event.venue}" if event.venue else "")
                         + (f" · {event.dates}" if event.dates else ""))
            title.spaceBefore, title.keepWithNext = 6, 1
            yield title
            rows = [([city, description, "" if count is None else str(count)], lang)
                    for city, description, count in event.contributions]
            if event.total is not None:
                rows.append(([_("Total"), "", str(event.total)], lang))
            yield table([_("City"), _("Contribution"), _("Count")], rows)
        yield from outcome()
        yield PageBreak()
        yield heading(_("Participants by city and role"))
        people = ((([p.city, p.role, p.name, p.name_local, p.title], p.lang or lang))
                  for p in _ticking(participants, tick))
        sample = list(islice(people, PDF_SAMPLE_ROWS))
        yield table([_("City"), _("Role"), _("Name"), _("Name (local script)"), _("Title")],
                    chain(sample, people), sample=[cells for cells, _lang in sample])

    def outcome() -> Iterator[Any]:
        """会議結果 as the seed prints it: per day, each item's summary, speakers and points;
        then each decision (the declaration) with its texts and signatories."""
        if not report.minutes and not report.decisions:
            return
        yield heading(_("Results of the meeting"))
        day = None
        for number, minutes in enumerate(report.minutes, 1):
            if minutes.day != day:
                day = minutes.day
                yield TextBlock(show_day(day), 10, lang, bold=True, space_after=2)
            yield TextBlock(f"{number} {minutes.item}", 9.5, lang, bold=True, space_after=2)
            if minutes.summary:
                yield text(minutes.summary)
            if minutes.speakers:
                yield text(_("Speakers") + ": " + "; ".join(
                    f"{s.shown or s.name} ({s.city}{', ' + s.title if s.title else ''})"
                    for s in minutes.speakers), 8)
            for index, point in enumerate(minutes.points, 1):
                yield text(f"({index}) {point.title}" + (f" ({point.note})" if point.note
                                                          else ""))
                if point.text:
                    yield text(point.text, 8.5)
        for decision in report.decisions:
            yield from declaration(decision)

    def declaration(decision: DecisionLine) -> Iterator[Any]:
        yield heading(decision.title)
        yield text(" · ".join(filter(None, [decision.kind, show_date(decision.day, "long"),
                                             decision.place])), 8)
        yield text(_("Result") + ": " + decision.result)
        yield text(_("Attendance") + ": " + decision.attendance, 8)
        for text_lang, body in decision.texts:
            if len(decision.texts) > 1:
                yield TextBlock(language(text_lang).name, 8, lang, bold=True, space_after=1)
            for paragraph in body.split("\n"):
                yield TextBlock(paragraph, 9, text_lang, space_after=2)
        if decision.signatories:
            yield text(_("Signed at %(place)s on %(date)s by:", place=decision.place,
                         date=show_date(decision.day, "long")))
            yield table([_("City"), _("Name"), _("Name (local script)"), _("Title")],
                        [([s.city, s.name, s.name_local, s.title], lang)
                         for s in decision.signatories])

    def footer(canvas: Any, doc: Any) -> None:
        lines = wrap(f"{report.title} · {doc.page}", lang, 150 * mm, 7)
        line_width = sum(run.width for _x, run in lines[0]) * 7 / 1000 if lines[0] else 0
        draw_lines(canvas, A4[0] - margin - line_width, 12 * mm, lines[:1], 7, 7 * LINE_EM)

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=margin, bottomMargin=18 * mm, title=report.title,
                            author="Sokai", invariant=1, lang=lang,
                            # Every page starts with this font selected: one that is embedded
                            # (reportlab's default Helvetica never is).
                            initialFontName=font_name("base"))
    doc.build(list(story()), onFirstPage=footer, onLaterPages=footer)
