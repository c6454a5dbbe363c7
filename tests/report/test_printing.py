"""How the summary's sheets are laid out for paper, without LibreOffice: 分单位明细's bands as
wide as the print scale holds in the widths LibreOffice draws, summaries written with the
older, narrower bands still read back, and the pages a sheet is squeezed onto."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from xxgk.forms.builtin import builtin
from xxgk.forms.detail_layout import (
    BAND_COLS,
    DETAIL_SHEET,
    LEGACY_BAND_COLS,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PRINT_SCALE,
    UNIT_COLS,
    WIDTH_CODE,
    WIDTH_NAME,
    WIDTH_VALUE,
    DetailLayout,
    drawn,
)
from xxgk.read.summary_figures import unit_figures
from xxgk.report.detail import write_detail
from xxgk.report.summary.formats import SQUEEZE, pages_high
from xxgk.write.rowstream import StreamedSheet

GK2018, GK2021 = builtin("gk2018"), builtin("gk2021")


def test_a_band_is_as_wide_as_the_page_holds_at_the_print_scale() -> None:
    across = PAGE_WIDTH * 100 / PRINT_SCALE
    unit = drawn(WIDTH_CODE) + drawn(WIDTH_NAME)
    assert unit + BAND_COLS * drawn(WIDTH_VALUE) <= across < unit + (BAND_COLS + 1) * drawn(WIDTH_VALUE)
    for form in (GK2018, GK2021):
        for band in DetailLayout(form, 29).bands:
            assert band.last_col - UNIT_COLS + 1 <= BAND_COLS
    three = [b for b in DetailLayout(GK2021, 29).bands if b.blocks[0].table.title.startswith("三")]
    assert [len(b.blocks) for b in three] == [5] * 5  # 25 rows of 7 columns: five to a band


def _units(form_cells: list[str], n: int) -> list[tuple[str, str, dict[str, int]]]:
    return [(f"64050200{i}", f"单位{i}", {k: (i * 7 + j) % 13 for j, k in enumerate(form_cells)}) for i in range(n)]


@pytest.mark.parametrize("columns", [BAND_COLS, *LEGACY_BAND_COLS])
def test_the_detail_is_read_back_whatever_band_width_wrote_it(tmp_path: Path, columns: int) -> None:
    form = GK2021
    keys = [c.key for c in form.value_cells]
    units = _units(keys, 4)
    layout = DetailLayout(form, len(units), columns)
    totals = {k: Decimal(sum(v[k] for _, _, v in units)) for k in keys}
    path = tmp_path / "明细.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_detail(wb, wb.add_worksheet(DETAIL_SHEET, StreamedSheet), layout, "明细", units, totals)
    wb.close()
    assert unit_figures(path, form) == {code: {k: Decimal(v[k]) for k in layout.col} for code, _, v in units}


def test_the_detail_breaks_pages_between_bands_only(tmp_path: Path) -> None:
    form = GK2021
    keys = [c.key for c in form.value_cells]
    units = _units(keys, 29)
    layout = DetailLayout(form, len(units))
    path = tmp_path / "明细.xlsx"
    wb = xlsxwriter.Workbook(path)
    write_detail(wb, wb.add_worksheet(DETAIL_SHEET, StreamedSheet), layout, "明细", units, {k: Decimal(0) for k in keys})
    wb.close()
    ws = openpyxl.load_workbook(path)[DETAIL_SHEET]
    breaks = [b.id for b in ws.row_breaks.brk]  # openpyxl: the row above the break, 1-based
    assert breaks and set(breaks) <= {band.top for band in layout.bands}
    assert ws.page_setup.scale == PRINT_SCALE
    room = PAGE_HEIGHT * 100 / PRINT_SCALE
    starts = [layout.bands[0].top - 2, *breaks, layout.bands[-1].total_row + 1]
    for top, end in zip(starts, starts[1:], strict=False):  # every page's rows fit on it
        height = sum(ws.row_dimensions[r + 1].height or 15 for r in range(top, end))
        assert height <= room
    assert (len(layout.bands), len(breaks) + 1) == (7, 4)  # 二 alone with the title, then two bands a page


@given(st.lists(st.floats(1, 60), min_size=1, max_size=12), st.floats(10, 20000))
def test_a_sheet_is_squeezed_onto_fewer_pages_only_a_little(widths: list[float], height: float) -> None:
    pages = pages_high(widths, height)
    scale = min(1.0, PAGE_WIDTH / sum(drawn(w) for w in widths))
    needed = height * scale / PAGE_HEIGHT
    assert pages >= 1
    assert pages <= max(1, -(-needed // 1))  # never more than fit-to-width would print
    if pages < needed:
        assert needed * SQUEEZE <= pages  # shrunk by at most SQUEEZE
