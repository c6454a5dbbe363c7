"""Raw cell content → an exact number, or the reason it is not one.

Spreadsheets hand us ints, floats (with binary noise such as 0.30000000000000004),
text typed by people ("1,234", "１２", "无", "约10"), booleans and dates.  `parse`
turns one of them into a :class:`~decimal.Decimal` for a value kind (count,
amount, signed) or names the problem with a findings code.  It runs for every
cell of thousands of returns, so ints, integral floats and blanks take a short path.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from xxgk.forms.findings import Code, Finding, make
from xxgk.forms.model import AMOUNT_UNIT, VALUE_KINDS, Cell
from xxgk.read.returns import Formula

__all__ = [
    "ACCEPTED",
    "HEADER_MARKS",
    "MAX_MAGNITUDE",
    "ZERO_TEXTS",
    "Parsed",
    "describe",
    "expected",
    "finding",
    "fmt",
    "is_blank",
    "is_header_mark",
    "parse",
    "whole",
]

AMOUNT_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-AMOUNT_PLACES)  # 0.000001
_NOISE = Decimal("1e-9")
_SNAP_LIMIT = 1e15  # floats this large are integers anyway; quantizing them could overflow
# No count or 万元 amount comes near this: a larger figure is refused, which also keeps every
# total exact (21 digits with 6 decimals; a million of them add up within Decimal's 28).
MAX_MAGNITUDE = 10**15
_MAX_FLOAT = float(MAX_MAGNITUDE)

# Texts people write for "nothing happened": read as 0 with a warning.
ZERO_TEXTS = frozenset({"无", "—", "——", "-", "－", "--", "－－", "―", "――", "/", "／"})
# What a header row's value cell may show: nothing, or the dash the template prints.
HEADER_MARKS = ZERO_TEXTS - {"无"}
# Codes of content read as a number all the same: the number is used, the finding only tells.
ACCEPTED = frozenset({"value.zero_text", "value.with_unit"})
YUAN = "元"
UNIT_ALTERNATIVES = "|"  # a definition's unit 项|个|笔: any of them, the first one named

_STRIP = " \t\r\n\u3000\u00a0\u200b\ufeff"
_TRANSLATE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width digits
        "，": ",",
        "．": ".",
        "－": "-",
        "−": "-",  # U+2212 minus sign
        "＋": "+",
    }
)
_NUMBER = re.compile(r"([+-]?)((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


class Parsed(NamedTuple):
    """The outcome for one cell.

    ``value`` is None for a blank cell or content that is no number at all.
    ``code`` is None when the content is fine, else a findings code: ``value.zero_text``
    (a warning; value is 0), ``value.with_unit`` (a notice; the number written before the
    cell's own unit), ``value.not_number`` or ``value.formula`` (value None), ``value.yuan``
    (元 in a 万元 cell; value is the figure in 万元), or ``value.negative``, ``value.fraction``,
    ``value.precision``, ``value.too_large`` (errors; value is the number written).
    ``found`` is the content as the department would recognise it.
    """

    value: Decimal | None
    code: Code | None
    found: str

    @property
    def blank(self) -> bool:
        return self.value is None and self.code is None


_BLANK = Parsed(None, None, "")
_ZERO = Decimal(0)


def expected(kind: str) -> str:
    """What a cell of this value kind must hold, in words (e.g. 非负整数)."""
    return VALUE_KINDS[kind]


def describe(raw: Any) -> str:
    """Raw content as text for messages: 83 not 83.0, TRUE not True, dates as ISO."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, Formula):
        return "=" + raw.text
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, _dt.date | _dt.time | _dt.datetime):
        return raw.isoformat()
    return str(raw).strip(_STRIP)


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip(_STRIP))


def is_header_mark(raw: Any) -> bool:
    """Fine in a header row's value cell: blank or a dash (the template prints ——)."""
    return is_blank(raw) or (isinstance(raw, str) and raw.strip(_STRIP) in HEADER_MARKS)


def whole(raw: Any) -> Decimal | None:
    """The short path of `parse`: a non-negative whole int or float, fine for every value
    kind, as a Decimal; None for anything else (then `parse` says what it is)."""
    tp = type(raw)
    if tp is float:
        if 0 <= raw <= _MAX_FLOAT and raw.is_integer():
            n = int(raw)
            return _SMALL[n] if n < len(_SMALL) else Decimal(n)
    elif tp is int and 0 <= raw <= MAX_MAGNITUDE:
        return _SMALL[raw] if raw < len(_SMALL) else Decimal(raw)
    return None


_SMALL = tuple(Decimal(n) for n in range(1000))  # shared: Decimals are immutable


def parse(raw: Any, kind: str = "count", unit: str = "") -> Parsed:
    """Read one cell's content as a number of value kind ``kind`` (count|amount|signed);
    ``unit`` is what the cell counts (件, 万元; alternatives as 项|个|笔): text such as “12件”
    is read by it."""
    value = whole(raw)
    if value is not None:
        return Parsed(value, None, "")
    tp = type(raw)
    if tp is int:
        return _classify(Decimal(raw), kind, str(raw))
    if tp is float:
        if math.isnan(raw) or math.isinf(raw):
            return Parsed(None, "value.not_number", describe(raw))
        if raw.is_integer():
            return _classify(Decimal(int(raw)), kind, describe(raw))
        return _classify(_from_float(raw), kind, repr(raw))
    if raw is None:
        return _BLANK
    if tp is str:
        return _parse_text(raw, kind, unit)
    if isinstance(raw, bool):
        return Parsed(None, "value.not_number", describe(raw))
    if tp is Formula:
        return Parsed(None, "value.formula", "=" + raw.text)
    if isinstance(raw, int):  # an int subclass other than bool (e.g. numpy-like)
        return parse(int(raw), kind)
    if isinstance(raw, float):
        return parse(float(raw), kind)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            return Parsed(None, "value.not_number", str(raw))
        return _classify(raw, kind, str(raw))
    if isinstance(raw, str):
        return _parse_text(str(raw), kind, unit)
    return Parsed(None, "value.not_number", describe(raw))


def _from_float(x: float) -> Decimal:
    """The decimal a person typed, given the float a spreadsheet stored.

    ``repr`` is the shortest text that round-trips; a float within 1e-9 of a
    6-place decimal (0.1 + 0.2 = 0.30000000000000004) is taken as that decimal.
    """
    d = Decimal(repr(x))
    if abs(x) < _SNAP_LIMIT:
        snapped = d.quantize(_QUANTUM)
        if abs(d - snapped) <= _NOISE:
            d = snapped
    return d


def _parse_text(raw: str, kind: str, unit: str = "") -> Parsed:
    text = raw.strip(_STRIP)
    if not text:
        return _BLANK
    if text in ZERO_TEXTS:
        return Parsed(_ZERO, "value.zero_text", text)
    value = _number_text(text)
    if value is not None:
        return _classify(value, kind, text)
    for one in unit.split(UNIT_ALTERNATIVES) if unit else ():
        value = _number_text(text[: -len(one)].rstrip(_STRIP)) if one and text.endswith(one) else None
        if value is not None:
            got = _classify(value, kind, text)
            return got._replace(code="value.with_unit", found=text) if got.code is None else got
    if unit == AMOUNT_UNIT and text.endswith(YUAN):
        value = _number_text(text[: -len(YUAN)].rstrip(_STRIP))
        if value is not None:
            value = value.scaleb(-4)  # exact: 1万元 = 10000元
            if abs(value) > MAX_MAGNITUDE:
                return Parsed(value, "value.too_large", text)
            value = Decimal(int(value)) if value == value.to_integral_value() else value.normalize()
            return Parsed(value, "value.yuan", text)
    return Parsed(None, "value.not_number", text)


def _number_text(text: str) -> Decimal | None:
    """A number written as text (grouping commas, full-width digits, a sign), or None."""
    m = _NUMBER.fullmatch(text.translate(_TRANSLATE))
    if m is None:
        return None
    sign, digits = m.groups()
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return None
    return -value if sign == "-" else value


def _classify(value: Decimal, kind: str, found: str) -> Parsed:
    """Normalise a number and check it against the value kind."""
    if abs(value) > MAX_MAGNITUDE:
        return Parsed(value, "value.too_large", found)
    value = Decimal(int(value)) if value == value.to_integral_value() else value.normalize()
    if value < 0 and kind != "signed":
        return Parsed(value, "value.negative", found)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < 0:
        if kind != "amount":
            return Parsed(value, "value.fraction", found)
        if exponent < -AMOUNT_PLACES:
            return Parsed(value, "value.precision", found)
    if value == 0 and value.is_signed():
        value = _ZERO
    return Parsed(value, None, "")


def fmt(value: Decimal) -> str:
    """A figure as a message writes it: plain digits, never an exponent."""
    return format(value, "f")


def finding(code: Code, cell: Cell, sheet: str, address: str, found: str, **fields: Any) -> Finding:
    """A value finding for one form cell, naming sheet, cell, indicator, label, found, expected."""
    return make(
        code,
        indicator=cell.key,
        label=cell.label,
        place=cell.place,
        sheet=sheet,
        cell=address,
        found=found,
        expected=fields.pop("expected", expected(cell.value)),
        **fields,
    )
