"""Rosters as people keep them: CSV in UTF-8, UTF-8 with BOM or GBK, or a spreadsheet."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from xxgk.cycle.roster import RosterError, Unit, duplicate_names, read_roster

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "roster.csv"
UNITS = [Unit("640502001", "沙坡头区机关事务局"), Unit("640502101", "滨河镇"), Unit("640502111", "香山乡")]
CSV_TEXT = "代码,名称\r\n640502001,沙坡头区机关事务局\r\n640502101,滨河镇\r\n640502111,香山乡\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    assert read_roster(path) == UNITS


def test_gbk_bytes_are_not_utf8() -> None:
    """The GBK case really exercises the fallback."""
    with pytest.raises(UnicodeDecodeError):
        CSV_TEXT.encode("gbk").decode("utf-8")


def test_headers_in_english_any_case_and_spacing_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(" 序号 , Name ,  CODE \n1,滨河镇, 640502101 \n\n2,香山乡,640502111\n", encoding="utf-8")
    assert read_roster(path) == [Unit("640502101", "滨河镇"), Unit("640502111", "香山乡")]


def test_full_width_space_in_header(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("代\u3000码,名　称\n1,局\n", encoding="utf-8")
    assert read_roster(path) == [Unit("1", "局")]


def test_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("代码\t名称\n640502001\t沙坡头区机关事务局\n", encoding="utf-8")
    assert read_roster(path) == UNITS[:1]


def test_xlsx_with_numeric_codes(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, ["名称", "代码"])
    ws.write_row(1, 0, ["沙坡头区机关事务局", 640502001])
    ws.write_row(3, 0, ["滨河镇", "640502101"])  # a blank row in between
    ws.write_row(4, 0, ["香山乡", 640502111.0])
    wb.close()
    assert read_roster(path) == UNITS


def test_sample_roster() -> None:
    units = read_roster(SAMPLE)
    assert SAMPLE.read_bytes().startswith(b"\xef\xbb\xbf")
    assert units[0] == Unit("640502001", "沙坡头区机关事务局")
    names = {u.name for u in units}
    towns = {"滨河镇", "文昌镇", "东园镇", "柔远镇", "镇罗镇", "宣和镇", "永康镇", "常乐镇", "迎水桥镇", "兴仁镇", "香山乡"}
    assert towns <= names
    assert len(units) - len(towns) >= 13
    assert all(len(u.code) == 9 and u.code.startswith("640502") for u in units)


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "名单.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError) as info:
        read_roster(path)
    message = str(info.value)
    assert "名单.csv" in message
    return message


def test_missing_column(tmp_path: Path) -> None:
    message = _error(tmp_path, "单位,代码\n沙坡头区机关事务局,640502001\n")
    assert "第1行" in message and "名称" in message and "单位、代码" in message


def test_empty_name(tmp_path: Path) -> None:
    message = _error(tmp_path, "代码,名称\n640502001,局\n640502002, \n")
    assert "第3行" in message and "名称为空" in message


def test_empty_code(tmp_path: Path) -> None:
    message = _error(tmp_path, "代码,名称\n,局\n")
    assert "第2行" in message and "代码为空" in message


def test_duplicate_code(tmp_path: Path) -> None:
    message = _error(tmp_path, "代码,名称\n640502001,甲\n640502002,乙\n640502001,丙\n")
    assert "第4行" in message and "第2行" in message and "640502001" in message


def test_empty_file(tmp_path: Path) -> None:
    assert "为空" in _error(tmp_path, "\n\n")


def test_header_only(tmp_path: Path) -> None:
    assert "没有单位" in _error(tmp_path, "代码,名称\n")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="无法读取"):
        read_roster(tmp_path / "nope.csv")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(RosterError, match="bad.xlsx"):
        read_roster(bad)


def test_a_sheet_claiming_the_whole_grid_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # python-calamine would allocate 1048576 × 16384 cells for it and abort the process
    path = tmp_path / "roster.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["代码", "名称"])
    ws.write_row(1, 0, ["640502001", "机关事务局"])
    ws.write(1048575, 16383, 1)
    wb.close()
    with pytest.raises(RosterError, match="roster.xlsx.*1048576行×16384列"):
        read_roster(path)


def test_title_rows_above_the_header_in_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["沙坡头区2025年政务公开报送单位名单"])
    ws.write_row(1, 0, ["（截至2025年12月）"])
    ws.write_row(3, 0, ["序号", "单位代码", "单位名称"])
    for i, u in enumerate(UNITS):
        ws.write_row(4 + i, 0, [i + 1, u.code, u.name])
    wb.close()
    assert read_roster(path) == UNITS


def test_a_roster_of_names_only_is_matched_by_name(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("名称\n滨河镇\n香山乡\n", encoding="utf-8")
    assert read_roster(path) == [Unit("", "滨河镇"), Unit("", "香山乡")]


def test_duplicate_names_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("代码,名称\n1,滨河镇\n2,香山乡\n3,滨河 镇\n", encoding="utf-8")
    assert duplicate_names(read_roster(path)) == ["滨河镇"]  # told apart by code: a warning
    path.write_text("名称\n滨河镇\n香山乡\n滨河 镇\n", encoding="utf-8")
    with pytest.raises(RosterError, match="第4行：名称“滨河 镇”与第2行重复"):
        read_roster(path)  # names only: they would be one unit


def test_optional_category_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("代码,名称,类别\n1,甲局,部门\n2,乙镇,乡镇\n3,丙办,\n", encoding="utf-8")
    assert [(u.code, u.category) for u in read_roster(path)] == [("1", "部门"), ("2", "乡镇"), ("3", "")]
    plain = tmp_path / "p.csv"
    plain.write_text("代码,名称\n1,甲局\n", encoding="utf-8")
    assert read_roster(plain)[0].category == ""
