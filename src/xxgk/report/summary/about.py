"""The 说明 sheet: how the summary was made, and every input file with its SHA-256."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.previous import LastYear
from xxgk.cycle.summary import Summary
from xxgk.report.summary.formats import DEFAULT_ROW, TITLE_ROW, Formats, fit_rows, print_setup
from xxgk.report.summary.texts import completeness_text
from xxgk.write.guide import display_width

ABOUT_SHEET = "说明"
FILE_WIDTH_MOST = 110


def about_sheet(ws: Worksheet, fx: Formats, summary: Summary, last: LastYear | None) -> None:
    form = summary.form
    # a file's path on one line where the page holds it
    longest = max((display_width(e.file) for e in summary.entries), default=0)
    widths = (8, min(max(44, longest + 3), FILE_WIDTH_MOST), 66, 18)
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
    height = TITLE_ROW + DEFAULT_ROW + fit_rows(ws, [[value] for _, value in pairs], (widths[2] + widths[3],), 2)
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
    height += DEFAULT_ROW + fit_rows(ws, texts, widths, r + 1)
    print_setup(ws, header_rows=(r, r), last_col=3, last_row=r + len(summary.entries), widths=widths, height=height)
