"""Reports retyped as departments make them — their own workbook, the Word report, the
published web page — in the official layout with no template, and every variant real
reports print: each read by the same matcher, never a wrong number."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from retyped import (
    UNIT,
    WRITERS,
    Edit,
    add_row,
    drop_row,
    relabel,
    sound_values,
    swap,
    tables,
    title,
    write_report,
)
from xxgk.check.checking import check_return
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import Finding
from xxgk.read.open import read
from xxgk.read.returns import ReadError, Return

GK2019, GK2021 = builtin("gk2019"), builtin("gk2021")
KINDS = list(WRITERS)


def write(tmp_path: Path, kind: str, form_year: int, edits: tuple[Edit, ...] = (), values: Any = None,
          *, year: int | None = None) -> Path:
    form = GK2021 if form_year >= 2021 else GK2019
    return write_report(tmp_path, kind, form, title(year or form_year), edits, values)


def figures(ret: Return) -> dict[str, Decimal]:
    return check_return(ret).values


def codes(ret: Return) -> list[str]:
    return [f.code for f in ret.findings]


def only(ret: Return, code: str) -> list[Finding]:
    return [f for f in ret.findings if f.code == code]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("form", "year"), [(GK2019, 2020), (GK2021, 2021)])
def test_official_layout_reads_exactly_and_sound_figures_pass(tmp_path: Path, kind: str, form: Any, year: int) -> None:
    values = sound_values(form)
    ret = read(write(tmp_path, kind, year, values=values))
    assert (ret.form.id, ret.identity.year, ret.identity.agency_name, ret.kind) == (form.id, year, UNIT, kind)
    assert ret.findings == []
    result = check_return(ret)
    assert result.report.findings == [] and result.values == values


@pytest.mark.parametrize("kind", KINDS)
def test_a_printed_arithmetic_mistake_is_an_error(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    values["t3.24.1"] += 1  # （七）总计 as printed, one more than its parts
    result = check_return(read(write(tmp_path, kind, 2021, values=values)))
    assert {f.code for f in result.report.findings if f.severity == "error"} == {"formula.mismatch"}


# ---------------------------------------------------------------- quotes, widths, spaces


@pytest.mark.parametrize("printed", ["3.危及\"三安全一稳定\"", "3.危及「三安全一稳定」", "3、危及‘三安全一稳定’", "３．危及 “三安全一稳定”"])
def test_quote_width_and_space_variants_are_the_same_label(tmp_path: Path, printed: str) -> None:
    ret = read(write(tmp_path, "docx", 2021, (relabel("3.危及“三安全一稳定”", printed),)))
    assert ret.findings == [] and ret.form is GK2021


# ---------------------------------------------------------------- table 四 without a row label


def test_table_four_is_read_without_a_row_label(tmp_path: Path) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, "xlsx", 2021, values=values))
    t4 = {k: c for k, c in ret.cells.items() if k.startswith("t4.")}
    assert len(t4) == 15 and all(c.value == int(values[k]) for k, c in t4.items())


# ---------------------------------------------------------------- misprinted labels


NEAR = [
    ("现行有效件数", "先行有效件数"),
    ("本年废止件数", "本年废纸件数"),
    ("本年废止件数", "本年废止件"),
    ("2.其他法律行政法规禁止公开", "2.其他法律和行政法规禁止公开"),
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
     "1.申请人无正当理由逾期不补正、行政机关不再受理其政府信息公开申请"),
    ("7.属于行政执法案卷", "7.属于行政执法案件"),
    ("行政规范性文件", "规范性文件"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("standard", "printed"), NEAR)
def test_a_misprinted_label_is_read_as_the_unique_close_one_with_a_notice(
    tmp_path: Path, kind: str, standard: str, printed: str
) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, kind, 2021, (relabel(standard, printed),), values))
    assert codes(ret) == ["structure.near"]
    notice = ret.findings[0]
    assert notice.severity == "info" and f"“{printed}”按“{standard}”读取" in notice.message
    assert figures(ret) == values


@pytest.mark.parametrize(("standard", "printed"), [("行政复议", "行政法复议"), ("勾稽", "钩稽")])
def test_misprinted_headers_outside_the_value_labels_change_nothing(tmp_path: Path, standard: str, printed: str) -> None:
    values = sound_values(GK2021)

    def misprint(ts: Any) -> Any:
        import dataclasses

        return [dataclasses.replace(t, cells=tuple(dataclasses.replace(c, text=c.text.replace(standard, printed))
                                                   for c in t.cells)) for t in ts]

    ret = read(write(tmp_path, "docx", 2021, (misprint,), values))
    assert ret.form is GK2021 and figures(ret) == values


def test_a_label_equally_close_to_two_standard_ones_is_refused(tmp_path: Path) -> None:
    # 本年制止件数: one character from 本年制发件数 and from 本年废止件数
    with pytest.raises(ReadError) as info:
        read(write(tmp_path, "docx", 2021, (relabel("本年废止件数", "本年制止件数"), relabel("本年制发件数", "本年新增件数"))))
    assert info.value.code == "file.variant"
    assert "本年制止件数" in info.value.detail and "同样接近" in info.value.detail


def test_a_label_changed_beyond_a_misprint_is_refused_not_guessed(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as info:
        read(write(tmp_path, "html", 2021, (relabel("7.属于行政执法案卷", "7.属于执法卷宗"),)))
    assert info.value.code == "file.variant" and "7.属于执法卷宗" in info.value.detail


# ---------------------------------------------------------------- rows left out, rows and tables added


@pytest.mark.parametrize("kind", KINDS)
def test_a_row_left_out_reads_blank_with_a_warning_naming_it(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, kind, 2021, (drop_row("规章"),), values))
    assert codes(ret) == ["structure.absent"]
    assert ret.findings[0].severity == "warning" and "“规章”" in ret.findings[0].message
    result = check_return(ret)
    assert result.values["t2_1.1.1"] == 0 and result.values["t2_1.2.1"] == values["t2_1.2.1"]
    assert [f.code for f in result.report.findings] == ["structure.absent"]  # no value.blank on top


@pytest.mark.parametrize("kind", KINDS)
def test_an_added_row_is_ignored_with_a_notice(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, kind, 2021, (add_row("行政许可", "其他对外管理服务事项", ["9"]),), values))
    assert codes(ret) == ["structure.ignored"] and "其他对外管理服务事项" in ret.findings[0].message
    assert figures(ret) == values


@pytest.mark.parametrize("kind", ["docx", "html"])
def test_an_added_table_is_ignored_with_a_notice(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    fee = tables(GK2019, sound_values(GK2019))[0]  # a table of other rows (信息处理费 in 2025 reports)
    ts = [*tables(GK2021, values), fee]
    path = WRITERS[kind](ts, title(2025), tmp_path / f"r.{kind}")
    ret = read(path)
    assert ret.identity.year == 2025 and figures(ret) == values
    assert codes(ret) == ["structure.ignored"] and "表4" in ret.findings[0].message


# ---------------------------------------------------------------- blocks of the 2019 format in a 2021 report


@pytest.mark.parametrize("kind", KINDS)
def test_the_one_row_other_handling_of_2019_is_read_into_3_other(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    old = {f"t3.{r}.{c}": values[f"t3.{r}.{c}"] for r in range(1, 21) for c in range(1, 8)}
    for c in range(1, 8):
        old[f"t3.21.{c}"] = sum((values[f"t3.{r}.{c}"] for r in (21, 22, 23)), Decimal(0))
        old[f"t3.22.{c}"], old[f"t3.23.{c}"] = values[f"t3.24.{c}"], values[f"t3.25.{c}"]
    t3_2019 = tables(GK2019, old)[1]
    ret = read(write(tmp_path, kind, 2021, (swap(1, [t3_2019, t3_2019]),), values))
    assert codes(ret) == ["structure.older"] and ret.findings[0].severity == "info"
    assert "读作“3.其他”" in ret.findings[0].message
    result = check_return(ret)
    assert [f.code for f in result.report.findings] == ["structure.older"]  # every sum and balance holds
    for c in range(1, 8):
        assert result.values[f"t3.23.{c}"] == old[f"t3.21.{c}"]
        assert result.values[f"t3.21.{c}"] == result.values[f"t3.22.{c}"] == 0
        assert result.values[f"t3.24.{c}"] == values[f"t3.24.{c}"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_2019_table_two_in_a_2021_report_gives_what_carries_over(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    old = sound_values(GK2019, seed=5)
    ret = read(write(tmp_path, kind, 2021, (swap(0, tables(GK2019, old)),), values))
    assert ret.form is GK2021 and ret.identity.year == 2021
    assert set(codes(ret)) == {"structure.older", "structure.ignored"}
    assert all(f.severity == "info" for f in ret.findings)
    got = figures(ret)
    assert got["t2_1.1.1"] == old["t2_1.1.1"] and got["t2_1.2.1"] == old["t2_1.2.1"]  # 本年新制作数量
    assert got["t2_1.1.2"] == got["t2_1.1.3"] == 0  # no counterpart: blank
    assert got["t2_5.1.1"] == old["t2_5.1.3"]  # 处理决定数量
    assert got["t2_6.1.1"] == old["t2_6.1.3"] and got["t2_6.2.1"] == old["t2_6.2.3"]
    assert got["t2_8.1.1"] == 0
    assert all(got[k] == values[k] for k in values if k.startswith(("t3.", "t4.")))


def test_a_2019_report_is_still_read_as_the_2019_form(tmp_path: Path) -> None:
    ret = read(write(tmp_path, "docx", 2019))
    assert ret.form is GK2019 and ret.findings == []


# ---------------------------------------------------------------- documents


def test_a_document_without_a_recognisable_table_says_so(tmp_path: Path) -> None:
    from retyped import to_docx
    from xxgk.report.printed import PCell, Printed

    other = Printed("一、总体情况", 1, 2, (PCell("办公用品", 0, 0), PCell("3", 0, 1)))
    with pytest.raises(ReadError) as info:
        read(to_docx([other], title(2021), tmp_path / "r.docx"))
    assert info.value.code == "file.not_ours" and "指标名称" in info.value.detail


def test_a_gbk_web_page(tmp_path: Path) -> None:
    from retyped import to_html

    values = sound_values(GK2021)
    path = to_html(tables(GK2021, values), title(2022), tmp_path / "r.htm", encoding="gbk")
    ret = read(path)
    assert ret.identity.agency_name == UNIT and ret.identity.year == 2022 and figures(ret) == values
