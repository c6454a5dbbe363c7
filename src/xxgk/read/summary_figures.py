"""Every unit's own figures read back from a summary's 分单位明细 (last year's, for the checks)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from xxgk.forms.detail_layout import (
    BAND_COLS,
    DETAIL_SHEET,
    FLAT_FIRST_COL,
    FLAT_FIRST_ROW,
    FLAT_HEADER_ROW,
    LEGACY_BAND_COLS,
    DetailLayout,
    column_header,
)
from xxgk.forms.model import Form
from xxgk.read.open import open_file


def unit_figures(path: Path | str, form: Form) -> dict[str, dict[str, Decimal]]:
    """Every unit's own figures by unit code, read back from a summary's 分单位明细 (last year's
    values for units' returns checked against a district summary): the banded sheet `report.detail`
    writes (bands of this version's width or of an earlier one's), or the one-row-per-unit sheet
    of earlier versions; empty when the sheet is
    not there or not laid out for ``form``.  The file is vetted as a return is
    (`open.open_file`); raises `ReadError` when it cannot be read."""
    book = open_file(path)
    try:
        if DETAIL_SHEET not in book.names:
            return {}
        rows = book.grid(DETAIL_SHEET).rows
    finally:
        book.close()
    for columns in (BAND_COLS, *LEGACY_BAND_COLS):
        banded = _banded(rows, form, columns)
        if banded:
            return banded
    return _flat(rows, form)


def _banded(rows: list[list[Any]], form: Form, columns: int) -> dict[str, dict[str, Decimal]]:
    probe = DetailLayout(form, 0, columns)
    if not probe.bands:
        return {}
    first = probe.bands[0].first
    units = 0
    while first + units < len(rows) and _at(rows, first + units, 0) not in ("合计", ""):
        units += 1
    layout = DetailLayout(form, units, columns)
    for band in layout.bands:
        for text, r0, c0, _, _ in layout.header_texts(band):
            if _at(rows, r0, c0) != text:
                return {}
        if _at(rows, band.total_row, 0) != "合计":
            return {}
    out: dict[str, dict[str, Decimal]] = {}
    for i in range(units):
        code = _at(rows, first + i, 0)
        out[code] = {k: _decimal(_at(rows, layout.band_of[k].first + i, c, raw=True)) for k, c in layout.col.items()}
    return out


def _at(rows: list[list[Any]], r: int, c: int, raw: bool = False) -> Any:
    value = rows[r][c] if r < len(rows) and c < len(rows[r]) else ""
    return value if raw else str(value).strip()


def _flat(rows: list[list[Any]], form: Form) -> dict[str, dict[str, Decimal]]:
    cells = list(form.value_cells)
    header = rows[FLAT_HEADER_ROW] if len(rows) > FLAT_HEADER_ROW else []
    for i, cell in enumerate(cells):
        col = FLAT_FIRST_COL + i
        if col >= len(header) or header[col] != column_header(form, cell):
            return {}
    return {
        str(row[0]).strip(): {c.key: _decimal(row[FLAT_FIRST_COL + i]) for i, c in enumerate(cells)}
        for row in rows[FLAT_FIRST_ROW:]
        if row and str(row[0]).strip() and row[0] != "合计"
    }


def _decimal(value: Any) -> Decimal:
    """A number as python-calamine returns it (float, int or blank) as an exact Decimal."""
    if value in ("", None):
        return Decimal(0)
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    return Decimal(str(value))
