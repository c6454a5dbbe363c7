"""Findings as data: a catalogue of stable codes, the `Finding` record and the `Report`.

Every problem the tool can report has a code here with a Chinese message
template, so messages stay consistent and tests can cover every code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeGuard

Severity = Literal["error", "warning", "info"]
ERROR: Severity = "error"
WARNING: Severity = "warning"
INFO: Severity = "info"  # a notice: what was read and how; never keeps a return from being accepted
# How a finding is marked wherever a department reads it: the check list, the annotated
# copy, the template's own hints.
SEVERITY_MARK = {ERROR: "【错误】", WARNING: "【提醒】", INFO: "【提示】"}
EXPLAINED_MARK = "【提醒·已说明】"

# Every finding code, by hand from CATALOGUE below (a test keeps the two equal), so that
# mypy refuses a code that is not in the catalogue.
Code = Literal[
    "file.unreadable",
    "file.not_spreadsheet",
    "file.old_word",
    "file.encrypted",
    "file.too_large",
    "file.unsafe_xml",
    "file.not_ours",
    "file.wrong_form",
    "file.wrong_year",
    "file.other_unit",
    "file.not_own",
    "file.summary_on_link",
    "file.form_changed",
    "file.older_form",
    "file.no_unit",
    "file.empty",
    "file.variant",
    "structure.moved",
    "structure.absent",
    "structure.near",
    "structure.ignored",
    "structure.older",
    "structure.hidden_sheet",
    "structure.missing",
    "value.blank",
    "value.zero_text",
    "value.with_unit",
    "value.yuan",
    "value.text_number",
    "value.not_number",
    "value.negative",
    "value.fraction",
    "value.formula",
    "value.too_large",
    "value.precision",
    "value.in_header",
    "formula.mismatch",
    "formula.blank",
    "rule.error",
    "rule.warning",
    "previous.mismatch",
    "previous.unmapped",
    "previous.skipped",
    "summary.incomplete",
]

# code -> (severity, Chinese message template).  Templates use str.format fields.
CATALOGUE: dict[Code, tuple[Severity, str]] = {
    # whole-file problems
    "file.unreadable": (ERROR, "文件无法读取：{detail}。请重新保存为.xlsx、.xls或.ods格式后报送。"),
    "file.not_spreadsheet": (ERROR, "该文件不是电子表格（{detail}），请报送填写好的统计表。"),
    "file.old_word": (ERROR, "该文件是旧版Word文档（.doc），无法读取。请在Word或WPS中打开，另存为.docx格式（Word文档）后重新报送。"),
    "file.encrypted": (ERROR, "工作簿设置了打开密码，无法读取。请取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新报送。"),
    "file.too_large": (ERROR, "文件内容异常庞大（{detail}），可能已损坏或含有恶意内容，已拒绝读取。请重新从模板填写。"),
    "file.unsafe_xml": (ERROR, "文件含有不安全的XML内容（{detail}），已拒绝读取。请重新从模板填写。"),
    "file.not_ours": (ERROR, "无法识别该文件对应的统计表：{detail}。请使用区政务公开办下发的模板填写。"),
    "file.wrong_form": (ERROR, "该文件是{found}，而本次需要{expected}。请使用正确的模板填写。"),
    "file.wrong_year": (ERROR, "该文件是{found}年度的统计表，而本次收集{expected}年度。请使用正确年度的模板填写。"),
    "file.other_unit": (WARNING, "文件名或报送单位为“{found}”，而文件内填报的单位是“{expected}”（{detail}）。可能用了其他单位的模板，请核对后用本单位的模板重新报送。"),
    "file.not_own": (ERROR, "这是{found}的报表，不是本单位（{expected}）的，不能作为本单位的报送，也不会计入{found}。请下载本单位的模板填写后重新上传。"),
    "file.summary_on_link": (ERROR, "这是{found}（汇总了{count}个单位），单位链接只接收本单位自己的报表，汇总表未计入，任何单位的数据都没有改变。请上传本单位（{expected}）填写的统计表。"),
    "file.form_changed": (WARNING, "该文件的模板版本（{found}）与当前表式（{expected}）不一致，已按指标名称读取，请核对。"),
    "file.older_form": (INFO, "该报告的表格按{found}填写，{year}年度的表式为{expected}；已按报告所用的表式读取，数字照印读取。"),
    "file.no_unit": (ERROR, "无法识别报送单位：{detail}。请写明填报单位后重新报送。"),
    "file.empty": (ERROR, "统计表尚未填写（所有填报单元格均为空）。"),
    "file.variant": (ERROR, "该表与标准表式不一致，无法读取：{detail}。请使用标准模板填写，不要增删行列。"),
    # structure
    "structure.moved": (WARNING, "{label}：位置与模板不同（{detail}），已按指标名称和行次读取，请勿增删行。"),
    "structure.absent": (WARNING, "{label}：表中没有这一行（{detail}），已按空白读取。如确有数据，请补上该行；本单位没有这一项的，请在本表的“情况说明”中写明。"),
    "structure.near": (INFO, "{detail}：指标名称与标准表式略有不同，已按标准名称读取，请核对。"),
    "structure.ignored": (INFO, "{detail}：不属于本年度标准表式，已忽略。"),
    "structure.older": (INFO, "{label}：按旧表式读取（{detail}）。请改用本年度表式。"),
    "structure.hidden_sheet": (WARNING, "工作表“{sheet}”已隐藏：{detail}。请删除不用的工作表，核对无误后重新报送。"),
    "structure.missing": (ERROR, "{label}：在表中找不到该指标（{detail}）。请使用标准模板，不要删除或改写指标名称。"),
    # values
    "value.blank": (WARNING, "{detail}未填写（共{count}格），已按0处理。没有发生的，请填写0；确有原因空着的，请在本表的“情况说明”中写明。"),
    "value.zero_text": (WARNING, "{place}“{label}”（{cell}）填写为“{found}”，已按0处理，请直接填写数字0。"),
    "value.with_unit": (INFO, "{place}“{label}”（{cell}）填写为“{found}”，已按{expected}读取{detail}。本栏以{unit}为单位，只需填写数字。"),
    "value.yuan": (ERROR, "{place}“{label}”（{cell}）填写为“{found}”；本栏以万元为单位，应填写{expected}。"),
    "value.text_number": (INFO, "{place}“{label}”（{cell}）的“{found}”是文本格式的数字，已按{expected}读取；表中的合计公式不计文本（{detail}）。请将该单元格设为数值格式后重新输入。"),
    "value.not_number": (ERROR, "{place}“{label}”（{cell}）填写为“{found}”，不是数字。应填写{expected}。"),
    "value.negative": (ERROR, "{place}“{label}”（{cell}）填写为{found}，不能为负数。应填写{expected}。"),
    "value.fraction": (ERROR, "{place}“{label}”（{cell}）填写为{found}，应填写{expected}。"),
    "value.formula": (ERROR, "{place}“{label}”（{cell}）是填报单元格，却填写了公式“{found}”，无法确认表格显示的结果。请删除公式，直接填写{expected}。"),
    "value.too_large": (ERROR, "{place}“{label}”（{cell}）填写为{found}，数值超过1000万亿，不可能是实际数字。请核对改正。"),
    "value.precision": (ERROR, "{place}“{label}”（{cell}）填写为{found}，万元金额最多保留6位小数（精确到分）。"),
    "value.in_header": (ERROR, "{place}“{label}”（{cell}）是标题行，不应填写数值，却填写了“{found}”。请清空该单元格。"),
    # formulas and rules
    "formula.mismatch": (ERROR, "{place}“{label}”（{cell}）是合计项，应为各分项之和{expected}，表中却是{found}（{detail}）。合计项不用手填：如分项无误，请在{cell}恢复模板的公式或填写{expected}；如合计{found}才对，请{fix}。"),
    "formula.blank": (WARNING, "合计项未填写（共{count}格）：{detail}，已按各分项之和读取。请填写合计数；确有原因空着的，请在本表的“情况说明”中写明。"),
    "rule.error": (ERROR, "{message}（{detail}）"),
    "rule.warning": (WARNING, "{message}（{detail}{notes}）"),
    "previous.mismatch": (WARNING, "{message}（{detail}{notes}）"),
    "previous.unmapped": (WARNING, "与上年数据比对：{detail}"),
    "previous.skipped": (WARNING, "未与上年汇总数比对：{detail}"),
    # summaries as inputs
    "summary.incomplete": (WARNING, "该汇总表不完整（{expected}个单位中汇总{found}个）。请补齐后重新汇总，或说明原因。"),
}


def is_code(code: str) -> TypeGuard[Code]:
    """Whether a code from outside the type checker's sight (a reader's exception) is catalogued."""
    return code in CATALOGUE


@dataclass(frozen=True)
class Finding:
    """One problem, addressed to a place in the workbook."""

    severity: Severity
    code: str
    message: str
    indicator: str = ""
    label: str = ""
    sheet: str = ""
    cell: str = ""
    found: str = ""
    expected: str = ""
    explained: bool = False
    explanation: str = ""
    rule: str = ""

    @property
    def blocking(self) -> bool:
        """Errors, and warnings nobody has explained, keep a return from being accepted."""
        return self.severity == ERROR or (self.severity == WARNING and not self.explained)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["explanation"]:
            del data["explanation"]
        if not data["rule"]:
            del data["rule"]
        return data


def make(code: Code, *, severity: Severity | None = None, **fields: Any) -> Finding:
    """Build a finding from the catalogue; the message is filled from the same fields."""
    default, template = CATALOGUE[code]
    text = {k: "" if v is None else str(v) for k, v in fields.items()}
    message = template.format_map(_Blank(text))
    known = {k: text[k] for k in ("indicator", "label", "sheet", "cell", "found", "expected", "rule", "explanation") if k in text}
    return Finding(
        severity=severity or default,
        code=code,
        message=message,
        explained=bool(fields.get("explained", False)),
        **known,
    )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass
class Report:
    """What `check` found in one file."""

    file: str
    form: str = ""
    year: int | None = None
    agency_code: str = ""
    agency_name: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.blocking for f in self.findings)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def unexplained(self) -> int:
        return sum(f.severity == WARNING and not f.explained for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "form": self.form,
            "year": self.year,
            "agency": {"code": self.agency_code, "name": self.agency_name},
            "valid": self.valid,
            "issues": [f.to_json() for f in self.findings],
        }


def batch_json(reports: list[Report]) -> dict[str, Any]:
    """The documented JSON document for a list of reports."""
    return {
        "returns": [r.to_json() for r in reports],
        "summary": {
            "checked": len(reports),
            "valid": sum(r.valid for r in reports),
            "errors": sum(r.errors for r in reports),
            "warnings": sum(r.warnings for r in reports),
        },
    }
