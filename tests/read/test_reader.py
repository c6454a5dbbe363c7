"""reader: our template read back by position, anything else by labels, never a wrong row."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import lo
from books import (
    AGENCY,
    fill_template,
    filled_return,
    plain_sheet,
    sample_values,
    seed_rows,
    seed_values,
    signature_values,
)
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read.grid import norm
from xxgk.read.open import read
from xxgk.read.returns import ReadError, Return
from xxgk.write.template import write_template

GK2018 = builtin("gk2018")


def values_of(ret: Return) -> dict[str, Any]:
    return {k: c.value for k, c in ret.cells.items()}


def expected(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """What every form cell holds in a filled template: values, formulas, —— in headers."""
    return {c.key: values[c.key] if c.kind != "header" else "——" for c in form.cells.values()}


def refused(path: Path, code: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        read(path)
    assert info.value.code == code, (info.value.code, info.value.detail)
    return info.value


# ---------------------------------------------------------------- our template


@pytest.mark.parametrize("form_id", ["gk2018", "gk2019", "gk2021"])
def test_template_round_trip(tmp_path: Path, form_id: str) -> None:
    form = builtin(form_id)
    values = sample_values(form)
    path = fill_template(tmp_path / "whatever name.xlsx", form, values, year=2022, code="A-01",
                         signature=signature_values())
    ret = read(path)
    assert ret.form is form
    assert values_of(ret) == expected(form, values)
    assert ret.identity.source == "metadata"
    assert (ret.identity.form, ret.identity.year, ret.identity.agency_name, ret.identity.agency_code) == (
        form_id, 2022, AGENCY, "A-01")
    assert ret.identity.fingerprint == form.fingerprint and ret.identity.template_id
    assert ret.findings == []
    assert ret.signature == {k: str(v) for k, v in signature_values().items()}
    assert ret.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ret.mtime == path.stat().st_mtime
    lay = layout_of(form)
    for key, raw in ret.cells.items():
        place = lay.places[key]
        assert (raw.sheet, raw.cell) == (place.sheet, place.a1)


def test_notes_and_blank_cells(tmp_path: Path) -> None:
    values = sample_values(GK2018)
    values["7"] = None  # left blank
    values["2"] = "８３"  # typed as text with full-width digits: kept raw
    path = fill_template(tmp_path / "r.xlsx", GK2018, values, notes={"t1.r12": "本年度无热点舆情", "t1.r30": " "})
    ret = read(path)
    assert ret.cells["7"].value is None
    assert ret.cells["2"].value == "８３"
    assert ret.notes == {"t1.r12": "本年度无热点舆情"}


def test_file_name_means_nothing(tmp_path: Path) -> None:
    path = fill_template(tmp_path / "2021年gk2021_其他单位.xls.xlsx", GK2018, agency="某某局", year=2017)
    renamed = tmp_path / "统计表.ods"
    path.rename(renamed)
    ret = read(renamed)
    assert (ret.identity.form, ret.identity.year, ret.identity.agency_name) == ("gk2018", 2017, "某某局")


def test_summary_identity(tmp_path: Path) -> None:
    form = builtin("gk2021")
    units = "001\t甲局\n002\t乙局"
    path = filled_return(tmp_path / "s.xlsx", form, year=2023, summary=True,
                         meta={ids.KIND: "summary", ids.REGION: "沙坡头区", ids.UNITS: units})
    ret = read(path)
    assert ret.identity.kind == "summary" and ret.identity.region == "沙坡头区"
    assert ret.identity.units == [("001", "甲局"), ("002", "乙局")]
    assert values_of(ret) == expected(form, sample_values(form))
    assert {c.sheet for c in ret.cells.values()} == {s.name for s in layout_of(form, summary=True).sheets}


def test_metadata_with_other_fingerprint_reads_by_labels(tmp_path: Path) -> None:
    values = sample_values(GK2018)
    path = filled_return(tmp_path / "r.xlsx", GK2018, values, meta={ids.FINGERPRINT: "0123456789abcdef",
                                                                    ids.FORM_VERSION: 0})
    ret = read(path)
    assert [f.code for f in ret.findings] == ["file.form_changed"]
    assert "0123456789abcdef" in ret.findings[0].found
    assert values_of(ret) == expected(GK2018, values)


def test_metadata_of_unknown_form_falls_back_to_labels(tmp_path: Path) -> None:
    path = filled_return(tmp_path / "r.xlsx", meta={ids.FORM: "gk2099"})
    ret = read(path)
    assert ret.identity.form == "gk2018" and ret.identity.source == "labels"
    assert ret.identity.agency_code == "640502001"  # who it is from still comes from the metadata


# ---------------------------------------------------------------- metadata lost


def _drop_metadata(path: Path) -> Path:
    wb = openpyxl.load_workbook(path)
    del wb[ids.META_SHEET]
    out = path.with_name("nometa.xlsx")
    wb.save(out)
    return out


@pytest.mark.parametrize("form_id", ["gk2018", "gk2019", "gk2021"])
def test_metadata_lost_identified_by_labels(tmp_path: Path, form_id: str) -> None:
    form = builtin(form_id)
    values = sample_values(form)
    path = _drop_metadata(fill_template(tmp_path / "r.xlsx", form, values, year=2022, agency="中卫市 沙坡头区 财政局"))
    ret = read(path)
    assert ret.identity.source == "labels"
    assert ret.identity.form == form_id
    assert ret.identity.year == 2022
    assert ret.identity.agency_name == "中卫市沙坡头区财政局"
    got = values_of(ret)
    for cell in form.cells.values():
        if cell.kind == "input":
            assert got[cell.key] == values[cell.key], cell.key


def test_stacked_tables_without_blank_rows(tmp_path: Path) -> None:
    """Table 二 of gk2021 typed as four blocks with no gap between them: each block ends
    where the next one's caption begins, not in an 'extra row'."""
    form = builtin("gk2021")
    values = sample_values(form)
    path = filled_return(tmp_path / "r.xlsx", form, values, meta=False, year=2022)
    wb = openpyxl.load_workbook(path)
    sheet = layout_of(form).sheets[0]
    ws = wb[sheet.name]
    for tl in reversed(sheet.tables[:-1]):
        ws.delete_rows(tl.last_row + 2)  # the blank row after each block
    wb.save(tmp_path / "stacked.xlsx")
    ret = read(tmp_path / "stacked.xlsx")
    assert ret.identity.form == "gk2021"
    got = values_of(ret)
    assert {c.key: got[c.key] for c in form.inputs} == {c.key: values[c.key] for c in form.inputs}
    assert ret.cells["t2_6.2.1"].cell == "C14"  # 行次 2 of （六）, two gaps fewer


def test_plain_three_column_seed_sheet(tmp_path: Path) -> None:
    ret = read(plain_sheet(tmp_path / "seed.xlsx"))
    assert ret.identity.source == "labels"
    assert (ret.identity.form, ret.identity.year, ret.identity.agency_name) == ("gk2018", 2018, AGENCY)
    assert len(ret.cells) == 65
    seed = seed_values()
    assert values_of(ret) == seed
    # the values the seed wrote into header rows are read, so the checker can report them
    assert [ret.cells[k].value for k in ("1", "5", "21", "55")] == [83, 0, 0, 0]
    assert ret.cells["11"].value is None and ret.cells["62"].value is None
    assert ret.cells["1"].cell == "C3" and ret.cells["65"].cell == "C67"
    assert ret.findings == []


@pytest.mark.parametrize(
    "title",
    [
        ("附件：", "沙坡头区机关事务局", "政府信息公开情况统计表（2018年度）"),
        ("沙 坡 头 区 机 关 事 务 局 政府信息公开情况统计表", "(２０１８年度)"),
        ("政府信息公开情况统计表", "填报单位：沙坡头区机关事务局　　2018年度"),
    ],
)
def test_plain_sheet_title_variants(tmp_path: Path, title: tuple[str, ...]) -> None:
    path = plain_sheet(tmp_path / "seed.xlsx", title=title, first_row=2, first_col=1, engine="openpyxl")
    ret = read(path)
    assert (ret.identity.year, ret.identity.agency_name) == (2018, AGENCY)
    assert values_of(ret) == seed_values()
    assert ret.cells["1"].cell == f"D{2 + len(title) + 2}"


def test_a_long_text_above_the_table_does_not_stall_the_title(tmp_path: Path) -> None:
    # the title's patterns were searched over all of it: minutes for 30,000 characters
    title = ("2018年" * 6000, "沙坡头区机关事务局政府信息公开情况统计表（2018年度）")
    ret = read(plain_sheet(tmp_path / "seed.xlsx", title=title, first_row=2, first_col=1, engine="openpyxl"))
    assert ret.identity.year == 2018 and ret.identity.agency_name.endswith(AGENCY)  # the text before it kept
    assert values_of(ret) == seed_values()


def test_plain_sheet_with_row_numbers_and_text_labels_variants(tmp_path: Path) -> None:
    rows = []
    for code, label, unit, value in seed_rows():
        label = label.replace("（", "(").replace("）", ")").replace("1.", "1、")  # half-width, 1、
        rows.append((int(code), label, unit, int(value) if value else None))
    path = plain_sheet(tmp_path / "seed.xlsx", rows, header=("行次", "统计指标", "单位", "统计数"))
    ret = read(path)
    assert values_of(ret) == seed_values()
    assert ret.cells["1"].cell == "D3"


def test_plain_sheet_without_header_uses_the_numeric_column(tmp_path: Path) -> None:
    path = plain_sheet(tmp_path / "seed.xlsx", header=("", "", ""))
    assert values_of(read(path)) == seed_values()


def test_normalisation() -> None:
    assert norm("（一）主动公开政府信息数 （不同渠道和方式公开相同信息计 1 条）") == norm(
        "(一)主动公开政府信息数(不同渠道和方式公开相同信息计１条)")
    assert norm("1、 当面申请数\u3000") == norm("1. 当面申请数")
    assert norm(5.0) == "5" and norm("５") == "5" and norm(None) == ""
    assert norm("ABC") == norm("ａｂｃ")


# ---------------------------------------------------------------- changed structure


def _unprotected(path: Path) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        ws.protection.sheet = False
    return wb


def test_inserted_rows_read_from_the_right_rows(tmp_path: Path) -> None:
    values = sample_values(GK2018)
    path = fill_template(tmp_path / "r.xlsx", GK2018, values, signature=signature_values(),
                         notes={"t1.r30": "结转"})
    wb = _unprotected(path)
    ws = wb["统计表"]
    ws.insert_rows(25)  # inside the table: before 行次 22 (Excel row 25)
    ws.insert_rows(50, 2)  # two more, between 行次 45 and 46
    moved_path = tmp_path / "moved.xlsx"
    wb.save(moved_path)
    ret = read(moved_path)
    got = values_of(ret)
    for cell in GK2018.inputs:
        assert got[cell.key] == values[cell.key], cell.key
    assert ret.cells["21"].cell == "D24"  # before the insertion
    assert ret.cells["22"].cell == "D26"
    assert ret.cells["46"].cell == "D52"
    moved = [f for f in ret.findings if f.code == "structure.moved"]
    assert len(moved) == 65 - 21
    assert {f.severity for f in moved} == {"warning"}
    assert moved[0].label == "（一）收到申请数" and "第25行" in moved[0].message and "第26行" in moved[0].message
    assert ret.notes == {"t1.r30": "结转"}
    assert ret.signature["填报人"] == "王五"


def test_inserted_column_is_followed(tmp_path: Path) -> None:
    values = sample_values(GK2018)
    wb = _unprotected(fill_template(tmp_path / "r.xlsx", GK2018, values))
    wb["统计表"].insert_cols(4)  # before 统计数 (column D)
    wb.save(tmp_path / "c.xlsx")
    ret = read(tmp_path / "c.xlsx")
    assert ret.cells["2"].cell == "E5" and ret.cells["2"].value == values["2"]
    assert [f.code for f in ret.findings] == ["structure.moved"]
    assert "“统计数”列" in ret.findings[0].message


@pytest.mark.parametrize("col", [5, 7])  # right after 统计数, or after 情况说明
def test_value_column_added_to_our_template_is_refused(tmp_path: Path, col: int) -> None:
    wb = _unprotected(fill_template(tmp_path / "r.xlsx"))
    ws = wb["统计表"]
    ws.insert_cols(col)
    ws.cell(3, col, "历年累计")
    for r in range(4, 69):
        ws.cell(r, col, 100 + r)
    wb.save(tmp_path / "c.xlsx")
    err = refused(tmp_path / "c.xlsx", "file.variant")
    assert "历年累计" in err.detail


def test_deleted_row_is_read_blank_with_a_warning_naming_it(tmp_path: Path) -> None:
    wb = _unprotected(fill_template(tmp_path / "r.xlsx"))
    wb["统计表"].delete_rows(10)  # 行次 7: 2. 政府网站公开政府信息数
    wb.save(tmp_path / "d.xlsx")
    ret = read(tmp_path / "d.xlsx")
    assert ret.cells["7"].value is None and ret.cells["7"].cell == ""
    absent = [f for f in ret.findings if f.code == "structure.absent"]
    assert len(absent) == 1 and "第7行“2. 政府网站公开政府信息数”" in absent[0].message
    assert absent[0].severity == "warning"


def test_more_than_a_tenth_of_the_rows_deleted_is_refused(tmp_path: Path) -> None:
    rows = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    del rows[9], rows[7], rows[6]  # three value rows: up to a tenth of them is read, each named
    kept = read(plain_sheet(tmp_path / "k.xlsx", rows))
    assert [f.code for f in kept.findings] == ["structure.absent"] * 3
    rows = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    del rows[6:16]
    err = refused(plain_sheet(tmp_path / "x.xlsx", rows), "file.variant")
    assert "找不到指标" in err.detail


def test_relabelled_row_is_refused(tmp_path: Path) -> None:
    wb = _unprotected(fill_template(tmp_path / "r.xlsx"))
    wb["统计表"]["A10"] = "2. 门户网站公开政府信息数"
    wb.save(tmp_path / "l.xlsx")
    err = refused(tmp_path / "l.xlsx", "file.variant")
    assert "2. 政府网站公开政府信息数" in err.detail  # the form's row that is gone
    assert "门户网站" in err.detail  # and what is there instead


def test_swapped_rows_are_refused(tmp_path: Path) -> None:
    rows = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    rows[6], rows[7] = rows[7], rows[6]  # 政府网站 before 政府公报
    with pytest.raises(ReadError) as info:
        read(plain_sheet(tmp_path / "s.xlsx", rows))
    assert info.value.code == "file.variant"


def test_wrong_row_numbers_are_refused(tmp_path: Path) -> None:
    wb = _unprotected(fill_template(tmp_path / "r.xlsx"))
    ws = wb["统计表"]
    ws["B51"], ws["B55"] = "51", "47"  # 行次 47 and 51 share the label （二）被依法纠错数
    wb.save(tmp_path / "n.xlsx")
    err = refused(tmp_path / "n.xlsx", "file.variant")
    assert "行次不符" in err.detail


def test_provincial_variant_with_more_value_columns_is_refused(tmp_path: Path) -> None:
    rows = [(label, unit, int(v) if v else None, 10) for _, label, unit, v in seed_rows()]
    path = plain_sheet(tmp_path / "p.xlsx", rows, header=("统计指标", "单位", "本年度", "历年累计"))
    err = refused(path, "file.variant")
    assert "本年度" in err.detail and "历年累计" in err.detail


def test_extra_value_column_next_to_statistics_is_refused(tmp_path: Path) -> None:
    rows = [(label, unit, int(v) if v else None, None) for _, label, unit, v in seed_rows()]
    path = plain_sheet(tmp_path / "p.xlsx", rows, header=("统计指标", "单位", "统计数", "历年累计"))
    err = refused(path, "file.variant")
    assert "历年累计" in err.detail and "统计数" not in err.detail


def test_extra_rows_are_ignored_with_a_notice_naming_them(tmp_path: Path) -> None:
    rows: list[tuple[Any, ...]] = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    rows.insert(10, ("6. 政务新媒体公开政府信息数", "条", 5))
    rows.append(("十、政务公开平台建设情况", "个", 1))
    ret = read(plain_sheet(tmp_path / "x.xlsx", rows))
    notes = [f for f in ret.findings if f.code == "structure.ignored"]
    assert len(notes) == 1 and notes[0].severity == "info"
    assert "6. 政务新媒体公开政府信息数" in notes[0].message and "十、政务公开平台建设情况" in notes[0].message
    assert all(c.value != 5 for c in ret.cells.values())


def test_unlabelled_row_with_numbers_is_refused(tmp_path: Path) -> None:
    rows: list[tuple[Any, ...]] = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    rows.insert(10, (None, None, 7))
    err = refused(plain_sheet(tmp_path / "x.xlsx", rows), "file.variant")
    assert "无指标名称" in err.detail


def test_unknown_workbooks(tmp_path: Path) -> None:
    other = plain_sheet(tmp_path / "o.xlsx", [("办公用品", "件", 3), ("车辆", "辆", 2)], title=("资产统计表",))
    assert "指标" in refused(other, "file.not_ours").detail
    wb = openpyxl.Workbook()
    wb.save(tmp_path / "empty.xlsx")
    refused(tmp_path / "empty.xlsx", "file.not_ours")


def test_mostly_other_form_is_a_variant(tmp_path: Path) -> None:
    rows = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()][:40]
    err = refused(plain_sheet(tmp_path / "x.xlsx", rows), "file.variant")
    assert "四、行政复议数量" in err.detail


# ---------------------------------------------------------------- other formats via LibreOffice


def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return bool(a == b)


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_formats_read_identically(tmp_path: Path) -> None:
    """Filled as a clerk would, recalculated and saved by LibreOffice as .xlsx, .ods and
    .xls: every format reads back to the same identity, values, notes and signature."""
    values = sample_values(GK2018)
    values["54"] = 1.234567
    template = write_template(GK2018, tmp_path / "template.xlsx", year=2018, agency=AGENCY, code="640502001")
    inputs = {c.key: values[c.key] for c in GK2018.inputs}
    src = lo.fill(template, tmp_path / "return.xlsx", GK2018, inputs, notes={"12": "无"},
                  signature={k: str(v) for k, v in signature_values().items()})
    saved = lo.recalc([src], tmp_path / "lo", lo.make_profile(tmp_path / "profile"), formats=("xlsx", "ods", "xls"))
    want = expected(GK2018, values)
    for fmt, (path,) in saved.items():
        ret = read(path)
        assert ret.identity.source == "metadata", fmt
        assert (ret.identity.form, ret.identity.year, ret.identity.agency_code) == ("gk2018", 2018, "640502001")
        assert ret.findings == [], fmt
        for key, raw in ret.cells.items():
            assert _same_number(raw.value, want[key]), (fmt, key, raw.value, want[key])
        assert ret.notes == {"t1.r12": "无"}, fmt
        assert ret.signature == {k: str(v) for k, v in signature_values().items()}, fmt


def test_a_file_that_grows_past_the_limit_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from xxgk.read.open import read_all
    from xxgk.read.safety import preflight as safety

    path = tmp_path / "growing.xlsx"
    path.write_bytes(b"x" * 200_000)
    monkeypatch.setattr(safety, "MAX_FILE", 100_000)
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(ReadError) as info:
            read_all(fd, 10)  # fstat said 10 bytes; 200,000 arrive
    finally:
        os.close(fd)
    assert info.value.code == "file.too_large"
    fd = os.open(path, os.O_RDONLY)
    try:
        monkeypatch.setattr(safety, "MAX_FILE", 1_000_000)
        assert read_all(fd, 10) == b"x" * 200_000
    finally:
        os.close(fd)


def test_cells_beyond_the_grid_calamine_returned_read_as_blank() -> None:
    from types import SimpleNamespace

    from xxgk.forms.layout import layout_of
    from xxgk.read.cells import read_cells
    from xxgk.read.grid import Grid
    from xxgk.read.matches import FormMatch, TableMatch, table_plans

    form = builtin("gk2018")
    lay = layout_of(form)
    plans = table_plans(lay)
    tables = {
        t.id: TableMatch(t, plans[t.id].sheet, dict(lay.tables[t.id].row_of), dict(plans[t.id].cols),
                      lay.sheet_of(t).note_col, lay.tables[t.id].last_row)
        for t in form.tables
    }
    rows = [["x"] * 6 for _ in range(12)] + [["x"] * 2 for _ in range(3)]  # short, and narrow at the end
    book = SimpleNamespace(grid=lambda name: Grid(name, rows))
    cells, notes = read_cells(book, form, FormMatch(tables, plan=plans))  # type: ignore[arg-type]
    assert set(cells) == set(form.cells)
    inside = {k for k, c in cells.items() if lay.places[k].row < 12}
    assert inside and all(cells[k].value == "x" for k in inside)
    assert all(c.value is None for k, c in cells.items() if k not in inside)
    assert notes == {f"{t.id}.{r.id}": "x" for t in form.tables for r in t.rows if lay.tables[t.id].row_of[r.id] < 12}
