"""Rule findings: the form's checks on this year's values, and rule conditions in words."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from xxgk.check import values as V
from xxgk.forms.findings import WARNING, Finding, make
from xxgk.forms.layout import a1, layout_of
from xxgk.forms.model import Cell, Check
from xxgk.forms.rules import LAST
from xxgk.read.returns import Return

Where = Callable[[Cell], tuple[str, str]]  # a cell -> (sheet, A1) where the return has it


def rule_findings(ret: Return, known: Mapping[str, Decimal], unsure: Collection[str],
                  where: Where) -> list[Finding]:
    """The findings of the form's checks that fail; a check on a value that is not fine
    (``unsure``) is left to that value's finding."""
    failed = [check for check in ret.form.checks
              if not (unsure and any(k in unsure for k in check.bind.values())) and not check.evaluate(known)]
    return _folded(ret, failed, known, where) if failed else []


def _folded(ret: Return, failed: list[Check], known: Mapping[str, Decimal], where: Where) -> list[Finding]:
    """The findings of the failed checks, each error once: a check on a total column (or row)
    that fails because the same rule fails on its parts (表三第7栏“总计” when 第1栏 is out of
    balance) is folded into the parts' findings."""
    fixed = {(c.rule.id, c.row.id if c.row is not None else c.column.id) for c in failed}
    also: dict[int, list[str]] = {}
    kept: list[Check] = []
    for check in failed:
        line = check.row if check.row is not None else check.column
        parts = [p for p in line.parts if (check.rule.id, p) in fixed]
        if parts:
            label = f"第{line.code}{'行' if check.row is not None else '栏'}“{line.label}”"
            for other in failed:
                other_line = other.row if other.row is not None else other.column
                if other.rule is check.rule and other_line.id in parts:
                    also.setdefault(id(other), []).append(label)
            continue
        kept.append(check)
    return [_rule_finding(ret, c, known, where, also.get(id(c), [])) for c in kept]


def note_hint(check: Check, cells: Sequence[str]) -> str:
    """Where a warning's explanation may go, for its message: the Excel cells of the 情况说明
    column on the rows it involves (``cells``), else (a report, no such column) the 行次."""
    return "；" + (note_words(cells) if cells else check.note_hint)


def note_words(cells: Sequence[str]) -> str:
    """如情况属实，请在F6或F7单元格（“情况说明”列）填写原因 — where to explain, by Excel cell:
    the words of a finding, the template's in-sheet hint and its 填报说明 alike."""
    named = cells[0] if len(cells) == 1 else "、".join(cells[:-1]) + "或" + cells[-1]
    return f"如情况属实，请在{named}单元格（“情况说明”列）填写原因"


def note_cells(ret: Return, check: Check, where: Where) -> list[str]:
    """The A1 addresses of the 情况说明 cells on the rows ``check`` involves, as the return
    has them (its rows, its 情况说明 column); none when it has no such column (a report)."""
    table = check.rule.table
    col = ret.note_cols.get(table.id)
    if col is None:  # not told by the reader: the template's column, when the table sits where the template has it
        layout = layout_of(ret.form)
        anchor = ret.form.cells[check.anchor]
        if where(anchor) != (layout.places[anchor.key].sheet, layout.places[anchor.key].a1):
            return []
        col = layout.sheet_of(table).note_col
    out = []
    for row in check.note_rows:
        cell = next((c for c in ret.form.table_cells[table.id] if c.row is row), None)
        found = re.fullmatch(r"[A-Z]+(\d+)", where(cell)[1]) if cell is not None else None
        if found:
            out.append(a1(int(found[1]) - 1, col))
    return list(dict.fromkeys(out))


def _rule_finding(ret: Return, check: Check, known: Mapping[str, Decimal], where: Where,
                  totals_too: Sequence[str] = ()) -> Finding:
    form = ret.form
    cells = form.cells
    anchor = cells[check.anchor]
    involved = list(dict.fromkeys((*check.highlight, *check.bind.values())))
    detail = "、".join(f"{cells[k].place}={V.fmt(known[k])}" for k in involved)
    names = {n: cells[k].place for n, k in check.bind.items()}
    env = {n: known[k] for n, k in check.bind.items() if k in known}
    totals = [f"{readable(side, names)}={V.fmt(value)}" for side, value in check.rule.expr.sides(env)
              if not isinstance(side, ast.Name | ast.Constant)]
    if totals and len(env) == len(check.bind):
        detail += "；" + "，".join(totals)
    if totals_too:
        detail += f"；{'、'.join(totals_too)}因此同样不符"
    sheet, address = where(anchor)
    fields: dict[str, Any] = {}
    if check.rule.severity == WARNING:
        fields["notes"] = note_hint(check, note_cells(ret, check, where))
        note = check.explanation(ret.notes)
        if note:
            fields.update(explained=True, explanation=note)
    return make(
        "rule.error" if check.rule.severity == "error" else "rule.warning",
        severity=check.rule.severity,
        message=check.message.rstrip("。"),
        detail=detail,
        indicator=anchor.key,
        label=anchor.label,
        sheet=sheet,
        cell=address,
        found=V.fmt(known[anchor.key]),
        expected=readable(check.rule.expr.tree, names),
        rule=check.id,
        **fields,
    )


_OPS = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥"}


def readable(node: ast.expr, names: Mapping[str, str]) -> str:
    """A rule condition in words for people: ``r3 <= r2`` → ``第3行 ≤ 第2行``."""
    if isinstance(node, ast.BoolOp):
        joiner = " 且 " if isinstance(node.op, ast.And) else " 或 "
        return joiner.join(
            f"（{readable(v, names)}）" if isinstance(v, ast.BoolOp) else readable(v, names)
            for v in node.values
        )
    if isinstance(node, ast.Compare):
        text = readable(node.left, names)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            text += f" {_OPS[type(op)]} {readable(comp, names)}"
        return text
    if isinstance(node, ast.Name):
        return names.get(node.id, node.id)
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.BinOp):
        right = readable(node.right, names)
        if isinstance(node.right, ast.BinOp):
            right = f"({right})"
        return f"{readable(node.left, names)} {'+' if isinstance(node.op, ast.Add) else '-'} {right}"
    if isinstance(node, ast.UnaryOp):
        return f"{'-' if isinstance(node.op, ast.USub) else '+'}{readable(node.operand, names)}"
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "last":
            return "".join(f"上年{names.get(LAST + a.id, a.id)}" for a in node.args if isinstance(a, ast.Name))
        return "(" + " + ".join(readable(a, names) for a in node.args) + ")"
    return ast.unparse(node)  # pragma: no cover - the rule grammar has no other nodes
