"""The summary in words: its completeness line and what `xxgk merge` prints."""

from __future__ import annotations

from pathlib import Path

from xxgk.cycle.summary import STATUS_LABELS, UNKNOWN_UNIT, Status, Summary
from xxgk.report.text import finding_line


def incomplete_text(summary: Summary) -> str:
    """不完整：27个单位未报送或未通过校验，3个文件无法识别报送单位 — units and files counted apart."""
    failing = summary.failing
    units = len({(u.code, u.name) for u in failing if u.name != UNKNOWN_UNIT})
    unknown = sum(u.name == UNKNOWN_UNIT for u in failing)
    parts = [f"{units}个单位未报送或未通过校验" if units else "", f"{unknown}个文件无法识别报送单位" if unknown else ""]
    return "不完整：" + "，".join(p for p in parts if p) if failing else ""


def completeness_text(summary: Summary) -> str:
    """The completeness line of the 汇总表's header."""
    return incomplete_text(summary) or f"完整：{len(summary.register)}个单位均已报送并通过校验"


TEXT_ORDER: tuple[Status, ...] = ("missing", "invalid", "conflict", "duplicate", "unexpected", "exempt")


def summary_text(summary: Summary, output: Path | str | None = None) -> str:
    """What `xxgk merge` prints: where the summary is, counts, then who needs attention."""
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
