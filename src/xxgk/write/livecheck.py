"""The checks a template runs by itself while a clerk types, from the form's own rules.

Each `Check` becomes one row of a very hidden sheet: a violated flag computed
by the rule's Excel rendering, whether its anchor row carries an explanation,
and the hint text.  The visible sheets only point at that sheet (hint and
status cells) or repeat the condition (highlights), so the verdict in the sheet
is the verdict `xxgk check` reaches from the same numbers.

Clerks paste text into number cells ("约10", or "12" stored as text).  Every cell
a live formula reads goes through ``N()`` (text counts as 0, as ``SUM`` already
treats it in the totals), so no formula turns into ``#VALUE!``; and every input
cell holding text is itself a problem, named in its row's hint ("E8不是数字").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.check.rulecheck import note_words
from xxgk.forms.findings import EXPLAINED_MARK, SEVERITY_MARK
from xxgk.forms.identity import CHECK_SHEET
from xxgk.forms.layout import Layout, Place, a1
from xxgk.forms.model import Check, Form
from xxgk.forms.xlref import quote, ranges, ref
from xxgk.write.styles import Styles

HEADERS = ("编号", "类别", "违反", "提示信息", "情况说明单元格", "已说明", "计为问题", "提示文本")
VIOLATED, EXPLAINED, PROBLEM, HINT = 2, 5, 6, 7  # columns of the check sheet
TOTALS_COL = 10  # K: problems (row 0), blank input cells (row 1), input cells holding text (row 2)
NOT_A_NUMBER = "不是数字，请改为数字"


def status_text(problems: int, blanks: int) -> str:
    """What the status cell shows; the template's formula computes the same text."""
    if problems == 0 and blanks == 0:
        return "校验通过"
    parts = [f"发现{problems}个问题"] if problems else []
    if blanks:
        parts.append(f"尚有{blanks}格未填写")
    return "，".join(parts)


def note_places(form: Form, layout: Layout, check: Check) -> tuple[Place, ...]:
    """The 情况说明 cells of the rows ``check`` involves, its anchor's first."""
    table = form.table_cells[check.rule.table.id]
    return tuple(dict.fromkeys(layout.note(next(c for c in table if c.row is row)) for row in check.note_rows))


def hint_text(check: Check, notes: tuple[Place, ...]) -> str:
    """A check in the template's words: its message, and for a warning the Excel cells where
    its 情况说明 goes (``notes``), as `xxgk check` says it."""
    if check.rule.severity != "warning":
        return check.message
    return f"{check.message}{note_words([p.a1 for p in notes])}。"


@dataclass(frozen=True)
class Hint:
    formula: str
    cached: str
    messages: tuple[str, ...]  # every text the checks anchored here may show, mark included


@dataclass(frozen=True)
class LiveCheck:
    check: Check
    row: int  # on the check sheet
    notes: tuple[Place, ...]  # the 情况说明 cells of the rows the rule involves, its anchor's first
    violated: bool  # on the values the workbook is written with (the cached result)
    explained: bool  # one of those 情况说明 is filled in those values

    @property
    def warning(self) -> bool:
        return self.check.rule.severity == "warning"

    @property
    def problem(self) -> bool:
        return self.violated and not (self.warning and self.explained)

    @property
    def text(self) -> str:
        return hint_text(self.check, self.notes)

    @property
    def prefix(self) -> str:
        return EXPLAINED_MARK if self.warning and self.explained else SEVERITY_MARK[self.check.rule.severity]


class LiveChecks:
    """Formulas for one form: check sheet rows, hints, status, highlights.

    ``values`` (every cell key, exact decimals) and ``notes`` (row key → 情况说明) are
    what the workbook is written with; they only set the cached results, which for
    a blank template are computed on zeros.
    """

    def __init__(self, form: Form, layout: Layout, *, values: Mapping[str, Decimal] | None = None,
                 notes: Mapping[str, str] | None = None) -> None:
        self.form, self.layout = form, layout
        zeros = {c.key: Decimal(0) for c in form.inputs}
        computed = form.compute({**zeros, **(values or {})})
        notes = notes or {}
        self.items = []
        for i, check in enumerate(form.checks):
            self.items.append(LiveCheck(
                check, i + 1, note_places(form, layout, check), violated=not check.evaluate(computed),
                explained=bool(check.explanation(notes)),
            ))
        self.blanks = sum(c.key not in (values or {}) for c in form.inputs)

    def _at(self, row: int, col: int) -> str:
        return f"{quote(CHECK_SHEET)}!{ref(Place(CHECK_SHEET, row, col), CHECK_SHEET, absolute=True)}"

    def condition(self, check: Check, here: str | None, *, absolute: bool = False) -> str:
        """The rule as an Excel condition over the form's cells, from sheet ``here``; every cell
        read through ``N()`` (text is 0 there, as in ``SUM``, and flagged on its own)."""
        places = self.layout.places
        return check.rule.expr.to_excel(
            lambda name: f"N({ref(places[check.bind[name]], here, absolute=absolute)})")

    @cached_property
    def hints(self) -> dict[Place, Hint]:
        """Hint cell → the hint joining the messages of the checks anchored on its row and
        a "不是数字" line for each of the row's input cells holding text."""
        by_place: dict[Place, list[LiveCheck]] = {}
        typed: dict[Place, list[Place]] = {}
        for item in self.items:
            by_place.setdefault(self.layout.hint(self.form.cells[item.check.anchor]), []).append(item)
        for cell in self.form.inputs:
            typed.setdefault(self.layout.hint(cell), []).append(self.layout.places[cell.key])
        out = {}
        mark = SEVERITY_MARK["error"]
        for place in sorted({*by_place, *typed}, key=lambda p: (p.sheet, p.row)):
            items, cells = by_place.get(place, []), typed.get(place, [])
            parts = [self._at(i.row, HINT) for i in items]
            parts += [f'IF(ISTEXT({c.a1}),CHAR(10)&"{mark}{c.a1}{NOT_A_NUMBER}","")' for c in cells]
            cached = "\n".join(i.prefix + i.text for i in items if i.violated)
            messages = tuple(SEVERITY_MARK[i.check.rule.severity] + i.text for i in items)
            out[place] = Hint(f"=MID({'&'.join(parts)},2,32000)", cached, messages)
        return out

    @property
    def problems(self) -> int:
        return sum(i.problem for i in self.items)

    def status(self) -> tuple[str, str]:
        """Formula and cached text of the status cell."""
        problems, blanks = self._at(0, TOTALS_COL), self._at(1, TOTALS_COL)
        formula = (
            f'=IF({problems}+{blanks}=0,"校验通过",'
            f'IF({problems}>0,"发现"&{problems}&"个问题","")'
            f'&IF(AND({problems}>0,{blanks}>0),"，","")'
            f'&IF({blanks}>0,"尚有"&{blanks}&"格未填写",""))'
        )
        return formula, status_text(self.problems, self.blanks)

    def text_highlight(self, sheet: str) -> tuple[list[str], str] | None:
        """The input cells of ``sheet`` as ranges and one conditional-format formula, relative to
        the first range's top-left cell, that turns a cell holding text red (one rule for all:
        a rule per cell would cost the template's writing time)."""
        cells = [p for p in (self.layout.places[c.key] for c in self.form.inputs) if p.sheet == sheet]
        if not cells:
            return None
        refs = ranges(cells, sheet)
        return refs, f"=ISTEXT({refs[0].split(':')[0]})"

    def highlights(self) -> list[tuple[Place, str, str]]:
        """(cell, conditional-format formula, severity) for every cell a rule highlights; errors first."""
        out: list[tuple[Place, str, str]] = []
        for severity in ("error", "warning"):
            for item in self.items:
                if item.check.rule.severity != severity:
                    continue
                for key in item.check.highlight:
                    place = self.layout.places[key]
                    condition = self.condition(item.check, place.sheet, absolute=True)
                    out.append((place, f"=NOT({condition})", severity))
        return out

    def write_sheet(self, wb: Workbook, styles: Styles) -> None:
        """The very hidden check sheet: one row per check, totals in column K.

        Its cells carry the body font too: with the default (Calibri, no CJK glyphs)
        LibreOffice saves every mixed Chinese/Latin text as rich-text runs."""
        ws = wb.add_worksheet(CHECK_SHEET)
        plain = styles.plain
        for col, text in enumerate(HEADERS):
            ws.write_string(0, col, text, plain)
        for item in self.items:
            self._write_row(ws, item, plain)
        n = len(self.items)
        flags = f"G2:G{n + 1}" if n else "0"
        ws.write_string(0, TOTALS_COL - 1, "问题数", plain)
        ws.write_formula(0, TOTALS_COL, f"=SUM({flags})+{a1(2, TOTALS_COL)}", plain, self.problems)
        ws.write_string(1, TOTALS_COL - 1, "未填写", plain)
        inputs = [self.layout.places[c.key] for c in self.form.inputs]
        ws.write_formula(1, TOTALS_COL, f"={len(inputs)}-{_counts('COUNTA', inputs)}", plain, self.blanks)
        ws.write_string(2, TOTALS_COL - 1, "非数字", plain)
        ws.write_formula(2, TOTALS_COL, f"={_counts('COUNTA', inputs)}-{_counts('COUNT', inputs)}", plain, 0)
        ws.set_column(3, 3, 80)
        ws.protect()
        ws.very_hidden()

    def _write_row(self, ws: Worksheet, item: LiveCheck, plain: Format) -> None:
        r, check = item.row, item.check
        ws.write_string(r, 0, check.id, plain)
        ws.write_string(r, 1, check.rule.severity, plain)
        ws.write_formula(r, VIOLATED, f"=IF({self.condition(check, None)},0,1)", plain, int(item.violated))
        ws.write_string(r, 3, item.text, plain)
        notes = [ref(p, None) for p in item.notes]
        ws.write_string(r, 4, ",".join(notes), plain)
        row1 = r + 1  # 1-based row for same-sheet references
        if item.warning:
            explained = f"=IF(LEN(TRIM({'&'.join(notes)}))>0,1,0)"
            ws.write_formula(r, EXPLAINED, explained, plain, int(item.explained))
            ws.write_formula(r, PROBLEM, f"=IF(AND(C{row1}=1,F{row1}=0),1,0)", plain, int(item.problem))
            prefix = f'IF(F{row1}=1,"{EXPLAINED_MARK}","{SEVERITY_MARK["warning"]}")'
        else:
            ws.write_number(r, EXPLAINED, 0, plain)
            ws.write_formula(r, PROBLEM, f"=C{row1}", plain, int(item.problem))
            prefix = f'"{SEVERITY_MARK["error"]}"'
        cached = "\n" + item.prefix + item.text if item.violated else ""
        ws.write_formula(r, HINT, f'=IF(C{row1}=1,CHAR(10)&{prefix}&D{row1},"")', plain, cached)


def _counts(function: str, inputs: list[Place]) -> str:
    """``COUNTA`` (filled) or ``COUNT`` (numbers) over the input cells, as one sum of calls of
    at most 255 ranges each: blanks are their number minus COUNTA, text cells COUNTA − COUNT."""
    if not inputs:
        return "0"
    refs = ranges(inputs, None)
    calls = [f"{function}({','.join(refs[i : i + 255])})" for i in range(0, len(refs), 255)]
    return "(" + "+".join(calls) + ")"
