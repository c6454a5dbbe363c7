"""The annual report's tables 二、三、四 in Word (.docx), filled from a checked return or a
summary, ready to paste into the report.

The tables are drawn as the notice prints them (`printed`): merged headers, 宋体 body and
黑体 headings (East Asian fonts set explicitly, so Word and WPS do not fall back to a
Latin font), A4 portrait.  The document's title names the unit (or region) and the year,
so reading it back (`read.docx`) gives the same figures, form and year.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.run import Run

from xxgk.check.checking import CheckResult
from xxgk.check.file import check_file
from xxgk.files import write_atomically
from xxgk.forms.model import Form
from xxgk.report.printed import Printed, printed_tables, value_text

BODY_FONT, HEAD_FONT = "宋体", "黑体"
TITLE_SIZE, HEADING_SIZE = Pt(16), Pt(14)
MARGIN = Mm(20)
# cell text size by printed width: table 四's 15 columns fit A4 portrait at 8 pt
_SIZES = ((6, Pt(10.5)), (10, Pt(9)), (99, Pt(8)))


class ReportError(ValueError):
    """A return or summary the report cannot be filled from; the message is Chinese."""


def document_title(who: str, year: int | None) -> str:
    """The document title; `read.tables.report_title` reads unit and year back from it."""
    return f"{who}{year or ''}年政府信息公开工作年度报告"


def figures(path: Path | str) -> tuple[CheckResult, Form, str, int | None]:
    """A return or summary read and checked; refused (`ReportError`) unless it is free of
    errors and every figure is known — a report must not print a number that is wrong."""
    result = check_file(path)
    ret = result.ret
    if ret is None:
        raise ReportError("；".join(f.message for f in result.report.findings) or "文件无法读取")
    errors = [f.message for f in result.report.findings if f.severity == "error"]
    if errors or result.unknown:
        shown = "；".join(errors[:3]) + (f"等{len(errors)}项" if len(errors) > 3 else "")
        raise ReportError(f"{Path(path).name}未通过校验，不能据此生成报告表格：{shown or '有无法识别的数值'}")
    ident = ret.identity
    who = ident.region if ident.kind == "summary" and ident.region else ident.agency_name
    return result, ret.form, who, ident.year


def write_report(source: Path | str, output: Path | str, *, overwrite: bool = False) -> Path:
    """``xxgk report``: tables 二、三、四 of ``source`` (a return or summary) into ``output``."""
    result, form, who, year = figures(source)
    return write_docx(form, result.values, document_title(who, year), output, overwrite=overwrite)


def write_docx(form: Form, values: Mapping[str, Decimal | int | float | str | None], title: str,
               output: Path | str, *, overwrite: bool = False) -> Path:
    """The printed tables of ``form`` filled with ``values`` (by cell key) under ``title``."""
    tables = printed_tables(form, value_text(values))
    return write_atomically(output, lambda tmp: word_document(tables, title).save(str(tmp)), overwrite=overwrite)


def word_document(tables: list[Printed], title: str) -> docx.document.Document:
    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = MARGIN
    doc.core_properties.title = title
    _paragraph(doc, title, HEAD_FONT, TITLE_SIZE, center=True)
    usable = section.page_width - 2 * MARGIN
    for table in tables:
        _paragraph(doc, table.heading, HEAD_FONT, HEADING_SIZE)
        _table(doc, table, usable)
    return doc


def _paragraph(doc: docx.document.Document, text: str, font: str, size: Pt, *, center: bool = False) -> None:
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(text), font, size, bold=font == HEAD_FONT)


def _font(run: Run, name: str, size: Pt, *, bold: bool = False) -> None:
    run.font.name, run.font.size, run.font.bold = name, size, bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _table(doc: docx.document.Document, printed: Printed, usable: int) -> None:
    size = next(s for limit, s in _SIZES if printed.width <= limit)
    t = doc.add_table(rows=printed.height, cols=printed.width)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    label_cols = max((c.col + c.colspan for c in printed.cells if c.kind == "label"), default=0)
    widths = _widths(printed.width, label_cols, usable)
    for column, width in zip(t.columns, widths, strict=True):
        column.width = width
    for row in t.rows:
        for i, cell in enumerate(row.cells):
            cell.width = widths[i]
    for pc in printed.cells:
        cell = t.cell(pc.row, pc.col)
        if pc.rowspan > 1 or pc.colspan > 1:
            cell = cell.merge(t.cell(pc.row + pc.rowspan - 1, pc.col + pc.colspan - 1))
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT if pc.kind == "label" else WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(pc.text), BODY_FONT, size, bold=pc.kind == "head" and pc.rowspan * pc.colspan > 1)
    doc.add_paragraph()


def _widths(width: int, label_cols: int, usable: int) -> list[int]:
    """Label columns share 40% of the line (half where groups take columns of their own;
    the leaf label widest), value columns the rest."""
    if not label_cols:
        return [usable // width] * width
    labels = usable * 2 // 5 if label_cols == 1 else usable // 2
    values = (usable - labels) // (width - label_cols)
    if label_cols == 1:
        heads = [labels]
    else:
        side = labels // (2 * (label_cols - 1))
        heads = [side] * (label_cols - 1) + [labels - side * (label_cols - 1)]
    return heads + [values] * (width - label_cols)
