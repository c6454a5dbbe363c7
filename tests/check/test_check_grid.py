"""`check` on the grid forms, through the real template: 勾稽关系 per column, signed cells."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from books import fill_template
from merge_books import valid_inputs
from xxgk.check.file import check_file
from xxgk.forms.builtin import builtin


def test_gk2021_column_breaking_the_balance_names_the_column_and_both_sides(tmp_path: Path) -> None:
    form = builtin("gk2021")
    inputs = valid_inputs(form, 3)
    inputs["t3.1.1"] += 5  # 自然人: 一、本年新收 five too many
    values = form.compute(inputs)
    left = values["t3.1.1"] + values["t3.2.1"]
    right = values["t3.24.1"] + values["t3.25.1"]
    result = check_file(fill_template(tmp_path / "r.xlsx", form, values, year=2025))
    assert not result.valid
    errors = {f.rule: f for f in result.report.findings if f.severity == "error"}
    # the 总计 column inherits the imbalance through its formula: said once, in 第1栏's finding
    assert set(errors) == {"E_t3_balance.1"}
    message = errors["E_t3_balance.1"].message
    assert "第7栏“总计”因此同样不符" in message
    assert "第1栏“自然人”" in message
    assert f"第1行第1栏 + 第2行第1栏={left}" in message and f"第24行第1栏 + 第25行第1栏={right}" in message
    assert left == right + 5


def test_gk2021_valid_return_passes(tmp_path: Path) -> None:
    form = builtin("gk2021")
    result = check_file(fill_template(tmp_path / "r.xlsx", form, form.compute(valid_inputs(form, 4)), year=2025))
    assert result.valid and result.report.findings == []


def test_gk2019_negative_change_is_accepted_where_the_form_allows_it(tmp_path: Path) -> None:
    form = builtin("gk2019")
    inputs = valid_inputs(form, 3)
    inputs["t2_5.1.2"] = Decimal(-3)  # 行政许可 本年增/减 = -3
    result = check_file(fill_template(tmp_path / "r.xlsx", form, form.compute(inputs), year=2020))
    assert result.valid and result.report.findings == []
    assert result.values["t2_5.1.2"] == -3
    inputs["t2_5.1.3"] = Decimal(-3)  # 处理决定数量 is a count: negative is an error
    bad = check_file(fill_template(tmp_path / "bad.xlsx", form, form.compute(inputs), year=2020))
    assert [(f.code, f.indicator) for f in bad.report.findings] == [("value.negative", "t2_5.1.3")]
