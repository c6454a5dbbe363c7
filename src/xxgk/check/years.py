"""Last year's figures: mapped onto this year's form, and the year-over-year checks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xxgk.check import values as V
from xxgk.check.rulecheck import note_hint, readable
from xxgk.forms.findings import WARNING, Finding, make
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Check, Form
from xxgk.forms.rules import LAST


def previous_values(form: Form, prev_form: Form, prev_values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Last year's values on this form's cell keys.

    The same form maps key to key; another form (gk2019 → gk2021) is matched by table id
    and the cell's full label (groups, row and column); a label that is not unique is skipped.
    """
    if prev_form.id == form.id:
        return {k: v for k, v in prev_values.items() if k in form.cells}
    index: dict[tuple[str, str], str | None] = {}
    for cell in prev_form.value_cells:
        pair = (cell.table.id, cell.label)
        index[pair] = None if pair in index else cell.key
    out: dict[str, Decimal] = {}
    for cell in form.cells.values():
        key = index.get((cell.table.id, cell.label))
        if key is not None and key in prev_values:
            out[cell.key] = prev_values[key]
    return out


def note_anchors(form: Form, check: Check) -> list[str]:
    """A cell of each row whose 情况说明 explains ``check`` (in the template's layout: last
    year's comparison has the form's own places, not a return's)."""
    cells = form.table_cells[check.rule.table.id]
    return list(dict.fromkeys(next(c.key for c in cells if c.row is row) for row in check.note_rows))


def compare_years(
    form: Form,
    values: Mapping[str, Decimal],
    prev_form: Form,
    prev_values: Mapping[str, Decimal],
    *,
    notes: Mapping[str, str] | None = None,
) -> list[Finding]:
    """The year-over-year checks (rules using ``last(...)``) of this year's values against last year's.

    A violated check is a ``previous.mismatch`` warning, explained by a 情况说明 on any row it
    involves (``notes`` by `model.row_key`); a check whose last-year cells cannot be matched in
    last year's form is a ``previous.unmapped`` warning.
    """
    last = previous_values(form, prev_form, prev_values)
    cells = form.cells
    layout = layout_of(form)
    places = layout.places
    found: list[Finding] = []
    for check in form.previous_checks:
        now = {k for n, k in check.bind.items() if not n.startswith(LAST)}
        before = {k for n, k in check.bind.items() if n.startswith(LAST)}
        if any(k not in values for k in now):
            continue
        anchor = cells[check.anchor]
        common: dict[str, Any] = {
            "indicator": anchor.key, "label": anchor.label,
            "sheet": places[anchor.key].sheet, "cell": places[anchor.key].a1, "rule": check.id,
        }
        note = check.explanation(notes or {})
        if note:
            common.update(explained=True, explanation=note)
        if any(k not in last for k in before):
            missing = "、".join(f"“{cells[k].label}”" for k in sorted(before - set(last)))
            found.append(make(
                "previous.unmapped", severity=WARNING, **common,
                detail=f"{check.message.rstrip('。')}——上年表式（{prev_form.name}）中没有{missing}，无法比对，请人工核对",
            ))
            continue
        if check.evaluate(values, last):
            continue
        names = {n: cells[k].place for n, k in check.bind.items()}
        detail = "、".join(
            f"上年{names[n]}={V.fmt(last[k])}" if n.startswith(LAST) else f"{names[n]}={V.fmt(values[k])}"
            for n, k in check.bind.items()
        )
        found.append(make(
            "previous.mismatch", severity=WARNING, message=check.message.rstrip("。"), detail=detail,
            found=V.fmt(values[anchor.key]), expected=readable(check.rule.expr.tree, names),
            notes=note_hint(check, [layout.note(cells[k]).a1 for k in note_anchors(form, check)]), **common,
        ))
    return found
