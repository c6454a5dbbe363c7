"""The small rule language shared by the Python checker and the Excel template.

An expression is parsed once with Python's ``ast`` and every node is checked
against a whitelist (names, numbers, ``+ -``, comparisons, ``and``/``or``,
``sum(...)``, and ``last(name)`` for last year's value); nothing is ever passed to ``eval``.  The same parsed tree is
evaluated with exact :class:`~decimal.Decimal` arithmetic and rendered as an
Excel formula, so the in-sheet check and ``xxgk check`` cannot drift apart.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

__all__ = ["Expr", "RuleSyntaxError", "parse"]

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LAST = "last."  # last(x) is the name "last.x": x in last year's return

_CMP_PY: dict[type[ast.cmpop], Callable[[Decimal, Decimal], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_CMP_XL = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}

Value = Decimal | bool


GRAMMAR = "allowed: names, numbers, + -, comparisons (== != < <= > >=), and/or, sum(...), last(name)"


class RuleSyntaxError(ValueError):
    """An expression outside the grammar; the message says what is allowed."""


@dataclass(frozen=True)
class Expr:
    """A parsed, validated expression: evaluate it or render it to Excel."""

    source: str
    tree: ast.expr
    names: tuple[str, ...]
    is_condition: bool

    def evaluate(self, values: Mapping[str, Decimal]) -> Value:
        """Exact value of the expression; every name must be in ``values``."""
        return self._plain(values)  # type: ignore[no-any-return]

    @cached_property
    def _plain(self) -> Callable[[Mapping[str, Decimal]], Any]:
        return _compile(self.tree, {})

    def bound(self, keys: Mapping[str, str]) -> Callable[[Mapping[str, Decimal]], Value]:
        """The expression compiled once into closures over values looked up by ``keys[name]``
        (names not in ``keys`` by themselves): thousands of returns, no tree walk per return."""
        return _compile(self.tree, keys)

    def sides(self, values: Mapping[str, Decimal]) -> list[tuple[ast.expr, Decimal]]:
        """Every operand of every comparison with its value: both sides of a failed rule."""
        out: list[tuple[ast.expr, Decimal]] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Compare):
                out.extend((side, _arith_fn(side, {})(values)) for side in (node.left, *node.comparators))
        return out

    def to_excel(self, ref: Callable[[str], str]) -> str:
        """Excel formula text (without ``=``); ``ref`` maps a name to a cell reference."""
        return _excel(self.tree, ref, top=True)


def parse(source: str, *, condition: bool | None = None) -> Expr:
    """Parse ``source``; ``condition`` True/False demands a comparison/arithmetic result."""
    if not isinstance(source, str) or not source.strip():
        raise RuleSyntaxError("表达式为空 (empty expression)")
    try:
        module = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleSyntaxError(f"cannot parse {source!r}: {exc.msg}; {GRAMMAR}") from None
    names: list[str] = []
    is_cond = _validate(module.body, names, source)
    if condition is True and not is_cond:
        raise RuleSyntaxError(f"{source!r} must be a comparison (==, !=, <, <=, >, >=)")
    if condition is False and is_cond:
        raise RuleSyntaxError(f"{source!r} must be arithmetic, not a comparison")
    return Expr(source.strip(), module.body, tuple(dict.fromkeys(names)), is_cond)


def _validate(node: ast.expr, names: list[str], source: str) -> bool:
    """Check ``node`` against the whitelist; return True if it yields a truth value."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            if not _validate(value, names, source):
                raise RuleSyntaxError(f"and/or need comparisons on both sides in {source!r}")
        return True
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMP_PY:
                raise RuleSyntaxError(f"comparison {type(op).__name__} not allowed in {source!r}; {GRAMMAR}")
        for operand in [node.left, *node.comparators]:
            _arith(operand, names, source)
        return True
    _arith(node, names, source)
    return False


def _arith(node: ast.expr, names: list[str], source: str) -> None:
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise RuleSyntaxError(f"name {node.id!r} is not a cell name, in {source!r}; {GRAMMAR}")
        names.append(node.id)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise RuleSyntaxError(f"only numbers are allowed as constants, got {node.value!r}")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        _arith(node.left, names, source)
        _arith(node.right, names, source)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _arith(node.operand, names, source)
    elif isinstance(node, ast.Call):
        fn = node.func.id if isinstance(node.func, ast.Name) else ""
        if fn not in ("sum", "last") or node.keywords:
            raise RuleSyntaxError(f"only sum(...) and last(name) may be called, in {source!r}")
        if not node.args or not all(isinstance(a, ast.Name) for a in node.args):
            raise RuleSyntaxError(f"{fn or 'a call'}(...) takes cell names only, in {source!r}")
        if fn == "last" and len(node.args) != 1:
            raise RuleSyntaxError(f"last(...) takes exactly one cell name, in {source!r}")
        if any(isinstance(a, ast.Name) and a.id.startswith("__") for a in node.args):
            raise RuleSyntaxError(f"dunder names are not cell names, in {source!r}; {GRAMMAR}")
        prefix = LAST if fn == "last" else ""
        names.extend(prefix + a.id for a in node.args if isinstance(a, ast.Name))
    else:
        kind = type(node).__name__
        raise RuleSyntaxError(f"{kind} is not allowed in {source!r}; {GRAMMAR}")


def _number(node: ast.Constant) -> Decimal:
    value = node.value
    assert isinstance(value, int | float)
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


Fn = Callable[[Mapping[str, Decimal]], Any]


def _compile(node: ast.expr, keys: Mapping[str, str]) -> Fn:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, keys) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda v: all(p(v) for p in parts)
        return lambda v: any(p(v) for p in parts)
    if isinstance(node, ast.Compare):
        operands = [_arith_fn(x, keys) for x in (node.left, *node.comparators)]
        ops = [_CMP_PY[type(op)] for op in node.ops]
        if len(ops) == 1:
            (op,), (left, right) = ops, operands
            return lambda v: op(left(v), right(v))

        def chain(v: Mapping[str, Decimal]) -> bool:
            values = [f(v) for f in operands]
            return all(op(a, b) for op, a, b in zip(ops, values, values[1:], strict=False))

        return chain
    return _arith_fn(node, keys)


def _arith_fn(node: ast.expr, keys: Mapping[str, str]) -> Fn:
    if isinstance(node, ast.Name):
        key = keys.get(node.id, node.id)
        return lambda v: v[key]
    if isinstance(node, ast.Constant):
        number = _number(node)
        return lambda v: number
    if isinstance(node, ast.BinOp):
        left, right = _arith_fn(node.left, keys), _arith_fn(node.right, keys)
        if isinstance(node.op, ast.Add):
            return lambda v: left(v) + right(v)
        return lambda v: left(v) - right(v)
    if isinstance(node, ast.UnaryOp):
        operand = _arith_fn(node.operand, keys)
        return (lambda v: -operand(v)) if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.Call)
    prefix = LAST if isinstance(node.func, ast.Name) and node.func.id == "last" else ""
    names = [keys.get(prefix + a.id, prefix + a.id) for a in node.args if isinstance(a, ast.Name)]
    return lambda v: sum((v[n] for n in names), Decimal(0))


def _excel(node: ast.expr, ref: Callable[[str], str], top: bool = False) -> str:
    if isinstance(node, ast.BoolOp):
        fn = "AND" if isinstance(node.op, ast.And) else "OR"
        return f"{fn}({','.join(_excel(v, ref, top=True) for v in node.values)})"
    if isinstance(node, ast.Compare):
        parts = []
        left = node.left
        for op, comp in zip(node.ops, node.comparators, strict=True):
            parts.append(f"{_excel(left, ref)}{_CMP_XL[type(op)]}{_excel(comp, ref)}")
            left = comp
        return parts[0] if len(parts) == 1 else f"AND({','.join(parts)})"
    if isinstance(node, ast.Name):
        return ref(node.id)
    if isinstance(node, ast.Constant):
        return format(_number(node), "f")
    if isinstance(node, ast.BinOp):
        sign = "+" if isinstance(node.op, ast.Add) else "-"
        right = _excel(node.right, ref)
        if isinstance(node.right, ast.BinOp):
            right = f"({right})"
        text = f"{_excel(node.left, ref)}{sign}{right}"
        return text if top else f"({text})"
    if isinstance(node, ast.UnaryOp):
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return f"({sign}{_excel(node.operand, ref)})"
    assert isinstance(node, ast.Call)
    prefix = LAST if isinstance(node.func, ast.Name) and node.func.id == "last" else ""
    return f"SUM({','.join(ref(prefix + a.id) for a in node.args if isinstance(a, ast.Name))})"
