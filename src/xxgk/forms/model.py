"""The form model: tables, rows, columns, cells and rules, as a definition describes them.

A form is data, not code: every workbook, every check and every summary is driven by the
model here (`forms.load` builds it from a definition file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

from xxgk.forms import rules
from xxgk.forms.rules import Expr

AMOUNT_UNIT = "万元"  # amounts are 万元 (see VALUE_KINDS)
VALUE_KINDS = {
    "count": "非负整数",
    "amount": "非负数（万元，最多6位小数）",
    "signed": "整数（可为负数）",
}
RuleSeverity = Literal["error", "warning"]  # a rule's; findings add "info" (`findings.Severity`)
SEVERITIES: tuple[RuleSeverity, ...] = get_args(RuleSeverity)
HEADER_MARK = "——"


class FormError(ValueError):
    """A form definition that cannot be used; the message names file and key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(f"{source}: {key}: {message}")
        self.source, self.key, self.detail = source, key, message


@dataclass(frozen=True)
class Column:
    id: str
    code: str
    label: str
    groups: tuple[str, ...]
    value: str | None
    parts: tuple[str, ...]  # column ids summed into this column (empty: not a formula)
    unit: str = ""  # what its figures count (件, 万元); a row's own unit comes first


@dataclass(frozen=True)
class Row:
    id: str
    code: str
    label: str
    groups: tuple[str, ...]
    unit: str
    kind: str  # header | input | formula
    value: str | None
    parts: tuple[str, ...]  # row ids summed into this row


@dataclass(frozen=True)
class Older:
    """A known older printing of a table (the 2019 block in a 2021 report), read into this
    table where the meaning carries over.  It applies when none of the labels of the rows
    and columns it ``replaces`` are printed and every one of its ``marks`` is; the rows and
    columns it replaces and does not map are read as blank."""

    name: str
    rows: tuple[tuple[str, str], ...]  # label as printed -> this table's row id
    columns: tuple[tuple[str, str], ...]  # label as printed -> this table's column id
    marks: tuple[str, ...]
    replaces: tuple[str, ...]  # row and column ids


@dataclass(frozen=True)
class Table:
    id: str
    sheet: str
    title: str
    stub: str
    note: str
    has_units: bool
    value: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    unit: str = ""  # the unit of cells whose row and column name none
    older: tuple[Older, ...] = ()

    def row(self, row_id: str) -> Row:
        return next(r for r in self.rows if r.id == row_id)

    def column(self, col_id: str) -> Column:
        return next(c for c in self.columns if c.id == col_id)


@dataclass(frozen=True)
class Cell:
    """One value cell of the form: an input, a locked formula, or a header placeholder."""

    key: str
    table: Table
    row: Row
    column: Column
    kind: str  # header | input | formula
    value: str  # value kind
    parts: tuple[str, ...]  # cell keys summed into this cell

    @property
    def label(self) -> str:
        """Row label, qualified by the group labels and the column when there are several."""
        text = "".join(f"{g}/" for g in self.row.groups) + self.row.label
        if len(self.table.columns) > 1:
            text += f"（{'/'.join((*self.column.groups, self.column.label))}）"
        return text

    @property
    def unit(self) -> str:
        """What the cell's figure counts (件, 人, 万元): its row's unit, else its column's, else
        its table's; "" when the definition names none."""
        row = self.row.unit
        if row and row != HEADER_MARK:
            return row
        return self.column.unit or self.table.unit or (AMOUNT_UNIT if self.value == "amount" else "")

    @property
    def place(self) -> str:
        """行次/栏次 wording for messages."""
        text = f"第{self.row.code}行"
        if len(self.table.columns) > 1:
            text += f"第{self.column.code}栏"
        return text


class Named:
    """``{label:r3}`` and ``{place:r3}`` in a rule's message: the label, or the 行次 (栏次 for a
    column id), of a row or column of the rule's table — not repeated by hand in the message."""

    def __init__(self, table: Table, what: str) -> None:
        self.table, self.what = table, what

    def __format__(self, spec: str) -> str:
        row = next((r for r in self.table.rows if r.id == spec), None)
        if row is not None:
            return row.label if self.what == "label" else f"第{row.code}行"
        col = next((c for c in self.table.columns if c.id == spec), None)
        if col is not None:
            return col.label if self.what == "label" else f"第{col.code}栏"
        raise KeyError(f"{{{self.what}:{spec}}} names no row or column of table {self.table.id}")


@dataclass(frozen=True)
class Check:
    """One rule applied to one column (or, for ``per: row`` rules, one row)."""

    rule: Rule
    column: Column  # the column checked; for a per-row rule, the anchor's column
    row: Row | None  # the row checked by a per-row rule
    bind: Mapping[str, str]  # expression name -> cell key (``last.x`` names: this form's key of x)
    anchor: str  # cell key whose row carries the hint and the explanation
    highlight: tuple[str, ...]  # cell keys coloured when violated

    @property
    def id(self) -> str:
        if len(self.rule.across) == 1:
            return self.rule.id
        return f"{self.rule.id}.{self.row.code if self.row else self.column.code}"

    @property
    def message(self) -> str:
        return self.rule.message.format(
            column=self.column.label,
            row=self.row.label if self.row else "",
            code=self.row.code if self.row else self.column.code,
            label=Named(self.rule.table, "label"),
            place=Named(self.rule.table, "place"),
        )


    @cached_property
    def note_rows(self) -> tuple[Row, ...]:
        """The rows the rule involves, its anchor's first: a 情况说明 on any of them explains it."""
        table = self.rule.table
        if self.row is not None:  # a per-row rule involves its one row
            return (self.row,)
        names = (self.rule.anchor, *self.rule.highlight, *(n.removeprefix(rules.LAST) for n in self.rule.expr.names))
        return tuple(table.row(i) for i in dict.fromkeys(names))

    @property
    def note_keys(self) -> tuple[str, ...]:
        """`note_rows` by row key (`row_key`), as a return's 情况说明 are keyed."""
        return tuple(row_key(self.rule.table, r) for r in self.note_rows)

    @property
    def note_hint(self) -> str:
        """Where its explanation may go, in words, as the check list and the template's hints say it."""
        where = "第" + "、".join(r.code for r in self.note_rows) + "行"
        return f"情况说明可写在{where}中任一行" if len(self.note_rows) > 1 else f"情况说明写在{where}"

    @property
    def hint(self) -> str:
        """What the template's hint and its 填报说明 show: the message, and for a warning
        where its explanation may go."""
        return f"{self.message}{self.note_hint}。" if self.rule.severity == "warning" else self.message

    def explanation(self, notes: Mapping[str, str]) -> str:
        """The first 情况说明 written on a row the rule involves ("" when there is none)."""
        for key in self.note_keys:
            text = notes.get(key, "").strip()
            if text:
                return text
        return ""

    @cached_property
    def previous(self) -> bool:
        """Whether the check needs last year's values (``last(...)``)."""
        return any(n.startswith(rules.LAST) for n in self.bind)

    def evaluate(self, values: Mapping[str, Any], last: Mapping[str, Any] | None = None) -> bool:
        """Verdict on this year's values by key (and last year's, mapped onto this form's keys)."""
        if not self.previous:
            return bool(self._verdict(values))
        env = {
            n: (last or {})[k] if n.startswith(rules.LAST) else values[k] for n, k in self.bind.items()
        }
        return bool(self.rule.expr.evaluate(env))

    @cached_property
    def _verdict(self) -> Callable[[Mapping[str, Any]], Any]:
        return self.rule.expr.bound(self.bind)


@dataclass(frozen=True)
class Rule:
    id: str
    table: Table
    severity: RuleSeverity
    expr: Expr
    message: str
    per: str  # "column": names are row ids, one check per column; "row": the transpose
    across: tuple[str, ...]  # the column ids (per column) or row ids (per row) checked
    anchor: str
    highlight: tuple[str, ...]


@dataclass(frozen=True)
class Form:
    id: str
    version: int
    name: str
    title: str  # with {agency} and {year}
    summary_title: str  # with {region} and {year}
    years: tuple[int | None, int | None]
    deadline: str
    guide: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...]
    fingerprint: str
    source: str = field(compare=False)

    @cached_property
    def cells(self) -> dict[str, Cell]:
        """Every value cell by key, in table/row/column order."""
        return {c.key: c for c in _build_cells(self.tables)}

    @cached_property
    def table_cells(self) -> dict[str, tuple[Cell, ...]]:
        """The cells of each table, by table id, in row/column order."""
        return {t.id: tuple(c for c in self.cells.values() if c.table is t) for t in self.tables}

    @cached_property
    def value_cells(self) -> tuple[Cell, ...]:
        """Every cell that holds a number: inputs and formulas, headers left out."""
        return tuple(c for c in self.cells.values() if c.kind != "header")

    @cached_property
    def inputs(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells.values() if c.kind == "input")

    @cached_property
    def formulas(self) -> tuple[Cell, ...]:
        """Formula cells in dependency order (parts before totals)."""
        return _topological(self)

    @cached_property
    def sources(self) -> dict[str, frozenset[str]]:
        """The input cells each formula cell adds up, through formulas of formulas."""
        out: dict[str, frozenset[str]] = {}
        for cell in self.formulas:  # parts before totals
            out[cell.key] = frozenset().union(*(out.get(p, frozenset({p})) for p in cell.parts))
        return out

    @cached_property
    def _all_checks(self) -> tuple[Check, ...]:
        return tuple(c for rule in self.rules for c in _instantiate(self, rule))

    @cached_property
    def checks(self) -> tuple[Check, ...]:
        """Checks on this year's values alone: the in-sheet checks and `check`'s rules."""
        return tuple(c for c in self._all_checks if not c.previous)

    @cached_property
    def previous_checks(self) -> tuple[Check, ...]:
        """Year-over-year checks, run only when last year's return or summary is given."""
        return tuple(c for c in self._all_checks if c.previous)

    @cached_property
    def sheets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.sheet for t in self.tables))

    def applies_to(self, year: int) -> bool:
        lo, hi = self.years
        return (lo is None or year >= lo) and (hi is None or year <= hi)

    def compute(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """All cell values from the input values: formulas recomputed, headers omitted."""
        values = {c.key: inputs[c.key] for c in self.inputs}
        for cell in self.formulas:
            values[cell.key] = sum((values[p] for p in cell.parts), type(values[cell.parts[0]])(0))
        return values


def row_key(table: Table, row: Row) -> str:
    """Key of a form row, for per-row content such as the 情况说明 note."""
    return f"{table.id}.{row.id}"


def cell_key(single: bool, table: Table, row: Row, column: Column) -> str:
    """Stable key of a value cell; a one-column single-table form uses the bare 行次."""
    return row.code if single else f"{table.id}.{row.code}.{column.code}"


def _single(tables: tuple[Table, ...]) -> bool:
    """One table of one column: its cells are keyed by the bare 行次 (see `cell_key`)."""
    return len(tables) == 1 and len(tables[0].columns) == 1


def _build_cells(tables: tuple[Table, ...]) -> Iterator[Cell]:
    single = _single(tables)
    for table in tables:
        cols = {c.id: c for c in table.columns}
        rows = {r.id: r for r in table.rows}
        for row in table.rows:
            for col in table.columns:
                key = cell_key(single, table, row, col)
                value = col.value or row.value or table.value
                if row.kind == "header":
                    yield Cell(key, table, row, col, "header", value, ())
                elif row.parts:
                    parts = tuple(cell_key(single, table, rows[p], col) for p in row.parts)
                    yield Cell(key, table, row, col, "formula", value, parts)
                elif col.parts:
                    parts = tuple(cell_key(single, table, row, cols[p]) for p in col.parts)
                    yield Cell(key, table, row, col, "formula", value, parts)
                else:
                    yield Cell(key, table, row, col, "input", value, ())


def _topological(form: Form) -> tuple[Cell, ...]:
    cells = form.cells
    order: list[Cell] = []
    state: dict[str, int] = {}

    def visit(key: str, path: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = " → ".join((*path[path.index(key) :], key))
            raise FormError(form.source, "formulas", f"formula cycle: {cycle}")
        state[key] = 1
        for part in cells[key].parts:
            visit(part, (*path, key))
        state[key] = 2
        if cells[key].kind == "formula":
            order.append(cells[key])

    for cell in cells.values():
        if cell.kind == "formula":
            visit(cell.key, ())
    return tuple(order)


def _instantiate(form: Form, rule: Rule) -> Iterator[Check]:
    single = _single(form.tables)
    table = rule.table
    rows = {r.id: r for r in table.rows}
    cols = {c.id: c for c in table.columns}
    for fixed in rule.across:

        def key(name: str, fixed: str = fixed) -> str:
            if rule.per == "column":
                return cell_key(single, table, rows[name], cols[fixed])
            return cell_key(single, table, rows[fixed], cols[name])

        bind = {name: key(name.removeprefix(rules.LAST)) for name in rule.expr.names}
        column = cols[fixed] if rule.per == "column" else cols[rule.anchor]
        row = rows[fixed] if rule.per == "row" else None
        yield Check(rule, column, row, bind, key(rule.anchor), tuple(key(h) for h in rule.highlight))
