"""The tidy CSV of the accepted returns: one line per value, for a spreadsheet or a database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
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
            fh.write(_line(CSV_HEADERS))
            fh.writelines(csv_lines(summary))

    return write_atomically(path, render, overwrite=overwrite)


def _line(fields: Iterable[str]) -> str:
    """``fields`` as one CSV line, quoted where needed (the csv module's excel dialect)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(fields)
    return buffer.getvalue()


def csv_lines(summary: Summary) -> Iterator[str]:
    """The lines of `csv_rows`, streamed: the fields a unit or a cell always has are quoted
    once (a unit's first four, a cell's table … 栏目 and its key), so that each line only
    joins them around its value — a number, which never needs quoting."""
    form = summary.form
    cells = [(c.key, _line(_cell_fields(c))[:-2], _line((c.key,))) for c in form.value_cells]
    for block in summary.blocks:
        head = _line((str(summary.year), form.id, block.code, block.name))[:-2]
        get = block.values.get
        for key, middle, tail in cells:
            value = get(key, 0)
            yield f"{head},{middle},{format(value, 'f') if isinstance(value, Decimal) else value},{tail}"


def csv_rows(summary: Summary) -> list[tuple[str, ...]]:
    form = summary.form
    cells = form.value_cells
    return [_csv_row(summary, form, b, c) for b in summary.blocks for c in cells]


def _csv_row(summary: Summary, form: Form, block: UnitBlock, cell: Cell) -> tuple[str, ...]:
    value = block.values.get(cell.key, 0)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return (str(summary.year), form.id, block.code, block.name, *_cell_fields(cell), text, cell.key)


def _cell_fields(cell: Cell) -> tuple[str, str, str, str, str]:
    """A cell's 表, 行次, 指标, 栏次 and 栏目."""
    label = "".join(f"{g}/" for g in cell.row.groups) + cell.row.label
    column = "/".join((*cell.column.groups, cell.column.label))
    return (cell.table.title or cell.table.id, cell.row.code, label, cell.column.code, column)
