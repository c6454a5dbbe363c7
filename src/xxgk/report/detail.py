"""分单位明细: every unit's figures, table by table in the official orientation, printable.

Units run down, a table's columns across (its row label over them, the official column
headers and 栏次 below); a one-column table such as gk2018 puts its rows across instead
(行次 below each label).  Blocks are packed into bands no wider than a landscape A4
page holds legibly, one band under the other, a page break before each.  `DetailLayout`
is the one place that says where a unit's value sits: the summary writes there, its
totals sum there, and `unit_figures` reads last year's figures back from there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.forms.layout import a1, header_depth, header_spans
from xxgk.forms.model import Cell, Form, Row, Table
from xxgk.forms.xlref import quote
from xxgk.read.open import open_file
from xxgk.write.guide import lines_needed

DETAIL_SHEET = "分单位明细"
TITLE_ROW = 0
FIRST_BAND = 2  # row 1 says what the sheet holds
UNIT_COLS = 2  # A: 代码, B: 单位
BAND_COLS = 21  # value columns a band holds, at most (a wider block gets a band of its own)
WIDTH_CODE, WIDTH_NAME, WIDTH_VALUE = 11, 24, 8.5
GAP = 1  # blank rows between bands
ROW_POINTS = 15  # a unit's row (the default height)
TITLE_POINTS = 40  # the sheet's two title rows
PAGE_WIDTH, PAGE_HEIGHT = 784, 480  # printable points of landscape A4 within the margins and footer


def short_label(text: str) -> str:
    """A row label without its trailing remark: （一）收到申请数（…说明…） → （一）收到申请数."""
    shorter = re.sub(r"[（(][^（）()]*[）)]$", "", text).strip()
    return shorter or text


@dataclass(frozen=True)
class Block:
    """One table row's value cells, side by side from ``col``."""

    table: Table
    row: Row
    col: int

    @property
    def width(self) -> int:
        return len(self.table.columns)


@dataclass(frozen=True)
class Band:
    """Header rows from ``top`` (caption, row labels, column headers, 行次/栏次), then a row per
    unit from ``first`` and the 合计 row."""

    blocks: tuple[Block, ...]
    top: int
    depth: int
    first: int
    units: int

    @property
    def total_row(self) -> int:
        return self.first + self.units

    @property
    def last_col(self) -> int:
        return max(b.col + b.width - 1 for b in self.blocks)

    @property
    def captions(self) -> bool:
        return any(b.table.title for b in self.blocks)

    @property
    def column_levels(self) -> int:
        """Header rows of the widest column heading among the band's tables."""
        return max((header_depth(b.table) for b in self.blocks if b.width > 1), default=0)


class DetailLayout:
    """Where each value cell of each unit sits on 分单位明细, for ``units`` units."""

    def __init__(self, form: Form, units: int) -> None:
        self.form, self.units = form, units
        self.bands: list[Band] = []
        self.col: dict[str, int] = {}
        self.band_of: dict[str, Band] = {}
        top = FIRST_BAND
        valued = {(c.table.id, c.row.id) for c in form.value_cells}  # header rows carry no values
        for sheet in form.sheets:
            rows = [(t, r) for t in form.tables if t.sheet == sheet for r in t.rows if (t.id, r.id) in valued]
            for group in _pack([len(t.columns) for t, _ in rows]):
                col, blocks = UNIT_COLS, []
                for i in group:
                    table, row = rows[i]
                    blocks.append(Block(table, row, col))
                    col += len(table.columns)
                probe = Band(tuple(blocks), top, 0, 0, units)
                depth = int(probe.captions) + 1 + probe.column_levels + 1
                band = Band(tuple(blocks), top, depth, top + depth, units)
                self.bands.append(band)
                for b in blocks:
                    for j, column in enumerate(b.table.columns):
                        key = _key(form, b.table, b.row.id, column.id)
                        self.col[key] = b.col + j
                        self.band_of[key] = band
                top = band.total_row + 1 + GAP

    def range(self, key: str) -> str:
        """The units' cells of ``key`` as a reference from another sheet."""
        band, col = self.band_of[key], self.col[key]
        return f"{quote(DETAIL_SHEET)}!{a1(band.first, col)}:{a1(band.total_row - 1, col)}"

    def header_texts(self, band: Band) -> list[tuple[str, int, int, int, int]]:
        """(text, first row, first col, last row, last col) of every header cell of ``band``."""
        out: list[tuple[str, int, int, int, int]] = []
        code_row = band.first - 1
        label_row = band.top + int(band.captions)
        out.append(("代码", band.top, 0, code_row - 1, 0))
        out.append(("单位", band.top, 1, code_row - 1, 1))
        across = {b.width > 1 for b in band.blocks}
        out.append(("/".join(x for x, on in (("行次", False in across), ("栏次", True in across)) if on),
                    code_row, 0, code_row, 1))
        if band.captions:
            for table, first, last in _runs(band.blocks):
                out.append((table.title, band.top, first, band.top, last))
        for b in band.blocks:
            last = b.col + b.width - 1
            if b.width == 1:
                out.append((short_label(b.row.label), label_row, b.col, code_row - 1, b.col))
                out.append((b.row.code, code_row, b.col, code_row, b.col))
                continue
            out.append((f"第{b.row.code}行 {b.row.label}", label_row, b.col, label_row, last))
            levels = header_depth(b.table)
            for s in header_spans(b.table):
                bottom = code_row - 1 if s.last_row == levels - 1 else label_row + 1 + s.last_row
                out.append((s.text, label_row + 1 + s.first_row, b.col + s.first_col, bottom, b.col + s.last_col))
            for j, column in enumerate(b.table.columns):
                out.append((column.code, code_row, b.col + j, code_row, b.col + j))
        return out


def _key(form: Form, table: Table, row_id: str, column_id: str) -> str:
    return next(c.key for c in form.table_cells[table.id] if c.row.id == row_id and c.column.id == column_id)


def _runs(blocks: tuple[Block, ...]) -> list[tuple[Table, int, int]]:
    """Each table's consecutive blocks in a band: (table, first col, last col)."""
    out: list[tuple[Table, int, int]] = []
    for b in blocks:
        if out and out[-1][0] is b.table:
            out[-1] = (b.table, out[-1][1], b.col + b.width - 1)
        else:
            out.append((b.table, b.col, b.col + b.width - 1))
    return out


def _pack(widths: list[int]) -> list[list[int]]:
    """Consecutive blocks in as few bands of ≤ BAND_COLS columns as possible, evened out
    (65 one-column rows: 17+16+16+16, not 18+18+18+11)."""
    def greedy(limit: int) -> list[list[int]]:
        bands: list[list[int]] = []
        used = limit + 1
        for i, w in enumerate(widths):
            if used + w > limit:
                bands.append([])
                used = 0
            bands[-1].append(i)
            used += w
        return bands

    if not widths:
        return []
    limit = max(BAND_COLS, max(widths))
    fewest = len(greedy(limit))
    floor = max(max(widths), math.ceil(sum(widths) / fewest))
    return next(greedy(n) for n in range(floor, limit + 1) if len(greedy(n)) == fewest)


# ---------------------------------------------------------------- writing


class DetailFormats:
    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 9, "valign": "vcenter", "border": 1}
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 9})
        self.head = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True})
        self.text = wb.add_format({**base})
        self.number = wb.add_format({**base, "num_format": "General"})
        self.total_label = wb.add_format({**base, "bold": True})
        self.total = wb.add_format({**base, "bold": True, "num_format": "General"})


def write_detail(wb: Workbook, ws: Worksheet, layout: DetailLayout, title: str,
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
        header = _write_header(ws, fx, layout, band)
        heights.append(header + ROW_POINTS * (len(units) + 1) + ROW_POINTS * GAP)
        keys = [k for k, b in layout.band_of.items() if b is band]
        for i, (code, name, values) in enumerate(units):
            r = band.first + i
            ws.write_string(r, 0, code, fx.text)
            ws.write_string(r, 1, name, fx.text)
            for key in keys:
                ws.write_number(r, layout.col[key], cell_number(values.get(key, 0)), fx.number)
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
    breaks = _page_breaks(layout, heights, widest)
    first = layout.bands[0] if layout.bands else None
    if first is not None:
        ws.freeze_panes(first.first, UNIT_COLS)
        if len(layout.bands) == 1:
            ws.repeat_rows(first.top, first.first - 1)
    ws.set_h_pagebreaks(breaks)
    ws.repeat_columns(0, UNIT_COLS - 1)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.hide_gridlines(2)


def _page_breaks(layout: DetailLayout, heights: list[float], last_col: int) -> list[int]:
    """Rows to start a new page at: before a band that would not fit under the ones above
    it on a landscape A4 page printed one page wide (Excel's column widths: LibreOffice
    draws wider, shrinking the page more, so a band estimated to fit does fit)."""
    width = sum(w * 7 + 5 for w in (WIDTH_CODE, WIDTH_NAME, *[WIDTH_VALUE] * (last_col - 1))) * 0.75
    scale = min(1.0, PAGE_WIDTH / width)
    room = PAGE_HEIGHT / scale
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
        need = lines_needed(text, width * 11 / 9) / (r1 - r0 + 1)
        lines[r0] = max(lines.get(r0, 1), need)
    total = 0.0
    for r in range(band.top, band.first):
        height = 12 * math.ceil(lines.get(r, 1)) + 3
        ws.set_row(r, height)
        total += height
    return total


# ---------------------------------------------------------------- reading back


def unit_figures(path: Path | str, form: Form) -> dict[str, dict[str, Decimal]]:
    """Every unit's own figures by unit code, read back from a summary's 分单位明细 (last year's
    values for units' returns checked against a district summary): the banded sheet this
    module writes, or the one-row-per-unit sheet of earlier versions; empty when the sheet is
    not there or not laid out for ``form``.  The file is vetted as a return is
    (`open.open_file`); raises `ReadError` when it cannot be read."""
    book = open_file(path)
    try:
        if DETAIL_SHEET not in book.names:
            return {}
        rows = book.grid(DETAIL_SHEET).rows
    finally:
        book.close()
    return _banded(rows, form) or _flat(rows, form)


def _banded(rows: list[list[Any]], form: Form) -> dict[str, dict[str, Decimal]]:
    probe = DetailLayout(form, 0)
    if not probe.bands:
        return {}
    first = probe.bands[0].first
    units = 0
    while first + units < len(rows) and _at(rows, first + units, 0) not in ("合计", ""):
        units += 1
    layout = DetailLayout(form, units)
    for band in layout.bands:
        for text, r0, c0, _, _ in layout.header_texts(band):
            if _at(rows, r0, c0) != text:
                return {}
        if _at(rows, band.total_row, 0) != "合计":
            return {}
    out: dict[str, dict[str, Decimal]] = {}
    for i in range(units):
        code = _at(rows, first + i, 0)
        out[code] = {k: _decimal(_at(rows, layout.band_of[k].first + i, c, raw=True)) for k, c in layout.col.items()}
    return out


def _at(rows: list[list[Any]], r: int, c: int, raw: bool = False) -> Any:
    value = rows[r][c] if r < len(rows) and c < len(rows[r]) else ""
    return value if raw else str(value).strip()


FLAT_HEADER_ROW, FLAT_FIRST_ROW, FLAT_FIRST_COL = 1, 2, 2  # the sheet before the bands


def table_tag(table: Table) -> str:
    """Short name of a table: its Chinese number (三、… → 三), else its title or id."""
    title = table.title.strip()
    if "、" in title:
        return title.split("、", 1)[0]
    return title or table.id


def column_header(form: Form, cell: Cell) -> str:
    """The header of a value cell on the one-row-per-unit 分单位明细 of earlier versions:
    行次 and short label (one-column forms), else table-row-column such as 三-1-自然人."""
    single = len(form.tables) == 1 and len(form.tables[0].columns) == 1
    unit = f"（{cell.row.unit}）" if cell.row.unit == "万元" else ""
    if single:
        return f"{cell.row.code} {short_label(cell.row.label)}{unit}"
    table = cell.table
    parts = [table_tag(table)]
    if len(table.rows) > 1:
        parts.append(cell.row.code if len(cell.row.label) > 8 else cell.row.label)
    if len(table.columns) > 1:
        column = cell.column.label
        if sum(c.label == column for c in table.columns) > 1 and cell.column.groups:
            column = f"{cell.column.groups[-1]}/{column}"
        parts.append(column)
    return "-".join(parts) + unit


def _flat(rows: list[list[Any]], form: Form) -> dict[str, dict[str, Decimal]]:
    cells = list(form.value_cells)
    header = rows[FLAT_HEADER_ROW] if len(rows) > FLAT_HEADER_ROW else []
    for i, cell in enumerate(cells):
        col = FLAT_FIRST_COL + i
        if col >= len(header) or header[col] != column_header(form, cell):
            return {}
    return {
        str(row[0]).strip(): {c.key: _decimal(row[FLAT_FIRST_COL + i]) for i, c in enumerate(cells)}
        for row in rows[FLAT_FIRST_ROW:]
        if row and str(row[0]).strip() and row[0] != "合计"
    }


def _decimal(value: Any) -> Decimal:
    """A number as python-calamine returns it (float, int or blank) as an exact Decimal."""
    if value in ("", None):
        return Decimal(0)
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    return Decimal(str(value))
