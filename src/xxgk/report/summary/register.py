"""The 报送情况 sheet: the status register, one line per unit."""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.summary import Summary
from xxgk.report.summary.formats import TITLE_ROW, Formats, fit_rows, print_setup, table_head

REGISTER_SHEET = "报送情况"
REGISTER_HEADERS = ("序号", "代码", "单位", "状态", "文件名", "填报人", "联系电话", "填报日期",
                    "错误数", "提醒数", "未说明提醒数", "说明")
REGISTER_WIDTHS = (5, 12, 24, 10, 38, 9, 13, 11, 6, 6, 8, 36)  # a file name in two lines


def register_sheet(ws: Worksheet, fx: Formats, summary: Summary) -> None:
    counts = summary.counts_text()
    ws.write_string(0, 0, f"报送情况（{counts or '无'}）", fx.title)
    head = table_head(ws, fx, 1, REGISTER_HEADERS, REGISTER_WIDTHS)
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
    body = fit_rows(ws, texts, REGISTER_WIDTHS, 2)
    ws.freeze_panes(2, 3)
    last = 1 + len(summary.register)
    ws.autofilter(1, 0, max(2, last), len(REGISTER_HEADERS) - 1)
    print_setup(ws, header_rows=(1, 1), last_col=len(REGISTER_HEADERS) - 1, last_row=last,
                widths=REGISTER_WIDTHS, height=TITLE_ROW + head + body)
