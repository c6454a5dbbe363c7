"""Reports as they are published: rows and whole blocks left out, the 2019 format in its own
year and in later ones, titles in either order, totals left blank, the official tables with
no figures — each as a workbook, a Word document and a web page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from retyped import (
    TITLES,
    UNIT,
    WRITERS,
    Edit,
    apply,
    drop_row,
    relabel,
    set_value,
    sound_values,
    tables,
    title,
    write_report,
)
from xxgk.check.checking import check_return
from xxgk.forms.builtin import builtin
from xxgk.forms.model import Form
from xxgk.read.open import read
from xxgk.read.returns import ReadError, Return

GK2019, GK2021 = builtin("gk2019"), builtin("gk2021")
KINDS = list(WRITERS)


def write(tmp_path: Path, kind: str, form: Form, edits: tuple[Edit, ...] = (), values: Any = None,
          heading: str | None = None, year: int | None = None) -> Path:
    shown = heading if heading is not None else title(year or (2021 if form is GK2021 else 2019))
    return write_report(tmp_path, kind, form, shown, edits, values)


def codes(ret: Return) -> list[str]:
    return [f.code for f in ret.findings]


# ---------------------------------------------------------------- rows and blocks left out

NO_RULES = [
    (GK2021, ("规章", "行政规范性文件")),
    (GK2019, ("规章", "规范性文件")),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("form", "rows"), NO_RULES, ids=["gk2021", "gk2019"])
def test_a_block_with_its_header_and_no_rows_reads_blank_with_a_warning_per_row(
    tmp_path: Path, kind: str, form: Form, rows: tuple[str, str]
) -> None:
    values = sound_values(form)
    ret = read(write(tmp_path, kind, form, tuple(drop_row(r) for r in rows), values))
    assert ret.form is form and ret.identity.agency_name == UNIT
    assert codes(ret) == ["structure.absent", "structure.absent"]  # no "多出的数值列"
    for finding, label in zip(ret.findings, rows, strict=True):
        assert finding.severity == "warning" and f"“{label}”" in finding.message and "只有表头" in finding.message
    result = check_return(ret)
    assert [f.code for f in result.report.findings] == ["structure.absent", "structure.absent"]
    for key, value in values.items():
        assert result.values[key] == (0 if key.startswith("t2_1.") else value), key


@pytest.mark.parametrize("kind", KINDS)
def test_a_2019_report_without_other_services_is_read_as_2019(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2019)
    ret = read(write(tmp_path, kind, GK2019, (drop_row("其他对外管理服务事项"),), values))
    assert ret.form is GK2019 and ret.identity.year == 2019
    assert codes(ret) == ["structure.absent"] and "其他对外管理服务事项" in ret.findings[0].message
    got = check_return(ret).values
    assert got["t2_5.2.1"] == got["t2_5.2.3"] == 0 and got["t2_5.1.3"] == values["t2_5.1.3"]
    assert got["t2_9.1.2"] == values["t2_9.1.2"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_last_row_of_a_block_left_out_and_its_neighbours_rows_are_told_apart(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, kind, GK2021, (drop_row("行政强制"),), values))
    assert codes(ret) == ["structure.absent"] and "行政强制" in ret.findings[0].message
    assert check_return(ret).values["t2_8.1.1"] == values["t2_8.1.1"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_row_left_out_with_another_row_printed_in_its_place_is_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ReadError) as info:
        read(write(tmp_path, kind, GK2021, (drop_row("规章"), relabel("行政规范性文件", "党政机关内部文件"))))
    assert info.value.code == "file.variant" and "党政机关内部文件" in info.value.detail


@pytest.mark.parametrize("kind", KINDS)
def test_a_block_heading_with_figures_under_other_names_is_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ReadError) as info:
        read(write(tmp_path, kind, GK2021, (relabel("规章", "地方性法规"), relabel("行政规范性文件", "党政机关内部文件"))))
    assert info.value.code == "file.variant"


# ---------------------------------------------------------------- the report's own form and year


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("order", list(TITLES))
@pytest.mark.parametrize("form", [GK2019, GK2021], ids=["gk2019", "gk2021"])
def test_unit_and_year_from_titles_in_either_order(tmp_path: Path, kind: str, order: str, form: Form) -> None:
    year = 2020 if form is GK2019 else 2023
    unit = "上海市人民政府办公厅"
    ret = read(write(tmp_path, kind, form, heading=TITLES[order].format(unit=unit, year=year)))
    assert (ret.form, ret.identity.year, ret.identity.agency_name) == (form, year, unit)
    assert ret.findings == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_2019_report_is_read_as_2019_not_through_the_2021_forms_older_printings(tmp_path: Path, kind: str) -> None:
    heading = TITLES["year_first"].format(unit="上海市人民政府办公厅", year=2019)
    values = sound_values(GK2019)
    values["t2_9.1.2"] = Decimal("25.1")
    ret = read(write(tmp_path, kind, GK2019, (drop_row("其他对外管理服务事项"),), values, heading=heading))
    assert ret.form is GK2019 and ret.identity.year == 2019
    assert not any("请改用本年度表式" in f.message for f in ret.findings)
    assert check_return(ret).values["t2_9.1.2"] == Decimal("25.1")  # 政府集中采购: read, not dropped


@pytest.mark.parametrize("kind", KINDS)
def test_a_2019_format_report_of_a_later_year_is_read_as_printed_with_a_notice(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2019)
    ret = read(write(tmp_path, kind, GK2019, values=values, year=2022))
    assert ret.form is GK2019 and ret.identity.year == 2022
    assert codes(ret) == ["file.older_form"]
    notice = ret.findings[0]
    assert notice.severity == "info" and "2022年度" in notice.message and "gk2021" in notice.message
    assert "请改用本年度表式" not in notice.message
    result = check_return(ret)
    assert result.values == values  # every row, 政府集中采购 included


@pytest.mark.parametrize("kind", KINDS)
def test_a_purchase_amount_in_yuan_is_flagged_not_dropped(tmp_path: Path, kind: str) -> None:
    ret = read(write(tmp_path, kind, GK2019, (set_value("政府集中采购", 2, "251000元"),)))
    assert ret.form is GK2019
    result = check_return(ret)
    [finding] = [f for f in result.report.findings if f.indicator == "t2_9.1.2"]
    assert finding.code == "value.yuan" and finding.expected == "25.1" and "251000元" in finding.message


# ---------------------------------------------------------------- blank totals, no figures at all


@pytest.mark.parametrize("kind", KINDS)
def test_a_total_printed_blank_is_flagged_with_its_computed_value(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    ret = read(write(tmp_path, kind, GK2021, (set_value("（七）总计", 1, ""), set_value("（七）总计", 7, "")), values))
    assert ret.findings == []
    result = check_return(ret)
    [finding] = result.report.findings
    assert finding.code == "formula.blank" and finding.severity == "warning" and not finding.explained
    assert finding.indicator == "t3.24.1" and finding.expected == str(values["t3.24.1"])
    assert f"应为{values['t3.24.1']}" in finding.message and f"应为{values['t3.24.7']}" in finding.message
    assert "共2格" in finding.message
    assert result.values == values


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("form", [GK2019, GK2021], ids=["gk2019", "gk2021"])
def test_the_official_tables_with_no_figures_are_not_filled_in(tmp_path: Path, kind: str, form: Form) -> None:
    ret = read(write(tmp_path, kind, form, values={}))
    assert ret.form is form
    result = check_return(ret)
    assert [f.code for f in result.report.findings] == ["file.empty"]
    assert "尚未填写" in result.report.findings[0].message


@pytest.mark.parametrize("kind", KINDS)
def test_rows_of_2019_blocks_a_later_report_carries_are_never_dropped_silently(tmp_path: Path, kind: str) -> None:
    from retyped import swap

    values = sound_values(GK2021)
    ts = apply(tables(GK2021, values), swap(0, tables(GK2019, sound_values(GK2019, seed=5))))
    ret = read(WRITERS[kind](ts, title(2021), tmp_path / f"r.{kind}"))
    assert ret.form is GK2021
    ignored = " ".join(f.message for f in ret.findings if f.code == "structure.ignored")
    assert "其他对外管理服务事项" in ignored and "政府集中采购" in ignored
    assert all(f.severity == "info" for f in ret.findings)
