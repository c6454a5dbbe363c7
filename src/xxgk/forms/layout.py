"""Where every part of a form sits in its workbook.

The template writes cells here and the reader looks for them here, so the two
can never disagree about positions.  Rows and columns are 0-based, as in
xlsxwriter and python-calamine; `a1` turns them into Excel addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from xxgk.forms.model import Cell, Form, Table

SIGNATURE = ("单位负责人", "审核人", "填报人", "联系电话", "填报日期")
TITLE_ROW = 0
INFO_ROW = 1
FIRST_TABLE_ROW = 2


def a1(row: int, col: int) -> str:
    """0-based (row, col) to an A1 address."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@dataclass(frozen=True)
class Span:
    """A label covering a block of a table's grid, 0-based and inclusive.

    Header spans count rows from the table's first header row and columns from its
    first value column; row-group spans count rows from its first value row and
    columns from the leftmost label column (one column per group level).  The
    workbook writer and a Word writer place the same spans at their own offsets.
    """

    text: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int


def header_spans(table: Table) -> list[Span]:
    """The column headers of ``table``: each group label over its run of columns, then
    each column's own label down to the last header row (``header_depth`` rows)."""
    columns, depth = table.columns, header_depth(table)
    out = [
        Span(text, level, j, level, end)
        for level, (j, end, text) in group_runs([c.groups for c in columns])
    ]
    out += [Span(col.label, len(col.groups), j, depth - 1, j) for j, col in enumerate(columns)]
    return sorted(out, key=lambda s: (s.first_row, s.first_col))


def group_spans(table: Table) -> list[Span]:
    """The row-group labels of ``table`` (三、本年度办理结果 …), each merged down over its rows."""
    return [Span(text, i, level, end, level) for level, (i, end, text) in group_runs([r.groups for r in table.rows])]


def header_depth(table: Table) -> int:
    """Header rows of a table: one per column-group level plus the columns' own labels."""
    return 1 + max((len(c.groups) for c in table.columns), default=0)


def group_runs(groups: list[tuple[str, ...]]) -> list[tuple[int, tuple[int, int, str]]]:
    """(level, (first, last, label)) for every maximal run of items sharing a group prefix:
    one merged cell each, in a workbook (`header_spans`) or a Word table (`printed`)."""
    out = []
    for i, item in enumerate(groups):
        for level, text in enumerate(item):
            prefix = item[: level + 1]
            if i > 0 and groups[i - 1][: level + 1] == prefix:
                continue
            end = i
            while end + 1 < len(groups) and groups[end + 1][: level + 1] == prefix:
                end += 1
            out.append((level, (i, end, text)))
    return out


@dataclass
class TableLayout:
    table: Table
    caption_row: int | None
    header_top: int
    header_rows: int
    code_row: int | None
    first_row: int

    @cached_property
    def row_of(self) -> dict[str, int]:
        return {r.id: self.first_row + i for i, r in enumerate(self.table.rows)}

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.table.rows) - 1


@dataclass
class SheetLayout:
    name: str
    label_cols: int
    has_units: bool
    value_cols: int
    tables: list[TableLayout] = field(default_factory=list)
    signature_row: int | None = None

    @property
    def code_col(self) -> int:
        return self.label_cols

    @property
    def unit_col(self) -> int | None:
        return self.label_cols + 1 if self.has_units else None

    @property
    def value_col0(self) -> int:
        return self.label_cols + (2 if self.has_units else 1)

    @property
    def hint_col(self) -> int:
        return self.value_col0 + self.value_cols

    @property
    def note_col(self) -> int:
        return self.hint_col + 1

    @property
    def last_col(self) -> int:
        return self.note_col

    @property
    def last_row(self) -> int:
        end = self.tables[-1].last_row
        return end + 1 + len(SIGNATURE) if self.signature_row is not None else end


@dataclass(frozen=True)
class Place:
    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)


class Layout:
    """Positions of titles, headers, value cells, hints, notes and signature cells."""

    def __init__(self, form: Form, summary: bool = False) -> None:
        self.form = form
        self.summary = summary
        self.sheets: list[SheetLayout] = []
        self.tables: dict[str, TableLayout] = {}
        for name in form.sheets:
            tables = [t for t in form.tables if t.sheet == name]
            sheet = SheetLayout(
                name=summary_sheet_name(name, len(form.sheets)) if summary else name,
                label_cols=max(1 + max((len(r.groups) for r in t.rows), default=0) for t in tables),
                has_units=any(t.has_units for t in tables),
                value_cols=max(len(t.columns) for t in tables),
            )
            cursor = FIRST_TABLE_ROW
            grid = any(len(t.columns) > 1 for t in tables)  # 栏次 rows on every table of the sheet
            for k, table in enumerate(tables):
                if grid and len(table.columns) == 1 and k > 0:
                    # a one-column block's 栏次 row takes the blank row above its caption, so its
                    # values stay where templates without that row put them (returns in use)
                    cursor -= 1
                caption = cursor if table.title else None
                cursor += 1 if table.title else 0
                depth = header_depth(table)
                code_row = cursor + depth if grid else None
                first = cursor + depth + (1 if code_row is not None else 0)
                tl = TableLayout(table, caption, cursor, depth, code_row, first)
                sheet.tables.append(tl)
                self.tables[table.id] = tl
                cursor = tl.last_row + 2
            self.sheets.append(sheet)
        self.sheets[-1].signature_row = self.sheets[-1].tables[-1].last_row + 2

    def sheet(self, name: str) -> SheetLayout:
        return next(s for s in self.sheets if s.name == name)

    def sheet_of(self, table: Table) -> SheetLayout:
        return self.sheets[self.form.sheets.index(table.sheet)]

    @cached_property
    def places(self) -> dict[str, Place]:
        """Value cell of every form cell, by cell key."""
        out = {}
        for cell in self.form.cells.values():
            out[cell.key] = self.place(cell)
        return out

    def place(self, cell: Cell) -> Place:
        tl = self.tables[cell.table.id]
        sheet = self.sheet_of(cell.table)
        col = sheet.value_col0 + cell.table.columns.index(cell.column)
        return Place(sheet.name, tl.row_of[cell.row.id], col)

    def row_place(self, cell: Cell, col: int) -> Place:
        """Another column (hint, note, label…) on the row of ``cell``."""
        p = self.places[cell.key]
        return Place(p.sheet, p.row, col)

    def hint(self, cell: Cell) -> Place:
        return self.row_place(cell, self.sheet_of(cell.table).hint_col)

    def note(self, cell: Cell) -> Place:
        return self.row_place(cell, self.sheet_of(cell.table).note_col)

    def label(self, cell: Cell) -> Place:
        """Where the label text sits: the first column after its group labels, merged rightwards."""
        return self.row_place(cell, len(cell.row.groups))

    def code(self, cell: Cell) -> Place:
        return self.row_place(cell, self.sheet_of(cell.table).code_col)

    @cached_property
    def signature(self) -> dict[str, Place]:
        """Input cells of the 单位负责人 … 填报日期 block (value column of the last sheet)."""
        sheet = self.sheets[-1]
        assert sheet.signature_row is not None
        return {
            name: Place(sheet.name, sheet.signature_row + i, sheet.value_col0)
            for i, name in enumerate(SIGNATURE)
        }

    def status(self, sheet: SheetLayout) -> Place:
        return Place(sheet.name, INFO_ROW, sheet.hint_col)


def summary_sheet_name(name: str, sheets: int) -> str:
    """A summary's working copy of a form sheet, with its checks and 情况说明 (what a summary is
    read from one level up): 汇总表（含校验）, or 汇总表（含校验）-<sheet> for several."""
    return "汇总表（含校验）" if sheets == 1 else f"汇总表（含校验）-{name}"[:31]


def official_sheet_name(name: str, sheets: int) -> str:
    """A summary's clean copy of a form sheet, the one sent up: 汇总表 or 汇总表-<sheet>."""
    return "汇总表" if sheets == 1 else f"汇总表-{name}"[:31]


_LAYOUTS: dict[tuple[str, str, bool], Layout] = {}


def layout_of(form: Form, summary: bool = False) -> Layout:
    """The (cached) layout of a form's return workbook, or of its summary workbook."""
    key = (form.id, form.fingerprint, summary)
    if key not in _LAYOUTS:
        _LAYOUTS[key] = Layout(form, summary)
    return _LAYOUTS[key]
