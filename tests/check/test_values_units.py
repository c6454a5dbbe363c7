"""Property tests for reading figures written with a unit, 元 in 万元 cells, and the
arithmetic formulas clerks type into input cells (issue 10 point 5, issue 11 item 4)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from xxgk.check.values import MAX_MAGNITUDE, parse
from xxgk.forms.builtin import builtin
from xxgk.read import formula

# a cell's unit as its definition gives it: one word, or alternatives (项|个|笔)
UNITS = sorted({c.unit for f in ("gk2018", "gk2019", "gk2021") for c in builtin(f).value_cells if c.unit})
WORDS = sorted({w for u in UNITS for w in u.split("|")})
SPACES = st.sampled_from(["", " ", "\u3000", "  "])
COUNTS = st.integers(min_value=0, max_value=MAX_MAGNITUDE)
AMOUNTS = st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


def written(d: Decimal) -> str:
    """A decimal as a clerk writes it: no exponent, no trailing zeros."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@given(n=COUNTS, unit=st.sampled_from([u for u in UNITS if u != "万元"]), gap=SPACES, grouped=st.booleans(),
       pick=st.integers(min_value=0, max_value=5))
def test_a_count_with_its_own_unit_is_the_number_with_a_notice(n: int, unit: str, gap: str, grouped: bool,
                                                                 pick: int) -> None:
    words = unit.split("|")
    text = (f"{n:,}" if grouped else str(n)) + gap + words[pick % len(words)]
    got = parse(text, "count", unit)
    assert (got.value, got.code, got.found) == (Decimal(n), "value.with_unit", text.strip())


@given(n=COUNTS, unit=st.sampled_from(UNITS), other=st.sampled_from(WORDS + ["笔", "元", "个", "项", "%", "万"]))
def test_a_unit_the_cell_does_not_count_in_stays_an_error(n: int, unit: str, other: str) -> None:
    got = parse(f"{n}{other}", "amount" if unit == "万元" else "count", unit)
    if other in unit.split("|"):
        assert got.code == "value.with_unit"
    elif unit == "万元" and other == "元":
        assert got.code in ("value.yuan", "value.precision")
    else:
        assert got.code == "value.not_number" and got.value is None


@given(d=AMOUNTS, gap=SPACES)
def test_wan_yuan_amounts_with_their_unit(d: Decimal, gap: str) -> None:
    got = parse(written(d) + gap + "万元", "amount", "万元")
    assert got.code == "value.with_unit" and got.value == d


@given(fen=st.integers(min_value=0, max_value=10**17), gap=SPACES)
def test_yuan_in_a_wan_yuan_cell_gives_the_exact_figure_to_type(fen: int, gap: str) -> None:
    yuan = Decimal(fen).scaleb(-2)  # 元 to the 分
    got = parse(written(yuan) + gap + "元", "amount", "万元")
    if yuan.scaleb(-4) > MAX_MAGNITUDE:
        assert got.code == "value.too_large"
        return
    assert got.code == "value.yuan" and got.value is not None
    assert got.value.scaleb(4) == yuan  # exact: nothing rounded
    typed = parse(format(got.value, "f"), "amount")  # the figure the message gives reads back
    assert typed.value == got.value and typed.code is None  # 6 places at most: 1分 = 0.000001万元


@given(text=st.text(max_size=30), unit=st.sampled_from(UNITS + [""]))
def test_parsing_never_fails_and_says_why(text: str, unit: str) -> None:
    got = parse(text, "amount" if unit == "万元" else "count", unit)
    assert got.blank or got.code is not None or got.value is not None


# ---------------------------------------------------------------- formulas


def expressions(depth: int = 3) -> st.SearchStrategy[tuple[str, int]]:
    """(formula text, its value) built from small whole numbers with + - * and brackets."""
    leaf = st.integers(min_value=0, max_value=10**6).map(lambda n: (str(n), n))
    if depth == 0:
        return leaf

    def combine(args: tuple[tuple[str, int], str, tuple[str, int]]) -> tuple[str, int]:
        (a, x), op, (b, y) = args
        value = {"+": x + y, "-": x - y, "*": x * y}[op]
        return f"({a}{op}{b})", value

    inner = expressions(depth - 1)
    return st.one_of(leaf, st.tuples(inner, st.sampled_from("+-*"), inner).map(combine))


@given(expr=expressions(), ods=st.booleans())
def test_arithmetic_formulas_evaluate_exactly(expr: tuple[str, int], ods: bool) -> None:
    text, value = expr
    assert formula.evaluate(("of:=" if ods else "=") + text) == value


@given(parts=st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=12), ods=st.booleans())
def test_sum_of_numbers(parts: list[int], ods: bool) -> None:
    sep = ";" if ods else ","
    assert formula.evaluate(f"=SUM({sep.join(map(str, parts))})") == sum(parts)


@given(text=st.text(max_size=60))
def test_any_text_evaluates_or_is_refused_without_raising(text: str) -> None:
    got = formula.evaluate(text)
    assert got is None or isinstance(got, bool | Decimal)


@given(col=st.sampled_from(["A", "D", "AB", "$C$"]), row=st.integers(min_value=1, max_value=99999))
def test_references_are_never_guessed(col: str, row: int) -> None:
    assert formula.evaluate(f"={col}{row}+1") is None
    assert formula.evaluate(f"=SUM({col}{row}:{col}{row + 1})") is None
    assert formula.evaluate(f"of:=[.{col}{row}]") is None
