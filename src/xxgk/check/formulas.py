"""Formula findings: a total the return shows that is not the sum of its parts."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from xxgk.check import values as V
from xxgk.forms.findings import Finding
from xxgk.forms.model import Cell, Form
from xxgk.read.returns import RawCell


def formula_findings(form: Form, raw: Mapping[str, RawCell], cached: Mapping[str, Decimal],
                     known: Mapping[str, Decimal], unsure: Collection[str]) -> list[Finding]:
    """A ``formula.mismatch`` for each total whose shown value differs from its recomputed one;
    totals built on a value that is not fine (``unsure``) are left to that value's finding."""
    findings = []
    for cell in form.formulas:
        key = cell.key
        if key in cached and key not in unsure and cached[key] != known[key]:
            findings.append(_mismatch(form, cell, raw[key], cached[key], known, raw))
    return findings


def _mismatch(form: Form, cell: Cell, rc: RawCell, found: Decimal, known: Mapping[str, Decimal],
              raw: Mapping[str, RawCell]) -> Finding:
    """The total's cell, the input cells that feed it (as the return has them) with their
    figures, and the figure that makes it add up either way: the total to show, or — when the
    total shown is right — the inputs' sum (the one input's figure, when there is one)."""
    cells = form.cells
    inputs = _inputs(form, cell)
    every = [(raw[k].cell if k in raw and raw[k].cell else cells[k].place, known[k]) for k in inputs]
    named = [(a, v) for a, v in every if v] or every  # the inputs that hold a figure
    rest = "，其余分项为0" if len(named) < len(every) else ""
    more = "等" if len(named) > MAX_NAMED else ""
    shown = "、".join(f"{a}={V.fmt(v)}" for a, v in named[:MAX_NAMED]) + more
    total = known[cell.key]
    diff = found - total
    detail = f"各分项：{shown}{rest}；之和为{V.fmt(total)}，表中合计与之相差{V.fmt(abs(diff))}"
    if len(every) == 1:
        fix = f"把{every[0][0]}改为{V.fmt(found)}"
    else:
        where = "、".join(a for a, _ in named[:MAX_NAMED]) + more
        fix = f"把分项{where}{'增加' if diff > 0 else '减少'}{V.fmt(abs(diff))}，使其之和为{V.fmt(found)}"
    return V.finding("formula.mismatch", cell, rc.sheet, rc.cell, V.fmt(found),
                     expected=V.fmt(total), detail=detail, fix=fix)


MAX_NAMED = 8  # input cells named in one message


def _inputs(form: Form, cell: Cell) -> list[str]:
    """The input cells a total adds up, through the totals it adds (in the form's order)."""
    out: list[str] = []
    for part in cell.parts:
        inner = form.cells[part]
        out.extend(_inputs(form, inner) if inner.parts else [part])
    return list(dict.fromkeys(out))
