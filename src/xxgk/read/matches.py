"""What matching a form found: where each table's rows and columns are, or why they are not."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from functools import lru_cache

from xxgk.forms.findings import Finding
from xxgk.forms.layout import Layout, a1
from xxgk.forms.model import Form, Table
from xxgk.read.grid import norm

# Header texts of columns that hold no form values.
CODE_HEADERS = frozenset({"行次", "序号", "栏次", "编号"})
UNIT_HEADERS = frozenset({"单位", "计量单位", "统计单位"})
NOTE_HEADERS = frozenset({"情况说明", "说明", "备注", "备注说明", "填报说明"})
HINT_HEADERS = frozenset({"校验提示", "校验结果", "校验", "提示", "审核提示"})
AUX_HEADERS = CODE_HEADERS | UNIT_HEADERS | NOTE_HEADERS | HINT_HEADERS
HEADER_BAND = 8  # rows above a table searched for its column headers
TRAILING = 40  # rows below a table searched for extra rows and the signature block
SMALL_TABLE = 4  # value rows of a table any of which may be left out (read as blank, with a warning)



@dataclass
class TableMatch:
    table: Table
    sheet: str
    rows: dict[str, int]  # row id -> grid row
    cols: dict[str, int]  # column id -> grid column
    note_col: int | None
    end: int  # last grid row of the table
    findings: list[Finding] = field(default_factory=list)  # how it was read, where not as the form prints it
    headed_only: bool = False  # printed with its heading and none of its rows: all blank


@dataclass
class FormMatch:
    tables: dict[str, TableMatch]
    findings: list[Finding] = field(default_factory=list)
    signature: dict[str, str] = field(default_factory=dict)
    plan: dict[str, TablePlan] | None = None  # the layout's, when everything sits where it puts it


@dataclass
class Problems:
    """Why a table could not be matched; rendered into one `file.variant` detail."""

    missing: list[str] = field(default_factory=list)
    extra_rows: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    missing_cols: list[str] = field(default_factory=list)
    extra_cols: list[str] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # labels close to two standard ones

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def extend(self, other: Problems) -> None:
        for f in fields(self):
            getattr(self, f.name).extend(getattr(other, f.name))

    def detail(self, limit: int = 6) -> str:
        parts = []
        for what, items in (
            ("找不到指标", self.missing),
            ("行次不符", self.codes),
            ("表中多出的行", self.extra_rows),
            ("找不到数值列", self.missing_cols),
            ("表中多出的数值列", self.extra_cols),
            ("无法确定对应哪个指标", self.unsure),
        ):
            if items:
                shown = "、".join(items[:limit]) + (f"等{len(items)}项" if len(items) > limit else "")
                parts.append(f"{what}：{shown}")
        return "；".join(parts)


# ---------------------------------------------------------------- fast path: our layout, untouched


@dataclass(frozen=True)
class TablePlan:
    """One table as the template lays it out, computed once per layout: what the fast path
    compares and where it reads."""

    sheet: str
    labels: tuple[tuple[int, int, str, str, str, str], ...]  # row, label col, label, code, both normalised
    code_col: int
    cols: dict[str, int]  # column id -> grid column
    cells: tuple[tuple[str, int, int, str], ...]  # cell key, row, column, A1 address
    notes: tuple[tuple[str, int], ...]  # row key, row
    groups: tuple[tuple[int, int, str], ...]  # row, column, normalised group header over that column


@lru_cache(maxsize=64)
def table_plans(lay: Layout) -> dict[str, TablePlan]:
    """Keyed by the (cached, hashed by identity) layout: a form hashes all its contents."""
    form, plans = lay.form, {}
    for table in form.tables:
        tl, sl = lay.tables[table.id], lay.sheet_of(table)
        cols = {col.id: sl.value_col0 + i for i, col in enumerate(table.columns)}
        cells, notes = cell_places(form, table, tl.row_of, cols)
        plans[table.id] = TablePlan(
            sheet=sl.name,
            labels=tuple(
                (tl.row_of[row.id], len(row.groups), row.label, row.code, norm(row.label), norm(row.code))
                for row in table.rows
            ),
            code_col=sl.code_col,
            cols=cols,
            cells=cells,
            notes=notes,
            groups=tuple(
                (tl.header_top + depth, c, norm(group))
                for col, c in zip(table.columns, cols.values(), strict=True)
                for depth, group in enumerate(col.groups)
            ),
        )
    return plans


def cell_places(
    form: Form, table: Table, row_of: dict[str, int], col_of: dict[str, int]
) -> tuple[tuple[tuple[str, int, int, str], ...], tuple[tuple[str, int], ...]]:
    """Where a table's cells (key, row, column, A1) and its rows' notes (row key, row) are,
    given where its rows and columns were found."""
    cells = tuple(
        (cell.key, row_of[cell.row.id], col_of[cell.column.id], a1(row_of[cell.row.id], col_of[cell.column.id]))
        for cell in form.table_cells[table.id]
        if cell.row.id in row_of and cell.column.id in col_of
    )
    return cells, tuple((f"{table.id}.{row.id}", row_of[row.id]) for row in table.rows if row.id in row_of)


# ---------------------------------------------------------------- labels in findings and alignment


def col_name(c: int) -> str:
    """A column's letters (C), as findings name it."""
    return a1(0, c)[:-1]


def labelled(table: Table) -> list[tuple[str, str]]:
    """(id, label) of every row and column of ``table``."""
    return [(r.id, r.label) for r in table.rows] + [(c.id, c.label) for c in table.columns]


def standard_label(table: Table, folded: str) -> str:
    """A standard label (row or column) of ``table`` as printed, from its folded text."""
    return next((label for _, label in labelled(table) if norm(label) == folded), folded)


def align(a: list[str], b: list[str]) -> dict[int, int]:
    """Index pairs of a longest common subsequence of ``a`` and ``b`` (order kept)."""
    out: dict[int, int] = {}
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            out[block.a + k] = block.b + k
    return out
