"""check_return / check_file: values, recomputed formulas, rules, explanations, the seed case."""

from __future__ import annotations

import ast
import sys
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from books import figures_return, seed_values
from xxgk.check.checking import CheckResult, check_return
from xxgk.check.file import check_file
from xxgk.check.rulecheck import readable
from xxgk.check.years import compare_years, previous_values
from xxgk.cycle.entries import Entry
from xxgk.cycle.previous import Previous
from xxgk.forms import model as forms
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import Finding, Report, make
from xxgk.forms.layout import layout_of
from xxgk.read.returns import ReadError, Return

D = Decimal


@pytest.fixture(scope="module")
def form() -> forms.Form:
    return builtin("gk2018")


def seed_inputs(form: forms.Form) -> dict[str, Any]:
    return {k: v for k, v in seed_values().items() if form.cells[k].kind == "input"}


def run(form: forms.Form, figures: dict[str, Any], **kw: Any) -> CheckResult:
    return check_return(figures_return(form, figures, year=2018, **kw))


def codes(result: CheckResult) -> list[tuple[str, str]]:
    return [(f.code, f.indicator) for f in result.report.findings]


def a1(form: forms.Form, key: str) -> str:
    return layout_of(form).places[key].a1


def only(result: CheckResult, code: str) -> Finding:
    found = [f for f in result.report.findings if f.code == code]
    assert len(found) == 1, result.report.findings
    return found[0]


def zeros(form: forms.Form, **over: Any) -> dict[str, Any]:
    """Every input 0, with a few overrides by 行次 (r12=1 → key "12")."""
    figures: dict[str, Any] = {c.key: 0 for c in form.inputs}
    figures.update({k.removeprefix("r"): v for k, v in over.items()})
    return figures


# ---------------------------------------------------------------- the seed


def test_seed_inputs_give_exactly_the_responses_warning(form: forms.Form) -> None:
    result = run(form, seed_inputs(form), agency_name="沙坡头区机关事务局", agency_code="640502")
    [w] = result.report.findings
    assert (w.severity, w.code, w.rule, w.indicator) == ("warning", "rule.warning", "W_responses_need_r12", "12")
    assert w.cell == a1(form, "12") and w.sheet == "统计表"
    assert w.found == "0"
    assert not w.explained
    assert "第12行“回应公众关注热点或重大舆情数”为0" in w.message
    assert "第12行=0、第14行=0、第16行=0、第18行=0、第19行=1、第20行=0" in w.message
    assert w.expected == "第14行 + 第16行 + 第18行 + 第19行 + 第20行 = 0 或 第12行 > 0"
    assert not result.valid
    report = result.report
    assert (report.form, report.year, report.agency_name, report.agency_code) == (
        "gk2018", 2018, "沙坡头区机关事务局", "640502")


def test_seed_with_correct_totals_or_no_cache_is_the_same(form: forms.Form) -> None:
    figures = seed_inputs(form)
    totals = {"22": 0, "27": 0, "30": 0, "34": 0, "45": 0, "49": 0, "58": 2}
    assert codes(run(form, {**figures, **totals})) == [("rule.warning", "12")]
    assert codes(run(form, {**figures, **{k: None for k in totals}})) == [("rule.warning", "12")]
    assert codes(run(form, {**figures, "58": 2.0, "22": "0"})) == [("rule.warning", "12")]


def test_seed_passes_once_row_12_is_explained(form: forms.Form) -> None:
    note = "本年度未发生公众关注热点，第19行为日常政务微博回应。"
    result = run(form, seed_inputs(form), notes={"12": note})
    [w] = result.report.findings
    assert w.explained and w.explanation == note
    assert result.valid
    assert result.report.to_json()["valid"] is True


def test_a_note_on_any_row_the_rule_involves_explains_it(form: forms.Form) -> None:
    """Issue 10 point 4: the 微博微信回应 row explains a 回应热点 warning; the message says where."""
    result = run(form, seed_inputs(form), notes={"19": "第19行为日常政务微博回应，未形成热点。"})
    [w] = result.report.findings
    assert w.explained and w.explanation.startswith("第19行") and result.valid
    notes = [layout_of(form).note(form.cells[k]).a1 for k in ("12", "14", "16", "18", "19", "20")]
    assert f"如情况属实，请在{'、'.join(notes[:-1])}或{notes[-1]}单元格（“情况说明”列）填写原因" in w.message
    assert "第12、14" not in w.message.split("；")[-1]  # the Excel cells, not 行次 a clerk takes for Excel rows
    # 第3行 > 第4行: explained on 第4行
    figures = {**zeros(form), "2": 5, "6": 5, "3": 2, "4": 1}
    assert codes(run(form, figures)) == [("rule.warning", "3")]
    assert run(form, figures, notes={"4": "公开了上年制发的文件"}).valid


def test_a_note_on_another_row_or_a_blank_note_explains_nothing(form: forms.Form) -> None:
    assert not run(form, seed_inputs(form), notes={"65": "说明写错了行"}).valid
    assert not run(form, seed_inputs(form), notes={"12": " \u3000 "}).valid


def test_seed_with_row_58_zero_names_row_58(form: forms.Form) -> None:
    result = run(form, {**seed_inputs(form), "58": 0})
    assert codes(result) == [("formula.mismatch", "58"), ("rule.warning", "12")]
    f = result.report.findings[0]
    assert (f.severity, f.cell, f.found, f.expected) == ("error", a1(form, "58"), "0", "2")
    assert f.label == "（三）从事政府信息公开工作人员数"
    assert f.message.startswith(f"第58行“（三）从事政府信息公开工作人员数”（{a1(form, '58')}）是合计项，应为各分项之和2，表中却是0")
    parts = f"{a1(form, '59')}=1、{a1(form, '60')}=1"
    assert f"各分项：{parts}；之和为2，表中合计与之相差2" in f.message  # the input cells, not an equation
    assert f"请在{a1(form, '58')}恢复模板的公式或填写2" in f.message
    assert f"请把分项{a1(form, '59')}、{a1(form, '60')}减少2，使其之和为0" in f.message
    assert result.values["58"] == 2  # formulas are recomputed, never trusted
    assert not result.valid


def test_seed_as_published(form: forms.Form) -> None:
    result = run(form, seed_values())
    # The brief names header rows 1, 5, 21 and 55; the published table also has 0 in header row 13.
    assert codes(result) == [
        ("value.in_header", "1"),
        ("value.in_header", "5"),
        ("value.in_header", "13"),
        ("value.in_header", "21"),
        ("value.in_header", "55"),
        ("formula.mismatch", "58"),
        ("rule.warning", "12"),
    ]
    headers = [f for f in result.report.findings if f.code == "value.in_header"]
    assert [f.found for f in headers] == ["83", "0", "0", "0", "0"]
    assert all(f.severity == "error" and f.cell == a1(form, f.indicator) for f in headers)
    assert headers[0].message == f"第1行“一、主动公开情况”（{a1(form, '1')}）是标题行，不应填写数值，却填写了“83”。请清空该单元格。"
    assert result.report.errors == 6 and result.report.warnings == 1


# ---------------------------------------------------------------- values


def test_header_dashes_and_blanks_are_fine(form: forms.Form) -> None:
    figures = {**seed_inputs(form), "1": "——", "5": "—", "11": None, "13": "", "21": " —— ", "55": "-"}
    assert codes(run(form, figures, notes={"12": "已核实"})) == [("rule.warning", "12")]


def test_header_with_text_or_zero_text_is_an_error(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "1": "无", "62": "见附件"})
    assert codes(result) == [("value.in_header", "1"), ("value.in_header", "62")]
    assert [f.found for f in result.report.findings] == ["无", "见附件"]


def test_entirely_empty_return_is_one_error(form: forms.Form) -> None:
    assert codes(run(form, {})) == [("file.empty", "")]
    # a template saved by Excel carries cached 0s in its formula cells and —— in headers
    saved = {c.key: (0 if c.kind == "formula" else "——") for c in form.cells.values() if c.kind != "input"}
    result = run(form, {**saved, "2": "  "})
    assert codes(result) == [("file.empty", "")]
    assert result.report.findings[0].severity == "error"
    assert "尚未填写" in result.report.findings[0].message
    assert not result.valid and result.values == {}


def test_isolated_blanks_are_zero_with_one_warning(form: forms.Form) -> None:
    figures = zeros(form)
    figures.update({"3": None, "4": "", "65": "\u3000"})
    result = run(form, figures)
    f = only(result, "value.blank")
    assert codes(result) == [("value.blank", "3")]  # one finding, addressed to the first blank
    assert f.severity == "warning" and f.cell == a1(form, "3") and f.sheet == "统计表"
    assert f.label == "其中：主动公开规范性文件数等3个单元格" and f.found == "（空白）"
    assert f.message == (f"第3—4行（{a1(form, '3')}:{a1(form, '4')}）、第65行（{a1(form, '65')}）未填写（共3格），"
                         "已按0处理。没有发生的，请填写0；确有原因空着的，请在本表的“情况说明”中写明。")
    for key in ("3", "4", "65"):
        assert result.values[key] == 0
    assert not result.valid
    explained = run(form, figures, notes={"60": "本单位无兼职人员，培训未举办"})
    assert explained.valid and only(explained, "value.blank").explained


def test_blanks_are_one_finding_per_table_as_ranges() -> None:
    """Issue 10 point 5: 表三第5—23行第2—6栏（F12:J30）, one finding for table 三."""
    gk2021 = builtin("gk2021")
    figures: dict[str, Any] = {c.key: 0 for c in gk2021.inputs}
    figures.update({f"t3.{r}.{c}": None for r in range(5, 24) for c in range(2, 7)})
    figures.update({"t3.1.1": None, "t2_1.2.1": None, "t2_1.2.2": None})
    result = check_return(figures_return(gk2021, figures, year=2021))
    blanks = [f for f in result.report.findings if f.code == "value.blank"]
    assert [f.message.split("未填写")[0] for f in blanks] == [
        "表二第二十条第（一）项第2行第1—2栏（C7:D7）",
        "表三第1行第1栏（E8）、第5—23行第2—6栏（F12:J30）",
    ]
    assert "请填写0" in blanks[1].message and "共96格" in blanks[1].message
    notes = {"t3.9.1": "表三第5—23行无此类申请"}
    result = check_return(figures_return(gk2021, figures, year=2021, notes=notes))
    by_table = {f.indicator.split(".")[0]: f.explained for f in result.report.findings if f.code == "value.blank"}
    assert by_table == {"t2_1": False, "t3": True}  # only that table's 情况说明 clears it


def test_a_single_blank(form: forms.Form) -> None:
    f = only(run(form, {**zeros(form), "65": None}), "value.blank")
    assert (f.indicator, f.label, f.cell) == ("65", "（三）接受培训人员数", a1(form, "65"))
    assert f.message.startswith(f"第65行（{a1(form, '65')}）未填写（共1格），已按0处理。没有发生的，请填写0；")


def test_zero_text_reads_as_zero_with_a_warning(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "2": 5, "7": 5, "6": "无"})
    f = only(result, "value.zero_text")
    assert (f.severity, f.indicator, f.cell, f.found) == ("warning", "6", a1(form, "6"), "无")
    assert "已按0处理" in f.message
    assert result.values["6"] == 0
    assert codes(result) == [("value.zero_text", "6")]


def test_not_a_number_is_an_error_and_its_rules_are_skipped(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "2": "约10", "24": "3人", "23": 1})  # 3人 in a 件 row
    assert codes(result) == [("value.not_number", "2"), ("value.not_number", "24")]
    f = result.report.findings[0]
    assert (f.severity, f.found, f.expected, f.cell) == ("error", "约10", "非负整数", a1(form, "2"))
    assert "2" not in result.values and "22" not in result.values  # unknown input, and the total built on it
    assert result.unknown >= {"2", "24", "22"}
    assert result.values["23"] == 1


def test_a_number_with_its_own_unit_is_read_with_a_notice(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "22": 3, "24": "3件", "54": "152.2万元", "56": "5 个"})
    assert codes(result) == [("value.with_unit", "24"), ("value.with_unit", "54"), ("value.with_unit", "56")]
    assert result.valid  # notices do not fail a return
    assert {f.severity for f in result.report.findings} == {"info"}
    assert (result.values["24"], result.values["54"], result.values["56"], result.values["22"]) == (D(3), D("152.2"), D(5), D(3))
    f = result.report.findings[1]
    assert f.message == f"第54行“七、依申请公开信息收取的费用”（{a1(form, '54')}）填写为“152.2万元”，已按152.2读取。本栏以万元为单位，只需填写数字。"


def test_a_total_that_skipped_a_number_typed_as_text_is_not_a_typed_over_formula(form: forms.Form) -> None:
    """The sheet's SUM leaves text out: its total shows 1, the parts add up to 13."""
    result = run(form, {**zeros(form), "23": 1, "24": "12", "22": 1, "2": 0})
    assert codes(result) == [("value.text_number", "24")]
    got = {f.code: f for f in result.report.findings}
    assert "formula.mismatch" not in got
    f = got["value.text_number"]
    assert (f.severity, f.indicator, f.found, f.expected) == ("info", "24", "12", "12")
    assert "第22行合计显示为1，按各分项之和应为13" in f.message
    assert result.values["22"] == 13
    # a number with its unit that the total skipped: one notice, which says so
    result = run(form, {**zeros(form), "2": 0, "23": 1, "24": "12件", "22": 1})
    assert codes(result) == [("value.with_unit", "24")]
    assert "第22行合计显示为1，按各分项之和应为13" in result.report.findings[0].message
    # a total typed over as well as a text part: still a typed-over total
    result = run(form, {**zeros(form), "23": 1, "24": "12", "22": 99})
    assert [c for c, _ in codes(result)] == ["formula.mismatch"]
    # a number typed as text that knocks nothing out of step: nothing to say
    assert codes(run(form, {**zeros(form), "23": 1, "24": "12", "22": 13})) == []


def test_yuan_in_a_wan_yuan_cell_gives_the_figure_to_type(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "22": 1, "23": 1, "54": "75394432.52元"})
    f = only(result, "value.yuan")
    assert f.severity == "error" and f.expected == "7539.443252"
    assert f.message == f"第54行“七、依申请公开信息收取的费用”（{a1(form, '54')}）填写为“75394432.52元”；本栏以万元为单位，应填写7539.443252。"
    assert not result.valid


def test_units_of_the_2021_tables_come_from_the_definition() -> None:
    gk2021 = builtin("gk2021")
    figures: dict[str, Any] = {c.key: 0 for c in gk2021.inputs}
    figures.update({"t3.1.1": "2件", "t2_8.1.1": "1.5万元", "t4.1.1": "3个"})
    result = check_return(figures_return(gk2021, figures, year=2021))
    got = {f.indicator: f.code for f in result.report.findings}
    assert got["t3.1.1"] == "value.with_unit" and got["t2_8.1.1"] == "value.with_unit"
    assert got["t4.1.1"] == "value.not_number"  # 个 is not what table 四 counts


def test_negative_fraction_precision_and_booleans(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "2": -1, "3": 1.5, "54": "0.1234567", "61": "12.5", "63": True})
    assert codes(result) == [
        ("value.negative", "2"),
        ("value.fraction", "3"),
        ("value.precision", "54"),
        ("value.not_number", "63"),
    ]  # rules on r2/r3 (r3 > r2, r6 > r2 …) wait until the values are fixed: one wrong cell, one finding
    by = {f.indicator: f for f in result.report.findings}
    assert by["2"].expected == "非负整数" and by["2"].found == "-1"
    assert by["54"].expected == "非负数（万元，最多6位小数）"
    assert by["63"].found == "TRUE"
    assert result.values["61"] == D("12.5")
    assert result.values["2"] == -1 and result.values["3"] == D("1.5")  # the numbers written are kept
    assert result.unknown == frozenset({"63"})


def test_a_bad_part_suppresses_its_total_and_rules(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "23": -1, "22": 0, "59": "1.5", "58": 3})
    assert codes(result) == [("value.negative", "23"), ("value.fraction", "59")]
    assert result.values["22"] == -1 and result.values["58"] == D("1.5")


def test_formula_cell_with_text_or_bad_number(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "22": "两件", "27": "无", "58": -1, "34": 0.30000000000000004})
    assert codes(result) == [
        ("value.not_number", "22"),
        ("value.zero_text", "27"),
        ("value.fraction", "34"),
        ("value.negative", "58"),
    ]
    assert result.values["22"] == 0 and result.values["58"] == 0  # recomputed


def test_formula_zero_text_is_still_compared(form: forms.Form) -> None:
    result = run(form, {**zeros(form), "28": 2, "22": 2, "27": "无", "30": 2, "31": 2, "23": 2})
    assert codes(result) == [("value.zero_text", "27"), ("formula.mismatch", "27")]
    assert result.report.findings[1].expected == "2"


def test_formula_values_with_float_noise_match(form: forms.Form) -> None:
    figures = {**zeros(form), "59": 1, "60": 2, "58": 3.0000000000000004, "23": "1", "22": "１"}
    assert codes(run(form, figures)) == []


def test_nested_formulas_are_recomputed_in_order(form: forms.Form) -> None:
    figures = {**zeros(form), "35": 1, "40": 2, "32": 4, "23": 7, "28": 7}
    result = run(form, {**figures, "34": 3, "30": 7, "22": 7, "27": 7})
    assert codes(result) == [] and result.valid
    assert (result.values["34"], result.values["30"]) == (D(3), D(7))
    wrong = run(form, {**figures, "34": 3, "30": 4})
    assert codes(wrong) == [("formula.mismatch", "30")]  # rules see the recomputed 7, not the typed 4
    message = wrong.report.findings[0].message  # the input cells under the nested total 第34行, not 第34行 itself
    assert f"各分项：{a1(form, '32')}=4、{a1(form, '35')}=1、{a1(form, '40')}=2，其余分项为0；之和为7" in message


def test_rule_error_names_rule_anchor_and_values(form: forms.Form) -> None:
    result = run(form, zeros(form, r2=3, r3=5, r4=5, r7=3))
    f = only(result, "rule.error")
    assert (f.rule, f.indicator, f.cell, f.found, f.expected) == ("E_r3_le_r2", "3", a1(form, "3"), "5", "第3行 ≤ 第2行")
    assert f.message.startswith("第3行“其中：主动公开规范性文件数”不能大于第2行")
    assert "（第3行=5、第2行=3）" in f.message
    assert not result.valid


def test_rule_error_is_not_explained_by_a_note(form: forms.Form) -> None:
    result = run(form, zeros(form, r2=3, r3=5, r4=5, r7=3), notes={"3": "确实如此"})
    assert not only(result, "rule.error").explained and not result.valid


def test_every_rule_of_the_form_can_fire(form: forms.Form) -> None:
    """Each gk2018 rule, violated on its own, gives exactly its finding."""
    cases = {
        "E_r6_le_r2": zeros(form, r2=1, r6=2),
        "E_r15_le_r14": zeros(form, r15=1, r12=1),
        "E_r17_le_r16": zeros(form, r17=1, r12=1),
        "W_channels_cover_r2": zeros(form, r2=5, r7=4),
        "W_r3_le_r4": zeros(form, r2=2, r3=2, r7=2, r4=1),
        "W_r27_le_r22": zeros(form, r28=1, r31=1),
        "W_r30_eq_r27": zeros(form, r23=1, r31=1),
        "W_fees_need_r22": zeros(form, r54="0.5"),
    }
    for rule, figures in cases.items():
        result = run(form, figures)
        found = [f.rule for f in result.report.findings]
        assert found == [rule], (rule, result.report.findings)


def test_reader_findings_come_first_and_missing_cells_are_reported_once(form: forms.Form) -> None:
    ret = figures_return(form, zeros(form), year=2018)
    del ret.cells["7"], ret.cells["8"]
    moved = make("structure.moved", indicator="3", label="x", detail="在第7行")
    missing = make("structure.missing", indicator="8", label="3. 政务微博公开政府信息数", detail="找不到")
    ret.findings.extend([moved, missing])
    result = check_return(ret)
    assert codes(result) == [("structure.moved", "3"), ("structure.missing", "8"), ("structure.missing", "7")]
    assert result.report.findings[2].cell == a1(form, "7")
    assert {"7", "8"} <= result.unknown


def test_values_hold_every_input_and_recomputed_formula(form: forms.Form) -> None:
    result = run(form, seed_inputs(form))
    value_keys = {c.key for c in form.cells.values() if c.kind != "header"}
    assert set(result.values) == value_keys
    assert all(isinstance(v, Decimal) for v in result.values.values())
    assert result.values["58"] == 2 and result.values["2"] == 83
    assert result.ret is not None and result.unknown == frozenset()


def test_multi_column_form() -> None:
    g21 = builtin("gk2021")
    t3 = [c for c in g21.cells.values() if c.table.id == "t3"]
    figures: dict[str, Any] = {c.key: 0 for c in g21.inputs}
    figures["t3.1.1"] = 2  # 一、本年新收 / 自然人
    figures["t3.3.1"] = 2  # （一）予以公开 / 自然人
    result = check_return(figures_return(g21, figures, year=2022))
    assert codes(result) == [] and result.values["t3.24.7"] == 2
    figures["t3.1.7"] = 5  # a typed 总计 that disagrees with its 6 columns
    assert codes(check_return(figures_return(g21, figures))) == [("formula.mismatch", "t3.1.7")]
    figures["t3.1.7"] = None
    figures["t3.25.2"] = 1  # 结转下年 for 商业企业 breaks the 勾稽关系 of column 2
    result = check_return(figures_return(g21, figures))
    assert [f.rule for f in result.report.findings] == ["E_t3_balance.2"]  # 第7栏 follows: said in it
    f = result.report.findings[0]
    assert (f.indicator, f.sheet, f.cell) == ("t3.24.2", t3[0].table.sheet, layout_of(g21).places["t3.24.2"].a1)
    assert f.message.startswith("表三第2栏“商业企业”：")
    assert "（第1行第2栏=0、第2行第2栏=0、第24行第2栏=0、第25行第2栏=1；第1行第2栏 + 第2行第2栏=0，第24行第2栏 + 第25行第2栏=1；第7栏“总计”因此同样不符）" in f.message
    assert f.expected == "第1行第2栏 + 第2行第2栏 = 第24行第2栏 + 第25行第2栏"


def test_figures_return_rejects_unknown_keys(form: forms.Form) -> None:
    with pytest.raises(KeyError, match="99"):
        figures_return(form, {"99": 1})


def test_readable_rule_text() -> None:
    names = {"a": "第1行", "b": "第2行", "c": "第3行", "last.a": "第1行"}
    cases = {
        "a <= b": "第1行 ≤ 第2行",
        "a - (b + c) != 0": "第1行 - (第2行 + 第3行) ≠ 0",
        "sum(a, b) >= -c": "(第1行 + 第2行) ≥ -第3行",
        "a == 0 or (b > 0 and c < 1)": "第1行 = 0 或 （第2行 > 0 且 第3行 < 1）",
        "a == last(a)": "第1行 = 上年第1行",
    }
    for source, want in cases.items():
        assert readable(ast.parse(source, mode="eval").body, names) == want


# ---------------------------------------------------------------- files


@pytest.fixture
def fake_reader(monkeypatch: pytest.MonkeyPatch, form: forms.Form) -> dict[str, Any]:
    """Stand in for xxgk.read.open: file name → Return, or an exception to raise."""
    table: dict[str, Any] = {}

    def read(path: Path, forms_: Any = None) -> Return:
        outcome = table[Path(path).name]
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, Return)
        return outcome

    module = types.ModuleType("xxgk.read.open")
    module.read = read  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "xxgk.read.open", module)
    return table


def test_check_file_turns_read_errors_into_findings(fake_reader: dict[str, Any], form: forms.Form) -> None:
    fake_reader["locked.xlsx"] = ReadError("file.encrypted", "加密")
    fake_reader["wrong.xlsx"] = ReadError("file.wrong_year", "", found=2019, expected=2018)
    fake_reader["odd.xlsx"] = ReadError("reader.surprise", "something new")
    fake_reader["crash.xlsx"] = ValueError("boom")
    fake_reader["ok.xlsx"] = figures_return(form, seed_inputs(form), path="ok.xlsx", year=2018)

    locked = check_file("locked.xlsx")
    assert codes(locked) == [("file.encrypted", "")] and locked.ret is None and not locked.valid
    assert locked.report.file == "locked.xlsx" and locked.values == {}
    wrong = check_file(Path("wrong.xlsx"))
    assert wrong.report.findings[0].message.startswith("该文件是2019年度的统计表，而本次收集2018年度")
    odd = check_file("odd.xlsx")
    assert codes(odd) == [("file.unreadable", "")] and "reader.surprise: something new" in odd.report.findings[0].message
    crash = check_file("crash.xlsx")
    assert codes(crash) == [("file.unreadable", "")] and "ValueError: boom" in crash.report.findings[0].message
    ok = check_file("ok.xlsx")
    assert codes(ok) == [("rule.warning", "12")] and ok.ret is not None


# ---------------------------------------------------------------- last year


def test_compare_years_same_form_and_explanations() -> None:
    g21 = builtin("gk2021")
    now = {c.key: D(0) for c in g21.cells.values() if c.kind != "header"}
    last = dict(now)
    now.update({"t3.2.1": D(3), "t2_1.1.1": D(2), "t2_1.1.3": D(7)})
    last.update({"t3.25.1": D(2), "t2_1.1.3": D(5)})
    found = compare_years(g21, now, g21, last)
    assert [(f.code, f.rule) for f in found] == [("previous.mismatch", "Y_t3_carried_in.1")]
    f = found[0]
    assert (f.severity, f.indicator, f.found, f.expected) == ("warning", "t3.2.1", "3", "第2行第1栏 = 上年第25行第1栏")
    assert f.cell == layout_of(g21).places["t3.2.1"].a1 and not f.explained
    notes = {"t3.r2": "上年结转数以上年报告更正后为准"}
    [f] = compare_years(g21, now, g21, last, notes=notes)
    assert f.explained and f.explanation == notes["t3.r2"]


def test_compare_years_across_forms_maps_by_label() -> None:
    g19, g21 = builtin("gk2019"), builtin("gk2021")
    last = {c.key: D(0) for c in g19.cells.values() if c.kind != "header"}
    last_out = next(c for c in g19.cells.values() if c.table.id == "t3" and c.row.label == "四、结转下年度继续办理"
                    and c.column.id == "c1")
    last[last_out.key] = D(4)
    last[last_out.key.rsplit(".", 1)[0] + ".7"] = D(4)  # its 总计 column, as recomputed
    mapped = previous_values(g21, g19, last)
    assert mapped["t3.25.1"] == 4
    assert "t2_1.1.3" not in mapped  # 现行有效件数 has no counterpart in the 2019 table
    now = {c.key: D(0) for c in g21.cells.values() if c.kind != "header"}
    found = compare_years(g21, now, g19, last)
    assert [(f.code, f.rule) for f in found] == [
        ("previous.mismatch", "Y_t3_carried_in.1"),
        ("previous.mismatch", "Y_t3_carried_in.7"),
        ("previous.unmapped", "Y_t2_1_in_force.1"),
        ("previous.unmapped", "Y_t2_1_in_force.2"),
    ]
    assert "上年表式（" in found[2].message and "无法比对" in found[2].message


def test_previous_compare_entry_skips_other_units() -> None:
    g21 = builtin("gk2021")
    now: dict[str, Decimal | int] = {c.key: 0 for c in g21.cells.values() if c.kind != "header"}
    last = {k: D(v) for k, v in now.items()}
    now["t3.2.1"] = 3  # carried in: 3, carried out last year: 0

    def entry(code: str) -> Entry:
        return Entry(file=f"{code}.xlsx", report=Report(file=f"{code}.xlsx"), kind="return", code=code, values=now)

    mine = Previous(Path("last.xlsx"), g21, "return", 2020, "001", "甲单位", last)
    found, why = mine.compare_entry(g21, entry("001"))
    assert [(f.code, f.rule) for f in found] == [("previous.mismatch", "Y_t3_carried_in.1")] and why == ""
    assert mine.compare_entry(g21, entry("002")) == ([], "上年数据last.xlsx与002.xlsx不是同一单位，未作上年比对")
    summary = Previous(Path("sum.xlsx"), g21, "summary", 2020, "", "沙坡头区", last, by_unit={"001": last})
    assert [f.code for f in summary.compare_entry(g21, entry("001"))[0]] == ["previous.mismatch"]
    assert summary.compare_entry(g21, entry("002"))[1].startswith("上年汇总表sum.xlsx的分单位明细中没有")


def test_a_balance_error_is_reported_once_not_again_in_the_total_column() -> None:
    """Issue 10 point 5: 第1栏 out of balance makes 第7栏“总计” so too; one finding says both."""
    gk2021 = builtin("gk2021")
    figures: dict[str, Any] = {c.key: 0 for c in gk2021.inputs}
    figures.update({"t3.1.1": 5, "t3.1.3": 2, "t3.3.3": 1})
    result = check_return(figures_return(gk2021, figures, year=2021))
    assert [(f.code, f.rule) for f in result.report.findings] == [
        ("rule.error", "E_t3_balance.1"), ("rule.error", "E_t3_balance.3")]
    assert all("第7栏“总计”因此同样不符" in f.message for f in result.report.findings)
    # parts out of step that cancel out in the total: the total column has nothing to say
    figures.update({"t3.1.3": 0, "t3.3.3": 0, "t3.3.2": 5})
    result = check_return(figures_return(gk2021, figures, year=2021))
    assert [f.rule for f in result.report.findings] == ["E_t3_balance.1", "E_t3_balance.2"]
    assert not any("第7栏" in f.message for f in result.report.findings)


def test_a_unit_may_have_words_a_clerk_uses_for_it() -> None:
    """gk2019's 采购项目数量 counts 项, also written 个 or 笔 (unit: 项|个|笔 in the definition)."""
    gk2019 = builtin("gk2019")
    figures: dict[str, Any] = {c.key: 0 for c in gk2019.inputs}
    figures.update({"t2_9.1.1": "2笔", "t2_5.1.1": "3个", "t3.1.1": "4笔"})
    result = check_return(figures_return(gk2019, figures, year=2019))
    got = {f.indicator: (f.code, f.severity) for f in result.report.findings if f.code.startswith("value.")}
    assert got == {"t2_9.1.1": ("value.with_unit", "info"), "t2_5.1.1": ("value.with_unit", "info"),
                   "t3.1.1": ("value.not_number", "error")}  # applications are counted in 件
    assert "本栏以项为单位" in next(f.message for f in result.report.findings if f.indicator == "t2_9.1.1")
