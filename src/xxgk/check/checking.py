"""Check one return: cell values parsed, then formula findings, then rule findings.

`check_return` works on a `Return` already read (`check.file` reads one first).  The
`CheckResult` keeps the computed values and the `Return`, so merging and annotating need not
read the file again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from decimal import Decimal
from pathlib import Path

from xxgk.check import values as V
from xxgk.check.formulas import formula_findings
from xxgk.check.rulecheck import Where, rule_findings
from xxgk.files import display_name
from xxgk.forms.findings import Finding, Report, make
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Cell, Form, Table, row_key
from xxgk.read.returns import RawCell, Return
from xxgk.read.tables import DOCUMENT_KINDS

HEADER_EXPECTED = "不填写（或——）"
_ZERO = Decimal(0)
BLANK_EXPECTED = "数字（没有发生的填0）"
NO_UNIT = {  # why the unit is not known, for a workbook and for a document
    False: "表中没有填报单位，表格前也没有写明单位和年度的标题",
    True: "文档中表格前没有“某单位××××年政府信息公开工作年度报告”这样写明单位和年度的标题",
}


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


@dataclass
class CellValues:
    """What the cells of a return hold as numbers, and the value findings on the way.

    ``known``: every input and formula cell whose value is known, formulas recomputed;
    ``cached``: the formula cells' own values as the sheet showed them; ``unsure``: the cells
    whose value is not one the form allows (no number, negative…), and formulas built on them,
    so that formulas and rules judge only values that are fine.  ``empty``: nothing filled in.
    """

    findings: list[Finding] = field(default_factory=list)
    known: dict[str, Decimal] = field(default_factory=dict)
    cached: dict[str, Decimal] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    unsure: set[str] = field(default_factory=set)
    empty: bool = False


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
    findings.extend(_explained_absent(form, ret.findings, ret.notes))
    ident = ret.identity
    if ident.source == "labels" and ident.kind == "return" and not (ident.agency_code.strip() or ident.agency_name.strip()):
        # read by its labels (no template's metadata): its title or 填报单位 line was the only clue
        findings.append(make("file.no_unit", detail=NO_UNIT[ret.kind in DOCUMENT_KINDS]))
    raw = ret.cells
    places = layout_of(form).places

    def where(cell: Cell) -> tuple[str, str]:
        found = raw.get(cell.key)
        if found is not None:
            return found.sheet, found.cell
        place = places[cell.key]
        return place.sheet, place.a1

    values = parse_values(ret, where)
    if values.empty:  # nothing filled in: rows left out of a blank table say nothing more
        findings[:] = [f for f in findings if f.code != "structure.absent"]
        findings.append(make("file.empty"))
        return CheckResult(report, {}, ret, frozenset(form.cells))
    findings.extend(values.findings)
    findings.extend(formula_findings(form, raw, values.cached, values.known, values.unsure))
    findings.extend(rule_findings(ret, values.known, values.unsure, where))
    return CheckResult(report, values.known, ret, frozenset(values.unknown))


def _explained_absent(form: Form, found: list[Finding], notes: Mapping[str, str]) -> list[Finding]:
    """The reader's findings, a row left out (``structure.absent``, its indicator the row's
    key) explained by a 情况说明 written anywhere in its table (一个单位没有规章制定权…)."""
    if not notes or not any(f.code == "structure.absent" for f in found):
        return found
    tables = {t.id: t for t in form.tables}
    out = []
    for f in found:
        table = tables.get(f.indicator.rpartition(".")[0]) if f.code == "structure.absent" else None
        note = table and next((t.strip() for r in table.rows if (t := notes.get(row_key(table, r), "")).strip()), "")
        out.append(dc_replace(f, explained=True, explanation=note) if note else f)
    return out


def parse_values(ret: Return, where: Where) -> CellValues:
    """Every cell's content as a number (blanks and 无/— as 0), with the findings on values:
    missing cells, numbers that are not allowed or typed as text, blanks."""
    form = ret.form
    raw = ret.cells
    already = {f.indicator for f in ret.findings if f.indicator}
    inputs: dict[str, Decimal] = {}
    cached: dict[str, Decimal] = {}
    unknown: set[str] = set()  # no number at all
    suspect: set[str] = set()  # a number, but not one the form allows (negative, fraction…)
    blanks: list[tuple[Cell, str, str]] = []
    blank_totals: list[tuple[Cell, str, str]] = []
    # a total left blank in a table typed by hand (our template's totals are formulas, which a
    # file saved without recalculation shows blank)
    printed = ret.identity.source == "labels"
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
            elif kind == "formula" and rc.cell and printed:  # a total printed blank
                blank_totals.append((cell, rc.sheet, rc.cell))
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
        return CellValues(empty=True)
    findings: list[Finding] = []
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
                    f"{cell.place}合计显示为{V.fmt(shown[key])}，按各分项之和应为{V.fmt(computed[key])}")
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
    if blank_totals:
        findings.extend(_blank_totals(form, blank_totals, computed, ret.notes))

    if unknown or suspect:
        for cell in form.formulas:
            if any(p in unknown for p in cell.parts):
                unknown.add(cell.key)
            elif any(p in suspect for p in cell.parts):
                suspect.add(cell.key)
    known = {k: v for k, v in computed.items() if k not in unknown} if unknown else computed
    # Formulas and rules are judged only on values that are fine: one wrong cell, one finding.
    return CellValues(findings, known, cached, unknown, unknown | suspect)


def _figure(parsed: V.Parsed) -> dict[str, str]:
    """The figure to type, for content whose number is known but must be written otherwise."""
    return {"expected": V.fmt(parsed.value)} if parsed.code == "value.yuan" and parsed.value is not None else {}


def _text_finding(cell: Cell, rc: RawCell, parsed: V.Parsed, skipped: list[str]) -> Finding:
    """The notice for a number typed as text: with its unit (“3件”), or one the sheet's
    totals left out (then it names them: the total was not typed over)."""
    assert parsed.value is not None
    found = parsed.found or V.describe(rc.value)
    if parsed.code == "value.with_unit":
        detail = f"（表中的合计公式不计文本：{'；'.join(skipped)}）" if skipped else ""
        return V.finding("value.with_unit", cell, rc.sheet, rc.cell, found, expected=V.fmt(parsed.value),
                         unit=cell.unit.split(V.UNIT_ALTERNATIVES)[0], detail=detail)
    return V.finding("value.text_number", cell, rc.sheet, rc.cell, found, expected=V.fmt(parsed.value),
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
            detail=table_name(form, table) + "、".join(ranges),
            count=str(len(cells)),
            explained=bool(note),
            explanation=note,
        ))
    return out


SHOWN_TOTALS = 8  # blank totals named one by one with their value, per table


def _blank_totals(form: Form, blanks: list[tuple[Cell, str, str]], computed: Mapping[str, Decimal],
                  notes: Mapping[str, str]) -> list[Finding]:
    """One finding per table for its totals printed blank, each named with the value its
    parts give (the value read for it); a 情况说明 in that table explains it."""
    by_table: dict[str, list[tuple[Cell, str, str]]] = {}
    for item in blanks:
        by_table.setdefault(item[0].table.id, []).append(item)
    out = []
    for table in form.tables:
        items = by_table.get(table.id)
        if not items:
            continue
        first, sheet, address = items[0]
        shown = [f"{c.place}“{c.label}”（{a}）应为{V.fmt(computed[c.key])}" for c, _, a in items[:SHOWN_TOTALS]]
        more = f"等{len(items)}格" if len(items) > SHOWN_TOTALS else ""
        note = next((t.strip() for r in table.rows if (t := notes.get(row_key(table, r), "")).strip()), "")
        out.append(make(
            "formula.blank", indicator=first.key, label=first.label, sheet=sheet, cell=address,
            found="（空白）", expected=V.fmt(computed[first.key]), count=str(len(items)),
            detail=table_name(form, table) + "、".join(shown) + more, explained=bool(note), explanation=note,
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


def table_name(form: Form, table: Table) -> str:
    """How a message names a table of a form with several: 表三, 表二第二十条第（一）项."""
    if len(form.tables) == 1:
        return ""
    numeral = next((t.split("、")[0] for t in (table.title, table.sheet) if "、" in t), "")
    name = f"表{numeral}" if numeral else table.sheet
    if table.title and not table.title.startswith(numeral + "、"):
        name += table.title
    return name
