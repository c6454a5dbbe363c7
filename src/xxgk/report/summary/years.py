"""The 本年与上年 sheets: this year's totals, and each unit's headline totals, beside last year's."""

from __future__ import annotations

from decimal import Decimal

from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.previous import LastYear
from xxgk.cycle.summary import Summary, UnitBlock
from xxgk.forms.layout import a1
from xxgk.report.summary.formats import DEFAULT_ROW, TITLE_ROW, Formats, fit_rows, print_setup, table_head
from xxgk.report.summary.headlines import cell_name, headlines
from xxgk.write.formsheet import cell_number
from xxgk.write.guide import lines_needed

YEARS_SHEET = "本年与上年"
YEARS_UNIT_SHEET = "本年与上年（按单位）"


YEARS_TOTAL_HEADERS = ("行次/栏次", "指标", "本年", "上年", "增减", "增减%", "上年比对提醒")
YEARS_TOTAL_WIDTHS = (14, 84, 10, 10, 10, 9, 40)  # a label on one line, a reminder on a few
YEARS_UNIT_SHOWN = 5  # headline totals shown by unit


def years_sheet(ws: Worksheet, fx: Formats, summary: Summary, last: LastYear) -> None:
    form = summary.form
    ws.write_string(0, 0, f"本年与上年（{summary.year}年与{summary.year - 1}年）", fx.title)
    ws.write_string(1, 0, f"上年数据：{last.file}；列出合计项和窄表的各项（两年中至少一年不为0），以及有提醒的指标。",
                    fx.note)
    head = table_head(ws, fx, 2, YEARS_TOTAL_HEADERS, YEARS_TOTAL_WIDTHS)
    said: dict[str, list[str]] = {}
    for f in summary.findings:
        if f.code.startswith("previous."):
            said.setdefault(f.indicator, []).append(f.message)
    r, texts = 3, []
    for cell in form.value_cells:
        now, before = summary.totals.get(cell.key, Decimal(0)), last.totals.get(cell.key)
        notes = "\n".join(said.get(cell.key, []))
        if not (notes or (now or before) and (cell.kind == "formula" or len(cell.table.columns) <= 3)):
            continue  # the totals, and each figure of the narrow tables, where either year has one
        label = cell.label  # its row groups included
        ws.write_string(r, 0, cell.place, fx.text)
        ws.write_string(r, 1, label, fx.text)
        _change(ws, fx, r, 2, now, before)
        ws.write_string(r, 6, notes, fx.text)
        texts.append([cell.place, label, "", "", "", "", notes])
        r += 1
    body = fit_rows(ws, texts, YEARS_TOTAL_WIDTHS, 3)
    print_setup(ws, header_rows=(2, 2), last_col=len(YEARS_TOTAL_HEADERS) - 1, last_row=r - 1,
                widths=YEARS_TOTAL_WIDTHS, height=TITLE_ROW + DEFAULT_ROW + head + body)


def years_by_unit_sheet(ws: Worksheet, fx: Formats, summary: Summary, last: LastYear) -> None:
    """Each unit's headline totals beside its own row of last year's 分单位明细, and what the
    year-over-year rules find in its figures."""
    form = summary.form
    shown = headlines(form)[:YEARS_UNIT_SHOWN]
    ws.write_string(0, 0, f"本年与上年（按单位，{summary.year}年与{summary.year - 1}年）", fx.title)
    ws.write_string(1, 0, f"上年数据：{last.file}的分单位明细；“—”：上年汇总中无本单位。", fx.note)
    top = 2
    ws.merge_range(top, 0, top + 1, 0, "代码", fx.head)
    ws.merge_range(top, 1, top + 1, 1, "单位", fx.head)
    widths: list[float] = [11, 22]
    for j, cell in enumerate(shown):
        c = 2 + 3 * j
        ws.merge_range(top, c, top, c + 2, cell_name(cell), fx.head)
        for k, text in enumerate(("本年", "上年", "增减")):
            ws.write_string(top + 1, c + k, text, fx.head)
        widths += [8, 8, 8]
    tail = 2 + 3 * len(shown)
    ws.merge_range(top, tail, top + 1, tail, "上年比对提醒", fx.head)
    widths.append(50)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    head = 13 * max((lines_needed(cell_name(c), 24) for c in shown), default=1) + 6
    ws.set_row(top, head)
    texts = []
    for i, block in enumerate(summary.blocks):
        r = top + 2 + i
        figures = last.units.get(block.code)
        ws.write_string(r, 0, block.code, fx.text)
        ws.write_string(r, 1, block.name, fx.text)
        for j, cell in enumerate(shown):
            now = Decimal(block.values.get(cell.key, 0))
            _change(ws, fx, r, 2 + 3 * j, now, None if figures is None else figures.get(cell.key), percent=False)
        notes = _unit_changes(block)
        ws.write_string(r, tail, notes, fx.text)
        texts.append(["", block.name, *[""] * (3 * len(shown)), notes])
    body = fit_rows(ws, texts, tuple(widths), top + 2)
    ws.freeze_panes(top + 2, 2)
    print_setup(ws, header_rows=(top, top + 1), last_col=tail, last_row=top + 1 + len(summary.blocks),
                widths=widths, height=TITLE_ROW + 2 * DEFAULT_ROW + head + body)


def _unit_changes(block: UnitBlock) -> str:
    """What the year-over-year checks found in one unit's return (`xxgk merge` compares each
    unit with its own row of last year's 分单位明细)."""
    return "\n".join(f.message + (f"（情况说明：{f.explanation}）" if f.explanation else "")
                     for f in block.entry.report.findings if f.code.startswith("previous."))


def _change(ws: Worksheet, fx: Formats, r: int, c: int, now: Decimal, before: Decimal | None,
            percent: bool = True) -> None:
    """本年, 上年, 增减 (a formula, cached) and 增减% from column ``c``."""
    ws.write_number(r, c, cell_number(now), fx.number)
    if before is None:
        ws.write_string(r, c + 1, "—", fx.text)
        ws.write_string(r, c + 2, "", fx.text)
        if percent:
            ws.write_string(r, c + 3, "", fx.text)
        return
    ws.write_number(r, c + 1, cell_number(before), fx.number)
    here, there = a1(r, c), a1(r, c + 1)
    ws.write_formula(r, c + 2, f"={here}-{there}", fx.number, cell_number(now - before))
    if percent:
        cached: float | str = float((now - before) / before) if before else ""
        ws.write_formula(r, c + 3, f'=IF({there}=0,"",({here}-{there})/{there})', fx.percent, cached)
