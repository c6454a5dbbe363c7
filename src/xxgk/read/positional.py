"""The fast path: a workbook from our template, every label, 行次 and header where `layout` puts it."""

from __future__ import annotations

from xxgk.forms.layout import Layout, SheetLayout, TableLayout
from xxgk.forms.model import Form, Table
from xxgk.read.grid import Book, Grid, cell_text, header_at, is_number, norm, row_text
from xxgk.read.matches import HINT_HEADERS, NOTE_HEADERS, FormMatch, TableMatch, TablePlan, table_plans
from xxgk.read.signature import find_signature, signature_label


def positional(book: Book, form: Form, lay: Layout) -> FormMatch | None:
    """The match when every label, 行次 and column header sits where `layout` puts it."""
    tables: dict[str, TableMatch] = {}
    plans = table_plans(lay)
    for table in form.tables:
        plan, tl, sl = plans[table.id], lay.tables[table.id], lay.sheet_of(table)
        if plan.sheet not in book.names or not in_place(book.grid(plan.sheet), table, plan, tl, sl):
            return None
        tables[table.id] = TableMatch(table, sl.name, dict(tl.row_of), dict(plan.cols), sl.note_col, tl.last_row)
    match = FormMatch(tables, plan=plans)
    sig = lay.signature
    last = book.grid(lay.sheets[-1].name)
    for name, place in sig.items():
        label = last.get(place.row, 0)  # where the template writes it, as it wrote it (fast)
        if not (isinstance(label, str) and label.startswith(name)) and (
            signature_label(last, place.row, place.col) != name
        ):
            match.signature = find_signature(book, form, tables)
            break
        match.signature[name] = cell_text(last.get(place.row, place.col))
    return match


def in_place(grid: Grid, table: Table, plan: TablePlan, tl: TableLayout, sl: SheetLayout) -> bool:
    """Whether ``grid`` holds ``table`` exactly where the layout puts it."""
    rows, cc = grid.rows, plan.code_col
    if len(rows) <= tl.last_row:
        return False
    for r, lc, label, code, nlabel, ncode in plan.labels:
        row = rows[r]
        try:
            got_label, got_code = row[lc], row[cc]
        except IndexError:
            return False
        # as the template wrote them (fast), or equal once normalised
        if (got_label != label and norm(got_label) != nlabel) or (got_code != code and norm(got_code) != ncode):
            return False
    band = range(tl.header_top, tl.header_top + tl.header_rows)
    for col, c in zip(table.columns, plan.cols.values(), strict=True):
        label = norm(col.label)
        if not any(grid.text(r, c) == label for r in band):
            return False
    # the whole header path: blocks told apart only by their group headers (结果维持 …
    # under 未经复议直接起诉 and under 复议后起诉) must not be read for one another
    value_col0 = sl.value_col0
    if any(header_at(grid, r, c, value_col0) != group for r, c, group in plan.groups):
        return False
    # the hint and note columns where they belong and nothing added to their right:
    # otherwise a column was inserted, and the search decides what it holds
    if grid.text(tl.header_top, sl.hint_col) not in HINT_HEADERS or (
        grid.text(tl.header_top, sl.note_col) not in NOTE_HEADERS
    ):
        return False
    if any(grid.text(r, c) for r in band for c in range(sl.note_col + 1, grid.width(r))):
        return False
    # a labelled row holding numbers right after the table: rows were added at its end
    after = tl.last_row + 1
    return not (
        row_text(grid, after, 0, sl.label_cols - 1) and any(is_number(grid.get(after, c)) for c in plan.cols.values())
    )
