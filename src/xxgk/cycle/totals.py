"""A cycle's totals: the accepted blocks summed, and the form's rules checked on the sums."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from operator import itemgetter

from xxgk.cycle.summary import UnitBlock
from xxgk.forms.findings import WARNING, Finding, make
from xxgk.forms.model import Form, row_key

__all__ = ["aggregate_checks", "block_totals", "flatten"]


def block_totals(form: Form, blocks: list[UnitBlock]) -> dict[str, Decimal]:
    """Every value cell: the blocks' inputs summed exactly, the formulas recomputed."""
    # whole numbers travel as ints (see `entries.entry_of`): summed as ints, exact, and several
    # times faster than Decimal additions; a Decimal among them makes the sum a Decimal
    keys = [c.key for c in form.inputs]
    rows = [b.values for b in blocks]
    if not keys:
        return form.compute({})
    try:  # the usual case, column by column in C: every block has every input
        pick = itemgetter(*keys)
        table = [pick(v) for v in rows] if len(keys) > 1 else [(v[keys[0]],) for v in rows]
        columns = zip(*table, strict=True) if table else ((0,) for _ in keys)
        sums = {k: Decimal(sum(col)) for k, col in zip(keys, columns, strict=True)}
    except KeyError:  # an input a block does not have counts as 0
        sums = {k: Decimal(sum(v.get(k, 0) for v in rows)) for k in keys}
    return form.compute(sums)


def flatten(blocks: list[UnitBlock]) -> list[tuple[str, str]]:
    """Every unit the blocks hold, a summary's units in its place, each once."""
    out: list[tuple[str, str]] = []
    for b in blocks:
        out.extend(b.entry.units if b.is_summary else [(b.code, b.name)])
    return list(dict.fromkeys(out))


def aggregate_checks(
    form: Form, totals: Mapping[str, Decimal], blocks: list[UnitBlock]
) -> tuple[dict[str, str], list[Finding]]:
    """The form's rules on the totals.

    A warning that the totals trip is explained in the summary's 情况说明 by the
    explanations the units gave (every unit was accepted); an error — impossible for
    sums of accepted returns under additive rules — is reported as a finding.
    """
    notes: dict[str, list[str]] = {}
    findings: list[Finding] = []
    cells = form.cells
    for check in form.checks:
        if any(k not in totals for k in check.bind.values()):
            continue
        if check.evaluate(totals):
            continue
        anchor = cells[check.anchor]
        if check.rule.severity == WARNING:
            texts = [
                f"{b.name}：{f.explanation}"
                for b in blocks
                for f in b.entry.report.findings
                if f.rule == check.id and f.explained and f.explanation
            ]
            row = notes.setdefault(row_key(anchor.table, anchor.row), [])
            for t in texts or ["汇总数据，由各单位已通过校验的数据相加得出"]:
                if t not in row:
                    row.append(t)
        else:
            findings.append(make(
                "rule.error", message=check.message.rstrip("。"), detail="汇总数据",
                indicator=anchor.key, label=anchor.label, found=format(totals[anchor.key], "f"),
                rule=check.id,
            ))
    return {k: "；".join(v) for k, v in notes.items()}, findings
