"""A sheet's used area measured before python-calamine allocates it (xlsx, ods, xls)."""

from __future__ import annotations

import itertools
import re
import struct

from xxgk.read import xmlscan
from xxgk.read.returns import ReadError

MAX_CELLS = 2_000_000  # rows × columns of one sheet's used area (python-calamine allocates it densely)

# A sheet's used area: python-calamine allocates rows × columns cells for it at once, so a
# sheet with one value in A1 and one in XFD1048576 would take terabytes and abort the
# process.  The area is measured from the cell references before calamine sees them.

# The usual case, proven in two quick scans: every cell start tag is `<c r="…"` with a
# reference within Z9999 first (26 × 9999 cells at most), and no cell tag has a prefix.
_ODD_CELL = re.compile(rb'<c(?:[\t\r\n/>]| (?!r="[A-Z][0-9]{1,4}"))')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
# Otherwise every cell is placed as python-calamine (quick-xml) places it, token by token
# (`xmlscan`: linear however damaged the part): row and cell start tags by local name (any
# prefix), end tags of rows, attribute values that may hold ">"; a reference in any case,
# any number of digits.  Comments, CDATA and processing instructions hold no cells.
_REF = re.compile(rb"([A-Za-z]{0,7})([0-9]+)")
_HUGE = 10**9  # a reference too long to be real: beyond any sheet


def check_sheet_extent(name: str, xml: bytes) -> None:
    """Refuse a worksheet part whose cells span more than `MAX_CELLS`."""
    # python-calamine reads cells inside <sheetData> only: scan from the first mention of
    # it to the last (the whole part where there is none)
    start, end = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if start < 0:
        start, end = 0, len(xml)
    if _ODD_CELL.search(xml, start, end) is None and _PREFIXED_CELL.search(xml, start, end) is None:
        return
    rows, cols = used_area(xml, start, end)
    if rows * cols > MAX_CELLS:
        raise ReadError("file.too_large", f"工作表{name}的数据区域达{rows}行×{cols}列")


def used_area(xml: bytes, start: int, end: int) -> tuple[int, int]:
    """Rows × columns from A1 to the farthest cell holding something, counted the way
    python-calamine counts: a cell without a reference follows the previous one in its
    row, a row without one follows the previous row, and empty rows and cells (``<c/>``)
    hold nothing but still move those counters."""
    rows = cols = row_at = col_at = 0
    for m in xmlscan.tokens(xml, start, end):
        closing, name, attrs = m.groups()
        if closing is not None:
            if xmlscan.local(closing) == b"row":
                row_at, col_at = row_at + 1, 0
            continue
        tag = xmlscan.local(name) if name is not None else b""
        if tag != b"row" and tag != b"c":
            continue
        empty = attrs.endswith(b"/")
        value = xmlscan.attribute(attrs, b"r")
        if tag == b"row":
            if value is not None and value.isdigit():
                row_at = int(value) - 1 if len(value) <= 9 else _HUGE
            if empty:  # <row/> is a row that starts and ends at once
                row_at, col_at = row_at + 1, 0
            continue
        row, col = row_at, col_at
        if value is not None:
            parsed = _REF.fullmatch(value)
            if parsed is None:
                continue  # calamine refuses a reference it cannot read: the sheet fails to load
            letters, digits = parsed.groups()
            digits = digits.lstrip(b"0") or b"0"
            row = int(digits) - 1 if len(digits) <= 9 else _HUGE
            col = -1
            for ch in letters.upper():
                col = (col + 1) * 26 + ch - 65
            col = _HUGE if len(letters) > 6 else max(col, 0)
        if not empty:
            rows, cols = max(rows, row + 1), max(cols, col + 1)
        col_at = col + 1
    return rows, cols


_ODS_CELLS = (b"table:table-cell", b"table:covered-table-cell")
_ODS_ROWS_REP = re.compile(rb'number-rows-repeated="([0-9]+)"')
_ODS_COLS_REP = re.compile(rb'number-columns-repeated="([0-9]+)"')


def _repeat(pattern: re.Pattern[bytes], attrs: bytes) -> int:
    m = pattern.search(attrs)
    if m is None:
        return 1
    return int(m.group(1)) if len(m.group(1)) <= 9 else _HUGE


def check_ods_extent(xml: bytes) -> None:
    """The same limit for the tables of an ODS ``content.xml`` (read token by token, as
    python-calamine reads it): repeated rows and cells count as often as they repeat up to
    the last one holding something."""
    row_at = used_rows = used_cols = 0
    times = col_at = last = 0  # the open row: times repeated (0: none open), columns, last used
    for m in itertools.chain(xmlscan.tokens(xml), [None]):
        # the end of the part closes the last row as a new table would
        name, attrs = (b"table:table", b"") if m is None else (m.group(2), m.group(3))
        if name is None:
            continue
        if name in _ODS_CELLS:
            if times:
                col_at += _repeat(_ODS_COLS_REP, attrs)
                if not attrs.endswith(b"/") or b"value-type" in attrs or b"formula" in attrs:
                    last = col_at
            continue
        if name != b"table:table-row" and name != b"table:table":
            continue
        if times:  # the row open until now ends here
            if last:
                used_rows, used_cols = row_at + times, max(used_cols, last)
            row_at += times
            if used_rows * used_cols > MAX_CELLS:
                raise ReadError("file.too_large", f"表格数据区域达{used_rows}行×{used_cols}列")
        times = col_at = last = 0
        if name == b"table:table":
            row_at = used_rows = used_cols = 0
        elif attrs.endswith(b"/"):  # a row without cells
            row_at += _repeat(_ODS_ROWS_REP, attrs)
        else:
            times = _repeat(_ODS_ROWS_REP, attrs)


# BIFF records that put a value in a cell (row, column first); BLANK/MULBLANK hold nothing.
_BIFF_CELLS = frozenset({0x0203, 0x027E, 0x00FD, 0x0204, 0x0006, 0x0205, 0x00D6, 0x0003, 0x0004, 0x0002})
_BIFF_MULRK, _BIFF_BOF = 0x00BD, 0x0809


def check_biff_extent(stream: bytes) -> None:
    """The used-area limit for each sheet of an .xls workbook stream."""
    rows = cols = 0
    pos, end = 0, len(stream) - 4
    unpack = struct.unpack_from
    while pos <= end:
        typ, length = unpack("<HH", stream, pos)
        body = pos + 4
        if typ in _BIFF_CELLS and length >= 4:
            r, c = unpack("<HH", stream, body)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif typ == _BIFF_MULRK and length >= 6:
            r = unpack("<H", stream, body)[0]
            c = unpack("<H", stream, body + length - 2)[0]
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif typ == _BIFF_BOF:
            rows = cols = 0
        if rows * cols > MAX_CELLS:
            raise ReadError("file.too_large", f"工作表数据区域达{rows}行×{cols}列")
        pos = body + length
