"""Cell formats and page setup shared by the summary's own sheets (the form sheets use `Styles`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.forms.detail_layout import PAGE_HEIGHT, PAGE_WIDTH, drawn
from xxgk.write.guide import lines_needed

DEFAULT_ROW = 15  # points of a row left at its default height
TITLE_ROW = 20  # points of a title row (14-point 黑体)
SQUEEZE = 0.8  # a sheet is shrunk to this much of its fit-to-width scale at most, to save a page

STATUS_FILL = {
    "valid": "#C6EFCE",
    "invalid": "#FFC7CE",
    "missing": "#F2F2F2",
    "duplicate": "#FFEB9C",
    "unexpected": "#FFEB9C",
    "conflict": "#FFC7CE",
    "exempt": "#DDEBF7",
}


class Formats:
    """Formats of the summary's own sheets (the form sheets use `Styles`)."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.head = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "text_wrap": True,
                                   "align": "center"})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.mono = wb.add_format({**base, "font_name": "Consolas", "font_size": 9})
        self.number = wb.add_format({**base, "num_format": "General"})
        self.percent = wb.add_format({**base, "num_format": "0.0%"})
        self.total_label = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6"})
        self.total = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6", "num_format": "General"})
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 10, "valign": "vcenter"})
        self.status = {
            s: wb.add_format({**base, "bg_color": fill, "align": "center"}) for s, fill in STATUS_FILL.items()
        }
        self.key = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})


def print_setup(ws: Worksheet, *, header_rows: tuple[int, int], last_col: int, last_row: int,
                widths: Sequence[float], height: float) -> None:
    """A4 landscape, one page wide, header rows on every page, page numbers; ``widths`` are the
    columns' (character units), ``height`` the printed rows' (points): see `pages_high`."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(*header_rows)
    ws.fit_to_pages(1, pages_high(widths, height))
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.print_area(0, 0, max(last_row, header_rows[1]), last_col)
    ws.set_footer("&C第 &P 页，共 &N 页")


def pages_high(widths: Sequence[float], height: float) -> int:
    """Pages a sheet is printed on, one page wide: as many as its rows take at the scale that
    fits its columns (in the widths LibreOffice draws), one fewer where shrinking it to
    `SQUEEZE` of that scale saves a page."""
    scale = min(1.0, PAGE_WIDTH / sum(drawn(w) for w in widths))
    return max(1, math.ceil(height * scale * SQUEEZE / PAGE_HEIGHT))


def fit_rows(ws: Worksheet, rows: list[list[str]], widths: tuple[float, ...], first: int, points: float = 13,
             single: float | None = None) -> float:
    """Row heights that show every wrapped text in full (LibreOffice never grows a row itself),
    a one-line row ``single`` points high (by default left as it is); the points the rows take."""
    total = 0.0
    for i, texts in enumerate(rows):
        lines = max((lines_needed(t, w) for t, w in zip(texts, widths, strict=True) if t), default=1)
        if lines > 1:
            ws.set_row(first + i, points * lines + 4)
        elif single is not None:
            ws.set_row(first + i, single)
        total += points * lines + 4 if lines > 1 else single or DEFAULT_ROW
    return total


def table_head(ws: Worksheet, fx: Formats, row: int, headers: tuple[str, ...], widths: tuple[float, ...]) -> float:
    """The header row of a table with these column widths; the points it takes."""
    for c, (text, width) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(row, c, text, fx.head)
        ws.set_column(c, c, width)
    height = 13 * max(lines_needed(h, w) for h, w in zip(headers, widths, strict=True)) + 6
    ws.set_row(row, height)
    return height
