"""A return's figures laid out as the official tables, for the unit's page: rows, columns and
the problem cells marked by the findings that name them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from xxgk.forms.findings import ERROR, INFO, WARNING, Finding
from xxgk.forms.model import Form


@dataclass(frozen=True)
class Shown:
    """One value cell: its text and how it is marked (``""``, ``error``, ``warning``, ``explained``, ``info``)."""

    text: str
    mark: str
    note: str
    formula: bool


@dataclass(frozen=True)
class TableView:
    title: str
    stub: str
    headers: list[tuple[str, str, str]]  # (栏次, group path, label)
    rows: list[tuple[str, str, int, list[Shown | None]]]  # (行次, label, depth, cells)


def tables(form: Form, values: Mapping[str, Decimal | int] | None, findings: Sequence[Finding]) -> list[TableView]:
    marks: dict[str, tuple[str, str]] = {}
    for f in findings:
        if not f.indicator:
            continue
        mark: str = f.severity if f.severity != WARNING else ("explained" if f.explained else WARNING)
        old = marks.get(f.indicator)
        if old is None or _rank(mark) > _rank(old[0]):
            marks[f.indicator] = (mark, f.message)
    cells = {(c.table.id, c.row.id, c.column.id): c for c in form.cells.values()}
    out = []
    for table in form.tables:
        headers = [(col.code if len(table.columns) > 1 else "", "／".join(col.groups), col.label)
                   for col in table.columns]
        rows = []
        for row in table.rows:
            shown: list[Shown | None] = []
            for col in table.columns:
                cell = cells.get((table.id, row.id, col.id))
                if cell is None or cell.kind == "header":
                    shown.append(None)
                    continue
                value = values.get(cell.key) if values is not None else None
                shown_mark, note = marks.get(cell.key, ("", ""))
                shown.append(Shown(_number(value), shown_mark, note, cell.kind == "formula"))
            rows.append((row.code, row.label, len(row.groups), shown))
        out.append(TableView(table.title, table.stub, headers, rows))
    return out


def _rank(mark: str) -> int:
    return {INFO: 1, "explained": 2, WARNING: 3, ERROR: 4}.get(mark, 0)


def _number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
