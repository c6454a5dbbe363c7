"""The 填报说明 sheet: the form's own guidance plus what is computed and checked, generated.

Listing the formula rows and rules from the definition (not typing them into
the YAML guide) keeps the instructions true when a form changes.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from functools import cache

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from xxgk.check.rulecheck import note_words
from xxgk.forms import identity as ids
from xxgk.forms import rules
from xxgk.forms.layout import layout_of
from xxgk.forms.model import VALUE_KINDS, Form, Rule, Table
from xxgk.write.livecheck import hint_text, note_places
from xxgk.write.styles import Styles

SHEET = "填报说明"
WIDTH = 70  # column A, in character units: LibreOffice draws it ~1.3× wider than Excel, within A4


@cache
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def display_width(text: str) -> int:
    """Width in narrow-character units (a Chinese character counts two)."""
    return len(text) if text.isascii() else sum(map(_char_width, text))


def lines_needed(text: str, width: float) -> int:
    """Wrapped lines ``text`` needs in a cell ``width`` units wide."""
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


def formula_lines(form: Form) -> list[str]:
    """One sentence per formula row or column: which 行次/栏次 it adds up (第22行“…”＝第23+24+25+26行)."""
    out = []
    for table in form.tables:
        where = _table_name(form, table)
        codes = {r.id: r.code for r in table.rows}
        for row in table.rows:
            if row.parts:
                parts = "+".join(codes[p] for p in row.parts)
                out.append(f"{where}第{row.code}行“{row.label}”＝第{parts}行")
        col_codes = {c.id: c.code for c in table.columns}
        for col in table.columns:
            if col.parts:
                parts = "+".join(col_codes[p] for p in col.parts)
                out.append(f"{where}第{col.code}栏“{col.label}”＝每行第{parts}栏")
    return out


def _table_name(form: Form, table: Table) -> str:
    return f"{table.title or table.sheet}：" if len(form.tables) > 1 else ""


def rule_text(form: Form, rule: Rule) -> str:
    """A rule's message, worded for all the columns (or rows) it applies to; a single check
    in the very words its in-sheet hint shows (`Check.hint`)."""
    checks = [c for c in (*form.checks, *form.previous_checks) if c.rule is rule]
    layout = layout_of(form)
    if len(checks) == 1:
        text = hint_text(checks[0], note_places(form, layout, checks[0]))
    else:
        what = "栏" if rule.per == "column" else "行"
        codes = "、".join(
            (rule.table.column(a).code if rule.per == "column" else rule.table.row(a).code)
            for a in rule.across
        )
        text = rule.message.format(column="各栏", row="各行", code="各") + f"（适用于第{codes}{what}）"
        if rule.severity == "warning" and checks:
            places = dict.fromkeys(p for c in checks for p in note_places(form, layout, c))  # each row's own
            text += note_words([p.a1 for p in places]) + "。"
    if any(n.startswith(rules.LAST) for n in rule.expr.names):
        text += "（与上年报表比对，报送后由汇总单位检查）"
    return text


def write_guide(wb: Workbook, styles: Styles, form: Form, meta: Mapping[str, str]) -> None:
    """Add the 填报说明 sheet (protected, printable)."""
    ws = wb.add_worksheet(SHEET)
    ws.set_column(0, 0, WIDTH)
    ws.hide_gridlines(2)
    row = 0

    def put(text: str, style: Format, gap: bool = False) -> None:
        nonlocal row
        ws.write_string(row, 0, text, style)
        ws.set_row(row, 16 * lines_needed(text, WIDTH) + 6 if style is styles.guide_text else 24)
        row += 2 if gap else 1

    put(f"{form.name}填报说明", styles.guide_title, gap=True)
    for heading, text in form.guide:
        put(heading, styles.guide_heading)
        put(text, styles.guide_text, gap=True)
    kinds = sorted({c.value for c in form.inputs}, key=list(VALUE_KINDS).index)
    put("填报值", styles.guide_heading)
    put("；".join(f"{_kind_name(k)}：{VALUE_KINDS[k]}" for k in kinds) + "。", styles.guide_text, gap=True)
    if formulas := formula_lines(form):
        put("自动计算的合计项（已锁定，无需填写）", styles.guide_heading)
        for line in formulas:
            put(line, styles.guide_text)
        row += 1
    for severity, heading in (("error", "校验规则——错误（必须改正后才能报送）"),
                              ("warning", "校验规则——提醒（如情况属实，请在所涉任一行的“情况说明”中写明原因）")):
        chosen = [r for r in form.rules if r.severity == severity]
        if severity == "error":
            put(heading, styles.guide_heading)
            put("合计项必须等于各分项之和；填报值必须符合上述要求。", styles.guide_text)
        elif chosen:
            put(heading, styles.guide_heading)
        for rule in chosen:  # the very text the in-sheet check shows (one shared string)
            put(rule_text(form, rule), styles.guide_text)
        row += 1
    put("报送时限", styles.guide_heading)
    put(form.deadline, styles.guide_text, gap=True)
    put(
        f"表式：{form.id}（第{form.version}版，{meta[ids.FINGERPRINT]}）；模板编号：{meta[ids.TEMPLATE_ID]}；"
        f"生成时间：{meta[ids.GENERATED_AT]}；xxgk {meta[ids.TOOL_VERSION]}",
        styles.guide_text,
    )
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_area(0, 0, max(row - 1, 0), 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})


def _kind_name(kind: str) -> str:
    return {"count": "数量", "amount": "金额（万元）", "signed": "增减数"}.get(kind, kind)
