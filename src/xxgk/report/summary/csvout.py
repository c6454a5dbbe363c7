"""The tidy CSV of the accepted returns: one line per value, for a spreadsheet or a database."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from xxgk.cycle.summary import Summary, UnitBlock
from xxgk.files import write_atomically
from xxgk.forms.model import Cell, Form

CSV_HEADERS = ("年度", "表式", "单位代码", "单位名称", "表", "行次", "指标", "栏次", "栏目", "数值", "指标编码")


def write_csv(summary: Summary, path: Path | str, *, overwrite: bool = True) -> Path:
    """Every value of every accepted return, one line each, UTF-8 with BOM (opens in Excel)."""

    def render(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(CSV_HEADERS)
            out.writerows(csv_rows(summary))

    return write_atomically(path, render, overwrite=overwrite)


def csv_rows(summary: Summary) -> list[tuple[str, ...]]:
    form = summary.form
    cells = form.value_cells
    return [_csv_row(summary, form, b, c) for b in summary.blocks for c in cells]


def _csv_row(summary: Summary, form: Form, block: UnitBlock, cell: Cell) -> tuple[str, ...]:
    value = block.values.get(cell.key, 0)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    label = "".join(f"{g}/" for g in cell.row.groups) + cell.row.label
    column = "/".join((*cell.column.groups, cell.column.label))
    return (str(summary.year), form.id, block.code, block.name, cell.table.title or cell.table.id,
            cell.row.code, label, cell.column.code, column, text, cell.key)
