"""Reports as departments retype them: the official tables (`printed`) with no template —
merged headers, totals as printed — edited the way real reports differ (a label misprinted,
a row left out, a block of the older format), written as a workbook, a Word document or a
web page."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from xxgk.forms.model import Form
from xxgk.report.printed import PCell, Printed, printed_tables, value_text
from xxgk.report.word import word_document

UNIT = "平潭综合实验区公安局"
Edit = Callable[[list[Printed]], list[Printed]]


def sound_values(form: Form, seed: int = 3) -> dict[str, Decimal]:
    """Figures that satisfy every rule of ``form`` (the 勾稽关系 of table 三 included)."""
    inputs = {c.key: Decimal((i * 7 + seed) % 11) for i, c in enumerate(form.inputs)}
    for c in form.inputs:
        if c.value == "amount":
            inputs[c.key] += Decimal("0.25")
    values = form.compute(inputs)
    t3 = next((t for t in form.tables if t.id == "t3"), None)
    if t3 is None:  # gk2018: every input 1 keeps each part within its whole
        return form.compute(dict.fromkeys(inputs, Decimal(1)))
    total, carried_out, carried_in, new = (r.code for r in (t3.rows[-2], t3.rows[-1], t3.rows[1], t3.rows[0]))
    for col in t3.columns:
        if not col.parts:
            key = f"t3.{{}}.{col.code}".format
            inputs[key(new)] = values[key(total)] + values[key(carried_out)] - values[key(carried_in)]
            assert inputs[key(new)] >= 0
    return form.compute(inputs)


def tables(form: Form, values: Mapping[str, Any]) -> list[Printed]:
    return printed_tables(form, value_text(values))


def title(year: int, unit: str = UNIT) -> str:
    return f"{unit}{year}年政府信息公开工作年度报告"


# the orders real reports title themselves in (Shanghai's put the year first)
TITLES = {
    "unit_first": "{unit}{year}年政府信息公开工作年度报告",
    "year_first": "{year}年{unit}政府信息公开工作年度报告",
    "year_du": "{unit}{year}年度政府信息公开工作年度报告",
    "guanyu": "{unit}关于{year}年度政府信息公开工作的年度报告",
}


# ---------------------------------------------------------------- edits


def relabel(old: str, new: str) -> Edit:
    """Every printed cell reading ``old`` reads ``new`` (a misprint)."""

    def edit(ts: list[Printed]) -> list[Printed]:
        hits = [c for t in ts for c in t.cells if c.text == old]
        assert hits, old
        return [dataclasses.replace(t, cells=tuple(
            dataclasses.replace(c, text=new) if c.text == old else c for c in t.cells)) for t in ts]

    return edit


def at_row(label: str, change: Callable[[Printed, int], Printed]) -> Edit:
    """``change`` applied to the printed table holding the row labelled ``label``, at that row."""

    def edit(ts: list[Printed]) -> list[Printed]:
        out = []
        for t in ts:
            at = [c.row for c in t.cells if c.text == label and c.kind == "label"]
            out.append(change(t, at[0]) if at else t)
        return out

    return edit


def drop_row(label: str) -> Edit:
    """The row labelled ``label`` left out of the printed table."""

    def drop(t: Printed, r: int) -> Printed:
        cells = []
        for c in t.cells:
            if c.row == r and c.rowspan == 1:
                continue
            if c.row <= r < c.row + c.rowspan:
                cells.append(dataclasses.replace(c, rowspan=c.rowspan - 1))
            elif c.row > r:
                cells.append(dataclasses.replace(c, row=c.row - 1))
            else:
                cells.append(c)
        return dataclasses.replace(t, height=t.height - 1, cells=tuple(cells))

    return at_row(label, drop)


def set_value(label: str, column: int, text: str) -> Edit:
    """The ``column``-th value cell (from 1) of the row labelled ``label`` printed as ``text``
    ("" for a cell left blank, "251000元" for a figure with its unit)."""

    def change(t: Printed, r: int) -> Printed:
        cols = sorted(c.col for c in t.cells if c.row == r and c.kind == "value")
        at = cols[column - 1]
        return dataclasses.replace(t, cells=tuple(
            dataclasses.replace(c, text=text) if c.row == r and c.col == at else c for c in t.cells))

    return at_row(label, change)


def add_row(after: str, label: str, numbers: list[str]) -> Edit:
    """A row added below the row labelled ``after`` (in a one-label-column table)."""

    def add(t: Printed, at: int) -> Printed:
        r = at + 1
        cells = [dataclasses.replace(c, row=c.row + 1) if c.row >= r else c for c in t.cells]
        cells.append(PCell(label, r, 0, kind="label"))
        cells += [PCell(n, r, 1 + i, kind="value") for i, n in enumerate(numbers)]
        return dataclasses.replace(t, height=t.height + 1, cells=tuple(cells))

    return at_row(after, add)


def swap(index: int, other: list[Printed]) -> Edit:
    """Printed table ``index`` replaced by ``other``'s (a block of another format)."""

    def edit(ts: list[Printed]) -> list[Printed]:
        return [other[index] if i == index else t for i, t in enumerate(ts)]

    return edit


def apply(ts: list[Printed], *edits: Edit) -> list[Printed]:
    for e in edits:
        ts = e(ts)
    return ts


# ---------------------------------------------------------------- writers


def _number(text: str) -> Any:
    try:
        d = Decimal(text)
    except ArithmeticError:
        return text
    return int(d) if d == d.to_integral_value() else float(d)


def to_xlsx(ts: list[Printed], heading: str, path: Path) -> Path:
    """One sheet, as a clerk retypes the report: title, then each table under its heading,
    merged cells merged, numbers as numbers."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    fmt = wb.add_format({"border": 1, "text_wrap": True})
    ws.write(0, 0, heading)
    r0 = 2
    for t in ts:
        ws.write(r0, 0, t.heading)
        r0 += 1
        for c in t.cells:
            value = _number(c.text) if c.kind == "value" and c.text else c.text
            if c.rowspan > 1 or c.colspan > 1:
                ws.merge_range(r0 + c.row, c.col, r0 + c.row + c.rowspan - 1, c.col + c.colspan - 1, value, fmt)
            elif value != "":
                ws.write(r0 + c.row, c.col, value, fmt)
        r0 += t.height + 1
    wb.close()
    return path


def to_docx(ts: list[Printed], heading: str, path: Path) -> Path:
    word_document(ts, heading).save(str(path))
    return path


def to_html(ts: list[Printed], heading: str, path: Path, encoding: str = "utf-8") -> Path:
    """A saved web page: <table> elements with rowspan/colspan, &nbsp; in blank cells."""
    parts = [f'<html><head><meta charset="{encoding}"><title>{heading}</title></head><body>',
             f"<h1>{heading}</h1>"]
    for t in ts:
        parts.append(f"<p><strong>{t.heading}</strong></p><table border=1>")
        for r in range(t.height):
            parts.append("<tr>")
            for c in sorted((c for c in t.cells if c.row == r), key=lambda c: c.col):
                spans = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f" colspan={c.colspan}" if c.colspan > 1 else "")
                parts.append(f"<td{spans}>{c.text or '&nbsp;'}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path.write_bytes("\n".join(parts).encode(encoding))
    return path


WRITERS = {"xlsx": to_xlsx, "docx": to_docx, "html": to_html}


def write_report(folder: Path, kind: str, form: Form, heading: str, edits: tuple[Edit, ...] = (),
                 values: Any = None) -> Path:
    """The form's tables as a report of ``kind`` (sound figures unless ``values``), edited, under ``heading``."""
    ts = apply(tables(form, values if values is not None else sound_values(form)), *edits)
    return WRITERS[kind](ts, heading, folder / f"r.{kind}")
