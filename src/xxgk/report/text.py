"""Check results as text for people: one Chinese block per return, ready to paste into a message.

Each block names the unit and the file, gives the verdict, lists the findings with
their 行次, cell and indicator, and ends with what the department should do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xxgk.forms.findings import INFO, SEVERITY_MARK, Finding, Report
from xxgk.forms.model import Form

__all__ = ["closing", "finding_line", "report_text", "results_text", "summary_line"]

def report_text(report: Report, form: Form | None = None) -> str:
    """One block for one return (no trailing newline)."""
    if report.agency_name or report.agency_code:
        unit = report.agency_name or "（未填写单位名称）"
        if report.agency_code:
            unit += f"（{report.agency_code}）"
    else:
        unit = "（未能识别）"
    lines = [f"单位名称：{unit}", f"文件名：{Path(report.file).name}"]
    if form is not None and report.year is not None:
        lines.append(f"表式：{form.name}（{report.year}年度）")
    lines.append(f"结论：{'通过' if report.valid else '未通过'}{_counts(report)}")
    if report.findings:
        lines.append("")
        lines.extend(f"{i}. {finding_line(f, form)}" for i, f in enumerate(report.findings, 1))
    lines.append("")
    lines.append(closing(report))
    return "\n".join(lines)


def _counts(report: Report) -> str:
    if not report.findings:
        return ""
    parts = []
    if report.errors:
        parts.append(f"错误{report.errors}项")
    if report.warnings:
        parts.append(f"提醒{report.warnings}项")
        explained = report.warnings - report.unexplained
        if explained:
            parts.append("均已说明" if explained == report.warnings else f"其中已说明{explained}项")
    notices = sum(f.severity == INFO for f in report.findings)
    if notices:
        parts.append(f"提示{notices}项")
    return f"（{'，'.join(parts)}）"


def finding_line(finding: Finding, form: Form | None = None) -> str:
    """``【错误】第58行（D61）“label”：message`` — the place once, then what is wrong."""
    mark = SEVERITY_MARK.get(finding.severity, f"【{finding.severity}】")
    cell = form.cells.get(finding.indicator) if form is not None else None
    message = finding.message
    if cell is not None and finding.cell and finding.label == cell.label:
        where = f"{cell.place}（{finding.cell}）"
        lead = f"{cell.place}“{finding.label}”（{finding.cell}）"
        if message.startswith(lead):  # value messages already name the place: say it once
            message = message[len(lead) :].lstrip("，,：: ")
        head = f"{mark}{where}“{finding.label}”：{message}"
    else:
        head = f"{mark}{message}"
    if finding.explained:
        head += f"【已说明】{finding.explanation}" if finding.explanation else "【已说明】"
    return head


def closing(report: Report) -> str:
    """What the department should do next."""
    if report.valid:
        if report.warnings:
            return "校验通过：提醒事项均已在情况说明中解释，可以报送。"
        if report.findings:
            return "校验通过，可以报送；【提示】事项请留意，以后填报时改正。"
        return "校验通过，可以报送。"
    has_errors = report.errors > 0
    has_warnings = report.unexplained > 0
    if has_errors and has_warnings:
        return ("请改正全部【错误】；【提醒】如数据有误请改正，如情况属实请在所列的“情况说明”单元格写明原因。"
                "修改后重新报送。")
    if has_errors:
        return "请改正以上【错误】后重新报送。"
    return "请核实以上【提醒】：如数据有误请改正，如情况属实请在所列的“情况说明”单元格写明原因，然后重新报送。"


def summary_line(reports: Sequence[Report]) -> str:
    valid = sum(r.valid for r in reports)
    return f"共检查{len(reports)}份，通过{valid}份，未通过{len(reports) - valid}份。"


def results_text(blocks: Sequence[tuple[Report, Form | None]]) -> str:
    """Every block, separated by a rule line, then a one-line summary."""
    rule = "—" * 30
    parts = [report_text(r, f) for r, f in blocks]
    parts.append(summary_line([r for r, _ in blocks]))
    return f"\n{rule}\n".join(parts) + "\n"
