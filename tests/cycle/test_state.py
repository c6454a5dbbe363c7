"""A unit's state and its words (`cycle.state`), and whose return a unit link takes: another
unit's workbook is an error, a summary is refused, and nobody else's figures change."""

from __future__ import annotations

from pathlib import Path

from merge_books import valid_inputs, write_return
from xxgk.cycle.batch import merge
from xxgk.cycle.collection import Collection
from xxgk.cycle.entries import Entry
from xxgk.cycle.roster import Unit
from xxgk.cycle.state import PASSED_WORDS, STATES, report_state, unit_state
from xxgk.cycle.summary import UnitStatus
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import Report, make
from xxgk.report.summary.workbook import write_summary

FORM = builtin("gk2018")
UNITS = [("640502001", "沙坡头区机关事务局"), ("640502002", "沙坡头区教育局"), ("640502003", "沙坡头区民政局")]
ROSTER = [Unit(c, n) for c, n in UNITS]


def entry(*findings: str, explained: bool = False, values: bool = True) -> Entry:
    made = []
    for code in findings:
        if code == "rule.warning":
            made.append(make("rule.warning", message="提醒", explained=explained))
        else:
            made.append(make("rule.error", message="错误"))
    return Entry(file="a.xlsx", report=Report(file="a.xlsx", findings=made), kind="return",
                 values={} if values else None)


def status(e: Entry, status: str) -> UnitStatus:
    return UnitStatus("1", "甲", status, (e,), "")  # type: ignore[arg-type]


def test_the_states_and_their_words() -> None:
    assert unit_state(None).key == "missing" and unit_state(None).label == "未报送"
    assert unit_state(None, exempt="本年度撤并").verdict == "本单位已由区政务公开办标记为免报：本年度撤并。"
    warned = unit_state(status(entry("rule.warning"), "invalid"))
    assert (warned.key, warned.label, warned.counts) == ("explain", "提醒待说明", "提醒1项待说明")
    assert warned.reminder == "提醒1项待说明" and "情况说明" in warned.verdict
    failing = unit_state(status(entry("rule.error", "rule.warning"), "invalid"))
    assert (failing.key, failing.counts) == ("failing", "错误1项，提醒1项待说明")
    unreadable = unit_state(status(entry("rule.warning", values=False), "invalid"))
    assert unreadable.key == "failing"  # nothing read: not a matter of explaining
    passed = unit_state(status(entry("rule.warning", explained=True), "valid"))
    assert passed.key == "passed" and passed.verdict.startswith(PASSED_WORDS) and passed.reminder == ""
    assert "以最后一次为准" in PASSED_WORDS and "可以报送" not in passed.verdict
    back = unit_state(status(entry(), "valid"), returned="第3行数字有误")
    assert (back.key, back.label) == ("failing", "退回") and back.returned  # counted with 未通过, in its own words
    assert "第3行数字有误" in back.verdict and back.reminder == "已退回：第3行数字有误"
    assert [report_state(True, 0, 0), report_state(False, 0, 2), report_state(False, 1, 0)] == [
        "passed", "explain", "failing"]
    assert {"missing", "failing", "explain", "passed", "exempt"} == set(STATES)


def test_another_units_workbook_through_a_unit_link_is_an_error(tmp_path: Path) -> None:
    (a_code, a_name), (b_code, b_name) = UNITS[:2]
    theirs = write_return(tmp_path / "theirs.xlsx", FORM, valid_inputs(FORM, 2), code=b_code, name=b_name)
    c = Collection(FORM, 2018, roster=ROSTER)
    got = c.add(theirs.path.read_bytes(), name="教育局.xlsx", submitter=a_code)
    (wrong,) = got.report.findings
    assert wrong.code == "file.not_own" and wrong.severity == "error" and not got.valid
    assert wrong.message.startswith(f"这是{b_name}的报表") and a_name in wrong.message
    lines = {u.name: u for u in c.register()}
    assert unit_state(lines[a_name]).key == "failing"
    assert lines[b_name].status == "missing" and lines[b_name].entries == ()  # 教育局 did not report
    assert c.summary().blocks == [] and all(v == 0 for v in c.summary().totals.values())


def test_a_summary_through_a_unit_link_is_refused_and_nobody_else_changes(tmp_path: Path) -> None:
    (a_code, _), (b_code, b_name), (c_code, c_name) = UNITS
    own = write_return(tmp_path / "own.xlsx", FORM, valid_inputs(FORM, 3), code=b_code, name=b_name)
    for code, name, seed in ((b_code, b_name, 4), (c_code, c_name, 5)):
        write_return(tmp_path / "in" / f"{code}.xlsx", FORM, valid_inputs(FORM, seed), code=code, name=name)
    summary_file = tmp_path / "汇总.xlsx"
    write_summary(merge([tmp_path / "in"], roster=ROSTER[1:], region="沙坡头区", jobs=1), summary_file)
    c = Collection(FORM, 2018, roster=ROSTER)
    c.add(own.path.read_bytes(), name="own.xlsx", submitter=b_code)
    before = c.summary().totals
    got = c.add(summary_file.read_bytes(), name="汇总.xlsx", submitter=a_code)
    (refused,) = got.report.findings
    assert refused.code == "file.summary_on_link" and refused.severity == "error" and got.values is None
    assert "汇总表" in refused.message and "只接收本单位" in refused.message
    lines = {u.name: u for u in c.register()}
    assert lines[b_name].status == "valid" and [e.file for e in lines[b_name].entries] == ["own.xlsx"]
    assert lines[c_name].status == "missing"  # not reported by the summary on its behalf
    assert c.summary().totals == before
