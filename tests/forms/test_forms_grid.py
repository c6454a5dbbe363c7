"""The grid forms gk2021 and gk2019: labels verbatim, formulas, the 勾稽关系, layout.

Expected labels are copied here from the domain reference (forms.md) on purpose: the
definitions must match the official tables, not whatever the YAML happens to say.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from xxgk.forms import model as forms
from xxgk.forms.builtin import builtin, for_year, resolve
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form

SHEET2 = "二、主动公开政府信息情况"
SHEET3 = "三、收到和处理政府信息公开申请情况"
SHEET4 = "四、政府信息公开行政复议、行政诉讼情况"
STUB3 = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

# ---------------------------------------------------------------- expected labels

T2_2021 = [
    (
        "第二十条第（一）项",
        ["本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "行政规范性文件"],
    ),
    ("第二十条第（五）项", ["本年处理决定数量"], ["行政许可"]),
    ("第二十条第（六）项", ["本年处理决定数量"], ["行政处罚", "行政强制"]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], ["行政事业性收费"]),
]
T2_2019 = [
    (
        "第二十条第（一）项",
        ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
        ["规章", "规范性文件"],
    ),
    (
        "第二十条第（五）项",
        ["上一年项目数量", "本年增/减", "处理决定数量"],
        ["行政许可", "其他对外管理服务事项"],
    ),
    (
        "第二十条第（六）项",
        ["上一年项目数量", "本年增/减", "处理决定数量"],
        ["行政处罚", "行政强制"],
    ),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], ["行政事业性收费"]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"], ["政府集中采购"]),
]

APPLICANTS = "申请人情况"
LEGAL = "法人或其他组织"
T3_COLUMNS = [
    ((APPLICANTS,), "自然人"),
    ((APPLICANTS, LEGAL), "商业企业"),
    ((APPLICANTS, LEGAL), "科研机构"),
    ((APPLICANTS, LEGAL), "社会公益组织"),
    ((APPLICANTS, LEGAL), "法律服务机构"),
    ((APPLICANTS, LEGAL), "其他"),
    ((APPLICANTS,), "总计"),
]

RESULT = "三、本年度办理结果"
WITHHELD = "（三）不予公开"
UNAVAILABLE = "（四）无法提供"
NOT_HANDLED = "（五）不予处理"
OTHER = "（六）其他处理"
T3_HEAD = [
    ((), "一、本年新收政府信息公开申请数量"),
    ((), "二、上年结转政府信息公开申请数量"),
    ((RESULT,), "（一）予以公开"),
    ((RESULT,), "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    *(
        ((RESULT, WITHHELD), label)
        for label in (
            "1.属于国家秘密",
            "2.其他法律行政法规禁止公开",
            "3.危及“三安全一稳定”",
            "4.保护第三方合法权益",
            "5.属于三类内部事务信息",
            "6.属于四类过程性信息",
            "7.属于行政执法案卷",
            "8.属于行政查询事项",
        )
    ),
    *(
        ((RESULT, UNAVAILABLE), label)
        for label in (
            "1.本机关不掌握相关政府信息",
            "2.没有现成信息需要另行制作",
            "3.补正后申请内容仍不明确",
        )
    ),
    *(
        ((RESULT, NOT_HANDLED), label)
        for label in (
            "1.信访举报投诉类申请",
            "2.重复申请",
            "3.要求提供公开出版物",
            "4.无正当理由大量反复申请",
            "5.要求行政机关确认或重新出具已获取信息",
        )
    ),
]
T3_OTHER_2021 = [
    ((RESULT, OTHER), label)
    for label in (
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "3.其他",
    )
]
T3_OTHER_2019 = [((RESULT,), OTHER)]
T3_TAIL = [((RESULT,), "（七）总计"), ((), "四、结转下年度继续办理")]
T3_ROWS = {
    "gk2021": [*T3_HEAD, *T3_OTHER_2021, *T3_TAIL],
    "gk2019": [*T3_HEAD, *T3_OTHER_2019, *T3_TAIL],
}

T4_COLUMNS = [
    (group, label)
    for group in (("行政复议",), ("行政诉讼", "未经复议直接起诉"), ("行政诉讼", "复议后起诉"))
    for label in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
]


@pytest.fixture(scope="module", params=["gk2021", "gk2019"])
def form(request: pytest.FixtureRequest) -> Form:
    return builtin(request.param)


def table(form: Form, table_id: str) -> forms.Table:
    return next(t for t in form.tables if t.id == table_id)


def value_rows(form: Form) -> int:
    """Row count of tables 三 per form, straight from forms.md (25 and 23 value rows)."""
    return {"gk2021": 25, "gk2019": 23}[form.id]


# ---------------------------------------------------------------- identity


def test_both_forms_load_with_their_years_and_titles() -> None:
    f21, f19 = builtin("gk2021"), builtin("gk2019")
    assert (f21.id, f21.years, f21.name) == ("gk2021", (2021, None), "政府信息公开工作年度报告格式")
    assert (f19.id, f19.years, f19.name) == (
        "gk2019",
        (2019, 2020),
        "政府信息公开工作年度报告格式（试行）",
    )
    for f in (f21, f19):
        assert (
            f.title.format(agency="某某局", year=2023)
            == "某某局2023年政府信息公开工作年度报告统计表"
        )
        assert "{region}" in f.summary_title and "{year}" in f.summary_title
        assert f.sheets == (SHEET2, SHEET3, SHEET4)
        guide = dict(f.guide)
        assert "勾稽关系" in guide and "第一项加第二项之和" in guide["勾稽关系"]
        assert "1月31日" in guide["报送"]


@pytest.mark.parametrize(
    ("year", "form_id"),
    [
        (2017, "gk2018"),
        (2018, "gk2018"),
        (2019, "gk2019"),
        (2020, "gk2019"),
        (2021, "gk2021"),
        (2025, "gk2021"),
    ],
)
def test_for_year_picks_the_right_form(year: int, form_id: str) -> None:
    assert for_year(year).id == form_id
    assert resolve(None, year).id == form_id


def test_gk2018_is_unchanged() -> None:
    f = builtin("gk2018")
    assert len(f.cells) == 65 and len(f.inputs) == 51 and len(f.formulas) == 7
    assert {c.key for c in f.formulas} == {"22", "27", "30", "34", "45", "49", "58"}
    assert len(f.checks) == len(f.rules) == 14


# ---------------------------------------------------------------- labels verbatim


def test_table2_blocks_verbatim(form: Form) -> None:
    expected = T2_2021 if form.id == "gk2021" else T2_2019
    blocks = [t for t in form.tables if t.sheet == SHEET2]
    got = [(t.title, [c.label for c in t.columns], [r.label for r in t.rows]) for t in blocks]
    assert got == expected
    for t in blocks:
        assert t.stub == "信息内容"
        assert not t.has_units
        assert all(r.kind == "input" and not r.groups for r in t.rows)
        assert all(not c.parts and not c.groups for c in t.columns)


def test_table3_labels_verbatim(form: Form) -> None:
    t3 = table(form, "t3")
    assert (t3.sheet, t3.title, t3.stub, t3.has_units) == (SHEET3, SHEET3, STUB3, False)
    assert [(c.groups, c.label) for c in t3.columns] == T3_COLUMNS
    assert [(r.groups, r.label) for r in t3.rows] == T3_ROWS[form.id]
    assert len(t3.rows) == value_rows(form)
    assert [r.code for r in t3.rows] == [str(i) for i in range(1, len(t3.rows) + 1)]
    assert [c.code for c in t3.columns] == [str(i) for i in range(1, 8)]
    assert all(r.kind != "header" for r in t3.rows)


def test_table4_labels_verbatim(form: Form) -> None:
    t4 = table(form, "t4")
    assert (t4.sheet, t4.title, t4.has_units) == (SHEET4, SHEET4, False)
    assert [(c.groups, c.label) for c in t4.columns] == T4_COLUMNS
    assert len(t4.rows) == 1 and t4.rows[0].kind == "input"


@pytest.mark.parametrize("form_id", ["gk2019", "gk2021"])
def test_quote_characters_are_those_of_the_official_notice(form_id: str) -> None:
    label = table(builtin(form_id), "t3").rows[6].label
    assert label == "3.危及“三安全一稳定”"


# ---------------------------------------------------------------- value kinds


def test_value_kinds_2021() -> None:
    f = builtin("gk2021")
    kinds = {c.key: c.value for c in f.cells.values()}
    assert kinds.pop("t2_8.1.1") == "amount"
    assert set(kinds.values()) == {"count"}


def test_value_kinds_2019_signed_and_amount() -> None:
    f = builtin("gk2019")
    assert "signed" in forms.VALUE_KINDS
    kinds = {c.key: c.value for c in f.cells.values()}
    signed = {k for k, v in kinds.items() if v == "signed"}
    assert signed == {"t2_5.1.2", "t2_5.2.2", "t2_6.1.2", "t2_6.2.2", "t2_8.1.2"}
    assert all(
        f.cells[k].column.label == "本年增/减" and f.cells[k].kind == "input" for k in signed
    )
    assert {k for k, v in kinds.items() if v == "amount"} == {"t2_9.1.2"}
    assert f.cells["t2_9.1.2"].column.label == "采购总金额"
    # a negative 本年增/减 flows through compute untouched
    values = f.compute({**{c.key: Decimal(0) for c in f.inputs}, "t2_5.1.2": Decimal(-3)})
    assert values["t2_5.1.2"] == Decimal(-3)


# ---------------------------------------------------------------- formulas


def t3_formula_map(form: Form) -> dict[str, tuple[str, ...]]:
    return {c.key: c.parts for c in form.formulas if c.table.id == "t3"}


def test_table3_total_column_and_total_row(form: Form) -> None:
    n = value_rows(form)
    total_row = n - 1
    results = range(3, total_row)
    formulas = t3_formula_map(form)
    expected: dict[str, tuple[str, ...]] = {}
    for r in range(1, n + 1):
        if r != total_row:  # the 总计 column sums the six applicant columns
            expected[f"t3.{r}.7"] = tuple(f"t3.{r}.{c}" for c in range(1, 7))
    for c in range(1, 8):  # the （七）总计 row sums the result rows (row formula wins in 总计×总计)
        expected[f"t3.{total_row}.{c}"] = tuple(f"t3.{r}.{c}" for r in results)
    assert formulas == expected
    # result rows as forms.md lists them: （一）（二） + （三）8 + （四）3 + （五）5 + （六）3 = 21,
    # and 19 in gk2019 where （六） is one row (forms.md's "22" is a miscount of its own list)
    assert len(formulas[f"t3.{total_row}.1"]) == {"gk2021": 21, "gk2019": 19}[form.id]
    assert form.cells[f"t3.{total_row}.7"].row.label == "（七）总计"
    assert form.cells[f"t3.{total_row}.7"].column.label == "总计"


def test_grand_total_cell_agrees_both_ways(form: Form) -> None:
    """（七）总计 × 总计 is computed down the column; it equals the sum across its row too."""
    n = value_rows(form)
    inputs = {c.key: Decimal(i * 7 % 11) for i, c in enumerate(form.inputs)}
    values = form.compute(inputs)
    down = sum((values[f"t3.{r}.7"] for r in range(3, n - 1)), Decimal(0))
    across = sum((values[f"t3.{n - 1}.{c}"] for c in range(1, 7)), Decimal(0))
    assert values[f"t3.{n - 1}.7"] == down == across
    assert form.formulas.index(form.cells[f"t3.{n - 1}.7"]) > max(
        form.formulas.index(form.cells[f"t3.{r}.7"]) for r in range(3, n - 1)
    )


def test_table4_three_totals(form: Form) -> None:
    formulas = {c.key: c.parts for c in form.formulas if c.table.id == "t4"}
    assert formulas == {
        "t4.1.5": ("t4.1.1", "t4.1.2", "t4.1.3", "t4.1.4"),
        "t4.1.10": ("t4.1.6", "t4.1.7", "t4.1.8", "t4.1.9"),
        "t4.1.15": ("t4.1.11", "t4.1.12", "t4.1.13", "t4.1.14"),
    }
    inputs = {c.key: Decimal(int(c.column.code)) for c in form.inputs}
    values = form.compute(inputs)
    assert (values["t4.1.5"], values["t4.1.10"], values["t4.1.15"]) == (10, 30, 50)


def test_only_tables_3_and_4_have_formulas(form: Form) -> None:
    assert {c.table.id for c in form.formulas} == {"t3", "t4"}
    n = value_rows(form)
    assert len(form.formulas) == (n - 1) + 7 + 3
    assert len(form.cells) == len(form.inputs) + len(form.formulas)


# ---------------------------------------------------------------- the 勾稽关系


def balanced(form: Form) -> dict[str, Decimal]:
    """Every applicant column: 5 new + 2 carried in = 4 opened + 3 carried over."""
    n = value_rows(form)
    inputs = {c.key: Decimal(0) for c in form.inputs}
    for c in range(1, 7):
        inputs.update(
            {
                f"t3.1.{c}": Decimal(5),
                f"t3.2.{c}": Decimal(2),
                f"t3.3.{c}": Decimal(4),
                f"t3.{n}.{c}": Decimal(3),
            }
        )
    return inputs


def test_balance_rule_gives_one_check_per_column(form: Form) -> None:
    (rule,) = [r for r in form.rules if r.severity == "error"]
    assert (rule.id, rule.severity, rule.table.id) == ("E_t3_balance", "error", "t3")
    checks = [c for c in form.checks if c.rule is rule]
    assert len(checks) == len(form.checks) == 7
    assert [c.id for c in checks] == [f"E_t3_balance.{i}" for i in range(1, 8)]
    n = value_rows(form)
    for i, check in enumerate(checks, start=1):
        assert set(check.bind.values()) == {
            f"t3.1.{i}",
            f"t3.2.{i}",
            f"t3.{n - 1}.{i}",
            f"t3.{n}.{i}",
        }
        assert check.anchor == f"t3.{n - 1}.{i}"
        assert check.message.startswith(f"表三第{i}栏“{T3_COLUMNS[i - 1][1]}”")


def test_balanced_return_passes(form: Form) -> None:
    values = form.compute(balanced(form))
    assert all(check.evaluate(values) for check in form.checks)


def test_unbalanced_natural_person_column_fails_only_its_check(form: Form) -> None:
    inputs = balanced(form)
    inputs["t3.1.1"] += 1  # 自然人: 6 + 2 ≠ 4 + 3
    values = form.compute(inputs)
    failed = [check for check in form.checks if not check.evaluate(values)]
    # the 总计 column inherits the imbalance through its formula, so its check fails as well
    assert [c.id for c in failed] == ["E_t3_balance.1", "E_t3_balance.7"]
    assert failed[0].column.label == "自然人"
    assert "自然人" in failed[0].message


def test_unbalanced_column_offset_elsewhere_fails_only_that_column() -> None:
    """自然人 breaks the rule while 商业企业 breaks it the other way: 总计 still balances."""
    form = builtin("gk2021")
    inputs = balanced(form)
    inputs["t3.1.1"] += 1
    inputs["t3.1.2"] -= 1
    values = form.compute(inputs)
    failed = [check.id for check in form.checks if not check.evaluate(values)]
    assert failed == ["E_t3_balance.1", "E_t3_balance.2"]


def test_a_result_row_counts_in_the_balance() -> None:
    form = builtin("gk2021")
    inputs = balanced(form)
    inputs["t3.3.1"] -= 1
    inputs["t3.23.1"] += 1  # moved from （一）予以公开 to （六）3.其他: still balanced
    values = form.compute(inputs)
    assert all(check.evaluate(values) for check in form.checks)
    assert values["t3.24.1"] == 4 and values["t3.24.7"] == 24


# ---------------------------------------------------------------- layout


def test_layout_places_are_distinct_and_on_the_right_sheet(form: Form) -> None:
    layout = layout_of(form)
    places = layout.places
    assert set(places) == set(form.cells)
    assert len(set(places.values())) == len(places)
    assert [s.name for s in layout.sheets] == [SHEET2, SHEET3, SHEET4]
    for key, place in places.items():
        cell = form.cells[key]
        assert place.sheet == cell.table.sheet
        sheet = layout.sheet_of(cell.table)
        tl = layout.tables[cell.table.id]
        assert tl.first_row <= place.row <= tl.last_row
        assert sheet.value_col0 <= place.col < sheet.hint_col
        assert place.col > sheet.code_col >= sheet.label_cols - 1


def test_layout_blocks_of_table2_do_not_overlap(form: Form) -> None:
    layout = layout_of(form)
    sheet = layout.sheet(SHEET2)
    assert len(sheet.tables) == (4 if form.id == "gk2021" else 5)
    assert sheet.label_cols == 1 and not sheet.has_units
    assert sheet.value_cols == 3
    previous_end = -1
    for tl in sheet.tables:
        assert tl.caption_row is not None and tl.caption_row > previous_end
        assert tl.header_top > tl.caption_row
        assert tl.first_row >= tl.header_top + tl.header_rows
        previous_end = tl.last_row


def test_layout_of_tables_3_and_4(form: Form) -> None:
    layout = layout_of(form)
    s3, s4 = layout.sheet(SHEET3), layout.sheet(SHEET4)
    # 三、本年度办理结果 / （三）不予公开 / 1.属于国家秘密: three label columns
    assert (s3.label_cols, s3.value_cols, s3.has_units) == (3, 7, False)
    assert layout.tables["t3"].header_rows == 3  # 申请人情况 / 法人或其他组织 / 商业企业
    assert (s4.label_cols, s4.value_cols) == (1, 15)
    assert layout.tables["t4"].header_rows == 3  # 行政诉讼 / 复议后起诉 / 结果维持
    # the signature block sits on the last sheet, below table 四, clear of every value cell
    assert {p.sheet for p in layout.signature.values()} == {SHEET4}
    assert min(p.row for p in layout.signature.values()) > layout.tables["t4"].last_row
    assert not set(layout.signature.values()) & set(layout.places.values())


def test_year_over_year_rules_stay_out_of_the_in_sheet_checks(form: Form) -> None:
    carried = [c for c in form.previous_checks if c.rule.id == "Y_t3_carried_in"]
    assert len(carried) == 7
    n = value_rows(form)
    for i, check in enumerate(carried, start=1):
        assert check.bind == {"r2": f"t3.2.{i}", f"last.r{n}": f"t3.{n}.{i}"}
        assert check.evaluate({f"t3.2.{i}": Decimal(4)}, {f"t3.{n}.{i}": Decimal(4)})
        assert not check.evaluate({f"t3.2.{i}": Decimal(4)}, {f"t3.{n}.{i}": Decimal(3)})
    assert not any(c.previous for c in form.checks)


def test_in_force_count_is_checked_per_row_against_last_year() -> None:
    form = builtin("gk2021")
    checks = [c for c in form.previous_checks if c.rule.id == "Y_t2_1_in_force"]
    assert [(c.id, c.row.label if c.row else None) for c in checks] == [
        ("Y_t2_1_in_force.1", "规章"),
        ("Y_t2_1_in_force.2", "行政规范性文件"),
    ]
    check = checks[1]
    this_year = {"t2_1.2.1": Decimal(5), "t2_1.2.2": Decimal(2), "t2_1.2.3": Decimal(13)}
    assert check.evaluate(this_year, {"t2_1.2.3": Decimal(10)})
    assert not check.evaluate(this_year, {"t2_1.2.3": Decimal(9)})
    assert "行政规范性文件" in check.message
