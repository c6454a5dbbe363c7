"""Workbooks for reader/annotate tests: filled returns built at `layout` positions, plain
three-column sheets like the published seed table, and the seed's figures.

`filled_return` writes a return the way our template lays it out (labels, 行次, units,
values, formulas with cached results, 情况说明, signature block, the very hidden ``_xxgk``
sheet); `plain_sheet` writes a table somebody typed themselves (统计指标 | 单位 | 统计数).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

import lo
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin
from xxgk.forms.identity import Identity
from xxgk.forms.layout import SIGNATURE, layout_of
from xxgk.forms.model import HEADER_MARK, Form, row_key
from xxgk.read.returns import RawCell, Return

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed_2018.tsv"
AGENCY = "沙坡头区机关事务局"


def seed_rows() -> list[tuple[str, str, str, str]]:
    """(行次, 统计指标, 单位, 统计数) as published, 65 rows."""
    with SEED.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t"))
    return [(r[0], r[1], r[2], r[3] if len(r) > 3 else "") for r in rows[1:]]


def seed_values() -> dict[str, Any]:
    """The seed's figures by gk2018 cell key (the 行次), as numbers; blank as None."""
    return {code: (int(v) if v else None) for code, _, _, v in seed_rows()}


def sample_values(form: Form, seed: int = 1) -> dict[str, Any]:
    """Distinct input values for every input cell of ``form``; formulas computed."""
    inputs: dict[str, float] = {c.key: (i * 7 + seed) % 23 for i, c in enumerate(form.inputs)}
    for c in form.inputs:
        if c.value == "amount":
            inputs[c.key] = inputs[c.key] + 0.25
    return form.compute(inputs)


def filled_return(
    path: Path,
    form: Form | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    agency: str = AGENCY,
    code: str = "640502001",
    year: int = 2018,
    notes: Mapping[str, str] | None = None,
    signature: Mapping[str, Any] | None = None,
    meta: bool | Mapping[str, Any] = True,
    header_values: Mapping[str, Any] | None = None,
    summary: bool = False,
) -> Path:
    """A filled return at the template's positions.  ``values`` by cell key (default:
    `sample_values`); formula cells get a formula with the value as cached result;
    ``meta`` False leaves out ``_xxgk``, a mapping overrides metadata entries."""
    form = form or builtin("gk2018")
    values = dict(sample_values(form) if values is None else values)
    lay = layout_of(form, summary=summary)
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    for sl in lay.sheets:
        ws = wb.add_worksheet(sl.name)
        ws.write(0, 0, form.title.format(agency=agency, year=year), bold)
        ws.write(1, 0, f"填报单位：{agency}")
        for tl in sl.tables:
            t = tl.table
            if tl.caption_row is not None:
                ws.write(tl.caption_row, 0, t.title)
            ws.write(tl.header_top, 0, t.stub)
            ws.write(tl.header_top, sl.code_col, "行次")
            if sl.unit_col is not None:
                ws.write(tl.header_top, sl.unit_col, "单位")
            for i, col in enumerate(t.columns):
                c = sl.value_col0 + i
                for depth, g in enumerate(col.groups):
                    ws.write(tl.header_top + depth, c, g)
                ws.write(tl.header_top + len(col.groups), c, col.label)
                if tl.code_row is not None:
                    ws.write(tl.code_row, c, col.code)
            ws.write(tl.header_top, sl.hint_col, "校验提示")
            ws.write(tl.header_top, sl.note_col, "情况说明")
            for row in t.rows:
                r = tl.row_of[row.id]
                for depth, g in enumerate(row.groups):
                    ws.write(r, depth, g)
                ws.write(r, len(row.groups), row.label)
                ws.write_string(r, sl.code_col, row.code)
                if sl.unit_col is not None:
                    ws.write(r, sl.unit_col, row.unit)
        for cell in form.cells.values():
            if lay.sheet_of(cell.table) is not sl:
                continue
            p = lay.places[cell.key]
            if cell.kind == "header":
                v = (header_values or {}).get(cell.key, HEADER_MARK)
                ws.write(p.row, p.col, v)
            elif cell.kind == "formula":
                parts = "+".join(lay.places[k].a1 for k in cell.parts)
                ws.write_formula(p.row, p.col, f"={parts}", None, values.get(cell.key, 0))
            elif values.get(cell.key) is not None:
                ws.write(p.row, p.col, values[cell.key])
        for key, text in (notes or {}).items():
            cell = next(c for c in form.cells.values() if f"{c.table.id}.{c.row.id}" == key)
            if lay.sheet_of(cell.table) is sl:
                p = lay.note(cell)
                ws.write(p.row, p.col, text)
        if sl.signature_row is not None:
            for name, place in lay.signature.items():
                ws.write(place.row, 0, name)
                v = (signature or {}).get(name)
                if v is not None:
                    ws.write(place.row, place.col, v)
    if meta is not False:
        m = wb.add_worksheet(ids.META_SHEET)
        entries: dict[str, Any] = {
            ids.KIND: "return",
            ids.FORM: form.id,
            ids.FORM_VERSION: form.version,
            ids.FINGERPRINT: form.fingerprint,
            ids.YEAR: year,
            ids.AGENCY_CODE: code,
            ids.AGENCY_NAME: agency,
            ids.TEMPLATE_ID: "t-0001",
        }
        if isinstance(meta, Mapping):
            entries.update(meta)
        for i, (k, v) in enumerate(entries.items()):
            m.write_string(i, 0, k)
            if isinstance(v, str):
                m.write_string(i, 1, v)
            else:
                m.write(i, 1, v)
        m.very_hidden()
    wb.close()
    return path


def plain_sheet(
    path: Path,
    rows: Sequence[Sequence[Any]] | None = None,
    *,
    title: Sequence[str] = (f"{AGENCY}政府信息公开情况统计表（2018年度）",),
    header: Sequence[str] = ("统计指标", "单位", "统计数"),
    first_row: int = 0,
    first_col: int = 0,
    engine: str = "xlsxwriter",
) -> Path:
    """A table typed by hand: title line(s), a header, then rows (default: the seed's
    统计指标 | 单位 | 统计数, numbers as numbers)."""
    if rows is None:
        rows = [(label, unit, int(v) if v else None) for _, label, unit, v in seed_rows()]
    grid: list[tuple[int, int, Any]] = []
    r = first_row
    for line in title:
        grid.append((r, first_col, line))
        r += 1
    for c, h in enumerate(header):
        grid.append((r, first_col + c, h))
    r += 1
    for row in rows:
        for c, v in enumerate(row):
            if v is not None and v != "":
                grid.append((r, first_col + c, v))
        r += 1
    if engine == "openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "Sheet1"
        for rr, cc, v in grid:
            ws.cell(rr + 1, cc + 1, v)
        wb.save(path)
    else:
        xw = xlsxwriter.Workbook(str(path))
        ws2 = xw.add_worksheet("Sheet1")
        for rr, cc, v in grid:
            ws2.write(rr, cc, v)
        xw.close()
    return path


def signature_values() -> dict[str, Any]:
    return dict(zip(SIGNATURE, ("张三", "李四", "王五", "0955-7012345", "2019-01-20"), strict=True))


def fill_template(
    path: Path,
    form: Form | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    agency: str = AGENCY,
    code: str = "640502001",
    year: int = 2018,
    notes: Mapping[str, str] | None = None,
    signature: Mapping[str, Any] | None = None,
) -> Path:
    """Our real template (`write_template`), filled in the way a clerk would: inputs typed,
    formulas left alone (their results stored as a spreadsheet program would)."""
    from xxgk.report.annotate import restore_cached
    from xxgk.write.template import write_template

    form = form or builtin("gk2018")
    values = dict(sample_values(form) if values is None else values)
    lay = layout_of(form)
    blank = path.with_name(path.stem + ".blank.xlsx")
    write_template(form, blank, year=year, agency=agency, code=code, overwrite=True)
    # notes come by row (``t1.r12``); `lo.fill` takes them by a cell key of that row
    by_cell = {next(k for k, c in form.cells.items() if row_key(c.table, c.row) == key): text
               for key, text in (notes or {}).items()}
    raw = lo.fill(blank, path.with_name(path.stem + ".raw.xlsx"), form,
                  {c.key: values.get(c.key) for c in form.inputs}, notes=by_cell, signature=signature)
    grids: dict[str, list[list[Any]]] = {}
    for cell in form.formulas:
        p = lay.places[cell.key]
        grid = grids.setdefault(p.sheet, [])
        while len(grid) <= p.row:
            grid.append([])
        row = grid[p.row]
        while len(row) <= p.col:
            row.append(None)
        row[p.col] = values.get(cell.key, 0)
    restore_cached(raw, path, grids)
    blank.unlink()
    raw.unlink()
    return path


def rezip(data: bytes, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    """``data`` (a zip) with some parts replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info)))
        for name, payload in (extra or {}).items():
            zout.writestr(name, payload)
    return out.getvalue()


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
    row.  Test data checked without a workbook.
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
