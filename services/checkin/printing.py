"""Drawing badges into a PDF with services.pdf (a font per script, HarfBuzz shaping): name in
Latin and in local script, city in two languages, the role as a colour band and a word, the
assembly's title and dates, and a QR code carrying the badge code.

Two layouts: A4 sheets of four badges with cut marks, or one badge per page (badge printers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from models import BadgeLayout, DelegateRole

BADGE_W, BADGE_H = 95 * mm, 135 * mm
COLUMNS, ROWS = 2, 2
MARGIN = 5 * mm
QR_SIZE = 42 * mm
QR_MASK = 2  # vertical stripes of masking: no large light or dark areas on these codes
CUT = 4 * mm  # length of a cut mark, outside the badge

# The band's colour per role: representatives stand out, the press and staff are told apart
# from across the room.
ROLE_COLOURS = {
    DelegateRole.REPRESENTATIVE: "#b02a37",
    DelegateRole.DELEGATE: "#0d6efd",
    DelegateRole.STAFF: "#198754",
    DelegateRole.PERFORMER: "#6f42c1",
    DelegateRole.INTERPRETER: "#fd7e14",
    DelegateRole.PRESS: "#212529",
    DelegateRole.OBSERVER: "#6c757d",
}


@dataclass(frozen=True)
class BadgeFace:
    code: str
    name_latin: str
    name_local: str
    name_lang: str  # the language whose Han forms the local name takes
    city: str
    city_local: str
    city_lang: str
    role: DelegateRole
    role_word: str  # in the assembly's languages: "Representative · 代表者"
    title: str
    title_local: str
    title_lang: str
    dates: str


def _text(canvas: Canvas, text: str, lang: str, x: float, top: float, width: float,
          size: float, bold: bool = False, max_lines: int = 2, centre: bool = True,
          colour: colors.Color = colors.black) -> float:
    """Wrapped text in any script, centred; returns the y below it."""
    from services.pdf.text import LINE_EM, draw_lines, wrap

    if not text:
        return top
    # Shrink a long name rather than cut it.
    while True:
        lines = wrap(text, lang, width, size, bold)
        if len(lines) <= max_lines or size <= 7:
            break
        size -= 1
    lines = lines[:max_lines]
    leading = size * LINE_EM
    canvas.setFillColor(colour)
    for i, line in enumerate(lines):
        used = (line[-1][0] + line[-1][1].width * size / 1000) if line else 0
        dx = (width - used) / 2 if centre else 0
        draw_lines(canvas, x + dx, top - i * leading, [line], size, leading)
    canvas.setFillColor(colors.black)
    return top - len(lines) * leading


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A QR code (level M, with its four-module quiet zone) as one path of dark runs: one
    rectangle per run of dark modules in a row, not one drawing object per module.

    The mask pattern is fixed: all eight are valid for every reader, and scoring the eight to
    pick one took four fifths of a badge's time (2,000 badges must print within a minute);
    the tests read every badge with zbar and the camera path with zxing."""
    import segno

    matrix = segno.make_qr(text, error="m", boost_error=False, mask=QR_MASK).matrix
    quiet = 4
    n = len(matrix) + 2 * quiet
    cell = size / n
    path = canvas.beginPath()
    for row, line in enumerate(matrix):
        top = y + size - (row + quiet + 1) * cell
        col = 0
        while col < len(line):
            if not line[col]:
                col += 1
                continue
            start = col
            while col < len(line) and line[col]:
                col += 1
            path.rect(x + (start + quiet) * cell, top, (col - start) * cell, cell)
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    canvas.drawPath(path, stroke=0, fill=1)


def draw_badge(canvas: Canvas, face: BadgeFace, x: float, y: float) -> None:
    """One badge with its lower-left corner at (x, y)."""
    inner = BADGE_W - 2 * 6 * mm
    left = x + 6 * mm
    top = y + BADGE_H - 6 * mm
    top = _text(canvas, face.title, "en", left, top, inner, 9, bold=True)
    top = _text(canvas, face.title_local, face.title_lang, left, top, inner, 8, max_lines=1)
    top = _text(canvas, face.dates, "en", left, top - 1 * mm, inner, 8)
    top -= 5 * mm
    top = _text(canvas, face.name_latin, face.name_lang, left, top, inner, 20, bold=True)
    if face.name_local and face.name_local != face.name_latin:
        top = _text(canvas, face.name_local, face.name_lang, left, top - 1 * mm, inner, 18,
                    bold=True)
    top -= 2 * mm
    top = _text(canvas, face.city, "en", left, top, inner, 12)
    if face.city_local and face.city_local != face.city:
        _text(canvas, face.city_local, face.city_lang, left, top, inner, 12)
    band_h = 16 * mm
    draw_qr(canvas, face.code, x + (BADGE_W - QR_SIZE) / 2, y + band_h + 2 * mm, QR_SIZE)
    canvas.setFillColor(colors.HexColor(ROLE_COLOURS.get(face.role, "#6c757d")))
    canvas.rect(x, y, BADGE_W, band_h, stroke=0, fill=1)
    _text(canvas, face.role_word, face.title_lang, left, y + band_h - 3 * mm, inner, 13,
          bold=True, max_lines=1, colour=colors.white)


def _cut_marks(canvas: Canvas, x: float, y: float) -> None:
    canvas.setLineWidth(0.3)
    canvas.setStrokeColor(colors.grey)
    for cx in (x, x + BADGE_W):
        for cy in (y, y + BADGE_H):
            dx = -1 if cx == x else 1
            dy = -1 if cy == y else 1
            canvas.line(cx + dx * 1 * mm, cy, cx + dx * (1 * mm + CUT), cy)
            canvas.line(cx, cy + dy * 1 * mm, cx, cy + dy * (1 * mm + CUT))


def write_badges(path: Path, faces: Iterable[BadgeFace], layout: BadgeLayout, total: int,
                 progress: Callable[[int], None], title: str) -> int:
    """Write the PDF; calls progress(badges done) now and then; returns the badge count."""
    from services.pdf.fonts import missing_font_files

    missing = missing_font_files()
    if missing:
        raise RuntimeError("fonts for the PDF are not installed: " + ", ".join(missing))
    single = layout is BadgeLayout.SINGLE
    size = (BADGE_W, BADGE_H) if single else A4
    canvas = Canvas(str(path), pagesize=size, pageCompression=1, invariant=1)
    canvas.setTitle(title)
    canvas.setCreator("Sokai")
    gap_x = (A4[0] - COLUMNS * BADGE_W) / (COLUMNS + 1)
    gap_y = (A4[1] - ROWS * BADGE_H) / (ROWS + 1)
    per_page = 1 if single else COLUMNS * ROWS
    done = 0
    for face in faces:
        slot = done % per_page
        if done and slot == 0:
            canvas.showPage()
        if single:
            x = y = 0.0
        else:
            col, row = slot % COLUMNS, slot // COLUMNS
            x = gap_x + col * (BADGE_W + gap_x)
            y = A4[1] - (row + 1) * (BADGE_H + gap_y)
            _cut_marks(canvas, x, y)
        draw_badge(canvas, face, x, y)
        done += 1
        if done % 50 == 0 or done == total:
            progress(done)
    if done == 0:
        _text(canvas, "—", "en", MARGIN, size[1] - MARGIN, size[0] - 2 * MARGIN, 12)
    canvas.showPage()
    canvas.save()
    return done
