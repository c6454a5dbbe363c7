"""The figures read from a return, for a person to see what the check judged: each input and
total by its indicator code, with its label, where it was read and its value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xxgk.check.checking import CheckResult, table_name


@dataclass(frozen=True)
class Figure:
    code: str  # the indicator's cell key (t3.24.1)
    place: str  # 行次/栏次 wording (表三第24行第1栏)
    label: str
    value: Decimal | None  # None: what the cell holds is no number
    where: str  # sheet!A1 where it was read; "" for a row or column the return left out
    total: bool  # a total (formula cell): its value is computed from its parts


def figures_read(result: CheckResult) -> list[Figure]:
    """Every input and total of the return's form in the form's order; empty for a file
    that could not be read."""
    ret = result.ret
    if ret is None:
        return []
    out = []
    for cell in ret.form.cells.values():
        if cell.kind == "header":
            continue
        rc = ret.cells.get(cell.key)
        where = f"{rc.sheet}!{rc.cell}" if rc is not None and rc.cell else ""
        out.append(Figure(cell.key, table_name(ret.form, cell.table) + cell.place, cell.label, result.values.get(cell.key), where,
                          cell.kind == "formula"))
    return out


def figures_json(figures: list[Figure]) -> dict[str, dict[str, object]]:
    """Indicator code → label, place, value (a number, or null) and where it was read."""
    return {
        f.code: {"label": f.label, "place": f.place, "value": _number(f.value), "cell": f.where, "total": f.total}
        for f in figures
    }


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    whole = int(value)
    return whole if whole == value else float(value)
