"""The 报送情况 sheet: the status register, one line per unit."""

from __future__ import annotations

from collections import Counter

from xxgk.cycle.state import STATES, unit_state
from xxgk.cycle.summary import STATUS_LABELS, Summary
from xxgk.report.summary.formats import TITLE_ROW, Formats, fit_rows, print_setup, table_head
from xxgk.write.rowstream import Kind, StreamedSheet

REGISTER_SHEET = "报送情况"
REGISTER_HEADERS = ("序号", "代码", "单位", "状态", "文件名", "填报人", "联系电话", "填报日期",
                    "错误数", "提醒数", "未说明提醒数", "说明")
REGISTER_WIDTHS = (5, 12, 24, 10, 38, 9, 13, 11, 6, 6, 8, 36)  # a file name in two lines


def register_sheet(ws: StreamedSheet, fx: Formats, summary: Summary) -> None:
    states = [unit_state(line) for line in summary.register]  # the words the site shows too
    tally = Counter(s.label for s in states)
    order = [*STATES.values(), *STATUS_LABELS.values()]
    counts = "，".join(f"{label}{tally[label]}" for label in dict.fromkeys(order) if tally[label])
    ws.write_string(0, 0, f"报送情况（{counts or '无'}）", fx.title)
    head = table_head(ws, fx, 1, REGISTER_HEADERS, REGISTER_WIDTHS)
    rows = []
    for i, line in enumerate(summary.register):
        entries = line.entries
        first = entries[0] if entries else None
        sig = first.signature if first is not None and first.kind != "summary" else {}
        reports = [e.report for e in entries]
        rows.append([
            i + 1,
            line.code,
            line.name,
            (states[i].label, fx.status[line.status]),
            "\n".join(e.shown_file for e in entries),
            sig.get("填报人", ""),
            sig.get("联系电话", ""),
            sig.get("填报日期", ""),
            sum(r.errors for r in reports) if reports else "",
            sum(r.warnings for r in reports) if reports else "",
            sum(r.unexplained for r in reports) if reports else "",
            line.detail,
        ])
    kinds: tuple[Kind, ...] = ("number", "text", "text", "cell", "text", "text", "text", "text",
                               "cell", "cell", "cell", "text")  # status: a format each; counts: "" for none
    formats = [fx.text if k == "text" else None if c == 3 else fx.number for c, k in enumerate(kinds)]
    ws.stream_rows(2, len(rows), list(zip(range(len(kinds)), formats, kinds, strict=True)), lambda: rows)
    texts = [[v if isinstance(v, str) else v[0] if isinstance(v, tuple) else "" for v in row] for row in rows]
    body = fit_rows(ws, texts, REGISTER_WIDTHS, 2)
    ws.freeze_panes(2, 3)
    last = 1 + len(summary.register)
    ws.autofilter(1, 0, max(2, last), len(REGISTER_HEADERS) - 1)
    print_setup(ws, header_rows=(1, 1), last_col=len(REGISTER_HEADERS) - 1, last_row=last,
                widths=REGISTER_WIDTHS, height=TITLE_ROW + head + body)
