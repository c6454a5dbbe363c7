"""Which totals of a form a summary follows unit by unit, and their short names."""

from __future__ import annotations

from xxgk.forms.detail_layout import short_label
from xxgk.forms.model import Cell, Form


def cell_name(cell: Cell) -> str:
    """A value cell's name short enough for a chart or a column head: 一、本年新收政府信息公开申请数量·总计,
    行政复议·总计, （一）收到申请数."""
    table = cell.table
    parts = [short_label(cell.row.label)] if len(table.rows) > 1 else []
    if len(table.columns) > 1:
        parts += [*cell.column.groups[-1:], cell.column.label] if not parts else [cell.column.label]
    return "·".join(parts) or short_label(cell.row.label)


def headlines(form: Form) -> list[Cell]:
    """The totals worth following by unit: formula cells no other total adds up (收到申请数,
    行政复议数量 …), in form order; the first input cells when a form has none."""
    parts = {p for c in form.cells.values() for p in c.parts}
    tops = [c for c in form.cells.values() if c.kind == "formula" and c.key not in parts and len(c.parts) > 1
            and (len(c.table.columns) == 1 or c.column.parts)]  # a total column's, not （七）总计 by applicant
    return tops or list(form.inputs[:4])
