"""Check one return: values parsed, formulas recomputed (cached results never trusted), rules.

`check_return` works on a `Return` already read; `check_file` reads a file first and
turns a file that cannot be read at all into a report with one file-level finding,
so a batch never stops at a bad file.  The `CheckResult` keeps the computed values
and the `Return`, so merging and annotating need not read the file again.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xxgk.check import values as V
from xxgk.files import display_name
from xxgk.forms.findings import CATALOGUE, WARNING, Finding, Report, make
from xxgk.forms.identity import Identity
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Cell, Check, Form, Table, row_key
from xxgk.forms.rules import LAST
from xxgk.read.returns import RawCell, ReadError, Return

__all__ = [
    "CheckResult",
    "check_file",
    "check_files",
    "check_return",
    "compare_with",
    "compare_years",
    "figures_return",
]

HEADER_EXPECTED = "不填写（或——）"
_ZERO = Decimal(0)
BLANK_EXPECTED = "数字（没有发生的填0）"


@dataclass
class CheckResult:
    """The outcome of checking one file.

    ``values`` holds every input and formula cell whose value is known, with formulas
    recomputed from the inputs (blanks and 无/— count as 0).  Cells whose content is
    no number at all, and formulas built on them, are absent and listed in ``unknown``.
    ``ret`` is None when the file could not be read.
    """

    report: Report
    values: dict[str, Decimal] = field(default_factory=dict)
    ret: Return | None = None
    unknown: frozenset[str] = frozenset()

    @property
    def valid(self) -> bool:
        return self.report.valid

    @property
    def path(self) -> Path:
        return Path(self.report.file)


# ---------------------------------------------------------------- one return


def check_return(ret: Return) -> CheckResult:
    """Check a return that has been read: values, formulas, rules and explanations."""
    form = ret.form
    report = Report(
        file=display_name(ret.path),
        form=ret.identity.form or form.id,
        year=ret.identity.year,
        agency_code=ret.identity.agency_code,
        agency_name=ret.identity.agency_name,
    )
    findings = report.findings
    findings.extend(ret.findings)
    raw = ret.cells
    places = layout_of(form).places
    already = {f.indicator for f in ret.findings if f.indicator}

    def where(cell: Cell) -> tuple[str, str]:
        found = raw.get(cell.key)
        if found is not None:
            return found.sheet, found.cell
        place = places[cell.key]
        return place.sheet, place.a1

    inputs: dict[str, Decimal] = {}
    cached: dict[str, Decimal] = {}
    unknown: set[str] = set()  # no number at all
    suspect: set[str] = set()  # a number, but not one the form allows (negative, fraction…)
    blanks: list[tuple[Cell, str, str]] = []
    texts: dict[str, tuple[Cell, RawCell, V.Parsed]] = {}  # numbers typed as text: SUM skips them
    noted: list[Finding | str] = []  # kept apart: an empty return gets file.empty alone; a key: its text
    present = filled = 0  # input cells read, and those holding anything
    whole, parse = V.whole, V.parse
    for cell in form.cells.values():
        key, kind = cell.key, cell.kind
        rc = raw.get(key)
        if rc is None:
            if kind == "input":
                unknown.add(key)
                if key not in already:
                    sheet, address = where(cell)
                    noted.append(make(
                        "structure.missing", indicator=key, label=cell.label, sheet=sheet,
                        cell=address, detail=f"{cell.place}（{address}）未读取到",
                        expected=cell.label,
                    ))
            continue
        if kind == "header":
            if not V.is_header_mark(rc.value):
                noted.append(V.finding("value.in_header", cell, rc.sheet, rc.cell,
                                       V.describe(rc.value), expected=HEADER_EXPECTED))
            continue
        value = whole(rc.value)  # the usual case: a whole number, fine for every value kind
        if value is not None:
            if kind == "input":
                inputs[key] = value
                present += 1
                filled += 1
            else:
                cached[key] = value
            continue
        parsed = parse(rc.value, cell.value, cell.unit)
        present += kind == "input"
        if parsed.blank:
            if kind == "input":
                inputs[key] = Decimal(0)
                if rc.cell:  # a cell the reader read as blank for want of its row says why itself
                    blanks.append((cell, rc.sheet, rc.cell))
            continue
        filled += kind == "input"
        accepted = parsed.code is None or parsed.code in V.ACCEPTED
        if accepted and parsed.value and kind == "input" and type(rc.value) is str:
            texts[key] = (cell, rc, parsed)
            if parsed.code is not None:
                noted.append(key)  # its notice says whether the sheet's totals skipped it
        elif parsed.code is not None:
            noted.append(V.finding(parsed.code, cell, rc.sheet, rc.cell, parsed.found,
                                   **_figure(parsed)))
        if parsed.value is None:
            if kind == "input":
                unknown.add(key)
            continue
        if kind == "input":
            inputs[key] = parsed.value
            if not accepted:
                suspect.add(key)
        elif accepted:
            cached[key] = parsed.value
    if present and not filled:
        findings.append(make("file.empty"))
        return CheckResult(report, {}, ret, frozenset(c.key for c in form.cells.values()))

    values = {c.key: inputs.get(c.key, _ZERO) for c in form.inputs}
    computed = form.compute(values)
    # what the sheet's own SUM formulas show: numbers typed as text left out
    shown = form.compute({**values, **{k: _ZERO for k in texts}}) if texts else computed
    skipped: dict[str, list[str]] = {}  # text cell -> the totals that left it out
    for cell in form.formulas:
        key = cell.key
        if key in cached and cached[key] != computed[key] and cached[key] == shown[key]:
            for k in form.sources[key] & texts.keys():
                skipped.setdefault(k, []).append(
                    f"{cell.place}合计显示为{_fmt(shown[key])}，按各分项之和应为{_fmt(computed[key])}")
            cached[key] = computed[key]  # the text is the cause; the total was not typed over
    for item in noted:
        if isinstance(item, str):
            if item in texts:
                findings.append(_text_finding(*texts[item], skipped.get(item, [])))
        else:
            findings.append(item)
    for key, (cell, rc, parsed) in texts.items():
        if parsed.code is None and key in skipped:
            findings.append(_text_finding(cell, rc, parsed, skipped[key]))
    if blanks:
        findings.extend(_blank_findings(form, blanks, ret.notes))

    if unknown or suspect:
        for cell in form.formulas:
            if any(p in unknown for p in cell.parts):
                unknown.add(cell.key)
            elif any(p in suspect for p in cell.parts):
                suspect.add(cell.key)
    known = {k: v for k, v in computed.items() if k not in unknown} if unknown else computed
    # Formulas and rules are judged only on values that are fine: one wrong cell, one finding.
    unsure = unknown | suspect

    for cell in form.formulas:
        key = cell.key
        if key in cached and key not in unsure and cached[key] != known[key]:
            findings.append(_mismatch(form, cell, raw[key], cached[key], known))

    failed = [check for check in form.checks
              if not (unsure and any(k in unsure for k in check.bind.values())) and not check.evaluate(known)]
    if failed:
        findings.extend(_rule_findings(ret, failed, known, where))
    return CheckResult(report, known, ret, frozenset(unknown))


def _rule_findings(ret: Return, failed: list[Check], known: Mapping[str, Decimal], where: Any) -> list[Finding]:
    """The findings of the failed checks, each error once: a check on a total column (or row)
    that fails because the same rule fails on its parts (表三第7栏“总计” when 第1栏 is out of
    balance) is folded into the parts' findings."""
    fixed = {(c.rule.id, c.row.id if c.row is not None else c.column.id) for c in failed}
    also: dict[int, list[str]] = {}
    kept: list[Check] = []
    for check in failed:
        line = check.row if check.row is not None else check.column
        parts = [p for p in line.parts if (check.rule.id, p) in fixed]
        if parts:
            label = f"第{line.code}{'行' if check.row is not None else '栏'}“{line.label}”"
            for other in failed:
                other_line = other.row if other.row is not None else other.column
                if other.rule is check.rule and other_line.id in parts:
                    also.setdefault(id(other), []).append(label)
            continue
        kept.append(check)
    return [_rule_finding(ret, c, known, where, also.get(id(c), [])) for c in kept]


def _fmt(value: Decimal) -> str:
    return format(value, "f")


def _note_hint(check: Check) -> str:
    """Where a warning's explanation may go, for its message."""
    return "；" + check.note_hint


def _figure(parsed: V.Parsed) -> dict[str, str]:
    """The figure to type, for content whose number is known but must be written otherwise."""
    return {"expected": _fmt(parsed.value)} if parsed.code == "value.yuan" and parsed.value is not None else {}


def _text_finding(cell: Cell, rc: RawCell, parsed: V.Parsed, skipped: list[str]) -> Finding:
    """The notice for a number typed as text: with its unit (“3件”), or one the sheet's
    totals left out (then it names them: the total was not typed over)."""
    assert parsed.value is not None
    found = parsed.found or V.describe(rc.value)
    if parsed.code == "value.with_unit":
        detail = f"（表中的合计公式不计文本：{'；'.join(skipped)}）" if skipped else ""
        return V.finding("value.with_unit", cell, rc.sheet, rc.cell, found, expected=_fmt(parsed.value),
                         unit=cell.unit.split(V.UNIT_ALTERNATIVES)[0], detail=detail)
    return V.finding("value.text_number", cell, rc.sheet, rc.cell, found, expected=_fmt(parsed.value),
                     detail="；".join(skipped))


def _blank_findings(form: Form, blanks: list[tuple[Cell, str, str]], notes: Mapping[str, str]) -> list[Finding]:
    """One finding per table for its blank input cells, named as ranges of 行次 and 栏次
    (表三第5—23行第2—6栏（F12:J30））; a 情况说明 written anywhere in that table explains it."""
    by_table: dict[str, dict[str, tuple[Cell, str, str]]] = {}
    for item in blanks:
        by_table.setdefault(item[0].table.id, {})[item[0].key] = item
    out = []
    for table in form.tables:
        cells = by_table.get(table.id)
        if not cells:
            continue
        ranges = [_range_text(table, block) for block in _blocks(table, cells)]
        first, sheet, address = next(iter(cells.values()))
        note = next((t.strip() for r in table.rows if (t := notes.get(row_key(first.table, r), "")).strip()), "")
        out.append(make(
            "value.blank",
            indicator=first.key,
            label=first.label if len(cells) == 1 else f"{first.label}等{len(cells)}个单元格",
            sheet=sheet,
            cell=address,
            found="（空白）",
            expected=BLANK_EXPECTED,
            detail=_table_name(form, table) + "、".join(ranges),
            count=str(len(cells)),
            explained=bool(note),
            explanation=note,
        ))
    return out


def _blocks(table: Table, cells: Mapping[str, tuple[Cell, str, str]]) -> list[list[list[tuple[Cell, str, str]]]]:
    """The blank cells of a table as rectangles (rows of cells): runs of neighbouring columns
    in a row, stacked while the next row has the very same run."""
    cols = {c.id: i for i, c in enumerate(table.columns)}
    runs: list[tuple[int, int, int, list[tuple[Cell, str, str]]]] = []  # row index, first col, last col, cells
    for r, row in enumerate(table.rows):
        mine = sorted((item for item in cells.values() if item[0].row is row), key=lambda i: cols[i[0].column.id])
        for item in mine:
            c = cols[item[0].column.id]
            if runs and runs[-1][0] == r and runs[-1][2] == c - 1:
                runs[-1] = (r, runs[-1][1], c, [*runs[-1][3], item])
            else:
                runs.append((r, c, c, [item]))
    blocks: list[tuple[int, int, int, list[list[tuple[Cell, str, str]]]]] = []  # last row, cols, rows of cells
    for r, lo, hi, items in runs:
        for i, (last, blo, bhi, rows) in enumerate(blocks):
            if last == r - 1 and (blo, bhi) == (lo, hi):
                blocks[i] = (r, lo, hi, [*rows, items])
                break
        else:
            blocks.append((r, lo, hi, [items]))
    return [rows for *_, rows in blocks]


def _range_text(table: Table, rows: list[list[tuple[Cell, str, str]]]) -> str:
    """第5—23行第2—6栏（F12:J30）, or 第8行（D11） for one cell of a one-column table (the
    table's name says which sheet)."""
    top, bottom = rows[0][0], rows[-1][-1]
    text = _span(top[0].row.code, bottom[0].row.code, "行")
    if len(table.columns) > 1:
        text += _span(top[0].column.code, rows[0][-1][0].column.code, "栏")
    where = top[2] if top is bottom else f"{top[2]}:{bottom[2]}"
    return f"{text}（{where}）"


def _span(first: str, last: str, what: str) -> str:
    return f"第{first}{what}" if first == last else f"第{first}—{last}{what}"


def _table_name(form: Form, table: Table) -> str:
    """How a message names a table of a form with several: 表三, 表二第二十条第（一）项."""
    if len(form.tables) == 1:
        return ""
    numeral = next((t.split("、")[0] for t in (table.title, table.sheet) if "、" in t), "")
    name = f"表{numeral}" if numeral else table.sheet
    if table.title and not table.title.startswith(numeral + "、"):
        name += table.title
    return name


def _mismatch(form: Form, cell: Cell, rc: RawCell, found: Decimal, known: Mapping[str, Decimal]) -> Finding:
    cells = form.cells
    parts = " + ".join(f"{cells[p].place} {_fmt(known[p])}" for p in cell.parts)
    return V.finding(
        "formula.mismatch", cell, rc.sheet, rc.cell, _fmt(found),
        expected=_fmt(known[cell.key]), detail=f"{parts} = {_fmt(known[cell.key])}",
    )


def _rule_finding(ret: Return, check: Check, known: Mapping[str, Decimal], where: Any,
                  totals_too: Sequence[str] = ()) -> Finding:
    form = ret.form
    cells = form.cells
    anchor = cells[check.anchor]
    involved = list(dict.fromkeys((*check.highlight, *check.bind.values())))
    detail = "、".join(f"{cells[k].place}={_fmt(known[k])}" for k in involved)
    names = {n: cells[k].place for n, k in check.bind.items()}
    env = {n: known[k] for n, k in check.bind.items() if k in known}
    totals = [f"{readable(side, names)}={_fmt(value)}" for side, value in check.rule.expr.sides(env)
              if not isinstance(side, ast.Name | ast.Constant)]
    if totals and len(env) == len(check.bind):
        detail += "；" + "，".join(totals)
    if totals_too:
        detail += f"；{'、'.join(totals_too)}因此同样不符"
    sheet, address = where(anchor)
    fields: dict[str, Any] = {}
    if check.rule.severity == WARNING:
        fields["notes"] = _note_hint(check)
        note = check.explanation(ret.notes)
        if note:
            fields.update(explained=True, explanation=note)
    return make(
        f"rule.{check.rule.severity}",
        severity=check.rule.severity,
        message=check.message.rstrip("。"),
        detail=detail,
        indicator=anchor.key,
        label=anchor.label,
        sheet=sheet,
        cell=address,
        found=_fmt(known[anchor.key]),
        expected=readable(check.rule.expr.tree, names),
        rule=check.id,
        **fields,
    )


_OPS = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥"}


def readable(node: ast.expr, names: Mapping[str, str]) -> str:
    """A rule condition in words for people: ``r3 <= r2`` → ``第3行 ≤ 第2行``."""
    if isinstance(node, ast.BoolOp):
        joiner = " 且 " if isinstance(node.op, ast.And) else " 或 "
        return joiner.join(
            f"（{readable(v, names)}）" if isinstance(v, ast.BoolOp) else readable(v, names)
            for v in node.values
        )
    if isinstance(node, ast.Compare):
        text = readable(node.left, names)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            text += f" {_OPS[type(op)]} {readable(comp, names)}"
        return text
    if isinstance(node, ast.Name):
        return names.get(node.id, node.id)
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.BinOp):
        right = readable(node.right, names)
        if isinstance(node.right, ast.BinOp):
            right = f"({right})"
        return f"{readable(node.left, names)} {'+' if isinstance(node.op, ast.Add) else '-'} {right}"
    if isinstance(node, ast.UnaryOp):
        return f"{'-' if isinstance(node.op, ast.USub) else '+'}{readable(node.operand, names)}"
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "last":
            return "".join(f"上年{names.get(LAST + a.id, a.id)}" for a in node.args if isinstance(a, ast.Name))
        return "(" + " + ".join(readable(a, names) for a in node.args) + ")"
    return ast.unparse(node)  # pragma: no cover - the rule grammar has no other nodes


# ---------------------------------------------------------------- last year


def previous_values(form: Form, prev_form: Form, prev_values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Last year's values on this form's cell keys.

    The same form maps key to key; another form (gk2019 → gk2021) is matched by table id
    and the cell's full label (groups, row and column); a label that is not unique is skipped.
    """
    if prev_form.id == form.id:
        return {k: v for k, v in prev_values.items() if k in form.cells}
    index: dict[tuple[str, str], str | None] = {}
    for cell in prev_form.value_cells:
        pair = (cell.table.id, cell.label)
        index[pair] = None if pair in index else cell.key
    out: dict[str, Decimal] = {}
    for cell in form.cells.values():
        key = index.get((cell.table.id, cell.label))
        if key is not None and key in prev_values:
            out[cell.key] = prev_values[key]
    return out


def compare_years(
    form: Form,
    values: Mapping[str, Decimal],
    prev_form: Form,
    prev_values: Mapping[str, Decimal],
    *,
    notes: Mapping[str, str] | None = None,
) -> list[Finding]:
    """The year-over-year checks (rules using ``last(...)``) of this year's values against last year's.

    A violated check is a ``previous.mismatch`` warning, explained by a 情况说明 on any row it
    involves (``notes`` by `returns.row_key`); a check whose last-year cells cannot be matched in
    last year's form is a ``previous.unmapped`` warning.
    """
    last = previous_values(form, prev_form, prev_values)
    cells = form.cells
    places = layout_of(form).places
    found: list[Finding] = []
    for check in form.previous_checks:
        now = {k for n, k in check.bind.items() if not n.startswith(LAST)}
        before = {k for n, k in check.bind.items() if n.startswith(LAST)}
        if any(k not in values for k in now):
            continue
        anchor = cells[check.anchor]
        common: dict[str, Any] = {
            "indicator": anchor.key, "label": anchor.label,
            "sheet": places[anchor.key].sheet, "cell": places[anchor.key].a1, "rule": check.id,
        }
        note = check.explanation(notes or {})
        if note:
            common.update(explained=True, explanation=note)
        if any(k not in last for k in before):
            missing = "、".join(f"“{cells[k].label}”" for k in sorted(before - set(last)))
            found.append(make(
                "previous.unmapped", severity=WARNING, **common,
                detail=f"{check.message.rstrip('。')}——上年表式（{prev_form.name}）中没有{missing}，无法比对，请人工核对",
            ))
            continue
        if check.evaluate(values, last):
            continue
        names = {n: cells[k].place for n, k in check.bind.items()}
        detail = "、".join(
            f"上年{names[n]}={_fmt(last[k])}" if n.startswith(LAST) else f"{names[n]}={_fmt(values[k])}"
            for n, k in check.bind.items()
        )
        found.append(make(
            "previous.mismatch", severity=WARNING, message=check.message.rstrip("。"), detail=detail,
            found=_fmt(values[anchor.key]), expected=readable(check.rule.expr.tree, names),
            notes=_note_hint(check), **common,
        ))
    return found


def compare_with(result: CheckResult, previous: CheckResult,
                 figures: Mapping[str, Decimal] | None = None) -> bool:
    """Add the year-over-year findings of ``result`` against last year's ``previous`` (in place).

    ``figures``: last year's values to use instead of ``previous``'s own (this unit's row of
    a summary).  Returns False, adding nothing, when either file was not read or, without
    ``figures``, they belong to different units (both agency codes known and different).
    """
    ret, prev = result.ret, previous.ret
    if ret is None or prev is None or not result.values:
        return False
    code, prev_code = ret.identity.agency_code.strip(), prev.identity.agency_code.strip()
    if figures is None and code and prev_code and code != prev_code:
        return False
    last = previous.values if figures is None else figures
    result.report.findings.extend(compare_years(ret.form, result.values, prev.form, last, notes=ret.notes))
    return True


# ---------------------------------------------------------------- files


def check_file(path: Path | str, forms: Sequence[Form] | None = None) -> CheckResult:
    """Read and check one file; a file that cannot be read gives a report, never an exception."""
    from xxgk.read.open import read

    path = Path(path)
    try:
        ret = read(path, forms)
    except ReadError as exc:
        refused = _unreadable(path, exc.code, exc.detail, exc.fields)
        if exc.identity is not None:  # refused, but its unit known: attributed to that unit
            ident = exc.identity
            refused.report.agency_code, refused.report.agency_name = ident.agency_code, ident.agency_name
        return refused
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a batch
        return _unreadable(path, "file.unreadable", f"{type(exc).__name__}: {exc}", {})
    return check_return(ret)


def _unreadable(path: Path, code: str, detail: str, fields: Mapping[str, Any]) -> CheckResult:
    if code not in CATALOGUE:
        detail, code = f"{code}: {detail}" if detail else code, "file.unreadable"
    extra = {k: v for k, v in fields.items() if k not in ("detail", "sheet", "cell")}
    detail = display_name(detail) or "未知原因"
    if path.suffix.lower() == ".et":  # WPS's own spreadsheet format: tried as the spreadsheet it is
        detail = f"{detail}；已按WPS表格（.et）尝试读取，请在WPS中另存为.xlsx后报送"
    finding = make(code, detail=detail, **extra)
    return CheckResult(Report(file=display_name(path), findings=[finding]))


def check_files(paths: Sequence[Path], forms: Sequence[Form] | None = None) -> list[CheckResult]:
    """Check many files, in the order given.

    One process: reading and checking take about 2 ms per return, and sending each result
    (with its `Return` and `Form`) back from worker processes cost more than it saved
    (measured 2.2 ms serial against 4.6 ms with two workers per gk2018 return).
    """
    return [check_file(p, forms) for p in paths]


# ---------------------------------------------------------------- figures without a workbook


def figures_return(
    form: Form,
    figures: Mapping[str, Any],
    *,
    notes: Mapping[str, str] | None = None,
    path: Path | str = "<figures>",
    year: int | None = None,
    agency_code: str = "",
    agency_name: str = "",
) -> Return:
    """A `Return` from figures keyed by cell key, placed where the template puts them.

    Cells not in ``figures`` are blank.  ``notes`` maps a cell key to the 情况说明 of its
    row.  Useful to check published figures (or test data) without a workbook.
    """
    unknown = sorted(set(figures) - set(form.cells))
    if unknown:
        raise KeyError(f"not cells of form {form.id}: {', '.join(unknown)}")
    places = layout_of(form).places
    cells = {
        key: RawCell(key, places[key].sheet, places[key].a1, figures.get(key))
        for key in form.cells
    }
    identity = Identity(
        form=form.id, form_version=form.version, fingerprint=form.fingerprint, year=year,
        agency_code=agency_code, agency_name=agency_name,
    )
    row_notes = {row_key(form.cells[k].table, form.cells[k].row): text for k, text in (notes or {}).items()}
    return Return(path=Path(path), form=form, identity=identity, cells=cells, notes=row_notes)
