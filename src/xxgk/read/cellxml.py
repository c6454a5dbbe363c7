"""What a workbook's XML says about input cells that python-calamine does not.

python-calamine hands over a cell's stored value only.  For an input cell that is not
enough: a formula's stored result may be stale (the template recalculates on load, so the
spreadsheet shows another number), ``TRUE`` typed in LibreOffice is saved as ``=TRUE()``,
an error value (``#VALUE!``) comes back as an empty cell, and a number shown through a date
format calamine does not recognise (``[$-804]aaaa``, 星期三; the Chinese built-in formats
27–36 and 50–58) comes back as its serial.  `amend` replaces such input cells' raw values
with what the spreadsheet shows — a formula of numbers worked out (`formula.evaluate`),
``returns.Formula`` for any other formula, the error's text, a date — so that `values.parse`
refuses or reads them like any other content.

Every scan is linear in the part's size, and only input cells are looked into.  The usual
sheet (LibreOffice, Excel, xlsxwriter) is looked at quickly: each input cell's tag found by
its reference with ``bytes.find`` from a moving floor, and its XML read further only when it
says formula, error or a dated style.  Otherwise the marks (``<f``, an error type, a dated
style) are found from a moving floor, back to their cell's tag; a sheet where a cell's tag
gives no position, or that holds comments or CDATA,
is walked token by token with `xmlscan` (as are styles, shared formulas and ODS tables);
an .xls workbook's stream is walked record by record (`biff`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from xxgk.forms.layout import a1
from xxgk.read import biff, formula, xmlscan
from xxgk.read.returns import Formula, RawCell
from xxgk.read.safety import preflight as safety

__all__ = ["BUILTIN_DATES", "amend", "as_date", "date_styles", "formula_value", "is_date_format"]

# Built-in number formats that are dates or times: the ones calamine knows (14–22, 45–47)
# and those that are dates in a Chinese (and Japanese/Korean) locale, which it does not.
BUILTIN_DATES = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_EPOCH = dt.date(1899, 12, 30)  # serial 0 of the 1900 date system, as Excel counts past 1900-03-01
STYLES = "xl/styles.xml"
_STYLE_CACHE: dict[Any, frozenset[int]] = {}
_STYLE_CACHE_SIZE = 256

_CELL_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^<>]*?(?<=\s)r\s*=\s*"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"')


def amend(pre: safety.Preflight | None, cells: Mapping[str, RawCell], inputs: Iterable[str], *,
          formulas: bool = True) -> dict[str, RawCell]:
    """``cells`` with the raw values of input cells (keys ``inputs``) replaced by what the
    spreadsheet shows where calamine's value is not that; a new dict, the argument untouched.

    ``formulas`` False keeps formulas' stored results: a summary we wrote sums its
    分单位明细 with formulas in its input cells (``=SUM('分单位明细'!D3:D40)``) and stores
    their results."""
    out = dict(cells)
    if pre is None or (pre.zf is None and pre.kind != "xls"):
        return out
    by_sheet: dict[str, dict[str, RawCell]] = {}
    for key in inputs:
        rc = cells.get(key)
        if rc is not None:
            by_sheet.setdefault(rc.sheet, {})[rc.cell] = rc
    if pre.kind == "xlsx":
        dates = _dated_styles(pre)
        for sheet, wanted in by_sheet.items():
            part = pre.parts.get(sheet)
            xml = pre.sheet_xml(part) if part else None
            if xml:
                for address, value in _xlsx(xml, wanted, dates, formulas).items():
                    rc = wanted[address]
                    out[rc.key] = rc._replace(value=value)
    elif pre.kind == "xls":
        stream = pre.xml.get(safety.BIFF_STREAM, b"")
        for sheet, wanted in by_sheet.items():
            at = {_position(a): rc for a, rc in wanted.items()}
            for pos, mark in biff.marks(stream, sheet, at, _dated_format, formulas=formulas).items():
                rc = at[pos]
                if mark.kind == "formula":
                    value = formula_value(mark.text) if "?" not in mark.text else Formula("（.xls中的公式）")
                else:
                    value = mark.text if mark.kind == "error" else as_date(rc.value)
                out[rc.key] = rc._replace(value=value)
    elif formulas:
        content = pre.read_part("content.xml") or b""
        for sheet, wanted in by_sheet.items():
            at = {_position(a): rc for a, rc in wanted.items()}
            for pos, text in _ods_formulas(content, sheet, at).items():
                rc = at[pos]
                out[rc.key] = rc._replace(value=formula_value(text))
    return out


def _position(address: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)([0-9]+)", address)
    assert m is not None, address
    return int(m.group(2)) - 1, _column(m.group(1).encode())


def _column(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col - 1


def formula_value(text: str) -> Any:
    value = formula.evaluate(text)
    return Formula(text.strip().removeprefix("of:").lstrip("=")) if value is None else value


# ---------------------------------------------------------------- number formats


def is_date_format(code: str) -> bool:
    """Whether a number format shows a date or time: any section with a date/time code
    (y m d h s, weekday aaa/nnn, era g e b) outside quotes, escapes and [brackets] other
    than elapsed time ([h] [m] [s]); ``General`` and the scientific ``E+`` are numbers."""
    text = re.sub(r"general", "", code, flags=re.IGNORECASE)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            i = n if end < 0 else end + 1
            continue
        if ch in "\\_*":
            i += 2
            continue
        if ch == "[":
            end = text.find("]", i + 1)
            inner = text[i + 1 : n if end < 0 else end].lower()
            if inner and set(inner) <= set("hms"):
                return True  # elapsed time
            i = n if end < 0 else end + 1
            continue
        low = ch.lower()
        if low in "ymdhsagnb":
            return True
        if low == "e" and text[i + 1 : i + 2] not in ("+", "-"):
            return True
        i += 1
    return False


def date_styles(styles: bytes) -> frozenset[int]:
    """Indices of the cell formats (``cellXfs``) whose number format is a date or time."""
    return _parse_styles(styles) if styles else frozenset()


def _dated_styles(pre: safety.Preflight) -> frozenset[int]:
    """`date_styles` of the workbook's ``xl/styles.xml``, remembered by the part's stored
    bytes: returns from one template share it, and inflating it each time showed."""
    key = pre.part_key(STYLES)
    got = _STYLE_CACHE.get(key) if key is not None else None
    if got is None:
        got = date_styles(pre.read_part(STYLES) or b"")
        if key is not None:
            if len(_STYLE_CACHE) >= _STYLE_CACHE_SIZE:
                _STYLE_CACHE.clear()
            _STYLE_CACHE[key] = got
    return got


def _attrs(attrs: bytes) -> dict[bytes, bytes]:
    """A start tag's attributes by local name (the last of a repeated one)."""
    return {xmlscan.local(k): v for k, v in xmlscan.attributes(attrs)}


def _text(raw: bytes) -> str:
    return xmlscan.unescape(raw.decode("utf-8", "replace"))


def _dated_format(fmt: int, code: str | None) -> bool:
    """Whether number format ``fmt`` (its ``code``, None for a built-in) is a date or time."""
    return is_date_format(code) if code is not None else fmt in BUILTIN_DATES


def _parse_styles(styles: bytes) -> frozenset[int]:
    codes: dict[int, str] = {}
    xfs: list[int] = []
    inside = b""  # numFmts or cellXfs while in them
    for token in xmlscan.tokens(styles):
        closing, name, attrs = token.group(1), token.group(2), token.group(3)
        if closing is not None:
            if xmlscan.local(closing) == inside:
                inside = b""
            continue
        if name is None:
            continue
        name = xmlscan.local(name)
        if name in (b"numFmts", b"cellXfs") and not (attrs or b"").endswith(b"/"):
            inside = name
        elif name == b"numFmt" and inside == b"numFmts":
            got = _attrs(attrs or b"")
            fid, code = got.get(b"numFmtId", b""), got.get(b"formatCode")
            if fid.isdigit() and code is not None:
                codes[int(fid)] = _text(code)
        elif name == b"xf" and inside == b"cellXfs":
            fid = _attrs(attrs or b"").get(b"numFmtId", b"0")
            xfs.append(int(fid) if fid.isdigit() else -1)
    return frozenset(i for i, fid in enumerate(xfs) if fid >= 0 and _dated_format(fid, codes.get(fid)))


def as_date(value: Any) -> Any:
    """A serial shown through a date format: the date, as calamine gives other dated cells."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    try:
        return _EPOCH + dt.timedelta(days=value)
    except (OverflowError, ValueError):
        return f"{value}（日期格式）"


# ---------------------------------------------------------------- xlsx

CELL_CAP = 65536  # bytes of a cell's children looked at (Excel caps a formula at 8,192 characters)
_KEEP = object()


def _xlsx(xml: bytes, wanted: Mapping[str, RawCell], dates: frozenset[int], formulas: bool = True) -> dict[str, Any]:
    """Replacement raw values of the ``wanted`` cells (by A1 address) of one worksheet part."""
    spans = _xlsx_spans(xml, wanted, dates, formulas)
    # the quick marks cannot tell markup from a comment or CDATA: where the sheet has any,
    # the cells found are placed again by the full walk
    if spans is None or (spans and b"<!" in xml):
        spans = {a: span for pos, span in _walk(xml) if (a := a1(*pos)) in wanted}
    shared = _shared_masters(xml) if spans and b'"shared"' in xml else {}
    out: dict[str, Any] = {}
    for address, (start, close) in spans.items():
        value = _inspect(xml, start, close, wanted[address].value, dates, shared, formulas)
        if value is not _KEEP:
            out[address] = value
    return out


def _xlsx_spans(xml: bytes, wanted: Mapping[str, RawCell], dates: frozenset[int],
                formulas: bool = True) -> dict[str, tuple[int, int]] | None:
    """The start tags (its ``<`` and its ``>``) of the wanted cells that hold a formula, an
    error or a dated style, found from those marks back to their cell's tag; None when a
    cell's tag gives no position (the full walk then places every cell)."""
    direct = _direct_spans(xml, wanted, dates, formulas)
    if direct is not None:
        return direct
    spans: dict[str, tuple[int, int]] = {}
    # calamine reads an error value as an empty cell: only a blank one may hold one
    errors = (b' t="e"',) if any(rc.value is None for rc in wanted.values()) else ()
    for mark in ((b"<f",) if formulas else ()) + errors + tuple(b' s="%d"' % i for i in sorted(dates)):
        floor = 0
        while (i := xml.find(mark, floor)) >= 0:
            prev, floor = floor, i + len(mark)
            if mark == b"<f":
                if xml[i + 2 : i + 3] not in (b" ", b">", b"/", b"\t", b"\r", b"\n"):
                    continue
                lt = _cell_before(xml, prev, i)
                close = xml.rfind(b">", lt, i) if lt >= 0 else -1
            else:
                lt = xml.rfind(b"<", max(prev, i - CELL_CAP), i)
                nxt = xml.find(b"<", i, i + CELL_CAP)
                close = xml.find(b">", i, nxt if nxt >= 0 else i + CELL_CAP)
            if lt < 0 or close < 0:
                continue
            m = _CELL_TAG.match(xml, lt, close)
            if m is None:
                if _CELL_START.match(xml, lt) is not None:
                    return None  # a cell without a reference: placed by counting
                continue  # a row's style, or markup that is no cell
            address = (m.group(1).upper() + m.group(2).lstrip(b"0")).decode()
            if address in wanted:
                spans[address] = (lt, close)
    return spans


_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_F_TAG = re.compile(rb"<f[ \t\r\n>/]")
_ADDRESS = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
_STYLE_ATTR = re.compile(rb'\ss="([0-9]{1,9})"')
# a cell's start tag found by its reference: its attributes, whether it closes itself, and
# whether its first child is a formula; then whether it holds no more than a value
_TAG_AT = re.compile(rb'<c r="[^"]*"([^>]*?)(/?)>(<f[ \t\r\n>/])?')
_PLAIN = re.compile(rb"(?:<v>[^<]*</v>|<v/>)?</c>")


def _direct_spans(xml: bytes, wanted: Mapping[str, RawCell], dates: frozenset[int],
                  formulas: bool) -> dict[str, tuple[int, int]] | None:
    """`_xlsx_spans` for a part written as LibreOffice, Excel and xlsxwriter write one: each
    wanted cell's tag found by its reference (``<c r="D5"``), in the order of the rows, and
    only those cells looked into — the sheet is not searched for every formula.  None when a
    wanted cell is not found so (a blank cell left out, another spelling, rows out of order),
    or the part has comments or CDATA: then the marks are searched for."""
    if b"<!" in xml:
        return None
    spans: dict[str, tuple[int, int]] = {}
    errors = any(rc.value is None for rc in wanted.values())  # as `_xlsx_spans` looks for them
    floor = 0
    for address, tag in _in_order(tuple(wanted)):
        lt = xml.find(tag, floor)
        if lt < 0:
            return None
        m = _TAG_AT.match(xml, lt)
        if m is None:  # a tag left open
            return None
        close = floor = m.end(2)
        attrs = m.group(1)
        if ((errors and b' t="e"' in attrs)
                or (dates and (style := _STYLE_ATTR.search(attrs)) is not None and int(style.group(1)) in dates)
                or (formulas and not m.group(2) and (m.group(3) is not None or (
                    _PLAIN.match(xml, close + 1) is None
                    and _F_TAG.search(xml, close, _cell_end(xml, close + 1)) is not None)))):
            spans[address] = (lt, close)
    return spans


@lru_cache(maxsize=64)
def _in_order(addresses: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """The addresses a return has (a cell it has not has none), in the order of the rows,
    each with the start of its tag (``<c r="D5"``): the same few lists for every return."""
    placed = [a for a in addresses if _ADDRESS.fullmatch(a)]
    return [(a, b'<c r="%s"' % a.encode()) for a in sorted(placed, key=_position)]


def _cell_before(xml: bytes, lo: int, i: int) -> int:
    """The start tag of the cell whose child starts at ``i``: the nearest ``<`` before it,
    stepping back over a few sibling tags (``<v>…</v>`` written before ``<f>``)."""
    lo = max(lo, i - CELL_CAP, 0)
    hi = i
    for _ in range(6):
        lt = xml.rfind(b"<", lo, hi)
        if lt < 0 or _CELL_START.match(xml, lt) is not None:
            return lt
        hi = lt
    return -1


_REF_ATTR = re.compile(rb"""\$?([A-Za-z]{0,3})\$?([0-9]{1,7})""")


def _walk(xml: bytes) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Every cell start tag (its ``<`` and ``>``) with the position python-calamine gives it:
    its reference, or after the previous cell of its row (rows likewise); comments, CDATA
    and processing instructions are no markup."""
    row_at, col_at = 0, 0
    for token in xmlscan.tokens(xml):
        closing, name, attrs = token.group(1), token.group(2), token.group(3)
        if closing is not None:
            if xmlscan.local(closing) == b"row":
                row_at, col_at = row_at + 1, 0
            continue
        if name is None or xmlscan.local(name) not in (b"row", b"c"):
            continue
        attrs = attrs or b""
        ref = _REF_ATTR.fullmatch(_attrs(attrs).get(b"r", b"-"))
        if xmlscan.local(name) == b"row":
            if ref is not None and not ref.group(1):
                row_at = int(ref.group(2)) - 1
            if attrs.endswith(b"/"):
                row_at, col_at = row_at + 1, 0
            continue
        row, col = row_at, col_at
        if ref is not None and ref.group(1):
            row, col = int(ref.group(2)) - 1, _column(ref.group(1))
        if xml[token.end() - 1] == 0x3E:  # a tag left open at the end of the part holds nothing
            yield (row, col), (token.start(), token.end() - 1)
        col_at = col + 1


def _inspect(xml: bytes, start: int, close: int, raw: Any, dates: frozenset[int],
             shared: Mapping[bytes, str], formulas: bool = True) -> Any:
    """What a cell shows, from its start tag ``xml[start:close+1]`` and its children."""
    name_end = start + 1
    while name_end < close and xml[name_end] not in b" \t\r\n/":
        name_end += 1
    attrs = _attrs(xml[name_end:close])
    body = b"" if xml[close - 1] == 0x2F else xml[close + 1 : _cell_end(xml, close + 1)]
    f = _child(body, b"f") if formulas else None
    if f is not None:
        f_attrs, text = f
        if f_attrs.get(b"t") == b"shared" and not text.strip():
            text = shared.get(f_attrs.get(b"si", b""), "")
            if not text:
                return Formula("（共享公式）")
        return formula_value(text)
    if attrs.get(b"t") == b"e":
        v = _child(body, b"v")
        return (v[1].strip() if v is not None else "") or "#错误值"
    style = attrs.get(b"s", b"")
    if style.isdigit() and int(style) in dates:
        return as_date(raw)
    return _KEEP


def _cell_end(xml: bytes, at: int) -> int:
    """Where a cell's children end: its end tag, or the next cell or row (within `CELL_CAP`)."""
    hi = min(at + CELL_CAP, len(xml))
    ends = [i for i in (xml.find(b"c>", at, hi), xml.find(b"<c ", at, hi), xml.find(b"<row", at, hi)) if i >= 0]
    return min(ends) if ends else hi


def _child(body: bytes, name: bytes) -> tuple[dict[bytes, bytes], str] | None:
    """A child element's attributes and text (unescaped)."""
    tokens = xmlscan.tokens(body)
    for token in tokens:
        tag = token.group(2)
        if tag is None or xmlscan.local(tag) != name:
            continue
        attrs = token.group(3) or b""
        if attrs.endswith(b"/"):
            return _attrs(attrs), ""
        end = next(tokens, None)
        return _attrs(attrs), _text(body[token.end() : end.start() if end is not None else len(body)])
    return None


def _shared_masters(xml: bytes) -> dict[bytes, str]:
    """Shared formulas' text by index (``si``), from the cells that carry it."""
    out: dict[bytes, str] = {}
    tokens = xmlscan.tokens(xml)
    for token in tokens:
        tag, attrs = token.group(2), token.group(3) or b""
        if tag is None or xmlscan.local(tag) != b"f" or b"shared" not in attrs or attrs.endswith(b"/"):
            continue
        got = _attrs(attrs)
        end = next(tokens, None)
        si = got.get(b"si")
        if got.get(b"t") == b"shared" and si is not None and si not in out and end is not None:
            text = _text(xml[token.end() : end.start()])
            if text.strip():
                out[si] = text
    return out


# ---------------------------------------------------------------- ods


def _ods_formulas(content: bytes, sheet: str, wanted: Mapping[tuple[int, int], RawCell]) -> dict[tuple[int, int], str]:
    """The formulas of the ``wanted`` cells of table ``sheet`` in an ODS ``content.xml``."""
    last_row = max(r for r, _ in wanted)
    rows = {r for r, _ in wanted}
    out: dict[tuple[int, int], str] = {}
    depth = 0  # inside the table: nesting of table:table elements (0 outside it)
    row_at, span, col_at, in_row = 0, 0, 0, False
    for token in xmlscan.tokens(content):
        closing, name, attrs = token.group(1), token.group(2), token.group(3)
        if closing is not None:
            if depth and closing == b"table:table":
                depth -= 1
                if not depth:
                    break
            elif depth == 1 and closing == b"table:table-row":
                in_row = False
            continue
        if name is None:
            continue
        attrs = attrs or b""
        if name == b"table:table":
            if depth:
                depth += 1  # a table inside a cell: not this table's rows
            elif _text(_attrs(attrs).get(b"name", b"")) == sheet and not attrs.endswith(b"/"):
                depth = 1
            continue
        if depth != 1:
            continue
        if name == b"table:table-row":
            row_at, span, col_at = row_at + span, _repeat(attrs, b"number-rows-repeated"), 0
            if row_at > last_row:
                break
            in_row = not attrs.endswith(b"/")
        elif name in (b"table:table-cell", b"table:covered-table-cell") and in_row:
            times = _repeat(attrs, b"number-columns-repeated")
            text = _attrs(attrs).get(b"formula") if b"formula" in attrs else None
            if text is not None:
                for r in range(row_at, min(row_at + span, last_row + 1)):
                    for c in range(col_at, col_at + min(times, 1024)) if r in rows else ():
                        if (r, c) in wanted:
                            out[(r, c)] = _text(text)
            col_at += times
    return out


def _repeat(attrs: bytes, name: bytes) -> int:
    m = re.search(name + rb"""\s*=\s*["']([0-9]{1,9})["']""", attrs)
    return max(int(m.group(1)), 1) if m else 1
