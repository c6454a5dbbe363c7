"""The reader reads what a spreadsheet shows: never a hidden sheet's figures in silence (a
corrected copy of the form's sheet next to the hidden original), never one block of
columns for another when only their group headers tell them apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from books import filled_return, sample_values
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read.open import read
from xxgk.read.returns import ReadError


def _values(ret: Any) -> dict[str, Any]:
    """The input cells' contents (openpyxl, which makes the files here, drops formulas' results)."""
    return {c.key: ret.cells[c.key].value for c in ret.form.inputs}


def _copied(src: Path, dest: Path, form: Form, sheet: str, *, hide: bool = True, copies: int = 1,
            change: dict[str, Any] | None = None) -> Path:
    """``src`` with ``sheet`` copied (as 移动或复制 does), ``change`` typed into every copy
    (by cell key, a different value in each copy after the first) and the original hidden."""
    lay = layout_of(form)
    wb = openpyxl.load_workbook(src)
    for n in range(copies):
        copy = wb.copy_worksheet(wb[sheet])
        copy.title = f"{sheet} ({n + 2})"
        for key, value in (change or {}).items():
            p = lay.places[key]
            copy.cell(p.row + 1, p.col + 1, value + n)
    if hide:
        wb[sheet].sheet_state = "hidden"
    wb.save(dest)
    return dest


def _first_input(form: Form, sheet: str) -> str:
    lay = layout_of(form)
    return next(c.key for c in form.inputs if lay.places[c.key].sheet == sheet)


@pytest.mark.parametrize("form_id", ["gk2018", "gk2021"])
def test_a_corrected_copy_is_read_and_the_hidden_original_reported(tmp_path: Path, form_id: str) -> None:
    form = builtin(form_id)
    values = sample_values(form)
    src = filled_return(tmp_path / "r.xlsx", form, values, year=2018 if form_id == "gk2018" else 2025)
    for sl in layout_of(form).sheets:  # every sheet of a grid form
        key = _first_input(form, sl.name)
        ret = read(_copied(src, tmp_path / f"{sl.name}.xlsx", form, sl.name, change={key: 1000}))
        assert ret.cells[key].value == 1000 and ret.cells[key].sheet == f"{sl.name} (2)"
        others = {k: v for k, v in _values(ret).items() if k != key}
        assert others == {k: v for k, v in _values(read(src)).items() if k != key}
        hidden = [f for f in ret.findings if f.code == "structure.hidden_sheet"]
        assert len(hidden) == 1 and hidden[0].sheet == sl.name and f"“{sl.name} (2)”" in hidden[0].message


def test_a_copy_with_the_same_figures_is_read_without_a_finding(tmp_path: Path) -> None:
    form = builtin("gk2018")
    src = filled_return(tmp_path / "r.xlsx", form)
    ret = read(_copied(src, tmp_path / "same.xlsx", form, "统计表"))
    assert not ret.findings and _values(ret) == _values(read(src))


def test_a_hidden_form_sheet_without_a_visible_copy_is_reported(tmp_path: Path) -> None:
    form = builtin("gk2018")
    src = filled_return(tmp_path / "r.xlsx", form)
    wb = openpyxl.load_workbook(src)
    wb.create_sheet("说明")  # something visible must remain
    wb["统计表"].sheet_state = "hidden"
    wb.save(tmp_path / "hidden.xlsx")
    ret = read(tmp_path / "hidden.xlsx")
    assert [f.code for f in ret.findings] == ["structure.hidden_sheet"]
    assert "没有可见的工作表" in ret.findings[0].message


def test_visible_copies_that_disagree_are_refused(tmp_path: Path) -> None:
    form = builtin("gk2018")
    src = filled_return(tmp_path / "r.xlsx", form)
    key = _first_input(form, "统计表")
    with pytest.raises(ReadError) as info:
        read(_copied(src, tmp_path / "two.xlsx", form, "统计表", copies=2, change={key: 1000}))
    assert info.value.code == "file.variant" and "“统计表 (2)”、“统计表 (3)”" in info.value.detail


# ---------------------------------------------------------------- group headers


def _swap_litigation_blocks(src: Path, dest: Path, form: Form) -> None:
    """Table 四 with its two 行政诉讼 blocks (未经复议直接起诉 / 复议后起诉) swapped, their
    group headers and figures moving with them."""
    lay = layout_of(form)
    t4 = next(t for t in form.tables if t.id == "t4")
    tl, sl = lay.tables["t4"], lay.sheet_of(t4)
    direct = [i for i, c in enumerate(t4.columns) if c.groups[-1:] == ("未经复议直接起诉",)]
    after = [i for i, c in enumerate(t4.columns) if c.groups[-1:] == ("复议后起诉",)]
    assert len(direct) == len(after) == 5
    wb = openpyxl.load_workbook(src)
    ws = wb[sl.name]
    for a, b in zip(direct, after, strict=True):
        ca, cb = sl.value_col0 + a + 1, sl.value_col0 + b + 1
        for r in range(tl.header_top + 1, tl.last_row + 2):
            va, vb = ws.cell(r, ca).value, ws.cell(r, cb).value
            if r - 1 != tl.code_row:  # the 栏次 codes stay in order
                ws.cell(r, ca).value, ws.cell(r, cb).value = vb, va
    wb.save(dest)


def test_swapped_blocks_told_apart_by_group_headers_are_not_read_for_each_other(tmp_path: Path) -> None:
    form = builtin("gk2021")
    values = sample_values(form)
    src = filled_return(tmp_path / "r.xlsx", form, values, year=2025)
    _swap_litigation_blocks(src, tmp_path / "swapped.xlsx", form)
    try:
        ret = read(tmp_path / "swapped.xlsx")
    except ReadError as err:  # refused, naming the columns: fine
        assert err.code == "file.variant" and "复议后起诉" in err.detail
    else:  # or read by the headers: each figure under its own header
        assert _values(ret) == _values(read(src))
