"""Where each unit's value sits on 分单位明细: the bands the summary writes and reads back.

Units run down, a table's columns across (its row label over them, the official column
headers and 栏次 below); a one-column table such as gk2018 puts its rows across instead
(行次 below each label).  Blocks are packed into bands no wider than a landscape A4
page holds at the print scale, measured in the widths LibreOffice draws (`band_cols`), one
band under the other.  `DetailLayout` is the one place that says
where a unit's value sits: the summary writes there, its totals sum there, and
`read.summary_figures` reads last year's figures back from there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from xxgk.forms.layout import a1, header_depth, header_spans
from xxgk.forms.model import Cell, Form, Row, Table
from xxgk.forms.xlref import quote

DETAIL_SHEET = "分单位明细"
FIRST_BAND = 2  # row 0 is the title, row 1 says what the sheet holds
UNIT_COLS = 2  # A: 代码, B: 单位
# 分单位明细 as printed: column widths in Excel's character units, and what LibreOffice draws
WIDTH_CODE, WIDTH_NAME, WIDTH_VALUE = 5, 15, 4
PRINT_SCALE = 60  # percent: two bands of a few dozen units on one landscape A4 page
PAGE_WIDTH, PAGE_HEIGHT = 784, 480  # points of landscape A4 inside the margins (and above the footer)


def drawn(width: float) -> float:
    """Points LibreOffice draws a column ``width`` character units wide (Excel draws 3/4 of it:
    LibreOffice, without Calibri, counts a character unit as 7 points, not 7 pixels)."""
    return 7 * width + 5


def band_cols() -> int:
    """Value columns a band holds: as many as fit across the page beside 代码 and 单位 at
    `PRINT_SCALE`, in the widths LibreOffice draws (a wider block gets a band of its own)."""
    room = PAGE_WIDTH * 100 / PRINT_SCALE - drawn(WIDTH_CODE) - drawn(WIDTH_NAME)
    return int(room // drawn(WIDTH_VALUE))


BAND_COLS = band_cols()
LEGACY_BAND_COLS = (21,)  # what summaries written before this layout used: still read back
GAP = 1  # blank rows between bands
FLAT_HEADER_ROW, FLAT_FIRST_ROW, FLAT_FIRST_COL = 1, 2, 2  # the sheet before the bands


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

    def __init__(self, form: Form, units: int, columns: int = BAND_COLS) -> None:
        """``columns``: value columns a band holds (`BAND_COLS`; an older summary's to read it back)."""
        self.form, self.units = form, units
        self.bands: list[Band] = []
        self.col: dict[str, int] = {}
        self.band_of: dict[str, Band] = {}
        top = FIRST_BAND
        valued = {(c.table.id, c.row.id) for c in form.value_cells}  # header rows carry no values
        for sheet in form.sheets:
            rows = [(t, r) for t in form.tables if t.sheet == sheet for r in t.rows if (t.id, r.id) in valued]
            for group in _pack([len(t.columns) for t, _ in rows], columns):
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


def _pack(widths: list[int], columns: int) -> list[list[int]]:
    """Consecutive blocks in as few bands of ≤ ``columns`` columns as possible, evened out
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
    limit = max(columns, max(widths))
    fewest = len(greedy(limit))
    floor = max(max(widths), math.ceil(sum(widths) / fewest))
    return next(greedy(n) for n in range(floor, limit + 1) if len(greedy(n)) == fewest)


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
