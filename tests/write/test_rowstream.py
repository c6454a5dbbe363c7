"""`StreamedSheet`: runs of rows streamed into the sheet's XML read back like cells written one
by one, between rows written through xlsxwriter, with formats, escapes and dimensions."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine as pc
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.workbook import Workbook

from xxgk.write.rowstream import Kind, StreamedSheet


def _book(path: Path) -> tuple[Workbook, StreamedSheet]:
    wb = Workbook(str(path))
    return wb, wb.add_worksheet("明细", StreamedSheet)


def test_runs_and_cells_interleave(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    wb, ws = _book(path)
    bold = wb.add_format({"bold": True, "num_format": "0.00"})
    ws.write_string(0, 0, "标题")
    ws.set_row(1, 30)
    ws.write_string(1, 3, "表头")
    rows: list[list[Any]] = [[f"代码{i}", f"单位{i}", i, i * 1.5] for i in range(40)]
    columns: list[tuple[int, Any, Kind]] = [(0, None, "text"), (1, None, "text"), (3, bold, "number"),
                                           (5, None, "number")]
    ws.stream_rows(2, len(rows), columns, lambda: iter(rows))
    ws.write_formula(42, 3, "=SUM(D3:D42)", bold, sum(range(40)))
    ws.stream_rows(45, 2, [(1, None, "text")], lambda: [["甲"], ["乙"]])
    wb.close()
    got = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("明细").to_python(skip_empty_area=False)
    assert got[0][0] == "标题" and got[1][3] == "表头"
    for i, row in enumerate(rows):
        assert [got[2 + i][c] for c in (0, 1, 3, 5)] == row
        assert got[2 + i][2] == got[2 + i][4] == ""
    assert got[42][3] == sum(range(40))
    assert [got[45][1], got[46][1]] == ["甲", "乙"]
    ws2 = openpyxl.load_workbook(path)["明细"]
    assert ws2.max_row == 47 and ws2.max_column == 6
    assert ws2["D3"].font.b and ws2["D3"].number_format == "0.00"
    assert ws2.row_dimensions[2].height == 30


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12), min_size=1, max_size=5))
def test_text_is_escaped(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    path = tmp_path_factory.mktemp("t") / "s.xlsx"
    wb, ws = _book(path)
    ws.stream_rows(0, len(texts), [(0, None, "text"), (1, None, "number")], lambda: [[t, -2.5] for t in texts])
    wb.close()
    with zipfile.ZipFile(path) as zf:
        assert b"inlineStr" in zf.read("xl/worksheets/sheet1.xml")
    openpyxl.load_workbook(path)  # well-formed XML: openpyxl parses it strictly
    got = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("明细").to_python(skip_empty_area=False)
    for i, text in enumerate(texts):
        assert got[i][:2] == [text, -2.5]  # "\r" too: written as _x000D_, as Excel writes it


def test_text_that_looks_escaped_stays_literal(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    wb, ws = _book(path)
    texts = ["_x0041_单位", "a\x01b", "<&>"]
    ws.stream_rows(0, 3, [(0, None, "text")], lambda: [[t] for t in texts])
    wb.close()
    got = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("明细").to_python()
    assert [r[0] for r in got] == texts


def test_misuse_is_refused(tmp_path: Path) -> None:
    wb, ws = _book(tmp_path / "s.xlsx")
    ws.stream_rows(2, 3, [(0, None, "text")], lambda: [["a"], ["b"], ["c"]])
    with pytest.raises(ValueError, match="overlap"):
        ws.stream_rows(4, 2, [(0, None, "text")], lambda: [])
    with pytest.raises(ValueError, match="left to right"):
        ws.stream_rows(10, 1, [(2, None, "text"), (1, None, "text")], lambda: [])
    ws.write_string(3, 4, "x")  # into a streamed row: refused when saved
    with pytest.raises(ValueError, match="both streamed"):
        wb.close()


def test_rows_must_match_the_run(tmp_path: Path) -> None:
    wb, ws = _book(tmp_path / "s.xlsx")
    ws.stream_rows(0, 3, [(0, None, "number")], lambda: [[1], [2]])
    with pytest.raises(ValueError, match="2 rows streamed"):
        wb.close()


def test_cell_columns_and_heights_of_their_own(tmp_path: Path) -> None:
    """A ``cell`` column takes text, numbers, "" (a blank cell, formatted) and (value, format)
    pairs; a streamed row keeps the height `set_row` gave it."""
    path = tmp_path / "s.xlsx"
    wb, ws = _book(path)
    red = wb.add_format({"bg_color": "#FFC7CE"})
    boxed = wb.add_format({"border": 1})
    rows: list[list[Any]] = [["甲", ("未通过", red), 3], ["乙", "", ""], ["丙", 2.5, ("x", boxed)]]
    ws.stream_rows(1, 3, [(0, None, "text"), (1, boxed, "cell"), (2, boxed, "cell")], lambda: rows)
    ws.set_row(2, 45)
    wb.close()
    sheet = openpyxl.load_workbook(path)["明细"]
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2, max_row=4)] == [
        ["甲", "未通过", 3], ["乙", None, None], ["丙", 2.5, "x"]]
    assert sheet["B2"].fill.fgColor.rgb == "FFFFC7CE" and sheet["B3"].border.left.style == "thin"
    assert sheet["C3"].border.left.style == "thin" and sheet["C4"].border.left.style == "thin"
    assert sheet.row_dimensions[3].height == 45 and not sheet.row_dimensions[2].height
