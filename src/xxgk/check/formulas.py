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
            findings.append(_mismatch(form, cell, raw[key], cached[key], known))
    return findings


def _mismatch(form: Form, cell: Cell, rc: RawCell, found: Decimal, known: Mapping[str, Decimal]) -> Finding:
    cells = form.cells
    parts = " + ".join(f"{cells[p].place} {V.fmt(known[p])}" for p in cell.parts)
    return V.finding(
        "formula.mismatch", cell, rc.sheet, rc.cell, V.fmt(found),
        expected=V.fmt(known[cell.key]), detail=f"{parts} = {V.fmt(known[cell.key])}",
    )
