"""`Summary` → the district summary workbook (and a tidy CSV of the accepted returns).

Sheets, in order:

* 汇总表 (or 汇总表-<sheet> per form sheet): the official table as it is sent up — the
  form's layout without fills or working columns; 汇总地区, 单位数 and completeness in
  its header, a 制表 signature block.  Each figure refers to the working copy;
* 分单位明细: every unit's figures, table by table in the official orientation
  (`detail.DetailLayout`), a 合计 row per band;
* 汇总表（含校验）…: the working copy, drawn by the template's renderer
  (`xlsxform.FormSheet`) at `layout_of(form, summary=True)` positions so the reader reads a
  summary exactly like a return one level up: live checks, 情况说明.  Input cells are
  ``=SUM('分单位明细'!X5:X33)``, formula cells the form's own sums;
* 报送情况: the status register; 校验问题: every finding of every file;
* 本年与上年, 本年与上年（按单位） (with last year's summary): 本年, 上年, 增减, 增减% of the
  totals, and of each unit's headline totals, the year-over-year findings beside them;
* 图表: per form table, a chart of its headline total by unit and one of its composition;
* 说明: tool, form, fingerprint, time, region and the inputs with their SHA-256;
* ``_xxgk`` (very hidden): kind=summary, form, year, region and the units included.

Every formula carries its cached result, so any client shows the numbers without
recalculating.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.check.years import previous_values
from xxgk.cycle.collection import STATUS_LABELS, UNKNOWN_UNIT, Block, Status, Summary
from xxgk.files import write_atomically
from xxgk.forms import identity as ids
from xxgk.forms.findings import ERROR
from xxgk.forms.layout import a1, layout_of, official_sheet_name
from xxgk.forms.model import Cell, Form
from xxgk.forms.xlref import quote
from xxgk.report.detail import DETAIL_SHEET, DetailLayout, short_label, write_detail
from xxgk.write.formsheet import Fields, FormSheet, cell_number, metadata, new_workbook, write_identity
from xxgk.write.guide import lines_needed
from xxgk.write.livecheck import LiveChecks
from xxgk.write.styles import Styles

if TYPE_CHECKING:
    from xxgk.cycle.previous import Previous

__all__ = ["DETAIL_SHEET", "LastYear", "last_year", "write_csv", "write_summary"]

REGISTER_SHEET = "报送情况"
ISSUES_SHEET = "校验问题"
YEARS_SHEET = "本年与上年"
YEARS_UNIT_SHEET = "本年与上年（按单位）"
CHART_SHEET = "图表"
ABOUT_SHEET = "说明"
CHART_TOP = 30  # units shown in the by-unit chart

STATUS_FILL = {
    "valid": "#C6EFCE",
    "invalid": "#FFC7CE",
    "missing": "#F2F2F2",
    "duplicate": "#FFEB9C",
    "unexpected": "#FFEB9C",
    "conflict": "#FFC7CE",
    "exempt": "#DDEBF7",
}
SEVERITY_NAME = {ERROR: "错误", "warning": "提醒", "info": "提示"}


def write_summary(summary: Summary, path: Path | str, *, overwrite: bool = False,
                  last: LastYear | None = None) -> Path:
    """Write the summary workbook atomically (with ``last``: the 本年与上年 sheet); raises
    FileExistsError unless ``overwrite``."""
    return write_atomically(path, lambda tmp: _render(summary, tmp, last), overwrite=overwrite)


def incomplete_text(summary: Summary) -> str:
    """不完整：27个单位未报送或未通过校验，3个文件无法识别报送单位 — units and files counted apart."""
    failing = summary.failing
    units = len({(u.code, u.name) for u in failing if u.name != UNKNOWN_UNIT})
    unknown = sum(u.name == UNKNOWN_UNIT for u in failing)
    parts = [f"{units}个单位未报送或未通过校验" if units else "", f"{unknown}个文件无法识别报送单位" if unknown else ""]
    return "不完整：" + "，".join(p for p in parts if p) if failing else ""


def summary_meta(summary: Summary) -> dict[str, str]:
    """The identity pairs of a summary workbook (see `xxgk.identity`)."""
    meta = metadata(summary.form, year=summary.year, agency=summary.region)
    meta[ids.KIND] = "summary"
    meta[ids.REGION] = summary.region
    meta[ids.UNITS] = "\n".join(f"{code}\t{name}" for code, name in summary.units)
    # units summed / units expected: an incomplete summary is flagged one level up
    meta[ids.COMPLETE] = f"{len(summary.units)}/{max(summary.expected, len(summary.units))}"
    return meta


# ---------------------------------------------------------------- the workbook

OFFICIAL_SIGNATURE = ("单位负责人", "审核人", "制表人", "联系电话", "制表日期")


def completeness_text(summary: Summary) -> str:
    """The completeness line of the 汇总表's header."""
    return incomplete_text(summary) or f"完整：{len(summary.register)}个单位均已报送并通过校验"


def _render(summary: Summary, target: Path, last: LastYear | None) -> None:
    wb = new_workbook(target)
    styles = Styles(wb)
    fx = _Formats(wb)
    form = summary.form
    layout = layout_of(form, summary=True)
    places = layout.places
    meta = summary_meta(summary)
    detail = DetailLayout(form, len(summary.blocks))
    title = form.summary_title.format_map(Fields(region=summary.region, year=str(summary.year)))
    live = LiveChecks(form, layout, values=summary.totals, notes=summary.notes)
    region = f"汇总地区：{summary.region}"
    for i, sheet in enumerate(layout.sheets):
        refs: dict[str, str | None] = {
            c.key: f"={quote(sheet.name)}!{places[c.key].a1}" for c in form.value_cells
            if places[c.key].sheet == sheet.name
        }
        FormSheet(
            wb.add_worksheet(official_sheet_name(form.sheets[i], len(form.sheets))), styles, form, layout, sheet,
            live, title, meta, values=summary.totals, formulas=refs, status=completeness_text(summary),
            info=f"{region}　汇总单位数：{len(summary.blocks)}", official=True, signature=OFFICIAL_SIGNATURE,
        ).write(i == 0)
    units = [(b.code, f"{b.name}（汇总）" if b.is_summary else b.name, b.values) for b in summary.blocks]
    detail_title = f"{summary.region}{summary.year}年度分单位明细（{form.name}）"
    write_detail(wb, wb.add_worksheet(DETAIL_SHEET), detail, detail_title, units, summary.totals)
    fill = {cell.key: f"=SUM({detail.range(cell.key)})" if detail.units else None for cell in form.inputs}
    for sheet in layout.sheets:
        FormSheet(
            wb.add_worksheet(sheet.name), styles, form, layout, sheet, live, title, meta,
            values=summary.totals, formulas=fill, notes=summary.notes,
            status=incomplete_text(summary) or None, info=region,
        ).write(False)
    _register_sheet(wb.add_worksheet(REGISTER_SHEET), fx, summary)
    _issues_sheet(wb.add_worksheet(ISSUES_SHEET), fx, summary)
    if last is not None:
        _years_sheet(wb.add_worksheet(YEARS_SHEET), fx, summary, last)
        if last.units:
            _years_by_unit_sheet(wb.add_worksheet(YEARS_UNIT_SHEET), fx, summary, last)
    _chart_sheet(wb, wb.add_worksheet(CHART_SHEET), fx, summary)
    _about_sheet(wb.add_worksheet(ABOUT_SHEET), fx, summary, last)
    live.write_sheet(wb, styles)
    write_identity(wb, meta, {
        "title": title, "subject": form.name, "company": summary.region,
        "keywords": f"{form.id},{summary.year},summary",
        "comments": "由xxgk汇总生成。汇总表的数字由分单位明细自动求和。",
    }, styles.plain)
    wb.close()


class _Formats:
    """Formats of the summary's own sheets (the form sheets use `Styles`)."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        self.head = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "text_wrap": True,
                                   "align": "center"})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.mono = wb.add_format({**base, "font_name": "Consolas", "font_size": 9})
        self.number = wb.add_format({**base, "num_format": "General"})
        self.percent = wb.add_format({**base, "num_format": "0.0%"})
        self.total_label = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6"})
        self.total = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6", "num_format": "General"})
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "valign": "vcenter"})
        self.note = wb.add_format({"font_name": "宋体", "font_size": 10, "valign": "vcenter"})
        self.status = {
            s: wb.add_format({**base, "bg_color": fill, "align": "center"}) for s, fill in STATUS_FILL.items()
        }
        self.key = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})


def _print_setup(ws: Worksheet, *, header_rows: tuple[int, int], last_col: int, last_row: int) -> None:
    """A4 landscape, one page wide, header rows on every page, page numbers."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(*header_rows)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.print_area(0, 0, max(last_row, header_rows[1]), last_col)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _fit_rows(ws: Worksheet, rows: list[list[str]], widths: tuple[float, ...], first: int, points: float = 13) -> None:
    """Row heights that show every wrapped text in full (LibreOffice never grows a row itself)."""
    for i, texts in enumerate(rows):
        lines = max((lines_needed(t, w) for t, w in zip(texts, widths, strict=True) if t), default=1)
        if lines > 1:
            ws.set_row(first + i, points * lines + 4)


def _table_head(ws: Worksheet, fx: _Formats, row: int, headers: tuple[str, ...], widths: tuple[float, ...]) -> None:
    for c, (text, width) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(row, c, text, fx.head)
        ws.set_column(c, c, width)
    ws.set_row(row, 13 * max(lines_needed(h, w) for h, w in zip(headers, widths, strict=True)) + 6)


# ---------------------------------------------------------------- 报送情况, 校验问题


REGISTER_HEADERS = ("序号", "代码", "单位", "状态", "文件名", "填报人", "联系电话", "填报日期",
                    "错误数", "提醒数", "未说明提醒数", "说明")
REGISTER_WIDTHS = (5, 12, 24, 10, 30, 9, 13, 11, 6, 6, 8, 40)


def _register_sheet(ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    counts = summary.counts_text()
    ws.write_string(0, 0, f"报送情况（{counts or '无'}）", fx.title)
    _table_head(ws, fx, 1, REGISTER_HEADERS, REGISTER_WIDTHS)
    texts = []
    for i, line in enumerate(summary.register):
        r = 2 + i
        entries = line.entries
        first = entries[0] if entries else None
        sig = first.signature if first is not None and first.kind != "summary" else {}
        reports = [e.report for e in entries]
        row: list[tuple[str | int, Any]] = [
            (i + 1, fx.number),
            (line.code, fx.text),
            (line.name, fx.text),
            (line.label, fx.status[line.status]),
            ("\n".join(e.shown_file for e in entries), fx.text),
            (sig.get("填报人", ""), fx.text),
            (sig.get("联系电话", ""), fx.text),
            (sig.get("填报日期", ""), fx.text),
            (sum(r.errors for r in reports) if reports else "", fx.number),
            (sum(r.warnings for r in reports) if reports else "", fx.number),
            (sum(r.unexplained for r in reports) if reports else "", fx.number),
            (line.detail, fx.text),
        ]
        for c, (value, fmt) in enumerate(row):
            if isinstance(value, int):
                ws.write_number(r, c, value, fmt)
            else:
                ws.write_string(r, c, value, fmt)
        texts.append([v if isinstance(v, str) else "" for v, _ in row])
    _fit_rows(ws, texts, REGISTER_WIDTHS, 2)
    ws.freeze_panes(2, 3)
    last = 1 + len(summary.register)
    ws.autofilter(1, 0, max(2, last), len(REGISTER_HEADERS) - 1)
    _print_setup(ws, header_rows=(1, 1), last_col=len(REGISTER_HEADERS) - 1, last_row=last)


ISSUE_HEADERS = ("单位", "文件", "行次/指标", "指标", "单元格", "严重程度", "问题", "情况说明")
ISSUE_WIDTHS = (18, 24, 11, 26, 8, 6, 62, 26)


def _issues_sheet(ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    form = summary.form
    ws.write_string(0, 0, "校验问题（每份报送文件的全部校验结果）", fx.title)
    _table_head(ws, fx, 1, ISSUE_HEADERS, ISSUE_WIDTHS)
    rows: list[tuple[str, str, Any]] = [
        (e.label if e.code or e.name else UNKNOWN_UNIT, Path(e.file).name, f)
        for e in summary.entries
        for f in e.report.findings
    ]
    rows += [("（汇总数据）", "", f) for f in summary.findings]
    texts = []
    for i, (unit, file, f) in enumerate(rows):
        r = 2 + i
        cell = form.cells.get(f.indicator)
        where = cell.place if cell is not None else f.indicator
        values = [unit, file, where, f.label, f.cell, SEVERITY_NAME.get(f.severity, f.severity),
                  f.message, f.explanation]
        for c, value in enumerate(values):
            ws.write_string(r, c, value, fx.text)
        texts.append(values)
    _fit_rows(ws, texts, ISSUE_WIDTHS, 2)
    ws.freeze_panes(2, 2)
    ws.autofilter(1, 0, 1 + max(1, len(rows)), len(ISSUE_HEADERS) - 1)
    _print_setup(ws, header_rows=(1, 1), last_col=len(ISSUE_HEADERS) - 1, last_row=1 + len(rows))


# ---------------------------------------------------------------- 本年与上年


@dataclass(frozen=True)
class LastYear:
    """Last year's summary as the comparison needs it: totals on this form's cell keys and,
    when it follows the same form, each unit's own figures (by unit code)."""

    file: str
    totals: dict[str, Decimal]
    units: dict[str, dict[str, Decimal]]


def last_year(previous: Previous, form: Form) -> LastYear:
    """Last year's figures (validated and read once by `previous.Previous`) for the 本年与上年
    sheet: the totals on this form's cells, and each unit's row when the form is the same."""
    totals = previous_values(form, previous.form, previous.values)
    units = {code: dict(row) for code, row in previous.by_unit.items()} if previous.form.id == form.id else {}
    return LastYear(previous.path.name, totals, units)


def cell_name(cell: Cell) -> str:
    """A value cell's name short enough for a chart or a column head: 一、本年新收政府信息公开申请数量·总计,
    行政复议·总计, （一）收到申请数."""
    table = cell.table
    parts = [short_label(cell.row.label)] if len(table.rows) > 1 else []
    if len(table.columns) > 1:
        parts += [*cell.column.groups[-1:], cell.column.label] if not parts else [cell.column.label]
    return "·".join(parts) or short_label(cell.row.label)


def headlines(form: Form) -> list[Cell]:
    """The totals worth following by unit: formula cells no other total adds up (收到申请数,
    行政复议数量 …), in form order; the first input cells when a form has none."""
    parts = {p for c in form.cells.values() for p in c.parts}
    tops = [c for c in form.cells.values() if c.kind == "formula" and c.key not in parts and len(c.parts) > 1
            and (len(c.table.columns) == 1 or c.column.parts)]  # a total column's, not （七）总计 by applicant
    return tops or list(form.inputs[:4])


YEARS_TOTAL_HEADERS = ("行次/栏次", "指标", "本年", "上年", "增减", "增减%", "上年比对提醒")
YEARS_TOTAL_WIDTHS = (14, 44, 10, 10, 10, 9, 60)
YEARS_UNIT_SHOWN = 5  # headline totals shown by unit


def _years_sheet(ws: Worksheet, fx: _Formats, summary: Summary, last: LastYear) -> None:
    form = summary.form
    ws.write_string(0, 0, f"本年与上年（{summary.year}年与{summary.year - 1}年）", fx.title)
    ws.write_string(1, 0, f"上年数据：{last.file}；列出合计项和窄表的各项（两年中至少一年不为0），以及有提醒的指标。",
                    fx.note)
    _table_head(ws, fx, 2, YEARS_TOTAL_HEADERS, YEARS_TOTAL_WIDTHS)
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
        label = "/".join((*cell.row.groups, cell.label)) if cell.row.groups else cell.label
        ws.write_string(r, 0, cell.place, fx.text)
        ws.write_string(r, 1, label, fx.text)
        _change(ws, fx, r, 2, now, before)
        ws.write_string(r, 6, notes, fx.text)
        texts.append([cell.place, label, "", "", "", "", notes])
        r += 1
    _fit_rows(ws, texts, YEARS_TOTAL_WIDTHS, 3)
    _print_setup(ws, header_rows=(2, 2), last_col=len(YEARS_TOTAL_HEADERS) - 1, last_row=r - 1)


def _years_by_unit_sheet(ws: Worksheet, fx: _Formats, summary: Summary, last: LastYear) -> None:
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
    ws.set_row(top, 13 * max((lines_needed(cell_name(c), 24) for c in shown), default=1) + 6)
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
    _fit_rows(ws, texts, tuple(widths), top + 2)
    ws.freeze_panes(top + 2, 2)
    _print_setup(ws, header_rows=(top, top + 1), last_col=tail, last_row=top + 1 + len(summary.blocks))


def _unit_changes(block: Block) -> str:
    """What the year-over-year checks found in one unit's return (`xxgk merge` compares each
    unit with its own row of last year's 分单位明细)."""
    return "\n".join(f.message + (f"（情况说明：{f.explanation}）" if f.explanation else "")
                     for f in block.entry.report.findings if f.code.startswith("previous."))


def _change(ws: Worksheet, fx: _Formats, r: int, c: int, now: Decimal, before: Decimal | None,
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


# ---------------------------------------------------------------- 图表


CHARTS_BY_UNIT, CHARTS_BY_PART = 2, 3
CHART_LABEL_WIDTH = 32


def chart_cells(form: Form) -> tuple[list[Cell], list[Cell]]:
    """Totals charted by unit and totals charted by their parts, from the form's structure:
    its headline totals (`headlines`), the form's first input first among those by unit."""
    tops = headlines(form)
    by_unit = list(dict.fromkeys([*form.inputs[:1], *tops]))
    return by_unit, [c for c in tops if len(c.parts) > 1]


def part_name(form: Form, total: Cell, key: str) -> str:
    """A part as its chart category: the column name when the parts share a row (自然人 …),
    else the row's."""
    part = form.cells[key]
    same_row = all(form.cells[p].row is part.row and form.cells[p].table is part.table for p in total.parts)
    return part.column.label if same_row else short_label(part.row.label)


ChartRow = tuple[str, str | None, int | float]  # label, formula (or None), value


def _chart_sheet(wb: Workbook, ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    """Small tables in A:B, each with its chart beside it (charts read the tables); a chart
    whose figures are all zero is left out, and said so."""
    form = summary.form
    places = layout_of(form, summary=True).places
    by_unit, by_part = chart_cells(form)
    ws.set_column(0, 0, CHART_LABEL_WIDTH)
    ws.set_column(1, 1, 14)
    top, skipped = 2, []
    ws.write_string(0, 0, f"{summary.region}{summary.year}年度图表", fx.title)
    drawn = 0
    for cell in by_unit:
        if drawn == CHARTS_BY_UNIT:
            break
        label = cell_name(cell)
        ranked = sorted(summary.blocks, key=lambda b: -Decimal(b.values.get(cell.key, 0)))[:CHART_TOP]
        if not any(b.values.get(cell.key, 0) for b in ranked):
            skipped.append(label)
            continue
        more = len(summary.blocks) > CHART_TOP
        heading = f"{label}（按单位{f'，前{CHART_TOP}名' if more else ''}）"
        rows: list[ChartRow] = [(b.name, None, cell_number(b.values.get(cell.key, 0))) for b in ranked]
        height = _chart_table(ws, fx, top, heading, "单位", rows)
        chart_rows = max(16, len(rows) + 4)
        chart = _chart(wb, ws, top, len(rows), "bar", label, heading, "#4472C4", 20 * chart_rows)
        chart.set_y_axis({"reverse": True})
        top += max(height, chart_rows + 1) + 2
        drawn += 1
    drawn = 0
    for total in by_part:
        if drawn == CHARTS_BY_PART:
            break
        label = cell_name(total)
        if not any(summary.totals.get(k) for k in total.parts):
            skipped.append(f"{label}（按构成）")
            continue
        heading = f"{label}（按构成）"
        parts: list[ChartRow] = []
        for key in total.parts:
            place = places[key]
            parts.append((part_name(form, total, key), f"={quote(place.sheet)}!{place.a1}",
                         cell_number(summary.totals[key])))
        height = _chart_table(ws, fx, top, heading, "项目", parts)
        if len(parts) > 8:  # many parts: bars, one line each, readable labels
            chart_rows = len(parts) + 4
            chart = _chart(wb, ws, top, len(parts), "bar", label, heading, "#ED7D31", 20 * chart_rows)
            chart.set_y_axis({"reverse": True})
        else:
            chart_rows = 16
            _chart(wb, ws, top, len(parts), "column", label, heading, "#ED7D31", 320)
        top += max(height, chart_rows + 1) + 2
        drawn += 1
    if skipped:
        ws.write_string(1, 0, "全部为0、未作图：" + "、".join(skipped), fx.note)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _chart(wb: Workbook, ws: Worksheet, top: int, n: int, kind: str, label: str, heading: str,
           color: str, height: int) -> Chart:
    """A one-series chart of the ``n``-row table at ``top`` (labels in A, values in B), beside it."""
    name = quote(CHART_SHEET)
    chart = wb.add_chart({"type": kind})
    assert chart is not None
    chart.add_series({
        "name": label,
        "categories": f"={name}!$A${top + 3}:$A${top + 2 + n}",
        "values": f"={name}!$B${top + 3}:$B${top + 2 + n}",
        "data_labels": {"value": True},
        "fill": {"color": color},
    })
    chart.set_x_axis({"interval_unit": 1, "num_font": {"size": 8}})  # every category named, none skipped
    chart.set_title({"name": heading, "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 680, "height": height})
    ws.insert_chart(top, 3, chart)
    return chart


def _chart_table(ws: Worksheet, fx: _Formats, top: int, heading: str, what: str,
                 rows: list[ChartRow]) -> int:
    """Heading, header and (label, formula or None, value) rows from ``top``; rows used."""
    ws.write_string(top, 0, heading, fx.title)
    ws.write_string(top + 1, 0, what, fx.head)
    ws.write_string(top + 1, 1, "数值", fx.head)
    _fit_rows(ws, [[label] for label, _, _ in rows], (CHART_LABEL_WIDTH,), top + 2)
    for i, (label, formula, value) in enumerate(rows):
        ws.write_string(top + 2 + i, 0, label, fx.text)
        if formula:
            ws.write_formula(top + 2 + i, 1, formula, fx.number, value)
        else:
            ws.write_number(top + 2 + i, 1, value, fx.number)
    return 2 + len(rows)


# ---------------------------------------------------------------- 说明


def _about_sheet(ws: Worksheet, fx: _Formats, summary: Summary, last: LastYear | None) -> None:
    form = summary.form
    widths = (8, 44, 66, 18)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.write_string(0, 0, "说明", fx.title)
    pairs = [
        ("生成工具", f"xxgk {summary.tool_version}"),
        ("表式", f"{form.name}（{form.id}，第{form.version}版）"),
        ("表式指纹", form.fingerprint),
        ("统计年度", f"{summary.year}年"),
        ("汇总地区", summary.region),
        ("生成时间", summary.built_at.isoformat(sep=" ")),
        ("汇总单位数", str(len(summary.blocks))),
        ("包含基层单位数", str(len(summary.units))),
        ("重复报送处理", "以填报日期最新的文件为准" if summary.prefer == "latest" else "数据不同的重复报送均不计入"),
        ("完整性", completeness_text(summary)),
        ("汇总方法", "汇总表各数=分单位明细中已通过校验的各单位数据之和（精确十进制求和）；合计项由其分项相加。"),
        ("工作表", "汇总表：上报用的正式表；汇总表（含校验）：同一张表，附校验提示和情况说明（上一级汇总读取此表）。"),
    ]
    if last is not None:
        pairs.append(("上年数据", last.file))
    for i, (key, value) in enumerate(pairs):
        ws.merge_range(2 + i, 0, 2 + i, 1, key, fx.key)
        ws.merge_range(2 + i, 2, 2 + i, 3, value, fx.text)
    _fit_rows(ws, [[value] for _, value in pairs], (widths[2] + widths[3],), 2)
    r = 3 + len(pairs)
    for c, text in enumerate(("状态", "文件", "SHA-256", "单位")):
        ws.write_string(r, c, text, fx.head)
    status = {id(e): line.label for line in summary.register for e in line.entries}
    texts = []
    for i, e in enumerate(summary.entries):
        row = [status.get(id(e), ""), e.file, e.sha256, e.label if e.code or e.name else ""]
        for c, value in enumerate(row):
            ws.write_string(r + 1 + i, c, value, fx.mono if c == 2 else fx.text)
        texts.append([row[0], row[1], "", row[3]])
    _fit_rows(ws, texts, widths, r + 1)
    _print_setup(ws, header_rows=(r, r), last_col=3, last_row=r + len(summary.entries))


# ---------------------------------------------------------------- CSV


CSV_HEADERS = ("年度", "表式", "单位代码", "单位名称", "表", "行次", "指标", "栏次", "栏目", "数值", "指标编码")


def write_csv(summary: Summary, path: Path | str, *, overwrite: bool = True) -> Path:
    """Every value of every accepted return, one line each, UTF-8 with BOM (opens in Excel)."""

    def render(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(CSV_HEADERS)
            out.writerows(csv_rows(summary))

    return write_atomically(path, render, overwrite=overwrite)


def csv_rows(summary: Summary) -> list[tuple[str, ...]]:
    form = summary.form
    cells = form.value_cells
    return [_csv_row(summary, form, b, c) for b in summary.blocks for c in cells]


def _csv_row(summary: Summary, form: Form, block: Block, cell: Cell) -> tuple[str, ...]:
    value = block.values.get(cell.key, 0)
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    label = "".join(f"{g}/" for g in cell.row.groups) + cell.row.label
    column = "/".join((*cell.column.groups, cell.column.label))
    return (str(summary.year), form.id, block.code, block.name, cell.table.title or cell.table.id,
            cell.row.code, label, cell.column.code, column, text, cell.key)



# ---------------------------------------------------------------- text for people


TEXT_ORDER: tuple[Status, ...] = ("missing", "invalid", "conflict", "duplicate", "unexpected", "exempt")


def summary_text(summary: Summary, output: Path | str | None = None) -> str:
    """What `xxgk merge` prints: where the summary is, counts, then who needs attention."""
    from xxgk.report.text import finding_line

    form = summary.form
    lines = []
    if output is not None:
        lines.append(f"汇总表已生成：{output}")
    region = f"，汇总地区：{summary.region}" if summary.region else ""
    lines.append(f"表式：{form.name}（{form.id}），{summary.year}年度{region}")
    if not summary.region:
        lines.append("提醒：未指定汇总地区（--region），汇总表中没有地区名称；上一级汇总时将以文件名称呼本汇总表。")
    counts = summary.counts_text()
    skipped = f"，另有{len(summary.skipped)}个文件未读取（见文末）" if summary.skipped else ""
    lines.append(f"共读取{len(summary.entries)}个文件{skipped}；计入汇总{len(summary.blocks)}份"
                 f"（含{len(summary.units)}个单位）；{counts}。")
    lines.append(f"结论：{incomplete_text(summary)}，汇总表只含已通过校验的单位。" if not summary.complete
                 else "结论：完整，所有单位均已报送并通过校验。")
    for status in TEXT_ORDER:
        group = [u for u in summary.register if u.status == status]
        if not group:
            continue
        lines.append("")
        lines.append(f"{STATUS_LABELS[status]}（{len(group)}）：")
        for u in group:
            who = " ".join(x for x in (u.code, u.name) if x)
            files = "、".join(Path(f).name for f in u.files)
            tail = "：".join(x for x in (files, u.detail) if x)
            lines.append(f"  {who}" + (f" — {tail}" if tail else ""))
            if status == "invalid":
                for e in u.entries:
                    lines.extend(f"      {finding_line(f, form)}" for f in e.report.findings if f.blocking)
    if summary.findings:
        lines.append("")
        lines.append("汇总数据的提醒：")
        lines.extend(f"  {finding_line(f, form)}" for f in summary.findings)
    if summary.skipped:
        lines.append("")
        lines.append(f"未读取的文件（{len(summary.skipped)}）：")
        lines.extend(f"  {f} — {why}" for f, why in summary.skipped)
    return "\n".join(lines) + "\n"
