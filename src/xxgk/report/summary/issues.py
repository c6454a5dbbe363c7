"""The 校验问题 sheet: every finding of every file, and of the summed figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.summary import UNKNOWN_UNIT, Summary
from xxgk.forms.findings import ERROR
from xxgk.report.summary.formats import TITLE_ROW, Formats, fit_rows, print_setup, table_head

ISSUES_SHEET = "校验问题"
SEVERITY_NAME = {ERROR: "错误", "warning": "提醒", "info": "提示"}

ISSUE_HEADERS = ("单位", "文件", "行次/指标", "指标", "单元格", "严重程度", "问题", "情况说明")
ISSUE_WIDTHS = (18, 24, 11, 26, 8, 6, 62, 26)


def issues_sheet(ws: Worksheet, fx: Formats, summary: Summary) -> None:
    form = summary.form
    ws.write_string(0, 0, "校验问题（每份报送文件的全部校验结果）", fx.title)
    head = table_head(ws, fx, 1, ISSUE_HEADERS, ISSUE_WIDTHS)
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
    body = fit_rows(ws, texts, ISSUE_WIDTHS, 2)
    ws.freeze_panes(2, 2)
    ws.autofilter(1, 0, 1 + max(1, len(rows)), len(ISSUE_HEADERS) - 1)
    print_setup(ws, header_rows=(1, 1), last_col=len(ISSUE_HEADERS) - 1, last_row=1 + len(rows),
                widths=ISSUE_WIDTHS, height=TITLE_ROW + head + body)
