"""分单位明细 written: every unit's figures, table by table in the official orientation, printable.

Where each value goes is `forms.detail_layout.DetailLayout`; this writes the bands there,
printed at `PRINT_SCALE` (the bands are as wide as that holds, in the widths LibreOffice
draws), a page break before a band that would not fit under the ones above it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.forms.detail_layout import (
    GAP,
    PAGE_HEIGHT,
    PRINT_SCALE,
    UNIT_COLS,
    WIDTH_CODE,
    WIDTH_NAME,
    WIDTH_VALUE,
    Band,
    DetailLayout,
)
from xxgk.forms.layout import a1
from xxgk.write.guide import lines_needed
from xxgk.write.rowstream import Kind, StreamedSheet

TITLE_ROW = 0
FONT_POINTS = 8
ROW_POINTS = 9.5  # a unit's row
GAP_POINTS = 6  # the blank row between bands
LINE_POINTS = 10  # a line of a header's wrapped text
TITLE_POINTS = 40  # the sheet's two title rows


class DetailFormats:
    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "宋体", "font_size": FONT_POINTS, "valign": "vcenter", "border": 1}
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 9})
        self.head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True})
        # a long unit name or a wide number shrinks into its cell rather than being cut
        self.text = wb.add_format({**base, "shrink": True})
        self.number = wb.add_format({**base, "num_format": "General", "shrink": True})
        self.total_label = wb.add_format({**base, "bold": True, "shrink": True})
        self.total = wb.add_format({**base, "bold": True, "num_format": "General", "shrink": True})


def write_detail(wb: Workbook, ws: StreamedSheet, layout: DetailLayout, title: str,
                 units: list[tuple[str, str, dict[str, Any]]], totals: dict[str, Decimal]) -> None:
    """The sheet: ``units`` are (code, name, values by cell key); totals are the 合计 cached."""
    from xxgk.write.formsheet import cell_number

    fx = DetailFormats(wb)
    ws.write_string(TITLE_ROW, 0, title, fx.title)
    ws.write_string(TITLE_ROW + 1, 0, "各表按官方表式排列：每行一个单位，各列为该表的栏目（行次、栏次见表头）；合计行为各单位之和。",
                    fx.note)
    ws.set_column(0, 0, WIDTH_CODE)
    ws.set_column(1, 1, WIDTH_NAME)
    widest = max((b.last_col for b in layout.bands), default=UNIT_COLS)
    ws.set_column(UNIT_COLS, widest, WIDTH_VALUE)
    heights: list[float] = []
    for band in layout.bands:
        for r in range(band.first, band.total_row + 1):
            ws.set_row(r, ROW_POINTS)
        for r in range(band.total_row + 1, band.total_row + 1 + GAP):
            ws.set_row(r, GAP_POINTS)
        header = _write_header(ws, fx, layout, band)
        heights.append(header + ROW_POINTS * (len(units) + 1) + GAP_POINTS * GAP)
        keys = sorted((k for k, b in layout.band_of.items() if b is band), key=layout.col.__getitem__)
        columns: list[tuple[int, Format, Kind]] = [
            (0, fx.text, "text"), (1, fx.text, "text"), *((layout.col[k], fx.number, "number") for k in keys)]
        ws.stream_rows(band.first, len(units), columns, partial(_unit_rows, units, keys))
        r = band.total_row
        ws.write_string(r, 0, "合计", fx.total_label)
        ws.write_string(r, 1, f"{len(units)}个单位", fx.total_label)
        for key in keys:
            col = layout.col[key]
            value = cell_number(totals[key])
            if units:
                ws.write_formula(r, col, f"=SUM({a1(band.first, col)}:{a1(r - 1, col)})", fx.total, value)
            else:
                ws.write_number(r, col, value, fx.total)
    breaks = _page_breaks(layout, heights)
    first = layout.bands[0] if layout.bands else None
    if first is not None:
        ws.freeze_panes(first.first, UNIT_COLS)
        if len(layout.bands) == 1:
            ws.repeat_rows(first.top, first.first - 1)
    ws.set_h_pagebreaks(breaks)
    ws.repeat_columns(0, UNIT_COLS - 1)
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_print_scale(PRINT_SCALE)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(2)


def _unit_rows(units: list[tuple[str, str, dict[str, Any]]], keys: list[str]) -> Iterator[list[Any]]:
    """A band's rows: each unit's code, name and figures (0 where it has none)."""
    from xxgk.write.formsheet import cell_number

    for code, name, values in units:
        get = values.get
        yield [code, name, *[cell_number(get(key, 0)) for key in keys]]


def _page_breaks(layout: DetailLayout, heights: list[float]) -> list[int]:
    """Rows to start a new page at: before a band that would not fit under the ones above
    it on a landscape A4 page printed at `PRINT_SCALE`."""
    room = PAGE_HEIGHT * 100 / PRINT_SCALE
    used: float = TITLE_POINTS
    breaks: list[int] = []
    for band, height in zip(layout.bands, heights, strict=True):
        if used + height > room and used > TITLE_POINTS:
            breaks.append(band.top)
            used = 0
        used += height
    return breaks


def _write_header(ws: Worksheet, fx: DetailFormats, layout: DetailLayout, band: Band) -> float:
    """The band's header cells; the points its rows take."""
    lines: dict[int, float] = {}
    for text, r0, c0, r1, c1 in layout.header_texts(band):
        if (r0, c0) == (r1, c1):
            ws.write_string(r0, c0, text, fx.head)
        else:
            ws.merge_range(r0, c0, r1, c1, text, fx.head)
        width = (WIDTH_CODE if c0 == 0 else WIDTH_NAME if c0 == 1 else WIDTH_VALUE) * (c1 - c0 + 1)
        need = lines_needed(text, width * 11 / FONT_POINTS) / (r1 - r0 + 1)
        lines[r0] = max(lines.get(r0, 1), need)
    total = 0.0
    for r in range(band.top, band.first):
        height = LINE_POINTS * math.ceil(lines.get(r, 1)) + 2
        ws.set_row(r, height)
        total += height
    return total
