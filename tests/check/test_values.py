"""values.parse: raw cell content → Decimal or the findings code that says why not."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xxgk.check import values
from xxgk.check.values import Parsed, parse
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import Code
from xxgk.read.returns import Formula

D = Decimal


def ok(value: str | int) -> Parsed:
    return Parsed(D(value), None, "")


# ---------------------------------------------------------------- numbers from the spreadsheet


@pytest.mark.parametrize(
    ("raw", "kind", "want"),
    [
        (0, "count", ok(0)),
        (12, "count", ok(12)),
        (12.0, "count", ok(12)),
        (-0.0, "count", ok(0)),
        (2.9999999999999996, "count", ok(3)),  # Excel noise on a whole number
        (0.1 + 0.2, "amount", ok("0.3")),
        (24252.311082, "amount", ok("24252.311082")),
        (1.1 + 2.2, "amount", ok("3.3")),
        (-3, "signed", ok(-3)),
        (-3.0, "signed", ok(-3)),
        (1e15, "count", ok(10**15)),
        (D("5.50"), "amount", ok("5.5")),
        (D("7"), "count", ok(7)),
    ],
)
def test_numbers(raw: object, kind: str, want: Parsed) -> None:
    got = parse(raw, kind)
    assert got == want
    assert got.value is not None and str(got.value) == str(want.value)  # normalised, no 12.0 / 1E+1


@pytest.mark.parametrize(
    ("raw", "kind", "code", "found"),
    [
        (-1, "count", "value.negative", "-1"),
        (-1.0, "amount", "value.negative", "-1"),
        (-0.5, "amount", "value.negative", "-0.5"),
        (1.5, "count", "value.fraction", "1.5"),
        (1.5, "signed", "value.fraction", "1.5"),
        (0.1234567, "amount", "value.precision", "0.1234567"),
        (1.000001, "count", "value.fraction", "1.000001"),
        (True, "count", "value.not_number", "TRUE"),
        (False, "amount", "value.not_number", "FALSE"),
        (dt.date(2018, 12, 31), "count", "value.not_number", "2018-12-31"),
        (dt.datetime(2018, 1, 2, 3, 4), "count", "value.not_number", "2018-01-02T03:04:00"),
        (dt.time(8, 30), "count", "value.not_number", "08:30:00"),
        (float("nan"), "count", "value.not_number", "nan"),
        (float("inf"), "amount", "value.not_number", "inf"),
        (D("NaN"), "amount", "value.not_number", "NaN"),
        (b"12", "count", "value.not_number", "b'12'"),
        (1e20, "count", "value.too_large", "100000000000000000000"),
        (10**15 + 1, "count", "value.too_large", "1000000000000001"),
        (-(10**16), "signed", "value.too_large", "-10000000000000000"),
        (1e15 + 0.5, "amount", "value.too_large", "1000000000000000.5"),
        (Formula("C5+1"), "count", "value.formula", "=C5+1"),
    ],
)
def test_bad_numbers(raw: object, kind: str, code: str, found: str) -> None:
    got = parse(raw, kind)
    assert (got.code, got.found) == (code, found)
    if code in ("value.not_number", "value.formula"):
        assert got.value is None
    else:  # the number written is kept, so rules can still look at it
        assert got.value is not None


def test_noise_is_only_forgiven_near_six_places() -> None:
    assert parse(0.1234565000000001, "amount").value == D("0.1234565000000001")
    assert parse(0.1234565000000001, "amount").code == "value.precision"
    assert parse(1.0000000001, "count") == ok(1)
    assert parse(1.00000001, "count").code == "value.fraction"


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "kind", "want"),
    [
        ("12", "count", 12),
        ("1,234", "count", 1234),
        ("1，234", "count", 1234),
        ("12,345,678", "count", 12345678),
        ("１２", "count", 12),
        ("１，２３４", "count", 1234),
        (" 12 ", "count", 12),
        ("\u300012\u3000", "count", 12),
        ("\xa012\t\n", "count", 12),
        ("0", "count", 0),
        ("+5", "count", 5),
        ("12.", "count", 12),
        ("12.000", "count", 12),
        ("0.5", "amount", "0.5"),
        (".5", "amount", "0.5"),
        ("１２．５", "amount", "12.5"),
        ("1,234.567891", "amount", "1234.567891"),
        ("0.1234560", "amount", "0.123456"),
        ("-7", "signed", -7),
        ("－7", "signed", -7),
        ("−7", "signed", -7),  # U+2212
        ("-0", "count", 0),
    ],
)
def test_number_text(raw: str, kind: str, want: object) -> None:
    got = parse(raw, kind)
    assert got == Parsed(D(str(want)), None, "")
    assert got.value is not None and str(got.value) == str(D(str(want)))  # no -0, no 12.000


@pytest.mark.parametrize("text", ["无", "—", "——", "-", "－", "/", "／", " 无 ", "\u3000——"])
def test_zero_text(text: str) -> None:
    got = parse(text, "count")
    assert got == Parsed(D(0), "value.zero_text", text.strip().strip("\u3000"))


@pytest.mark.parametrize(
    "text",
    ["约10", "12件", "10人", "1,23", "1,2345", "12,34,567", "1 234", "1e3", "10%", "١٢", "10²", "①",
     "12。5", "一", "0x10", "--5", "5-", "1.2.3", ",", ".", "不详", "12\n13"],
)
def test_not_number_text(text: str) -> None:
    got = parse(text, "count")
    assert got == Parsed(None, "value.not_number", text.strip())


@pytest.mark.parametrize(
    ("text", "kind", "code", "value"),
    [
        ("-1", "count", "value.negative", -1),
        ("－１", "amount", "value.negative", -1),
        ("1.5", "count", "value.fraction", "1.5"),
        ("2.5", "signed", "value.fraction", "2.5"),
        ("0.0000001", "amount", "value.precision", "1E-7"),
        ("1,234.5678901", "amount", "value.precision", "1234.5678901"),
    ],
)
def test_bad_number_text(text: str, kind: str, code: Code, value: object) -> None:
    got = parse(text, kind)
    assert got == Parsed(D(str(value)), code, text)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "\u200b"])
def test_blank(raw: object) -> None:
    got = parse(raw, "count")
    assert got.blank and got.value is None and got.code is None
    assert values.is_blank(raw)


def test_header_marks_and_describe() -> None:
    raw: object
    for raw in (None, "", "——", "—", " —— ", "-", "/"):
        assert values.is_header_mark(raw), raw
    for raw in (0, 83, "0", "无", "x", 0.0, False):
        assert not values.is_header_mark(raw), raw
    assert values.describe(83.0) == "83"
    assert values.describe(0.5) == "0.5"
    assert values.describe(True) == "TRUE"
    assert values.describe(" 12件 ") == "12件"
    assert values.describe(None) == ""


def test_expected_words() -> None:
    assert values.expected("count") == "非负整数"
    assert "6位小数" in values.expected("amount")
    assert "负数" in values.expected("signed")


def test_finding_names_everything() -> None:
    form = builtin("gk2018")
    cell = form.cells["3"]
    f = values.finding("value.not_number", cell, "统计表", "D6", "约10")
    assert (f.severity, f.code, f.indicator, f.sheet, f.cell, f.found, f.expected) == (
        "error", "value.not_number", "3", "统计表", "D6", "约10", "非负整数")
    assert f.label == "其中：主动公开规范性文件数"
    assert f.message == "第3行“其中：主动公开规范性文件数”（D6）填写为“约10”，不是数字。应填写非负整数。"
    amount = values.finding("value.precision", form.cells["54"], "统计表", "D57", "0.1234567")
    assert amount.expected == "非负数（万元，最多6位小数）"
    assert "最多保留6位小数" in amount.message


# ---------------------------------------------------------------- properties

FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")
SPACES = st.sampled_from(["", " ", "  ", "\u3000", "\t", "\xa0", " \u3000 "])


@given(
    n=st.integers(min_value=-(10**15), max_value=10**15),
    grouped=st.booleans(),
    full_width=st.booleans(),
    full_width_comma=st.booleans(),
    left=SPACES,
    right=SPACES,
)
def test_any_int_text_parses_back(
    n: int, grouped: bool, full_width: bool, full_width_comma: bool, left: str, right: str
) -> None:
    text = f"{abs(n):,}" if grouped else str(abs(n))
    if full_width:
        text = text.translate(FULL_WIDTH)
    if full_width_comma:
        text = text.replace(",", "，")
    if n < 0:
        text = "-" + text
    got = parse(left + text + right, "signed")
    assert got == ok(n)
    if n >= 0:
        assert parse(left + text + right, "count") == ok(n)
    else:
        assert parse(left + text + right, "count").code == "value.negative"


@given(n=st.integers(min_value=-(10**15), max_value=10**15))
def test_any_int_and_integral_float_parse_to_itself(n: int) -> None:
    assert parse(n, "signed") == ok(n)
    assert parse(float(n), "signed") == ok(n)


@given(d=st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False))
def test_six_place_amounts_survive_float_storage(d: Decimal) -> None:
    got = parse(float(d), "amount")
    assert got.code is None and got.value == d


@given(
    a=st.decimals(min_value=0, max_value=10**6, places=6),
    b=st.decimals(min_value=0, max_value=10**6, places=6),
)
def test_float_sums_are_read_as_exact_sums(a: Decimal, b: Decimal) -> None:
    got = parse(float(a) + float(b), "amount")
    assert got.code is None and got.value == a + b


LETTERS = st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo"))


@given(prefix=st.text(max_size=8), letter=LETTERS, suffix=st.text(max_size=8))
def test_text_with_a_letter_is_rejected(prefix: str, letter: str, suffix: str) -> None:
    text = prefix + letter + suffix
    got = parse(text, "count")
    if got.blank or got.code == "value.zero_text":  # 无 alone (with spaces) is the one word allowed
        assert text.strip(" \t\r\n\u3000\xa0\u200b\ufeff") == "无"
        return
    assert got.code == "value.not_number"
    assert got.value is None
    assert any(unicodedata.category(ch).startswith("L") for ch in got.found)


AMOUNTS = st.decimals(min_value=0, max_value=values.MAX_MAGNITUDE, places=6, allow_nan=False, allow_infinity=False)


@given(figures=st.lists(AMOUNTS, min_size=1, max_size=40))
def test_every_total_equals_the_sum_of_what_it_lists(figures: list[Decimal]) -> None:
    """Figures past 1000万亿 are refused; all others add up exactly (issue 11, item 6)."""
    accepted = [parse(str(d), "amount").value for d in figures]
    assert all(v is not None for v in accepted)
    total = sum((v for v in accepted if v is not None), Decimal(0))
    assert int(total.scaleb(6)) == sum(int(d.scaleb(6)) for d in figures)  # integer arithmetic: exact
    form = builtin("gk2021")
    inputs = {c.key: accepted[i % len(accepted)] for i, c in enumerate(form.inputs)}
    computed = form.compute(inputs)
    for cell in form.formulas:
        assert int(computed[cell.key].scaleb(6)) == sum(int(computed[p].scaleb(6)) for p in cell.parts)


@given(n=st.integers(min_value=values.MAX_MAGNITUDE + 1, max_value=10**40))
def test_absurd_magnitudes_are_refused(n: int) -> None:
    for raw in (n, str(n), f"{n:,}", float(n)):
        assert parse(raw, "count").code == "value.too_large"
