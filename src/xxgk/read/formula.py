"""The result of a formula a clerk typed into an input cell, when it is plain arithmetic.

A spreadsheet stores a formula's last result next to it, and that result may be stale (the
template asks for full recalculation on load, so Excel and LibreOffice show the fresh one).
Formulas of numbers only — ``=23+1000``, ``=(1.5+2)*3``, ``=SUM(1,2,3)``, ``=TRUE()`` — are
worked out here, exactly, so that what is read is what the spreadsheet shows.  Anything else
(a cell reference, another function, a division that does not come out exact) gives None: the
caller reports the formula instead of trusting the stored result.  Nothing is ever passed to
``eval``; the text is tokenized and parsed by a small recursive-descent parser with limits.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow

__all__ = ["evaluate"]

MAX_TEXT = 1000  # characters of formula worth trying
MAX_DEPTH = 40  # nested parentheses and signs
# exact or nothing: a result that needs rounding (1/3) or is absurd raises instead
_EXACT = Context(prec=60, Emax=99, Emin=-99, traps=[Inexact, DivisionByZero, InvalidOperation, Overflow])
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d{1,3}))?|([A-Za-z][A-Za-z0-9.]*)\s*\(|(TRUE|FALSE)\b|([-+*/^(),;%]))",
                    re.IGNORECASE)
_PREFIXES = ("of:", "oooc:", "msoxl:")


class _Unknown(Exception):
    """The formula is not plain arithmetic of numbers."""


def evaluate(text: str) -> Decimal | bool | None:
    """The value of formula ``text`` (with or without ``=``, Excel ``,`` or OpenFormula ``;``
    separators), or None when it is not arithmetic of numbers whose result is exact."""
    text = text.strip()
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    text = text.lstrip("=").strip()
    if not text or len(text) > MAX_TEXT:
        return None
    try:
        tokens = _tokens(text)
        parser = _Parser(tokens)
        value = parser.expression(0)
        if parser.at < len(tokens):
            return None
        if isinstance(value, Decimal):
            return value.normalize(_EXACT) if value else Decimal(0)
        return value
    except (_Unknown, ArithmeticError, RecursionError):
        return None


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        if text[at:].isspace():
            break
        m = _TOKEN.match(text, at)
        if m is None:
            raise _Unknown
        number, exponent, function, boolean, op = m.groups()
        if number is not None:
            out.append(("num", number + (f"E{exponent}" if exponent else "")))
        elif function is not None:
            out.append(("fn", function.upper()))
        elif boolean is not None:
            out.append(("bool", boolean.upper()))
        else:
            out.append(("op", ";" if op == "," else op))
        at = m.end()
    return out


class _Parser:
    """expression := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
    unary := ('+'|'-') unary | atom; atom := number | TRUE | FALSE | '(' expression ')' | SUM(args)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token is not None and token[0] == kind and (text is None or token[1] == text):
            self.at += 1
            return True
        return False

    def expression(self, depth: int) -> Decimal | bool:
        value = self.term(depth)
        while (token := self.peek()) is not None and token in (("op", "+"), ("op", "-")):
            self.at += 1
            right = _number(self.term(depth))
            value = _EXACT.add(_number(value), right) if token[1] == "+" else _EXACT.subtract(_number(value), right)
        return value

    def term(self, depth: int) -> Decimal | bool:
        value = self.unary(depth)
        while (token := self.peek()) is not None and token in (("op", "*"), ("op", "/")):
            self.at += 1
            right = _number(self.unary(depth))
            value = _EXACT.multiply(_number(value), right) if token[1] == "*" else _EXACT.divide(_number(value), right)
        return value

    def unary(self, depth: int) -> Decimal | bool:
        if depth > MAX_DEPTH:
            raise _Unknown
        if self.take("op", "-"):
            return _EXACT.minus(_number(self.unary(depth + 1)))
        if self.take("op", "+"):
            return _number(self.unary(depth + 1))
        return self.atom(depth)

    def atom(self, depth: int) -> Decimal | bool:
        token = self.peek()
        if token is None:
            raise _Unknown
        kind, text = token
        self.at += 1
        if kind == "num":
            return _EXACT.create_decimal(text)
        if kind == "bool":
            return text == "TRUE"
        if kind == "op" and text == "(":
            value = self.expression(depth + 1)
            if not self.take("op", ")"):
                raise _Unknown
            return value
        if kind == "fn" and text in ("TRUE", "FALSE"):
            if not self.take("op", ")"):
                raise _Unknown
            return text == "TRUE"
        if kind == "fn" and text == "SUM":
            total = Decimal(0)
            if self.take("op", ")"):
                return total
            while True:
                total = _EXACT.add(total, _number(self.expression(depth + 1)))
                if self.take("op", ")"):
                    return total
                if not self.take("op", ";"):
                    raise _Unknown
        raise _Unknown


def _number(value: Decimal | bool) -> Decimal:
    """Arithmetic on TRUE/FALSE is the spreadsheet's business, not a clerk's figure."""
    if isinstance(value, bool):
        raise _Unknown
    return value
