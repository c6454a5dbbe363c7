"""What an .xls (BIFF8) workbook stream says about some cells that python-calamine does not:
their formula, an error value, or a number format.  `cellxml` interprets it, as for .xlsx.

The stream has been read and vetted by `safety` already; records are walked once, each
bounded by its own length, so the time is linear in the stream's size.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Container
from typing import NamedTuple

__all__ = ["Mark", "marks"]

_BOF, _EOF, _BOUNDSHEET, _FORMAT, _XF = 0x0809, 0x000A, 0x0085, 0x041E, 0x00E0
_NUMBER, _RK, _MULRK, _FORMULA, _BOOLERR = 0x0203, 0x027E, 0x00BD, 0x0006, 0x0205
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A"}


class Mark(NamedTuple):
    """``formula`` (text: the formula, with ``?`` for what it could not spell), ``error``
    (text: #N/A …) or ``dated`` (a number shown through a date format)."""

    kind: str
    text: str


def marks(stream: bytes, sheet: str, wanted: Container[tuple[int, int]],
          is_date: Callable[[int, str | None], bool], *, formulas: bool = True) -> dict[tuple[int, int], Mark]:
    """Marks of the ``wanted`` cells (0-based row, column) of sheet ``sheet``;
    ``is_date(format id, format code or None for a built-in)`` says which formats are dates."""
    try:
        return _marks(stream, sheet, wanted, is_date, formulas)
    except (struct.error, IndexError, UnicodeDecodeError):
        return {}  # a stream calamine read but this walk cannot: nothing to add


def _records(stream: bytes, pos: int = 0) -> list[tuple[int, int, int]]:
    """(type, body start, body end) of the records from ``pos`` to the substream's EOF."""
    out, end = [], len(stream) - 4
    while pos <= end:
        typ, length = struct.unpack_from("<HH", stream, pos)
        out.append((typ, pos + 4, pos + 4 + length))
        pos += 4 + length
        if typ == _EOF:
            break
    return out


def _marks(stream: bytes, sheet: str, wanted: Container[tuple[int, int]],
           is_date: Callable[[int, str | None], bool], formulas: bool) -> dict[tuple[int, int], Mark]:
    codes: dict[int, str] = {}
    xfs: list[int] = []
    offset = None
    for typ, lo, hi in _records(stream):
        if typ == _BOF and lo > 4 and struct.unpack_from("<H", stream, lo)[0] != 0x0600:
            return {}  # not BIFF8
        if typ == _FORMAT and hi - lo >= 5:
            codes[struct.unpack_from("<H", stream, lo)[0]] = _unicode(stream, lo + 2, hi)
        elif typ == _XF and hi - lo >= 4:
            xfs.append(struct.unpack_from("<H", stream, lo + 2)[0])
        elif typ == _BOUNDSHEET and hi - lo >= 8:
            cch, flags = stream[lo + 6], stream[lo + 7]
            name = (stream[lo + 8 : lo + 8 + 2 * cch].decode("utf-16-le") if flags & 1
                    else stream[lo + 8 : lo + 8 + cch].decode("latin-1"))
            if name == sheet and offset is None:
                offset = struct.unpack_from("<I", stream, lo)[0]
    if offset is None or offset >= len(stream):
        return {}
    dated = {i for i, fmt in enumerate(xfs) if is_date(fmt, codes.get(fmt))}
    out: dict[tuple[int, int], Mark] = {}
    for typ, lo, hi in _records(stream, offset)[1:]:
        if typ == _MULRK and hi - lo >= 6:
            row, first = struct.unpack_from("<HH", stream, lo)
            for i in range((hi - lo - 6) // 6):
                if (row, first + i) in wanted and struct.unpack_from("<H", stream, lo + 4 + 6 * i)[0] in dated:
                    out[(row, first + i)] = Mark("dated", "")
            continue
        if typ not in (_NUMBER, _RK, _FORMULA, _BOOLERR) or hi - lo < 6:
            continue
        row, col, xf = struct.unpack_from("<HHH", stream, lo)
        if (row, col) not in wanted:
            continue
        if typ == _FORMULA and formulas and hi - lo >= 22:
            cce = struct.unpack_from("<H", stream, lo + 20)[0]
            out[(row, col)] = Mark("formula", _spell(stream, lo + 22, min(lo + 22 + cce, hi)))
        elif typ == _BOOLERR and hi - lo >= 8 and stream[lo + 7] == 1:
            out[(row, col)] = Mark("error", _ERRORS.get(stream[lo + 6], "#错误值"))
        elif typ in (_NUMBER, _RK) and xf in dated:
            out[(row, col)] = Mark("dated", "")
    return out


def _unicode(stream: bytes, at: int, hi: int) -> str:
    """An XLUnicodeString (a FORMAT record's code)."""
    cch, flags = struct.unpack_from("<HB", stream, at)
    at += 3
    if flags & 0x08:
        at += 2  # rich-text run count
    if flags & 0x04:
        at += 4  # phonetic block size
    raw = stream[at : min(at + cch * (2 if flags & 1 else 1), hi)]
    return raw.decode("utf-16-le" if flags & 1 else "latin-1")


# Formula tokens (ptg) spelled back into text for `formula.evaluate`; the rest become "?".
_BINARY = {0x03: "+", 0x04: "-", 0x05: "*", 0x06: "/"}
_SUM, _TRUE, _FALSE = 4, 34, 35


def _col(c: int) -> str:
    letters = ""
    c = (c & 0x3FFF) + 1
    while c:
        c, rest = divmod(c - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _spell(stream: bytes, at: int, hi: int) -> str:
    """A BIFF8 formula's parsed tokens as Excel text: numbers, + - * /, signs, brackets,
    SUM and TRUE()/FALSE() exactly; references as A1 text; anything else ``?``."""
    stack: list[str] = []
    while at < hi:
        ptg = stream[at]
        at += 1
        base = ptg & 0x1F if ptg & 0x60 else ptg
        if ptg in _BINARY:
            right, left = stack.pop(), stack.pop()
            stack.append(f"{left}{_BINARY[ptg]}{right}")
        elif ptg in (0x12, 0x13):
            stack.append(("+" if ptg == 0x12 else "-") + stack.pop())
        elif ptg == 0x15:
            stack.append(f"({stack.pop()})")
        elif ptg == 0x1E:
            stack.append(str(struct.unpack_from("<H", stream, at)[0]))
            at += 2
        elif ptg == 0x1F:
            stack.append(repr(struct.unpack_from("<d", stream, at)[0]))
            at += 8
        elif ptg == 0x1D:
            stack.append("TRUE" if stream[at] else "FALSE")
            at += 1
        elif ptg == 0x19:  # tAttr: a one-argument SUM, or spacing
            kind = stream[at]
            at += 3
            if kind & 0x04:  # tAttrChoose: a jump table follows
                return "?"
            if kind & 0x10:
                stack.append(f"SUM({stack.pop()})")
        elif ptg & 0x60 and base == 0x01:  # ptgFunc: fixed arguments
            tab = struct.unpack_from("<H", stream, at)[0]
            at += 2
            if tab not in (_TRUE, _FALSE):
                return "?"
            stack.append("TRUE()" if tab == _TRUE else "FALSE()")
        elif ptg & 0x60 and base == 0x02:  # ptgFuncVar
            argc, tab = stream[at] & 0x7F, struct.unpack_from("<H", stream, at + 1)[0] & 0x7FFF
            at += 3
            args = [stack.pop() for _ in range(argc)][::-1]
            if tab != _SUM:
                return "?"
            stack.append(f"SUM({','.join(args)})")
        elif ptg & 0x60 and base == 0x04:  # ptgRef
            row, col = struct.unpack_from("<HH", stream, at)
            at += 4
            stack.append(f"{_col(col)}{row + 1}")
        elif ptg & 0x60 and base == 0x05:  # ptgArea
            r1, r2, c1, c2 = struct.unpack_from("<HHHH", stream, at)
            at += 8
            stack.append(f"{_col(c1)}{r1 + 1}:{_col(c2)}{r2 + 1}")
        else:
            return "?"
    return stack[-1] if len(stack) == 1 else "?"
