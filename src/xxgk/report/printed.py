"""The form's tables as the annual report prints them (国办公开办函 formats): merged
headers, no 行次 or 情况说明 columns, one printed table per sheet of the form.

Derived from the form definition alone, so the Word writer (`report`) and the tests that
retype a published report (as a workbook, a Word document or a web page) print the same
thing:
* tables sharing a sheet (table 二's blocks) are one printed table, each block opened by
  a caption row (its title) and a header row (stub, column labels); a block with fewer
  columns lets its last column span the rest;
* a table with column groups gets one header row per group level, a group cell spanning
  its columns, a column with fewer groups spanning down; row groups likewise become label
  columns, a group cell spanning its rows;
* a one-row table (table 四) is printed as the notice prints it: header rows, then its
  row of numbers with no label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from xxgk.forms.layout import group_runs
from xxgk.forms.model import Form, Table


@dataclass(frozen=True)
class PCell:
    """One printed cell: its text, top-left position, span, and what it is."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    kind: str = "head"  # head | label | value
    key: str = ""  # the form's cell key of a value cell


@dataclass(frozen=True)
class Printed:
    """One printed table, with the section heading printed above it."""

    heading: str
    height: int
    width: int
    cells: tuple[PCell, ...]

    def grid(self) -> list[list[str]]:
        """Every grid position's text, a merged cell's text repeated over its span."""
        out = [[""] * self.width for _ in range(self.height)]
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    out[r][k] = c.text
        return out


def printed_tables(form: Form, text: Callable[[str], str] | None = None) -> list[Printed]:
    """The printed tables of ``form``, value cells filled by ``text(cell key)`` (blank without)."""
    show = text or (lambda key: "")
    keys: Keys = {(c.table.id, c.row.id): [] for c in form.cells.values()}
    for c in form.cells.values():
        keys[(c.table.id, c.row.id)].append(c.key)
    out = []
    for sheet in form.sheets:
        tables = [t for t in form.tables if t.sheet == sheet]
        if len(tables) == 1:
            out.append(_table(tables[0], keys, show))
        else:
            out.append(_blocks(sheet, tables, keys, show))
    return out


def value_text(values: Mapping[str, Any]) -> Callable[[str], str]:
    """``text`` for `printed_tables` from numbers by cell key: as printed, blank for none."""

    def text(key: str) -> str:
        v = values.get(key)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return format(v, "f") if not isinstance(v, int | str) else str(v)

    return text


Keys = dict[tuple[str, str], list[str]]  # (table id, row id) -> the row's cell keys, column order


def _blocks(sheet: str, tables: list[Table], keys: Keys, show: Callable[[str], str]) -> Printed:
    width = 1 + max(len(t.columns) for t in tables)
    cells: list[PCell] = []
    r = 0
    for t in tables:
        cells.append(PCell(t.title, r, 0, colspan=width))
        cells.append(PCell(t.stub, r + 1, 0))
        spans = _spread(len(t.columns), width - 1)
        for col, (c0, span) in zip(t.columns, spans, strict=True):
            cells.append(PCell(col.label, r + 1, 1 + c0, colspan=span))
        r += 2
        for row in t.rows:
            cells.append(PCell(row.label, r, 0, kind="label"))
            for cell, (c0, span) in zip(keys[(t.id, row.id)], spans, strict=True):
                cells.append(PCell(show(cell), r, 1 + c0, colspan=span, kind="value", key=cell))
            r += 1
    return Printed(sheet, r, width, tuple(cells))


def _spread(n: int, width: int) -> list[tuple[int, int]]:
    """``n`` columns over ``width`` grid columns: one each, the last taking the rest."""
    return [(i, 1 if i < n - 1 else width - n + 1) for i in range(n)]


def _table(t: Table, keys: Keys, show: Callable[[str], str]) -> Printed:
    head_depth = 1 + max((len(c.groups) for c in t.columns), default=0)
    unlabelled = len(t.rows) == 1
    label_cols = 0 if unlabelled else 1 + max((len(r.groups) for r in t.rows), default=0)
    cells: list[PCell] = []
    if label_cols:
        cells.append(PCell(t.stub, 0, 0, rowspan=head_depth, colspan=label_cols))
    # column headers: a group cell over the run of columns sharing its path, a leaf spanning down
    for level, (c, last, group) in group_runs([col.groups for col in t.columns]):
        cells.append(PCell(group, level, label_cols + c, colspan=last - c + 1))
    for c, col in enumerate(t.columns):
        depth = len(col.groups)
        cells.append(PCell(col.label, depth, label_cols + c, rowspan=head_depth - depth))
    # rows: group label cells over runs of rows sharing the group path, the leaf spanning right
    r0 = head_depth
    for level, (i, last, group) in group_runs([row.groups for row in t.rows]):
        cells.append(PCell(group, r0 + i, level, rowspan=last - i + 1))
    for i, row in enumerate(t.rows):
        if label_cols:
            depth = len(row.groups)
            cells.append(PCell(row.label, r0 + i, depth, colspan=label_cols - depth, kind="label"))
        for k, key in enumerate(keys[(t.id, row.id)]):
            cells.append(PCell(show(key), r0 + i, label_cols + k, kind="value", key=key))
    return Printed(t.title, head_depth + len(t.rows), label_cols + len(t.columns), tuple(cells))
