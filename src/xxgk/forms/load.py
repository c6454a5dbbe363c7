"""Load a form definition: read the YAML, validate it (JSON Schema included) and build the model.

A mistake in a definition is reported with the file, the key path and what was expected,
before anything else runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

from xxgk.forms import rules
from xxgk.forms.labels import QUOTES
from xxgk.forms.model import (
    HEADER_MARK,
    SEVERITIES,
    VALUE_KINDS,
    Column,
    Form,
    FormError,
    Named,
    Older,
    Row,
    Rule,
    RuleSeverity,
    Table,
)
from xxgk.forms.rules import RuleSyntaxError

_CACHE: dict[tuple[str, float], Form] = {}
# libyaml's safe loader parses the definitions several times faster (every worker process
# of a batch loads them); the pure-Python one where PyYAML was built without it
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path, *, shipped: bool = False) -> Form:
    """Load and validate one definition file (cached by path and mtime).  ``shipped``: one of
    the package's own, which the tests hold to the published schema; not validated against it
    again at every start (jsonschema alone took half the command's start-up)."""
    path = Path(path)
    try:
        stamp = (str(path.resolve()), path.stat().st_mtime)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormError(str(path), "file", f"cannot read: {exc.strerror}") from None
    if stamp in _CACHE:
        return _CACHE[stamp]
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader, libyaml's when present
    except yaml.YAMLError:
        try:  # the pure-Python loader quotes the offending line and points at the mistake
            data = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            raise FormError(path.name, "yaml", f"not valid YAML: {exc}") from None
    form = build(data, path.name, against_schema=not shipped)
    form.formulas  # noqa: B018 - detect formula cycles at load time
    _CACHE[stamp] = form
    return form


class _Reader:
    """Typed access to a mapping that reports the full key path on a mistake."""

    def __init__(self, source: str, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise FormError(source, path or "(top)", f"expected a mapping, got {_kind(data)}")
        self.source, self.data, self.path = source, data, path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> FormError:
        return FormError(self.source, self.key(name), message)

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise self.fail(name, "required text is missing")
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.fail(name, f"expected text, got {_kind(value)}")
        return value

    def whole(self, name: str, default: int | None = None) -> int | None:
        value = self.data.get(name, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.fail(name, f"expected a whole number, got {_kind(value)}")
        return value

    def items(self, name: str, default: list[Any] | None = None) -> list[Any]:
        value = self.data.get(name, default)
        if not isinstance(value, list):
            raise self.fail(name, f"expected a list, got {_kind(value)}")
        return value

    def choice(self, name: str, options: Mapping[str, Any] | tuple[str, ...], default: str | None) -> str | None:
        value = self.data.get(name, default)
        if value is not None and value not in options:
            raise self.fail(name, f"unknown value {value!r}; expected one of {', '.join(options)}")
        return value

    def only(self, allowed: set[str]) -> None:
        for extra in sorted(set(self.data) - allowed):
            raise self.fail(extra, f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def build(data: Any, source: str = "<form>", *, against_schema: bool = True) -> Form:
    """Validate raw definition data and build the model."""
    top = _Reader(source, data, "")
    top.only({"id", "version", "name", "title", "summary_title", "years", "deadline", "guide", "tables", "rules"})
    form_id = top.text("id")
    if not rules.NAME_RE.match(form_id):
        raise top.fail("id", f"{form_id!r} must be letters, digits and _")
    years = _Reader(source, data.get("years", {}), "years")
    years.only({"from", "to"})
    tables = tuple(_table(source, t, f"tables[{i}]") for i, t in enumerate(top.items("tables")))
    if not tables:
        raise top.fail("tables", "a form needs at least one table")
    _unique(source, "tables", [t.id for t in tables])
    by_id = {t.id: t for t in tables}
    form_rules = tuple(_rule(source, r, f"rules[{i}]", by_id) for i, r in enumerate(top.items("rules", [])))
    _unique(source, "rules", [r.id for r in form_rules])
    if against_schema:
        _against_schema(source, data)
    guide = _Reader(source, data.get("guide", {}), "guide")
    fingerprint = hashlib.sha256(
        json.dumps(_drawn(data), ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return Form(
        id=form_id,
        version=top.whole("version", 1) or 1,
        name=top.text("name"),
        title=top.text("title", "{agency}" + top.text("name") + "（{year}年度）"),
        summary_title=top.text("summary_title", "{region}" + top.text("name") + "（{year}年度）汇总"),
        years=(years.whole("from"), years.whole("to")),
        deadline=top.text("deadline", "次年1月31日前"),
        guide=tuple((str(k), guide.text(str(k))) for k in guide.data),
        tables=tables,
        rules=form_rules,
        fingerprint=fingerprint,
        source=source,
    )


SCHEMA_FILE = Path(__file__).with_name("form.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published JSON Schema of a form definition (``form.schema.json`` in the package)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def _against_schema(source: str, data: Any) -> None:
    """The published schema is the contract: a definition the checks above let through but the
    schema does not is refused too (so the two cannot drift apart), naming the key path."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise FormError(source, key or "(top)", f"does not match the form schema: {error.message}")


def _drawn(data: dict[str, Any]) -> dict[str, Any]:
    """The definition as far as a workbook shows it and reads it by position (the fingerprint's
    input): without the units of tables and columns, which no workbook shows, and the older
    printings, which only a table that is not our template is read by; labels with their quotes
    folded, as the reader compares them.  Templates already handed out keep their fingerprint
    when a unit or an older printing is added, or a label gets the notice's curly quotes."""
    tables = data.get("tables")
    if not isinstance(tables, list):
        return data
    out = []
    for t in tables:
        if isinstance(t, dict):
            t = {k: v for k, v in t.items() if k not in ("unit", "older")}
            for part in ("rows", "columns"):
                if isinstance(t.get(part), list):
                    t[part] = [_drawn_entry(x, part) for x in t[part]]
        out.append(t)
    return {**data, "tables": out}


def _drawn_entry(x: Any, part: str) -> Any:
    if not isinstance(x, dict):
        return x
    x = {k: v for k, v in x.items() if not (part == "columns" and k == "unit")}
    if isinstance(x.get("label"), str):
        x["label"] = x["label"].translate(QUOTES)
    return x


def _unique(source: str, key: str, ids: list[str], name: str = "id") -> None:
    """Reject a repeated id (or code), naming the second occurrence: ``key[i].name``."""
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            raise FormError(source, f"{key}[{i}].{name}", f"duplicate {name} {item!r}")
        seen.add(item)


def _ident(r: _Reader, name: str, default: str | None = None) -> str:
    value = r.text(name, default)
    if not rules.NAME_RE.match(value):
        raise r.fail(name, f"{value!r} must be a name of letters, digits and _ (not starting with a digit)")
    return value


def _groups(r: _Reader) -> tuple[str, ...]:
    value = r.data.get("group", [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise r.fail("group", "expected a label or a list of labels")
    return tuple(value)


def _parts(r: _Reader, known: list[str], what: str) -> tuple[str, ...]:
    """``sum: [a, b, c..f]``: names, with ``x..y`` meaning every id from x to y in order."""
    items = r.items("sum", [])
    parts: list[str] = []
    for item in items:
        text = str(item)
        lo, _, hi = text.partition("..")
        for end in (lo, hi) if hi else (lo,):
            if end not in known:
                raise r.fail("sum", f"unknown {what} {end!r}; expected one of {', '.join(known)}")
        parts.extend(known[known.index(lo) : known.index(hi) + 1] if hi else [lo])
    if len(set(parts)) != len(parts):
        raise r.fail("sum", f"a {what} is listed twice")
    return tuple(parts)


def _table(source: str, data: Any, path: str) -> Table:
    r = _Reader(source, data, path)
    r.only({"id", "sheet", "title", "stub", "note", "units", "unit", "value", "rows", "columns", "older"})
    value = r.choice("value", VALUE_KINDS, "count") or "count"
    raw_cols = r.items("columns", [{"id": "v", "label": "统计数"}])
    col_ids = [str(_Reader(source, c, f"{path}.columns[{i}]").data.get("id", f"c{i + 1}")) for i, c in enumerate(raw_cols)]
    _unique(source, f"{path}.columns", col_ids)
    columns = []
    for i, c in enumerate(raw_cols):
        cr = _Reader(source, c, f"{path}.columns[{i}]")
        cr.only({"id", "code", "label", "group", "value", "sum", "unit"})
        columns.append(
            Column(
                id=_ident(cr, "id", f"c{i + 1}"),
                code=cr.text("code", str(i + 1)),
                label=cr.text("label"),
                groups=_groups(cr),
                value=cr.choice("value", VALUE_KINDS, None),
                parts=_parts(cr, col_ids, "column"),
                unit=cr.text("unit", ""),
            )
        )
    raw_rows = r.items("rows")
    row_ids = [str(_Reader(source, x, f"{path}.rows[{i}]").data.get("id", f"r{i + 1}")) for i, x in enumerate(raw_rows)]
    _unique(source, f"{path}.rows", row_ids)
    rows = []
    for i, x in enumerate(raw_rows):
        rr = _Reader(source, x, f"{path}.rows[{i}]")
        rr.only({"id", "code", "label", "group", "unit", "kind", "value", "sum"})
        parts = _parts(rr, row_ids, "row")
        kind = rr.choice("kind", ("header", "input", "formula"), "formula" if parts else "input")
        if kind == "formula" and not parts:
            raise rr.fail("sum", "a formula row needs sum: [its parts]")
        if kind != "formula" and parts:
            raise rr.fail("kind", f"a row with sum: must be a formula, not {kind}")
        rows.append(
            Row(
                id=_ident(rr, "id", f"r{i + 1}"),
                code=rr.text("code", str(i + 1)),
                label=rr.text("label"),
                groups=_groups(rr),
                unit=rr.text("unit", HEADER_MARK if kind == "header" else ""),
                kind=kind or "input",
                value=rr.choice("value", VALUE_KINDS, None),
                parts=parts,
            )
        )
    _unique(source, f"{path}.rows", [x.code for x in rows], "code")
    _unique(source, f"{path}.columns", [c.code for c in columns], "code")
    for i, row in enumerate(rows):
        for p in row.parts:
            if rows[row_ids.index(p)].kind == "header":
                raise FormError(source, f"{path}.rows[{i}].sum", f"{p!r} is a header row and has no value")
    _acyclic(source, f"{path}.rows", [(x.id, x.parts) for x in rows])
    _acyclic(source, f"{path}.columns", [(c.id, c.parts) for c in columns])
    older = tuple(_older(source, o, f"{path}.older[{i}]", row_ids, col_ids) for i, o in enumerate(r.items("older", [])))
    return Table(
        id=_ident(r, "id"),
        sheet=r.text("sheet", "统计表"),
        title=r.text("title", ""),
        stub=r.text("stub", "统计指标"),
        note=r.text("note", ""),
        has_units=bool(data.get("units", True)),
        value=value,
        rows=tuple(rows),
        columns=tuple(columns),
        unit=r.text("unit", ""),
        older=older,
    )


def _older(source: str, data: Any, path: str, row_ids: list[str], col_ids: list[str]) -> Older:
    r = _Reader(source, data, path)
    r.only({"name", "rows", "columns", "marks", "replaces"})

    def mapping(name: str, known: list[str]) -> tuple[tuple[str, str], ...]:
        m = _Reader(source, data.get(name, {}), r.key(name))
        for label, target in m.data.items():
            if target not in known:
                raise m.fail(str(label), f"unknown id {target!r}; expected one of {', '.join(known)}")
        return tuple((str(k), str(v)) for k, v in m.data.items())

    rows, columns = mapping("rows", row_ids), mapping("columns", col_ids)
    replaces = tuple(str(x) for x in r.items("replaces"))
    for x in replaces:
        if x not in row_ids and x not in col_ids:
            raise r.fail("replaces", f"unknown row or column id {x!r}")
    marks = tuple(str(x) for x in r.items("marks", [k for k, _ in (*rows, *columns)]))
    if not marks:
        raise r.fail("marks", "an older printing needs labels that identify it")
    return Older(r.text("name"), rows, columns, marks, replaces)


def _acyclic(source: str, path: str, items: list[tuple[str, tuple[str, ...]]]) -> None:
    """Reject ``sum:`` parts that lead back to themselves, naming the first item of the cycle."""
    parts = dict(items)
    index = {name: i for i, (name, _) in enumerate(items)}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = (*trail[trail.index(name) :], name)
            key = f"{path}[{index[cycle[0]]}].sum"
            raise FormError(source, key, f"formula cycle: {' → '.join(cycle)}")
        if name not in done:
            for part in parts[name]:
                visit(part, (*trail, name))
            done.add(name)

    for name, _ in items:
        visit(name, ())


def _rule(source: str, data: Any, path: str, tables: Mapping[str, Table]) -> Rule:
    r = _Reader(source, data, path)
    r.only({"id", "table", "severity", "assert", "message", "per", "columns", "rows", "anchor", "highlight"})
    table_id = r.text("table", next(iter(tables)))
    if table_id not in tables:
        raise r.fail("table", f"unknown table {table_id!r}; expected one of {', '.join(tables)}")
    table = tables[table_id]
    try:
        expr = rules.parse(r.text("assert"), condition=True)
    except RuleSyntaxError as exc:
        raise r.fail("assert", str(exc)) from None
    per = r.choice("per", ("column", "row"), "column") or "column"
    # names are row ids checked in every column, or (per: row) column ids checked in every row
    value_rows = [x.id for x in table.rows if x.kind != "header"]
    names, others = (value_rows, [c.id for c in table.columns]) if per == "column" else (
        [c.id for c in table.columns], value_rows)
    what = "a row id" if per == "column" else "a column id"
    for name in expr.names:
        if name.removeprefix(rules.LAST) not in names:
            raise r.fail("assert", f"unknown indicator {name.removeprefix(rules.LAST)!r}; expected {what} "
                                   f"(with a value) of table {table_id}")
    across_key = "columns" if per == "column" else "rows"
    if ("rows" if per == "column" else "columns") in r.data:
        raise r.fail(across_key, f"a per-{per} rule lists {across_key}, not the other dimension")
    across = tuple(str(c) for c in r.items(across_key, others))
    for c in across:
        if c not in others:
            raise r.fail(across_key, f"unknown {across_key[:-1]} {c!r}; expected one of {', '.join(others)}")
    plain = [n for n in expr.names if not n.startswith(rules.LAST)] or [
        n.removeprefix(rules.LAST) for n in expr.names]
    highlight = tuple(str(h) for h in r.items("highlight", plain))
    anchor = r.text("anchor", highlight[0] if highlight else plain[0])
    for name in (*highlight, anchor):
        if name not in names:
            raise r.fail("highlight", f"unknown indicator {name!r}; expected {what}")
    message = r.text("message")
    try:
        message.format(column="", row="", code="", label=Named(table, "label"), place=Named(table, "place"))
    except (KeyError, IndexError, ValueError) as exc:
        raise r.fail("message", f"only {{column}}, {{row}}, {{code}}, {{label:ID}} and {{place:ID}} may be "
                                f"substituted ({exc})") from None
    return Rule(
        id=_ident(r, "id"),
        table=table,
        severity=cast(RuleSeverity, r.choice("severity", SEVERITIES, None) or _missing(r, "severity")),
        expr=expr,
        message=message,
        per=per,
        across=across,
        anchor=anchor,
        highlight=highlight,
    )


def _missing(r: _Reader, name: str) -> str:
    raise r.fail(name, "required; expected error or warning")
