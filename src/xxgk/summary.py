"""`Summary` → the district summary workbook (and a tidy CSV of the accepted returns).

Sheets, in order:

* 汇总表 (or 汇总表-<sheet> per form sheet): the form's official layout, rendered by the
  same code as the template (`template.FormSheet`), at `layout_of(form, summary=True)`
  positions, so the reader reads a summary exactly like a return one level up.  Input
  cells are ``=SUM('分单位明细'!X3:X40)``, formula cells the form's own sums; every
  formula carries its cached result, so any client shows the numbers without
  recalculating;
* 分单位明细: one row per accepted unit (or lower-level summary), a column per value cell,
  a 合计 row, frozen panes and an autofilter;
* 报送情况: the status register; 校验问题: every finding of every file;
* 图表: a bar chart of the form's first input cell by unit and a column chart of the
  parts of its first total (e.g. 收到申请数 by channel);
* 说明: tool, form, fingerprint, time, region and the inputs with their SHA-256;
* ``_xxgk`` (very hidden): kind=summary, form, year, region and the units included.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import identity as ids
from .book import KINDS
from .files import write_atomically
from .findings import ERROR
from .forms import Cell, Form, Table
from .layout import a1, layout_of
from .livecheck import LiveChecks
from .merge import STATUS_LABELS, Block, Summary
from .reader import open_file
from .sheetstyle import Styles
from .template import Fields, FormSheet, cell_number, metadata, new_workbook, write_identity
from .xlref import quote

__all__ = ["DETAIL_SHEET", "column_header", "write_csv", "write_summary"]

DETAIL_SHEET = "分单位明细"
REGISTER_SHEET = "报送情况"
ISSUES_SHEET = "校验问题"
CHART_SHEET = "图表"
ABOUT_SHEET = "说明"
DETAIL_HEADER_ROW = 1  # row 0 is the sheet's title
DETAIL_FIRST_ROW = 2
DETAIL_FIRST_COL = 2  # columns A, B: 代码, 单位
CHART_TOP = 30  # units shown in the by-unit chart

STATUS_FILL = {
    "valid": "#C6EFCE",
    "invalid": "#FFC7CE",
    "missing": "#F2F2F2",
    "duplicate": "#FFEB9C",
    "unexpected": "#FFEB9C",
    "conflict": "#FFC7CE",
}
SEVERITY_NAME = {ERROR: "错误", "warning": "提醒", "notice": "说明"}


def write_summary(summary: Summary, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write the summary workbook atomically; raises FileExistsError unless ``overwrite``."""
    return write_atomically(path, lambda tmp: _render(summary, tmp), overwrite=overwrite)


def incomplete_text(summary: Summary) -> str:
    n = len(summary.failing)
    return f"不完整：{n}个单位未报送或未通过校验" if n else ""


def summary_meta(summary: Summary) -> dict[str, str]:
    """The identity pairs of a summary workbook (see `xxgk.identity`)."""
    meta = metadata(summary.form, year=summary.year, agency=summary.region)
    meta[ids.KIND] = "summary"
    meta[ids.REGION] = summary.region
    meta[ids.UNITS] = "\n".join(f"{code}\t{name}" for code, name in summary.units)
    return meta


# ---------------------------------------------------------------- the workbook


def _render(summary: Summary, target: Path) -> None:
    wb = new_workbook(target)
    styles = Styles(wb)
    extra = _Formats(wb)
    form = summary.form
    layout = layout_of(form, summary=True)
    meta = summary_meta(summary)
    detail = _DetailColumns(form, len(summary.blocks))
    title = form.summary_title.format_map(Fields(region=summary.region, year=str(summary.year)))
    live = LiveChecks(form, layout, values=summary.totals, notes=summary.notes)
    fill = {cell.key: _total_formula(cell, detail) for cell in form.inputs}
    for i, sheet in enumerate(layout.sheets):
        FormSheet(
            wb.add_worksheet(sheet.name), styles, form, layout, sheet, live, title, meta,
            values=summary.totals, formulas=fill, notes=summary.notes,
            status=incomplete_text(summary) or None,
            info=f"汇总地区：{summary.region}" if summary.region else "汇总地区：",
        ).write(i == 0)
    _detail_sheet(wb.add_worksheet(DETAIL_SHEET), extra, summary, detail)
    _register_sheet(wb.add_worksheet(REGISTER_SHEET), extra, summary)
    _issues_sheet(wb.add_worksheet(ISSUES_SHEET), extra, summary)
    _chart_sheet(wb, wb.add_worksheet(CHART_SHEET), extra, summary, detail)
    _about_sheet(wb.add_worksheet(ABOUT_SHEET), extra, summary)
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
        self.total_label = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6"})
        self.total = wb.add_format({**base, "bold": True, "bg_color": "#E7E6E6", "num_format": "General"})
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "valign": "vcenter"})
        self.status = {
            s: wb.add_format({**base, "bg_color": fill, "align": "center"}) for s, fill in STATUS_FILL.items()
        }
        self.key = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})


# ---------------------------------------------------------------- 分单位明细


def table_tag(table: Table) -> str:
    """Short name of a table: its Chinese number (三、… → 三), else its title or id."""
    title = table.title.strip()
    if "、" in title:
        return title.split("、", 1)[0]
    return title or table.id


def short_label(text: str) -> str:
    """A row label without its trailing remark: （一）收到申请数（…说明…） → （一）收到申请数."""
    shorter = re.sub(r"[（(][^（）()]*[）)]$", "", text).strip()
    return shorter or text


def column_header(form: Form, cell: Cell) -> str:
    """The 分单位明细 header of a value cell: 行次 and short label (one-column forms), else
    table-row-column such as 三-1-自然人 (the row by its label when short; the column with
    its group when the label repeats, e.g. 四-行政复议/结果维持)."""
    single = len(form.tables) == 1 and len(form.tables[0].columns) == 1
    unit = f"（{cell.row.unit}）" if cell.row.unit == "万元" else ""
    if single:
        return f"{cell.row.code} {short_label(cell.row.label)}{unit}"
    table = cell.table
    parts = [table_tag(table)]
    if len(table.rows) > 1:
        parts.append(cell.row.code if len(cell.row.label) > 8 else cell.row.label)
    if len(table.columns) > 1:
        column = cell.column.label
        if sum(c.label == column for c in table.columns) > 1 and cell.column.groups:
            column = f"{cell.column.groups[-1]}/{column}"
        parts.append(column)
    return "-".join(parts) + unit


class _DetailColumns:
    """Where each value cell's column and the unit rows sit on 分单位明细."""

    def __init__(self, form: Form, units: int) -> None:
        self.cells = list(form.value_cells)
        self.col = {c.key: DETAIL_FIRST_COL + i for i, c in enumerate(self.cells)}
        self.units = units
        self.first = DETAIL_FIRST_ROW
        self.last = DETAIL_FIRST_ROW + units - 1  # last unit row (first - 1 when none)
        self.total_row = DETAIL_FIRST_ROW + units

    def range(self, key: str) -> str:
        col = self.col[key]
        return f"{quote(DETAIL_SHEET)}!{a1(self.first, col)}:{a1(self.last, col)}"


def unit_figures(path: Path | str, form: Form) -> dict[str, dict[str, Decimal]]:
    """Every unit's own figures by unit code, read back from a summary's 分单位明细 (last year's
    values for units' returns checked against a district summary); empty when the sheet is
    not there or not laid out as this module writes it for ``form``.  The file is vetted as
    a return is (`reader.open_file`); raises `ReadError` when it cannot be read."""
    book = open_file(path)
    try:
        if DETAIL_SHEET not in book.names:
            return {}
        rows = book.grid(DETAIL_SHEET).rows
    finally:
        book.close()
    detail = _DetailColumns(form, 0)
    header = rows[DETAIL_HEADER_ROW] if len(rows) > DETAIL_HEADER_ROW else []
    for cell in detail.cells:
        col = detail.col[cell.key]
        if col >= len(header) or header[col] != column_header(form, cell):
            return {}
    return {
        str(row[0]).strip(): {c.key: _decimal(row[detail.col[c.key]]) for c in detail.cells}
        for row in rows[DETAIL_FIRST_ROW:]
        if row and str(row[0]).strip() and row[0] != "合计"
    }


def _decimal(value: Any) -> Decimal:
    """A number as python-calamine returns it (float, int or blank) as an exact Decimal."""
    if value in ("", None):
        return Decimal(0)
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    return Decimal(str(value))


def _total_formula(cell: Cell, detail: _DetailColumns) -> str | None:
    """``=SUM('分单位明细'!C3:C40)`` for an input cell; None (a plain 0) with no units."""
    return f"=SUM({detail.range(cell.key)})" if detail.units else None


def _detail_sheet(ws: Worksheet, fx: _Formats, summary: Summary, detail: _DetailColumns) -> None:
    form = summary.form
    ws.write_string(0, 0, f"{summary.region}{summary.year}年度分单位明细（{form.name}）", fx.title)
    ws.write_string(DETAIL_HEADER_ROW, 0, "代码", fx.head)
    ws.write_string(DETAIL_HEADER_ROW, 1, "单位", fx.head)
    for cell in detail.cells:
        col = detail.col[cell.key]
        ws.write_string(DETAIL_HEADER_ROW, col, column_header(form, cell), fx.head)
    ws.set_row(DETAIL_HEADER_ROW, 60)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 28)
    if detail.cells:
        ws.set_column(DETAIL_FIRST_COL, DETAIL_FIRST_COL + len(detail.cells) - 1, 11)
    for i, block in enumerate(summary.blocks):
        r = detail.first + i
        ws.write_string(r, 0, block.code, fx.text)
        name = f"{block.name}（汇总）" if block.is_summary else block.name
        ws.write_string(r, 1, name, fx.text)
        values = block.values
        for cell in detail.cells:
            ws.write_number(r, detail.col[cell.key], cell_number(values.get(cell.key, 0)), fx.number)
    r = detail.total_row
    ws.write_string(r, 0, "合计", fx.total_label)
    ws.write_string(r, 1, f"{len(summary.blocks)}个单位", fx.total_label)
    for cell in detail.cells:
        col = detail.col[cell.key]
        value = cell_number(summary.totals[cell.key])
        if detail.units:
            ws.write_formula(r, col, f"=SUM({a1(detail.first, col)}:{a1(detail.last, col)})", fx.total, value)
        else:
            ws.write_number(r, col, value, fx.total)
    ws.freeze_panes(DETAIL_FIRST_ROW, DETAIL_FIRST_COL)
    last_col = DETAIL_FIRST_COL + len(detail.cells) - 1
    ws.autofilter(DETAIL_HEADER_ROW, 0, max(detail.last, DETAIL_HEADER_ROW), last_col)
    _print_setup(ws, header_rows=(DETAIL_HEADER_ROW, DETAIL_HEADER_ROW), fit_width=False)
    ws.repeat_columns(0, DETAIL_FIRST_COL - 1)


def _print_setup(ws: Worksheet, *, header_rows: tuple[int, int], fit_width: bool = True) -> None:
    """A4 landscape, header rows on every page, page numbers."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(*header_rows)
    if fit_width:
        ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


# ---------------------------------------------------------------- 报送情况, 校验问题


REGISTER_HEADERS = ("序号", "代码", "单位", "状态", "文件名", "文件类型", "SHA-256", "填报人", "联系电话", "填报日期",
                    "错误数", "提醒数", "未说明提醒数", "说明")
REGISTER_WIDTHS = (6, 14, 28, 12, 30, 10, 20, 10, 14, 12, 8, 8, 12, 50)


def _register_sheet(ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    counts = summary.counts_text()
    ws.write_string(0, 0, f"报送情况（{counts or '无'}）", fx.title)
    for c, (text, width) in enumerate(zip(REGISTER_HEADERS, REGISTER_WIDTHS, strict=True)):
        ws.write_string(1, c, text, fx.head)
        ws.set_column(c, c, width)
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
            ("\n".join(Path(e.file).name for e in entries), fx.text),
            ("\n".join(KINDS.get(e.file_kind, "") for e in entries), fx.text),
            ("\n".join(e.sha256 for e in entries), fx.mono),
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
    ws.freeze_panes(2, 3)
    ws.autofilter(1, 0, 1 + max(1, len(summary.register)), len(REGISTER_HEADERS) - 1)
    _print_setup(ws, header_rows=(1, 1))


ISSUE_HEADERS = ("单位", "文件", "行次/指标", "指标", "单元格", "严重程度", "问题", "情况说明")
ISSUE_WIDTHS = (24, 28, 12, 36, 10, 8, 80, 36)


def _issues_sheet(ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    form = summary.form
    ws.write_string(0, 0, "校验问题（每份报送文件的全部校验结果）", fx.title)
    for c, (text, width) in enumerate(zip(ISSUE_HEADERS, ISSUE_WIDTHS, strict=True)):
        ws.write_string(1, c, text, fx.head)
        ws.set_column(c, c, width)
    rows: list[tuple[str, str, Any]] = [
        (e.label if e.code or e.name else "（无法识别）", Path(e.file).name, f)
        for e in summary.entries
        for f in e.report.findings
    ]
    rows += [("（汇总数据）", "", f) for f in summary.findings]
    for i, (unit, file, f) in enumerate(rows):
        r = 2 + i
        cell = form.cells.get(f.indicator)
        where = cell.place if cell is not None else f.indicator
        values = (unit, file, where, f.label, f.cell, SEVERITY_NAME.get(f.severity, f.severity),
                  f.message, f.explanation)
        for c, value in enumerate(values):
            ws.write_string(r, c, value, fx.text)
    ws.freeze_panes(2, 2)
    ws.autofilter(1, 0, 1 + max(1, len(rows)), len(ISSUE_HEADERS) - 1)
    _print_setup(ws, header_rows=(1, 1))


# ---------------------------------------------------------------- 图表


def chart_cells(form: Form) -> tuple[Cell | None, Cell | None]:
    """The indicator charted by unit (the first input cell) and the total whose parts are
    charted (the first formula cell with at least two parts, e.g. 收到申请数 by channel)."""
    first = form.inputs[0] if form.inputs else None
    total = next((c for c in form.cells.values() if c.kind == "formula" and len(c.parts) > 1), None)
    return first, total


ChartRow = tuple[str, str | None, int | float]  # label, formula (or None), value


def _chart_sheet(wb: Workbook, ws: Worksheet, fx: _Formats, summary: Summary, detail: _DetailColumns) -> None:
    """Two small tables in A:B, each with its chart beside it (charts read the tables)."""
    form = summary.form
    places = layout_of(form, summary=True).places
    first, total = chart_cells(form)
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 14)
    top = 0
    if first is not None:
        label = short_label(first.label)
        ranked = sorted(summary.blocks, key=lambda b: -Decimal(b.values.get(first.key, 0)))[:CHART_TOP]
        more = len(summary.blocks) > CHART_TOP
        heading = f"{label}（按单位{f'，前{CHART_TOP}名' if more else ''}）"
        rows: list[ChartRow] = [(b.name, None, cell_number(b.values.get(first.key, 0))) for b in ranked]
        height = _chart_table(ws, fx, top, heading, "单位", rows)
        if rows:
            chart_rows = max(16, len(rows) + 4)
            chart = _chart(wb, ws, top, len(rows), "bar", label, heading, "#4472C4", 20 * chart_rows)
            chart.set_y_axis({"reverse": True})
            height = max(height, chart_rows + 1)
        top += height + 2
    if total is not None:
        label = short_label(total.label)
        heading = f"{label}（按构成）"
        parts: list[ChartRow] = []
        for key in total.parts:
            place = places[key]
            parts.append((short_label(form.cells[key].label), f"={quote(place.sheet)}!{place.a1}",
                         cell_number(summary.totals[key])))
        _chart_table(ws, fx, top, heading, "项目", parts)
        _chart(wb, ws, top, len(parts), "column", label, heading, "#ED7D31", 320)
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
    for i, (label, formula, value) in enumerate(rows):
        ws.write_string(top + 2 + i, 0, label, fx.text)
        if formula:
            ws.write_formula(top + 2 + i, 1, formula, fx.number, value)
        else:
            ws.write_number(top + 2 + i, 1, value, fx.number)
    return 2 + len(rows)


# ---------------------------------------------------------------- 说明


def _about_sheet(ws: Worksheet, fx: _Formats, summary: Summary) -> None:
    form = summary.form
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 66)
    ws.set_column(3, 3, 12)
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
        ("完整性", incomplete_text(summary) or "完整：名单内单位均已报送并通过校验"),
        ("汇总方法", "汇总表各数=分单位明细中已通过校验的各单位数据之和（精确十进制求和）；合计项由其分项相加。"),
    ]
    for i, (key, value) in enumerate(pairs):
        ws.write_string(2 + i, 0, key, fx.key)
        ws.merge_range(2 + i, 1, 2 + i, 3, value, fx.text)
    r = 3 + len(pairs)
    for c, text in enumerate(("状态", "文件", "SHA-256", "单位")):
        ws.write_string(r, c, text, fx.head)
    status = {id(e): line.label for line in summary.register for e in line.entries}
    for i, e in enumerate(summary.entries):
        ws.write_string(r + 1 + i, 0, status.get(id(e), ""), fx.text)
        ws.write_string(r + 1 + i, 1, e.file, fx.text)
        ws.write_string(r + 1 + i, 2, e.sha256, fx.mono)
        ws.write_string(r + 1 + i, 3, e.label if e.code or e.name else "", fx.text)


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


TEXT_ORDER = ("missing", "invalid", "conflict", "duplicate", "unexpected")


def summary_text(summary: Summary, output: Path | str | None = None) -> str:
    """What `xxgk merge` prints: where the summary is, counts, then who needs attention."""
    from .render import finding_line

    form = summary.form
    lines = []
    if output is not None:
        lines.append(f"汇总表已生成：{output}")
    region = f"，汇总地区：{summary.region}" if summary.region else ""
    lines.append(f"表式：{form.name}（{form.id}），{summary.year}年度{region}")
    counts = summary.counts_text()
    lines.append(f"共读取{len(summary.entries)}个文件，计入汇总{len(summary.blocks)}份"
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
    return "\n".join(lines) + "\n"
