"""Draw a form onto an xlsxwriter sheet: the template and the summary share it.

One `FormSheet` writes a visible sheet of the form (title, info and status line,
tables with their header and row-group spans from `layout`, hints, notes,
signature, validation, highlights, page set-up): what it shows is its `Content`, how it
is drawn its `Look` (the working copy or the official one); `new_workbook`, `metadata`
and `write_identity` make and label the workbook around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_cell_to_rowcol
from xlsxwriter.worksheet import Worksheet

from xxgk import __version__
from xxgk.forms import identity as ids
from xxgk.forms.layout import (
    INFO_ROW,
    SIGNATURE,
    TITLE_ROW,
    Layout,
    SheetLayout,
    TableLayout,
    group_spans,
    header_spans,
    layout_of,
)
from xxgk.forms.model import Cell, Form, row_key
from xxgk.forms.xlref import ranges
from xxgk.write.guide import display_width, lines_needed, write_guide
from xxgk.write.livecheck import LiveChecks
from xxgk.write.styles import Styles

VALIDATION = {
    "count": {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "请填写0或正整数",
        "input_message": "没有发生的填0，不要留空，不要填写文字或单位。",
        "error_message": "本格只能填写0或正整数（不能有小数、负数、文字或单位）。",
    },
    "amount": {
        "validate": "decimal", "criteria": ">=", "value": 0,
        "input_title": "请填写金额（万元）",
        "input_message": "以万元为单位，最多保留6位小数；没有发生的填0。",
        "error_message": "本格只能填写0或正数（单位：万元，不要填写文字或单位）。",
    },
    "signed": {
        "validate": "integer", "criteria": "between", "minimum": -(2**31), "maximum": 2**31 - 1,
        "input_title": "请填写整数",
        "input_message": "减少用负数表示；没有变化的填0。",
        "error_message": "本格只能填写整数（可为负数，不能有小数、文字或单位）。",
    },
}
WIDTH_CODE, WIDTH_UNIT, WIDTH_HINT, WIDTH_HINT_WIDE, WIDTH_NOTE = 6, 7, 40, 56, 22
HINT_SHOWN = 2  # checks anchored on one row whose hints the row is tall enough to show at once


def metadata(form: Form, *, year: int, agency: str, code: str = "",
             template_id: str | None = None) -> dict[str, str]:
    """The identity pairs a return workbook carries (see `xxgk.identity`)."""
    return {
        ids.KIND: "return",
        ids.FORM: form.id,
        ids.FORM_VERSION: str(form.version),
        ids.FINGERPRINT: form.fingerprint,
        ids.YEAR: str(year),
        ids.AGENCY_CODE: code,
        ids.AGENCY_NAME: agency,
        ids.TEMPLATE_ID: template_id or uuid.uuid4().hex,
        ids.GENERATED_AT: datetime.now().astimezone().isoformat(timespec="seconds"),
        ids.TOOL_VERSION: __version__,
    }


def new_workbook(target: Path) -> xlsxwriter.Workbook:
    """A workbook that writes text as text: a unit's name is never turned into a number,
    a formula or a link."""
    return xlsxwriter.Workbook(
        str(target), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )


def render_return(form: Form, target: Path, meta: dict[str, str], *,
                  values: Mapping[str, Decimal] | None = None, typed: Mapping[str, str] | None = None,
                  notes: Mapping[str, str] | None = None, signed: Mapping[str, str] | None = None) -> None:
    """A unit's workbook: blank (the template) or holding a return's figures, text, notes and
    signature (``values`` by cell key: inputs typed, formula results cached), so the
    annotated copy of any return looks and works like the template."""
    wb = new_workbook(target)
    styles = Styles(wb)
    layout = layout_of(form)
    numbers = {k: v for k, v in (values or {}).items() if form.cells[k].kind == "input"}
    live = LiveChecks(form, layout, values=numbers if values is not None else None, notes=notes)
    shown = {**numbers, **form.compute({**{c.key: Decimal(0) for c in form.inputs}, **numbers})} if numbers else {}
    title = form.title.format_map(Fields(agency=meta[ids.AGENCY_NAME], year=meta[ids.YEAR]))
    content = Content(title, meta, values={k: v for k, v in shown.items()
                                           if k in numbers or form.cells[k].kind == "formula"},
                      notes=notes or {}, typed=typed or {}, signed=signed or {})
    for i, sheet in enumerate(layout.sheets):
        FormSheet(wb.add_worksheet(sheet.name), styles, form, layout, sheet, live, content).write(i == 0)
    write_guide(wb, styles, form, meta)
    live.write_sheet(wb, styles)
    write_identity(wb, meta, {
        "title": title, "subject": form.name, "company": meta[ids.AGENCY_NAME],
        "keywords": f"{form.id},{meta[ids.YEAR]},{meta[ids.AGENCY_CODE]}",
        "comments": "由xxgk生成。请只填写浅黄色单元格，不要增删行列或修改隐藏工作表。",
    }, styles.plain)
    wb.close()


def write_identity(
    wb: xlsxwriter.Workbook, meta: Mapping[str, str], properties: Mapping[str, str], plain: Format
) -> None:
    """Identity for read-back, twice: a very hidden key/value sheet and custom document
    properties (the reader takes the properties, sparing a sheet parse); plus the standard ones."""
    meta_ws = wb.add_worksheet(ids.META_SHEET)
    for r, (key, value) in enumerate(meta.items()):
        meta_ws.write_string(r, 0, key, plain)
        meta_ws.write_string(r, 1, value, plain)
        wb.set_custom_property(key, value[:255] or " ")
    meta_ws.protect()
    meta_ws.very_hidden()
    wb.set_properties({"author": "xxgk", **{k: v[:255] for k, v in properties.items()}})


class Fields(dict[str, str]):
    """format_map fields: unknown placeholders in a custom title stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def cell_number(value: Decimal | int) -> int | float:
    """A value as a workbook cell holds it: whole numbers as ints, others as the nearest float."""
    if isinstance(value, int):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class Content:
    """What a form sheet shows.  A blank template has a title and identity (``meta``) only.

    A workbook written with figures (the summary) adds ``values`` (cell key → number: typed
    into input cells, cached on formulas), ``formulas`` (input key → a formula that replaces
    the input, locked), ``notes`` (row key → 情况说明), a fixed ``status`` text and the
    ``info`` text in place of 填报单位.  ``typed`` (input key → text a return held there,
    shown as typed) and ``signed`` (the signature fields) redraw a unit's return in the
    template (the annotated copy)."""

    title: str
    meta: Mapping[str, str]
    values: Mapping[str, Decimal] = field(default_factory=dict)
    formulas: Mapping[str, str | None] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    typed: Mapping[str, str] = field(default_factory=dict)
    signed: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None
    info: str | None = None


@dataclass(frozen=True)
class Look:
    """How a form sheet is drawn: the working copy (fills, 校验提示 and 情况说明 columns, live
    status, validation, protection) or, ``official``, the copy that is printed and sent: the
    table alone, the status as a plain line under the info, and ``signature`` labels of its
    own (制表人 …)."""

    official: bool = False
    signature: tuple[str, ...] = SIGNATURE


WORKING = Look()


class FormSheet:
    """One visible sheet of the form: title, info, tables, hints, notes, signature; what it
    shows is ``content``, how it is drawn ``look``."""

    def __init__(self, ws: Worksheet, styles: Styles, form: Form, layout: Layout, sheet: SheetLayout,
                 live: LiveChecks, content: Content, look: Look = WORKING) -> None:
        self.ws, self.s, self.form, self.layout, self.sheet = ws, styles, form, layout, sheet
        self.live, self.title, self.meta = live, content.title, content.meta
        self.values, self.formulas, self.notes = content.values, content.formulas, content.notes
        self.fixed_status, self.info = content.status, content.info
        self.official, self.signature = look.official, look.signature
        self.typed, self.signed = content.typed, content.signed  # text a return holds in input cells; its signature
        official = look.official
        sl = sheet
        self.right = sl.value_col0 + sl.value_cols - 1 if official else sl.last_col  # last printed column
        if official:
            self.look = {"header": styles.plain_header, "input": styles.plain_value,
                         "formula": styles.plain_value, "mark": styles.plain_center}
        else:
            self.look = {"header": styles.header, "input": styles.input, "formula": styles.formula,
                         "mark": styles.mark}
        self.widths: dict[int, float] = {}
        self.lines: dict[int, int] = {}  # row -> wrapped lines its tallest cell needs
        self.min_height: dict[int, float] = {}  # row -> points it needs whatever its text
        self.cells = {(c.table.id, c.row.id, c.column.id): c for c in form.cells.values()}

    def write(self, first: bool) -> None:
        self._columns()
        self._head()
        for tl in self.sheet.tables:
            self._table(tl)
        self._signature()
        if not self.official:
            self._validation()
            self._highlights()
        self._rows()
        self._page(first)

    # -- columns and rows

    def _columns(self) -> None:
        sl = self.sheet
        label_texts = [r.label for tl in sl.tables for r in tl.table.rows]
        longest = max((display_width(t) for t in label_texts), default=20)
        if sl.label_cols == 1:
            self.widths[0] = min(max(longest + 2, 24), 44)
        else:
            for col in range(sl.label_cols - 1):
                self.widths[col] = 10
            self.widths[sl.label_cols - 1] = min(max(longest // 2 + 2, 24), 40)
        self.widths[sl.code_col] = WIDTH_CODE
        if sl.unit_col is not None:
            self.widths[sl.unit_col] = WIDTH_UNIT
        value_width = 12 if sl.value_cols <= 3 else 9
        for i in range(sl.value_cols):
            self.widths[sl.value_col0 + i] = value_width
        if not self.official:
            self.widths[sl.hint_col] = WIDTH_HINT if sl.value_cols > 3 else WIDTH_HINT_WIDE
            self.widths[sl.note_col] = WIDTH_NOTE
        for col, width in self.widths.items():
            self.ws.set_column(col, col, width)

    def _span_width(self, first: int, last: int) -> float:
        return sum(self.widths.get(c, 8.43) for c in range(first, last + 1))

    def _need(self, text: str, row: int, first: int, last: int, rows: int = 1) -> None:
        lines = -(-lines_needed(text, self._span_width(first, last)) // rows)
        self.lines[row] = max(self.lines.get(row, 1), lines)

    def _rows(self) -> None:
        for row in sorted({*self.lines, *self.min_height}):
            lines = self.lines.get(row, 1)
            height = max(15 * lines + 3 if lines > 1 else 0, self.min_height.get(row, 0))
            if height:
                self.ws.set_row(row, height)

    def _put(self, r0: int, c0: int, r1: int, c1: int, text: str, fmt: Format) -> None:
        """Text in a cell or a merged range, noting the height it needs."""
        if (r0, c0) == (r1, c1):
            self.ws.write_string(r0, c0, text, fmt)
        else:
            self.ws.merge_range(r0, c0, r1, c1, text, fmt)
        if text:
            self._need(text, r0, c0, c1, r1 - r0 + 1)

    # -- title, info, status

    def _head(self) -> None:
        sl, s, ws = self.sheet, self.s, self.ws
        ws.merge_range(TITLE_ROW, 0, TITLE_ROW, self.right, self.title, s.title)
        ws.set_row(TITLE_ROW, 36 if display_width(self.title) < self._span_width(0, self.right) * 0.6 else 54)
        info = self.info if self.info is not None else f"填报单位：{self.meta[ids.AGENCY_NAME]}"
        year = f"统计年度：{self.meta[ids.YEAR]}年"
        if self.official:  # one line across the table: who, how many, which year, complete or not
            line = "　".join(x for x in (info, year, self.fixed_status) if x)
            self._put(INFO_ROW, 0, INFO_ROW, self.right, line, s.info_wrap)  # wrapped, not cut at the edge
            return
        self._put(INFO_ROW, 0, INFO_ROW, sl.label_cols - 1, info, s.info)
        self._put(INFO_ROW, sl.code_col, INFO_ROW, sl.hint_col - 1, year, s.info)
        status = self.layout.status(sl)
        formula, cached = self.live.status()
        ws.merge_range(status.row, status.col, status.row, sl.note_col, "", s.status)
        if self.fixed_status is not None:
            ws.write_string(status.row, status.col, self.fixed_status, s.status)
        else:
            ws.write_formula(status.row, status.col, formula, s.status, cached)
        ws.conditional_format(status.row, status.col, status.row, sl.note_col, {
            "type": "cell", "criteria": "==", "value": '"校验通过"', "format": s.status_ok,
        })

    # -- one table

    def _table(self, tl: TableLayout) -> None:
        sl, s, table = self.sheet, self.s, tl.table
        if tl.caption_row is not None:
            self._put(tl.caption_row, 0, tl.caption_row, sl.last_col, table.title, s.caption)
        top, bottom = tl.header_top, tl.header_top + tl.header_rows - 1
        head = self.look["header"]
        self._put(top, 0, bottom, sl.label_cols - 1, table.stub, head)
        self._put(top, sl.code_col, bottom, sl.code_col, "行次", head)
        if sl.unit_col is not None:
            self._put(top, sl.unit_col, bottom, sl.unit_col, "单位" if table.has_units else "", head)
        self._column_headers(tl)
        if not self.official:
            self._put(top, sl.hint_col, bottom, sl.hint_col, "校验提示", head)
            self._put(top, sl.note_col, bottom, sl.note_col, "情况说明", head)
        if tl.code_row is not None:
            self._code_row(tl)
        hints = self.live.hints
        self._row_groups(tl)
        for i, row in enumerate(table.rows):
            r = tl.first_row + i
            label_col = len(row.groups)
            style = s.label_head if row.kind == "header" else s.label
            self._put(r, label_col, r, sl.label_cols - 1, row.label, style)
            self.ws.write_string(r, sl.code_col, row.code, s.center)
            if sl.unit_col is not None:
                self.ws.write_string(r, sl.unit_col, row.unit if table.has_units else "", s.center)
            for j, col in enumerate(table.columns):
                self._value(self.cells[(table.id, row.id, col.id)], r, sl.value_col0 + j)
            if self.official:
                continue
            first = self.cells[(table.id, row.id, table.columns[0].id)]
            hint = self.layout.hint(first)
            if hint in hints:
                live = hints[hint]
                self.ws.write_formula(hint.row, hint.col, live.formula, s.hint, live.cached)
                self.min_height[hint.row] = self._hint_height(live.messages)
            else:
                self.ws.write_blank(hint.row, hint.col, None, s.hint)
            note = self.layout.note(first)
            if row.kind == "header":
                self.ws.write_blank(note.row, note.col, None, s.blank)
            else:
                self.ws.write_string(note.row, note.col, self.notes.get(row_key(first.table, first.row), ""), s.note)

    def _hint_height(self, messages: tuple[str, ...]) -> float:
        """Points that show the two longest hints of a row in full (9-point text, 11 a line)."""
        width = self.widths[self.sheet.hint_col] * 11 / 9
        lines = sorted((lines_needed(m, width) for m in messages), reverse=True)[:HINT_SHOWN]
        return 11 * sum(lines) + 4 if lines else 0

    def _column_headers(self, tl: TableLayout) -> None:
        c0, top = self.sheet.value_col0, tl.header_top
        for span in header_spans(tl.table):
            self._put(top + span.first_row, c0 + span.first_col, top + span.last_row, c0 + span.last_col,
                      span.text, self.look["header"])

    def _code_row(self, tl: TableLayout) -> None:
        sl = self.sheet
        r = tl.code_row
        assert r is not None
        head = self.look["header"]
        self._put(r, 0, r, sl.label_cols - 1, "栏次", head)
        extra = (sl.hint_col, sl.note_col) if not self.official else ()
        for col in (sl.code_col, sl.unit_col, *extra):
            if col is not None:
                self.ws.write_blank(r, col, None, head)
        for j, column in enumerate(tl.table.columns):
            self.ws.write_string(r, sl.value_col0 + j, column.code, head)

    def _row_groups(self, tl: TableLayout) -> None:
        """Group labels (三、本年度办理结果 …) merged down over their rows."""
        for span in group_spans(tl.table):
            self._put(tl.first_row + span.first_row, span.first_col, tl.first_row + span.last_row,
                      span.last_col, span.text, self.s.group)

    def _value(self, cell: Cell, r: int, c: int) -> None:
        look = self.look
        if cell.kind == "header":
            self.ws.write_string(r, c, "——", look["mark"])
        elif self.formulas.get(cell.key):
            self.ws.write_formula(r, c, self.formulas[cell.key] or "", look["formula"], self._cached(cell.key))
        elif cell.kind == "formula":
            parts = ranges((self.layout.places[p] for p in cell.parts), self.sheet.name)
            self.ws.write_formula(r, c, f"=SUM({','.join(parts)})", look["formula"], self._cached(cell.key))
        elif cell.key in self.typed:
            self.ws.write_string(r, c, self.typed[cell.key], look["input"])
        elif cell.key in self.values:
            self.ws.write_number(r, c, self._cached(cell.key), look["input"])
        else:
            self.ws.write_blank(r, c, None, look["input"])

    def _cached(self, key: str) -> int | float:
        """The number a client shows before recalculating (0 in a blank template)."""
        return cell_number(self.values.get(key, Decimal(0)))

    # -- signature, validation, highlights, page

    def _signature(self) -> None:
        sl, s = self.sheet, self.s
        if sl.signature_row is None:
            return
        blank = s.plain_sign if self.official else s.sign_input
        for name, label in zip(SIGNATURE, self.signature, strict=True):
            place = self.layout.signature[name]
            self._put(place.row, 0, place.row, sl.value_col0 - 1, f"{label}：", s.sign_label)
            self._put(place.row, place.col, place.row, min(place.col + 2, self.right), self.signed.get(name, ""), blank)

    def _validation(self) -> None:
        by_kind: dict[str, list[Cell]] = {}
        for cell in self.form.inputs:
            if self.layout.places[cell.key].sheet == self.sheet.name:
                by_kind.setdefault(cell.value, []).append(cell)
        for kind, cells in by_kind.items():
            refs = ranges((self.layout.places[c.key] for c in cells), self.sheet.name)
            first = self.layout.places[cells[0].key]
            options = {**VALIDATION[kind], "error_title": "填写有误", "multi_range": " ".join(refs)}
            self.ws.data_validation(first.row, first.col, first.row, first.col, options)

    def _highlights(self) -> None:
        text = self.live.text_highlight(self.sheet.name)
        if text is not None:  # first: text in a number cell outranks every rule
            refs, formula = text
            row, col = xl_cell_to_rowcol(refs[0].split(":")[0])
            self.ws.conditional_format(row, col, row, col, {
                "type": "formula", "criteria": formula, "format": self.s.error, "multi_range": " ".join(refs),
            })
        for place, formula, severity in self.live.highlights():
            if place.sheet == self.sheet.name:
                fmt = self.s.error if severity == "error" else self.s.warning
                self.ws.conditional_format(place.row, place.col, place.row, place.col,
                                           {"type": "formula", "criteria": formula, "format": fmt})

    def _page(self, first: bool) -> None:
        sl, ws = self.sheet, self.ws
        single = len(sl.tables) == 1
        tl = sl.tables[0]
        ws.freeze_panes(tl.first_row if single else tl.header_top, 0)
        if single:
            ws.repeat_rows(tl.header_top, tl.first_row - 1)
        ws.set_paper(9)
        if sl.value_cols > 4:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 1)  # an official table is printed on one sheet of paper
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.print_area(0, 0, sl.last_row, self.right)
        ws.hide_gridlines(2)
        if first:
            ws.activate()
        if self.official:
            return
        ws.protect("", {
            "format_columns": True, "format_rows": True,
            "select_locked_cells": True, "select_unlocked_cells": True,
        })
        if first:
            start = next((self.layout.places[c.key] for c in self.form.inputs
                          if self.layout.places[c.key].sheet == sl.name), None)
            if start is not None:
                ws.set_selection(start.row, start.col, start.row, start.col)
