"""What a workbook's XML says about input cells that python-calamine does not.

python-calamine hands over a cell's stored value only.  For an input cell that is not
enough: a formula's stored result may be stale (the template recalculates on load, so the
spreadsheet shows another number), ``TRUE`` typed in LibreOffice is saved as ``=TRUE()``,
an error value (``#VALUE!``) comes back as an empty cell, and a number shown through a date
format calamine does not recognise (``[$-804]aaaa``, 星期三; the Chinese built-in formats
27–36 and 50–58) comes back as its serial.  `amend` replaces such input cells' raw values
with what the spreadsheet shows — a formula of numbers worked out (`formula.evaluate`),
``values.Formula`` for any other formula, the error's text, a date — so that `values.parse`
refuses or reads them like any other content.

The scans are linear in the part's size (``bytes.find`` from a moving floor, anchored
matches on a tag's own bytes); a cell whose position cannot be read from its tag sends the
sheet through a full walk that places cells as python-calamine does.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import biff, formula, safety
from .returns import RawCell
from .values import Formula

__all__ = ["BUILTIN_DATES", "amend", "as_date", "date_styles", "formula_value", "is_date_format"]

# Built-in number formats that are dates or times: the ones calamine knows (14–22, 45–47)
# and those that are dates in a Chinese (and Japanese/Korean) locale, which it does not.
BUILTIN_DATES = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_EPOCH = dt.date(1899, 12, 30)  # serial 0 of the 1900 date system, as Excel counts past 1900-03-01
STYLES = "xl/styles.xml"
_STYLE_CACHE: dict[Any, frozenset[int]] = {}
_STYLE_CACHE_SIZE = 256

_CELL_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^<>]*?(?<=\s)r\s*=\s*"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"')
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


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


def _address(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


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


def _elements(xml: bytes, name: bytes, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, dict[bytes, bytes]]]:
    """Start tags of local name ``name`` in ``xml[lo:hi]``: (position, attributes)."""
    hi = len(xml) if hi is None else hi
    at = lo
    while (i := xml.find(name, at, hi)) >= 0:
        at = i + len(name)
        lt = i - 1
        while lt >= max(lo, i - MAX_PREFIX) and xml[lt] not in b"<>\"' \t\r\n/":  # a prefix such as x:
            lt -= 1
        if lt < lo or xml[lt] != 0x3C or xml[at : at + 1] not in (b" ", b"\t", b"\r", b"\n", b"/", b">"):
            continue
        nxt = xml.find(b"<", at, hi)
        nxt = hi if nxt < 0 else nxt
        end = xml.find(b">", at, nxt)
        if end >= 0:
            attrs = {m.group(1).split(b":")[-1]: m.group(2) if m.group(2) is not None else m.group(3)
                     for m in _ATTR.finditer(xml, at, end)}
            yield lt, attrs
        at = nxt  # the rest of this tag holds no element: each byte is looked at once


def _section(xml: bytes, name: bytes) -> tuple[int, int]:
    """Where the element of local name ``name`` starts and ends (nothing if absent)."""
    for pos, _ in _elements(xml, name):
        end = xml.find(b"/" + name, pos)
        return pos, len(xml) if end < 0 else end
    return 0, 0


def _dated_format(fmt: int, code: str | None) -> bool:
    """Whether number format ``fmt`` (its ``code``, None for a built-in) is a date or time."""
    return is_date_format(code) if code is not None else fmt in BUILTIN_DATES


def _parse_styles(styles: bytes) -> frozenset[int]:
    codes: dict[int, str] = {}
    lo, hi = _section(styles, b"numFmts")
    for _, attrs in _elements(styles, b"numFmt", lo, hi):
        fid, code = attrs.get(b"numFmtId"), attrs.get(b"formatCode")
        if fid is not None and fid.isdigit() and code is not None:
            codes[int(fid)] = html.unescape(code.decode("utf-8", "replace"))
    lo, hi = _section(styles, b"cellXfs")
    out: set[int] = set()
    for index, (_, attrs) in enumerate(_elements(styles, b"xf", lo, hi)):
        fid = attrs.get(b"numFmtId", b"0")
        if not fid.isdigit():
            continue
        n = int(fid)
        if _dated_format(n, codes.get(n)):  # the same rule: a custom code, else the built-in id
            out.add(index)
    return frozenset(out)


def as_date(value: Any) -> Any:
    """A serial shown through a date format: the date, as calamine gives other dated cells."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    try:
        return _EPOCH + dt.timedelta(days=value)
    except (OverflowError, ValueError):
        return f"{value}（日期格式）"


# ---------------------------------------------------------------- xlsx

MAX_PREFIX = 32  # characters of a namespace prefix looked back over
CELL_CAP = 65536  # bytes of a cell's children looked at (Excel caps a formula at 8,192 characters)
_KEEP = object()


def _xlsx(xml: bytes, wanted: Mapping[str, RawCell], dates: frozenset[int], formulas: bool = True) -> dict[str, Any]:
    """Replacement raw values of the ``wanted`` cells (by A1 address) of one worksheet part."""
    spans = _xlsx_spans(xml, wanted, dates, formulas)
    if spans is None:
        spans = {a: span for pos, span in _walk(xml) if (a := _address(*pos)) in wanted}
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


_ROW_OR_CELL = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])")
_REF_ATTR = re.compile(rb"""(?<![\w:])r\s*=\s*["']\$?([A-Za-z]{0,3})\$?([0-9]{1,7})["']""")


def _walk(xml: bytes) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """Every cell start tag with the position python-calamine gives it: its reference, or
    after the previous cell of its row (rows likewise)."""
    row_at, col_at, at = 0, 0, 0
    while (lt := xml.find(b"<", at)) >= 0:
        at = lt + 1
        m = _ROW_OR_CELL.match(xml, lt)
        if m is None:
            continue
        closing, tag = m.groups()
        nxt = xml.find(b"<", m.end())
        close = xml.find(b">", m.end(), nxt if nxt >= 0 else len(xml))
        if close < 0:
            continue
        attrs = xml[m.end() : close]
        if closing:
            if tag == b"row":
                row_at, col_at = row_at + 1, 0
            continue
        ref = _REF_ATTR.search(attrs)
        if tag == b"row":
            if ref is not None and not ref.group(1):
                row_at = int(ref.group(2)) - 1
            if attrs.endswith(b"/"):
                row_at, col_at = row_at + 1, 0
            continue
        row, col = row_at, col_at
        if ref is not None and ref.group(1):
            row, col = int(ref.group(2)) - 1, _column(ref.group(1))
        yield (row, col), (lt, close)
        col_at = col + 1


def _inspect(xml: bytes, start: int, close: int, raw: Any, dates: frozenset[int],
             shared: Mapping[bytes, str], formulas: bool = True) -> Any:
    """What a cell shows, from its start tag ``xml[start:close+1]`` and its children."""
    attrs = _attrs(xml[start:close])
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


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """A tag's attributes by local name (the last of a repeated one)."""
    return {m.group(1).split(b":")[-1]: m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(tag)}


def _cell_end(xml: bytes, at: int) -> int:
    """Where a cell's children end: its end tag, or the next cell or row (within `CELL_CAP`)."""
    hi = min(at + CELL_CAP, len(xml))
    ends = [i for i in (xml.find(b"c>", at, hi), xml.find(b"<c ", at, hi), xml.find(b"<row", at, hi)) if i >= 0]
    return min(ends) if ends else hi


def _child(body: bytes, name: bytes) -> tuple[dict[bytes, bytes], str] | None:
    """A child element's attributes and text (unescaped)."""
    for pos, attrs in _elements(body, name):
        start = body.find(b">", pos)
        if body[start - 1] == 0x2F:
            return attrs, ""
        end = body.find(b"</", start)
        text = body[start + 1 : len(body) if end < 0 else end]
        return attrs, html.unescape(text.decode("utf-8", "replace"))
    return None


def _shared_masters(xml: bytes) -> dict[bytes, str]:
    """Shared formulas' text by index (``si``), from the cells that carry it."""
    out: dict[bytes, str] = {}
    at = 0
    while (i := xml.find(b'"shared"', at)) >= 0:
        lt = xml.rfind(b"<", max(i - CELL_CAP, at), i)
        close = xml.find(b">", i, i + CELL_CAP)
        at = i + CELL_CAP if close < 0 else close + 1  # each byte looked at once
        if lt < 0 or close < 0 or xml[close - 1] == 0x2F:
            continue
        found = next(_elements(xml, b"f", lt, close + 1), None)
        if found is None or found[0] != lt:
            continue
        attrs = found[1]
        si = attrs.get(b"si")
        end = xml.find(b"</", close, close + CELL_CAP)
        at = close + CELL_CAP if end < 0 else end  # the text looked at once
        if attrs.get(b"t") != b"shared" or si is None or si in out or end < 0:
            continue
        text = html.unescape(xml[close + 1 : end].decode("utf-8", "replace"))
        if text.strip():
            out[si] = text
    return out


# ---------------------------------------------------------------- ods


def _ods_formulas(content: bytes, sheet: str, wanted: Mapping[tuple[int, int], RawCell]) -> dict[tuple[int, int], str]:
    """The formulas of the ``wanted`` cells of table ``sheet`` in an ODS ``content.xml``."""
    start = _ods_table(content, sheet)
    if start < 0:
        return {}
    end = content.find(b"</table:table>", start)
    end = len(content) if end < 0 else end
    last_row = max(r for r, _ in wanted)
    rows = {r for r, _ in wanted}
    out: dict[tuple[int, int], str] = {}
    row_at, span, col_at, in_row = 0, 0, 0, False
    at = start + 1
    while (lt := content.find(b"<table:", at, end)) >= 0:
        at = lt + 7
        nxt = content.find(b"<", at, end)
        close = content.find(b">", at, nxt if nxt >= 0 else end)
        if close < 0:
            continue
        name_end = at
        while name_end < close and content[name_end] not in b" \t\r\n/>":
            name_end += 1
        name, attrs = content[at:name_end], content[name_end:close]
        if name == b"table-row":
            row_at, span, col_at = row_at + span, _repeat(attrs, b"number-rows-repeated"), 0
            if row_at > last_row:
                break
            in_row = not attrs.endswith(b"/")
        elif name in (b"table-cell", b"covered-table-cell") and in_row:
            times = _repeat(attrs, b"number-columns-repeated")
            if b"formula" in attrs:
                text = _attrs(attrs).get(b"formula")
                if text is not None:
                    for r in range(row_at, min(row_at + span, last_row + 1)):
                        if r in rows:
                            for c in range(col_at, col_at + min(times, 1024)):
                                if (r, c) in wanted:
                                    out[(r, c)] = html.unescape(text.decode("utf-8", "replace"))
            col_at += times
    return out


def _ods_table(content: bytes, sheet: str) -> int:
    at = 0
    while (i := content.find(b"<table:table ", at)) >= 0:
        at = i + 13
        nxt = content.find(b"<", at)
        close = content.find(b">", at, len(content) if nxt < 0 else nxt)
        if close < 0:
            continue
        name = _attrs(content[at:close]).get(b"name")
        if name is not None and html.unescape(name.decode("utf-8", "replace")) == sheet:
            return i
    return -1


def _repeat(attrs: bytes, name: bytes) -> int:
    m = re.search(name + rb"""\s*=\s*["']([0-9]{1,9})["']""", attrs)
    return max(int(m.group(1)), 1) if m else 1
