"""Tables found on a hidden sheet, read instead from the visible copy a clerk corrected."""

from __future__ import annotations

from typing import Any

from xxgk.forms.findings import make
from xxgk.forms.layout import Layout
from xxgk.forms.model import Form
from xxgk.read.grid import Book
from xxgk.read.matches import FormMatch, TableMatch, cell_places, table_plans
from xxgk.read.positional import in_place
from xxgk.read.returns import ReadError
from xxgk.read.tablematch import match_table, other_labels


def shown(book: Book, form: Form, lay: Layout | None, match: FormMatch) -> FormMatch:
    """``match`` read from what a spreadsheet shows.  A clerk copies the form's sheet
    (移动或复制 → “统计表 (2)”), corrects the copy and hides the original: a table found on a
    hidden sheet is read from the visible sheet that holds it instead, with a warning when
    the figures differ (or when no visible sheet holds it); visible copies that disagree
    with each other are refused.  (``lay``: the layout of the template the file came from.)"""
    used = {tm.sheet: None for tm in match.tables.values()}
    hidden = [name for name in used if book.state(name) != "visible"]
    if not hidden:
        return match
    tables, findings, plan = dict(match.tables), list(match.findings), match.plan
    visible = [n for n in book.data_sheets() if n not in used and book.state(n) == "visible"]
    for sheet in hidden:
        on_it = [tm for tm in match.tables.values() if tm.sheet == sheet]
        copies = [(name, found) for name in visible if (found := _copy_on(book, name, on_it, form, lay)) is not None]
        if not copies:
            findings.append(make("structure.hidden_sheet", sheet=sheet, detail="没有可见的工作表含有这张表，已读取隐藏工作表中的数字"))
            continue
        figures = {_figures(book, form, found) for _, found in copies}
        if len(figures) > 1:
            names = "、".join(f"“{name}”" for name, _ in copies)
            raise ReadError("file.variant", f"工作表“{sheet}”已隐藏，而可见的工作表{names}都含有这张表且数字不同，无法确定以哪一张为准")
        name, found = copies[0]
        if figures != {_figures(book, form, on_it)}:
            findings.append(make("structure.hidden_sheet", sheet=sheet,
                                 detail=f"它与可见的工作表“{name}”数字不同，已读取可见的“{name}”"))
        for tm in found:
            if plan is not None and (tm.rows, tm.cols) != (tables[tm.table.id].rows, tables[tm.table.id].cols):
                plan = None  # not where the layout puts it: cells are placed by the match
            tables[tm.table.id] = tm
    return FormMatch(tables, findings, match.signature, plan)


def _copy_on(book: Book, name: str, tms: list[TableMatch], form: Form, lay: Layout | None) -> list[TableMatch] | None:
    """The tables of ``tms`` found on sheet ``name`` (where the layout puts them, else by
    their labels), or None when it does not hold them all."""
    try:
        grid = book.grid(name)
    except ReadError:
        return None  # a sheet that cannot be read shows no table
    if lay is not None:
        plans = table_plans(lay)
        if all(in_place(grid, tm.table, plans[tm.table.id], lay.tables[tm.table.id], lay.sheet_of(tm.table))
               for tm in tms):
            return [
                TableMatch(tm.table, name, dict(lay.tables[tm.table.id].row_of), dict(plans[tm.table.id].cols),
                            lay.sheet_of(tm.table).note_col, lay.tables[tm.table.id].last_row)
                for tm in tms
            ]
    out, lo = [], 0
    for tm in tms:
        found = match_table(grid, tm.table, lo, other_labels(form, tm.table))
        if not isinstance(found, TableMatch):
            return None
        out.append(found)
        lo = found.end + 1
    return out


def _figures(book: Book, form: Form, tms: list[TableMatch]) -> tuple[Any, ...]:
    """Every form cell's content in the tables matched, in order: what two copies compare."""
    out: list[Any] = []
    for tm in tms:
        get = book.grid(tm.sheet).get
        cells, _ = cell_places(form, tm.table, tm.rows, tm.cols)
        out.extend(get(r, c) for _, r, c, _ in cells)
    return tuple(out)
