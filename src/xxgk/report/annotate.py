"""A copy of the department's own workbook with the problems marked in it.

Each problem cell gets a red (error) or amber (warning) fill and a comment with
the message; a first sheet 校验结果 lists every finding with its 行次, cell,
indicator, the value found, what was expected and the 情况说明.  The input file
is never touched: the copy is written to a temporary file beside the target and
moved into place.

* **.xlsx / .xlsm** are edited with openpyxl, which keeps sheets (and their
  hidden / very hidden state, so the ``_xxgk`` identity stays), protection, data
  validation, conditional formats, merged cells and formulas.  openpyxl drops the
  cached results of formulas, so they are written back from the original file:
  the copy shows the same numbers without recalculation and reads back to the
  same `Return`.  (Images and charts are not carried over by openpyxl; returns
  have none.)
* **.xls / .ods** (or an .xlsx openpyxl fails to load) cannot be edited by openpyxl.  When
  the return was read as one of our forms, the copy is that form's template drawn
  again with the return's figures, text, 情况说明 and signature (`formsheet.render_return`:
  layout, borders, live hints and status as in the template), then marked the same
  way; the marks follow the layout, not the original's addresses.  A workbook that is
  not one of our forms gets a content copy instead (every sheet's cells as read).
  Either way the 校验结果 sheet says so.

The status cell of each form sheet agrees with 校验结果: problems the sheet's own
checks cannot see (year-over-year, how the file was read) are added to it, so a
warning never leaves a green 校验通过 behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from xxgk.files import display_name, exists_error, publish, temp_beside
from xxgk.forms.findings import ERROR, EXPLAINED_MARK, INFO, SEVERITY_MARK, WARNING, Finding
from xxgk.forms.layout import layout_of
from xxgk.forms.model import row_key
from xxgk.read.grid import RESULT_SHEET
from xxgk.read.open import open_book
from xxgk.read.returns import Return
from xxgk.read.safety import preflight as safety
from xxgk.read.safety import zipcheck
from xxgk.write.formsheet import metadata, render_return
from xxgk.write.guide import lines_needed
from xxgk.write.styles import ERROR_FILL as SHEET_ERROR_FILL
from xxgk.write.styles import WARNING_FILL as SHEET_WARNING_FILL

__all__ = ["RESULT_SHEET", "AnnotateError", "annotate", "restore_cached", "target_path"]

ERROR_FILL = SHEET_ERROR_FILL.lstrip("#")
WARNING_FILL = SHEET_WARNING_FILL.lstrip("#")  # orange: never mistaken for the yellow of input cells
INFO_FILL = "DDEBF7"
FILLS = {ERROR: ERROR_FILL, WARNING: WARNING_FILL, INFO: INFO_FILL}
ORDER = {ERROR: 0, WARNING: 1, INFO: 2}  # errors first, notices last
HEADERS = ("严重程度", "行次/单元格", "指标", "问题", "填报值", "应为", "情况说明")
WIDTHS = (12, 22, 36, 70, 12, 12, 30)
AUTHOR = "xxgk校验"
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"})


class AnnotateError(Exception):
    """The annotated copy cannot be written (the input changed since it was read, …)."""


def target_path(ret: Return, out_dir: Path) -> Path:
    """Where `annotate` writes the copy of ``ret``'s workbook."""
    src = ret.path
    ext = ".xlsm" if src.suffix.lower() == ".xlsm" else ".xlsx"
    return Path(out_dir) / f"{src.stem}_校验结果{ext}"


def annotate(ret: Return, findings: Sequence[Finding], out_dir: Path, *, overwrite: bool = False) -> Path:
    """Write the marked copy of ``ret.path`` into ``out_dir`` and return its path.

    Raises FileExistsError when the copy exists and ``overwrite`` is false, and
    `AnnotateError` when the input no longer has the content that was read.
    """
    src = Path(ret.path)
    data = src.read_bytes()
    if ret.sha256 and hashlib.sha256(data).hexdigest() != ret.sha256:
        raise AnnotateError(f"{src}: 文件在校验后已被修改，请重新校验 (file changed since it was read)")
    kind = safety.preflight(data).kind
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = target_path(ret, out_dir)
    plain = target.with_suffix(".xlsx")  # what a content copy of an .xlsm becomes
    for path in {target, plain}:
        if path.resolve() == src.resolve():
            raise AnnotateError(f"{src}: 标注副本不能覆盖原文件 (would overwrite the input)")
    if target.exists() and not overwrite:
        raise exists_error(target)
    tmp = temp_beside(target)
    try:
        note, drawn = "", False
        if kind == "xlsx":
            try:
                _annotate_xlsx(data, ret, findings, tmp, keep_vba=target.suffix == ".xlsm")
            except Exception as exc:  # noqa: BLE001 - openpyxl cannot edit every workbook
                note = f"原文件无法直接编辑（{type(exc).__name__}）"
        else:
            note = f"原文件为{src.suffix.lower() or kind}格式，无法在原格式上直接标注"
            if ret.identity.form:  # one of our forms: drawn again in its template
                _annotate_rendered(ret, findings, tmp, note)
                drawn = True
        if note:
            if not drawn:
                _annotate_copy(data, ret, findings, tmp, note)
            if plain != target and plain.exists() and not overwrite:
                raise exists_error(plain)
            target = plain
        publish(tmp, target, overwrite=overwrite)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


# ---------------------------------------------------------------- xlsx: edit in place (a copy)


def _annotate_xlsx(data: bytes, ret: Return, findings: Sequence[Finding], out: Path, *, keep_vba: bool,
                   note: str = "") -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba, rich_text=True, keep_links=True)
    _mark(wb, findings)
    _status(wb, ret, findings)
    _results_sheet(wb, ret, findings, note=note)
    raw = out.with_suffix(".raw")
    try:
        wb.save(raw)
        restore_cached(raw, out, _cached_values(data))
    finally:
        if raw.exists():
            raw.unlink()


def _cached_values(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet of the original as calamine reads it (formula cells: cached results)."""
    book = open_book(data)
    try:
        return {name: book.grid(name).rows for name in book.names}
    finally:
        book.close()


_CELL_RE = re.compile(
    r'<c\b(?P<attrs>[^>]*?)>(?P<f><f\b(?:[^>]*?/>|[^>]*>.*?</f>))(?:<v\s*/>|<v>.*?</v>|<v\s[^>]*>.*?</v>)?</c>',
    re.S,
)
_REF_RE = re.compile(r'\br="([A-Z]+)(\d+)"')
_T_RE = re.compile(r'\s+t="[^"]*"')


def restore_cached(src: Path, dst: Path, grids: Mapping[str, Sequence[Sequence[Any]]]) -> None:
    """Copy the .xlsx ``src`` to ``dst`` giving every formula cell the cached result at the
    same sheet and address in ``grids`` (as python-calamine reads them).

    openpyxl saves formulas without results; without them a reader sees blanks and a
    viewer that does not recalculate shows nothing.
    """
    with zipfile.ZipFile(io.BytesIO(src.read_bytes())) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = {part: name for name, part in zipcheck.sheet_parts(zin).items()}
        for info in zin.infolist():
            payload = zin.read(info)
            name = parts.get(info.filename)
            if name is not None and name in grids:
                payload = _fill_sheet(payload.decode("utf-8"), grids[name]).encode("utf-8")
            zout.writestr(info, payload, compress_type=zipfile.ZIP_DEFLATED)


def _fill_sheet(xml: str, grid: Sequence[Sequence[Any]]) -> str:
    def repl(m: re.Match[str]) -> str:
        attrs = m.group("attrs")
        ref = _REF_RE.search(attrs)
        if ref is None:
            return m.group(0)
        r, c = int(ref.group(2)) - 1, _col_index(ref.group(1))
        value = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
        cached = _cached_xml(value)
        if cached is None:
            return m.group(0)
        kind, text = cached
        attrs = _T_RE.sub("", attrs) + (f' t="{kind}"' if kind else "")
        return f"<c{attrs}>{m.group('f')}<v>{text}</v></c>"

    return _CELL_RE.sub(repl, xml)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_EPOCH = dt.datetime(1899, 12, 30)


def _cached_xml(value: Any) -> tuple[str, str] | None:
    """(t attribute, <v> text) for a cached formula result; None: leave the cell alone."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, int | float):
        return "", repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))
    if isinstance(value, dt.datetime):
        return "", repr((value - _EPOCH).total_seconds() / 86400)
    if isinstance(value, dt.date):
        return "", str((dt.datetime(value.year, value.month, value.day) - _EPOCH).days)
    if isinstance(value, dt.timedelta):
        return "", repr(value.total_seconds() / 86400)
    if isinstance(value, dt.time):
        return "", repr((value.hour * 3600 + value.minute * 60 + value.second) / 86400)
    text = str(value)
    if text in EXCEL_ERRORS:
        return "e", text
    return "str", _escape(text)


def _escape(text: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- xls / ods: drawn again in the template


def _annotate_rendered(ret: Return, findings: Sequence[Finding], out: Path, why: str) -> None:
    """The form's template holding the return's content, marked at the layout's places."""
    form, ident = ret.form, ret.identity
    values: dict[str, Decimal] = {}
    typed: dict[str, str] = {}
    for key, raw in ret.cells.items():
        if form.cells[key].kind != "input" or raw.value is None or raw.value == "":
            continue
        if isinstance(raw.value, int | float) and not isinstance(raw.value, bool):
            values[key] = Decimal(str(raw.value))
        else:
            typed[key] = ILLEGAL_CHARACTERS_RE.sub("", str(raw.value))
    meta = metadata(form, year=ident.year or 0, agency=ident.agency_name, code=ident.agency_code,
                    template_id=ident.template_id or None)
    drawn = out.with_suffix(".drawn")
    try:
        render_return(form, drawn, meta, values=values, typed=typed, notes=ret.notes, signed=ret.signature)
        places = layout_of(form).places
        moved = [replace(f, sheet=places[f.indicator].sheet, cell=places[f.indicator].a1)
                 if f.indicator in places else replace(f, sheet="", cell="") for f in findings]
        note = (f"{why}；本文件按本表式模板重新生成，填入原表的数据、情况说明和签字信息，单元格位置以模板为准。"
                "请在原文件中改正后重新报送。")
        _annotate_xlsx(drawn.read_bytes(), ret, moved, out, keep_vba=False, note=note)
    finally:
        if drawn.exists():
            drawn.unlink()


# ---------------------------------------------------------------- not one of our forms: a content copy


def _annotate_copy(data: bytes, ret: Return, findings: Sequence[Finding], out: Path, why: str) -> None:
    book = open_book(data)
    wb = Workbook()
    default = wb.active
    try:
        for name in book.names:
            if name == RESULT_SHEET:
                continue
            grid = book.grid(name)
            ws = wb.create_sheet(name)
            for r, row in enumerate(grid.rows):
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    cell = ws.cell(r + 1, c + 1)
                    if isinstance(value, str):
                        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                        cell.data_type = "s"  # text such as "=1+1" stays text
                    else:
                        cell.value = value
            for (r0, c0), (r1, c1) in book.merged(name):
                if (r0, c0) != (r1, c1):
                    ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
            state = book.state(name)
            if state != "visible":
                ws.sheet_state = state
    finally:
        book.close()
    if default is not None:
        wb.remove(default)
    _mark(wb, findings)
    note = (
        f"{why}；本文件是按原表内容生成的.xlsx副本"
        "（保留全部单元格内容，公式以计算结果显示，未保留原格式、公式和保护）。请在原文件中改正后重新报送。"
    )
    _results_sheet(wb, ret, findings, note=note)
    wb.save(out)


# ---------------------------------------------------------------- marks and the results sheet


def _mark(wb: Workbook, findings: Iterable[Finding]) -> None:
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            by_cell.setdefault((f.sheet, f.cell.split(":")[0].replace("$", "")), []).append(f)
    for (sheet, ref), items in by_cell.items():
        ws = wb[sheet]
        cell = _anchor(ws, ref)
        if cell is None:
            continue
        worst = min(items, key=lambda f: ORDER.get(f.severity, 1)).severity
        colour = FILLS.get(worst, WARNING_FILL)
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        text = "\n".join(f"{_severity(f)}{f.message}" for f in items)
        if cell.comment is not None and cell.comment.text.strip():
            text = f"{cell.comment.text.rstrip()}\n——\n{text}"
        comment = Comment(text, AUTHOR)
        comment.width = 320
        comment.height = min(60 + 18 * (len(text) // 22 + text.count("\n")), 400)
        cell.comment = comment


def _status(wb: Workbook, ret: Return, findings: Sequence[Finding]) -> None:
    """Add to each form sheet's live status the problems its own checks cannot see."""
    live = {c.id for c in ret.form.checks}
    unseen = [f for f in findings if f.blocking and f.rule not in live and not f.code.startswith("value.")]
    if not unseen:
        return
    layout = layout_of(ret.form)
    extra = f"另有{len(unseen)}项问题见“{RESULT_SHEET}”"
    for sheet in layout.sheets:
        if sheet.name not in wb.sheetnames:
            continue
        cell = wb[sheet.name][layout.status(sheet).a1]
        formula = cell.value
        if not (isinstance(formula, str) and formula.startswith("=IF(") and "校验通过" in formula):
            continue  # not our status formula: a workbook of another layout
        body = formula[1:]
        cell.value = f'=IF({body}="校验通过","",{body}&"；")&"{extra}"'


def _anchor(ws: Worksheet, ref: str) -> Any:
    """The cell at ``ref``, or the top-left cell of the merged range containing it."""
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            return ws.cell(merged.min_row, merged.min_col)
    try:
        return ws[ref]
    except (ValueError, KeyError):
        return None


def _severity(f: Finding) -> str:
    if f.severity == WARNING and f.explained:
        return EXPLAINED_MARK
    return SEVERITY_MARK.get(f.severity, SEVERITY_MARK[WARNING])


def _results_sheet(wb: Workbook, ret: Return, findings: Sequence[Finding], *, note: str) -> None:
    if RESULT_SHEET in wb.sheetnames:
        wb.remove(wb[RESULT_SHEET])
    ws = wb.create_sheet(RESULT_SHEET, 0)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    ident = ret.identity
    errors = sum(f.severity == ERROR for f in findings)
    warnings = sum(f.severity == WARNING for f in findings)
    unexplained = sum(f.severity == WARNING and not f.explained for f in findings)
    verdict = "通过" if not errors and not unexplained else "未通过"
    unit = ident.agency_name or "（未能识别）"
    if ident.agency_code:
        unit += f"（{ident.agency_code}）"
    year = f"{ident.year}年度" if ident.year else "年度未知"
    lines = [
        (f"校验结果：{display_name(ret.path.name)}", Font(bold=True, size=14)),
        (f"单位：{unit}　表式：{ret.form.name}（{year}）", Font()),
        (f"结论：{verdict}　错误{errors}项，提醒{warnings}项（未说明{unexplained}项）", Font(bold=True)),
    ]
    if note:
        lines.append((note, Font(color="9C0006")))
    for i, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(i, 1, text)
        cell.font = font
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=len(HEADERS))
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    if note:
        ws.row_dimensions[len(lines)].height = 32
    head = len(lines) + 2
    for c, (text, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = ws.cell(head, c, text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill(fill_type="solid", start_color="F2F2F2", end_color="F2F2F2")
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(c)].width = width
    ordered = sorted(findings, key=lambda f: ORDER.get(f.severity, 1))
    for r, f in enumerate(ordered, start=head + 1):
        values = (
            _severity(f).strip("【】"),
            _where(ret, f),
            f.label,
            f.message,
            f.found,
            f.expected,
            f.explanation or _note(ret, f),
        )
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c, ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"
            cell.border = border
            cell.alignment = wrap
        colour = FILLS.get(f.severity, WARNING_FILL)
        ws.cell(r, 1).fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        if f.sheet and f.cell and f.sheet in wb.sheetnames:
            link = ws.cell(r, 2)
            quoted = f.sheet.replace("'", "''")
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{f.cell}")
            link.font = Font(color="0563C1", underline="single")
    if not findings:
        ws.cell(head + 1, 1, "未发现问题。")
    for r, f in enumerate(ordered, start=head + 1):  # openpyxl never sizes rows; LibreOffice would not grow them
        texts = (_where(ret, f), f.label, f.message, f.found, f.expected, f.explanation or _note(ret, f))
        need = max(lines_needed(t, w) for t, w in zip(texts, WIDTHS[1:], strict=True))
        ws.row_dimensions[r].height = 14 * need + 4
    ws.freeze_panes = ws.cell(head + 1, 1)
    ws.print_title_rows = f"{head}:{head}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0


def _where(ret: Return, f: Finding) -> str:
    cell = ret.form.cells.get(f.indicator) if f.indicator else None
    at = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else ""
    if cell is not None:
        return f"{cell.place}（{at}）" if at else cell.place
    return at or "全表"


def _note(ret: Return, f: Finding) -> str:
    cell = ret.form.cells.get(f.indicator) if f.indicator else None
    return ret.notes.get(row_key(cell.table, cell.row), "") if cell is not None else ""
