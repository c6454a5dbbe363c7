"""Properties of the rule language (xxgk.rules).

Random well-formed expressions are evaluated by `Expr.evaluate` and, independently, by a
tiny evaluator for the subset of Excel formulas that `Expr.to_excel` renders (SUM, AND, OR,
comparisons, + -, parentheses, unary minus) written here from Excel's own precedence rules.
The two must agree on every value.  Anything outside the grammar must be rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xxgk.forms import rules
from xxgk.forms.rules import RuleSyntaxError

NAMES = ("a", "b", "c", "d")
REFS = {"a": "B2", "b": "C3", "c": "D4", "d": "AA10", "last.a": "'上年'!B2"}


# ---------------------------------------------------------------- an independent Excel-subset evaluator

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<fn>SUM|AND|OR)\(|(?P<ref>(?:'[^']+'!)?\$?[A-Z]{1,3}\$?\d+)"
    r"|(?P<op><=|>=|<>|=|<|>|\+|-)|(?P<punct>[(),]))"
)
Value = Decimal | bool


class ExcelError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExcelError(f"bad token at {text[pos:]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class Excel:
    """Recursive descent with Excel's precedence: unary minus binds tightest, then + -,
    then comparisons (lowest, left-associative).  Strict about types: arithmetic on a
    truth value, or AND/OR on a number, is an error rather than Excel's silent coercion."""

    def __init__(self, text: str, cells: Mapping[str, Decimal]) -> None:
        self.tokens, self.i, self.cells = tokenize(text), 0, cells

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ExcelError("unexpected end")
        self.i += 1
        return tok

    def expect(self, punct: str) -> None:
        if self.take() != ("punct", punct):
            raise ExcelError(f"expected {punct}")

    def run(self) -> Value:
        value = self.comparison()
        if self.peek() is not None:
            raise ExcelError(f"trailing {self.peek()}")
        return value

    def comparison(self) -> Value:
        left = self.additive()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] not in "+-":
            self.take()
            right = self.additive()
            a, b = number(left), number(right)
            left = {"=": a == b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[tok[1]]
        return left

    def additive(self) -> Value:
        left = self.unary()
        while (tok := self.peek()) and tok in (("op", "+"), ("op", "-")):
            self.take()
            right = number(self.unary())
            left = number(left) + right if tok[1] == "+" else number(left) - right
        return left

    def unary(self) -> Value:
        tok = self.peek()
        if tok in (("op", "-"), ("op", "+")):
            self.take()
            value = number(self.unary())
            return -value if tok == ("op", "-") else value
        return self.primary()

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "num":
            return Decimal(text)
        if kind == "ref":
            return self.cells[text]
        if (kind, text) == ("punct", "("):
            value = self.comparison()
            self.expect(")")
            return value
        if kind == "fn":
            args = [self.comparison()]
            while self.peek() == ("punct", ","):
                self.take()
                args.append(self.comparison())
            self.expect(")")
            if text == "SUM":
                return sum((number(a) for a in args), Decimal(0))
            truths = [truth(a) for a in args]
            return all(truths) if text == "AND" else any(truths)
        raise ExcelError(f"unexpected {text!r}")


def number(v: Value) -> Decimal:
    if isinstance(v, bool):
        raise ExcelError("arithmetic on a truth value")
    return v


def truth(v: Value) -> bool:
    if not isinstance(v, bool):
        raise ExcelError("AND/OR on a number")
    return v


def excel_eval(expr: rules.Expr, values: Mapping[str, Decimal]) -> Value:
    refs = {n: REFS.get(n, f"Z{i + 100}") for i, n in enumerate(values)}
    ref: Callable[[str], str] = refs.__getitem__
    cells = {refs[n]: v for n, v in values.items()}
    return Excel(expr.to_excel(ref), cells).run()


def test_the_evaluator_itself() -> None:
    cells = {"B2": Decimal(5), "C3": Decimal(2)}
    assert Excel("B2-C3-1", cells).run() == 2  # left-associative
    assert Excel("B2-(C3-1)", cells).run() == 4
    assert Excel("-B2+C3", cells).run() == -3
    assert Excel("SUM(B2,C3)>=7", cells).run() is True
    assert Excel("AND(B2>1,OR(C3=1,C3<>1))", cells).run() is True
    for bad in ("B2>1+1>0", "AND(B2)", "B2+", "(B2", "B2*C3"):
        with pytest.raises(ExcelError):
            Excel(bad, cells).run()


# ---------------------------------------------------------------- random well-formed expressions

numbers = st.one_of(
    st.integers(min_value=0, max_value=50).map(str),
    st.decimals(min_value=0, max_value=100, places=2).map(lambda d: format(d, "f")),
)
names = st.sampled_from(NAMES)


def _sum(args: list[str]) -> str:
    return f"sum({', '.join(args)})"


atoms = st.one_of(names, numbers, st.lists(names, min_size=1, max_size=4).map(_sum))


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, st.sampled_from(["+", "-"]), inner).map(lambda t: f"{t[0]} {t[1]} ({t[2]})"),
        inner.map(lambda s: f"({s})"),
        inner.map(lambda s: f"-({s})"),
        inner.map(lambda s: f"+({s})"),
        names.map(lambda s: f"-{s}"),
    )


arith = st.recursive(atoms, _extend, max_leaves=8)
CMP = ["==", "!=", "<", "<=", ">", ">="]
comparisons = st.one_of(
    st.tuples(arith, st.sampled_from(CMP), arith).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.tuples(arith, st.sampled_from(CMP), arith, st.sampled_from(CMP), arith).map(
        lambda t: f"{t[0]} {t[1]} {t[2]} {t[3]} {t[4]}"
    ),  # chained: a < b <= c
)


def _bool(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda s: f"({s})"),
    )


conditions = st.recursive(comparisons, _bool, max_leaves=5)

# Values drawn from a small pool as well, so that equal values (and == / <= edges) are common.
values_ = st.one_of(
    st.sampled_from([Decimal(0), Decimal(1), Decimal(2), Decimal("0.5")]),
    st.integers(min_value=-1000, max_value=1000).map(Decimal),
    st.decimals(min_value=-10**6, max_value=10**6, places=6),
)
envs = st.fixed_dictionaries({n: values_ for n in NAMES})


@settings(max_examples=400)
@given(source=conditions, env=envs)
def test_conditions_agree_with_the_rendered_excel_formula(source: str, env: dict[str, Decimal]) -> None:
    expr = rules.parse(source, condition=True)
    assert expr.is_condition
    py = expr.evaluate(env)
    assert isinstance(py, bool)
    assert excel_eval(expr, env) is py, expr.to_excel(REFS.__getitem__)


@settings(max_examples=400)
@given(source=arith, env=envs)
def test_arithmetic_agrees_with_the_rendered_excel_formula(source: str, env: dict[str, Decimal]) -> None:
    expr = rules.parse(source, condition=False)
    py = expr.evaluate(env)
    assert isinstance(py, Decimal)
    assert excel_eval(expr, env) == py, expr.to_excel(REFS.__getitem__)


@given(source=conditions)
def test_names_are_exactly_those_used(source: str) -> None:
    expr = rules.parse(source)
    used = set(re.findall(r"\b[a-d]\b", source))
    assert set(expr.names) == used
    assert len(expr.names) == len(set(expr.names))


@given(env=envs)
def test_last_renders_as_the_last_year_reference(env: dict[str, Decimal]) -> None:
    expr = rules.parse("a == last(a) + b - c", condition=True)
    assert expr.names == ("a", "last.a", "b", "c")
    full = {**env, "last.a": env["d"]}
    assert excel_eval(expr, full) is expr.evaluate(full)


# ---------------------------------------------------------------- outside the grammar

ALLOWED_WORDS = ("allowed", "only")

REJECTED = [
    "a.b == 1",
    "a.__class__ == 1",
    "max(a, b) > 1",
    "abs(a) > 1",
    "a ** 2 > 1",
    "a * b > 1",
    "a / b > 1",
    "a // b > 1",
    "a % b > 1",
    "a @ b > 1",
    "a | b > 1",
    "~a > 1",
    "(lambda: 1)() > 0",
    "lambda: a",
    "a == 'x'",
    "'a' == 'a'",
    "a == b'x'",
    "f'{a}' == 1",
    "a[0] > 1",
    "a[b] > 1",
    "not a == b",
    "(a if b else c) > 1",
    "__import__('os') == 1",
    "eval('1') == 1",
    "getattr(a, 'b') == 1",
    "sum(a, 1) > 0",
    "sum(*a) > 0",
    "sum(a, b=1) > 0",
    "sum() > 0",
    "[a] == 1",
    "(a, b) == 1",
    "{a} == 1",
    "{a: b} == 1",
    "[x for x in a] == 1",
    "(x := 1) > 0",
    "True == a",
    "None == a",
    "a and b",
    "last(a, b) > 0",
    "last(1) > 0",
]


@pytest.mark.parametrize("source", REJECTED)
def test_outside_the_grammar_is_rejected_saying_what_is_allowed(source: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        rules.parse(source)
    message = str(info.value)
    assert any(w in message for w in ALLOWED_WORDS) or "need comparisons" in message or "takes" in message, message


@pytest.mark.parametrize("source", ["a + 1", "sum(a, b)"])
def test_a_condition_is_demanded_when_asked(source: str) -> None:
    with pytest.raises(RuleSyntaxError, match="comparison"):
        rules.parse(source, condition=True)
    with pytest.raises(RuleSyntaxError, match="arithmetic"):
        rules.parse("a > 1", condition=False)


# Gaps found by these tests in rules.py (not this module's to change; reported to its owner).
REJECTED_WITH_GRAMMAR = [
    pytest.param("__class__ == 1", id="dunder-name"),
    pytest.param("__builtins__ > 0", id="dunder-builtins"),
    pytest.param("a in b", id="in-lists-allowed-comparisons"),
    pytest.param("a is b", id="is-lists-allowed-comparisons"),
    pytest.param("a; b", id="syntax-error-lists-grammar"),
    pytest.param("import os", id="statement-lists-grammar"),
]


@pytest.mark.parametrize("source", [*REJECTED_WITH_GRAMMAR, pytest.param("sum(__x) > 0", id="dunder-in-sum")])
def test_rejection_messages_state_the_grammar(source: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        rules.parse(source)
    message = str(info.value)
    assert "allowed:" in message or ("==" in message and "<=" in message), message


@given(st.text(alphabet="ab+-<=>() andorsum,0123456789.*/", max_size=20))
def test_parse_never_fails_with_anything_but_rule_syntax_error(source: str) -> None:
    try:
        expr = rules.parse(source)
    except RuleSyntaxError:
        return
    env = dict.fromkeys(expr.names, Decimal(1))
    value = expr.evaluate(env)
    if expr.is_condition:
        assert excel_eval(expr, env) is value
    else:
        assert excel_eval(expr, env) == value
