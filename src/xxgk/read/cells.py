"""An open book → `Return`: identify the form, match its tables, read every form cell.

A workbook from our template carries its identity in the very hidden ``_xxgk``
sheet and has every cell where `layout` puts it; that is checked cheaply and
read by position.  Anything else — rows inserted or deleted, columns moved, a
different template version, the metadata lost because the table was re-typed,
or a table that never came from us — is read by matching the form's row labels
(and 行次 codes) in order, so a number is only ever taken from the row whose
label names it.  What cannot be matched exactly is refused with a `ReadError`
naming the rows or columns that differ.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from xxgk.forms.findings import Finding, make
from xxgk.forms.identity import Identity
from xxgk.forms.layout import Layout, layout_of
from xxgk.forms.model import Form
from xxgk.read import cellxml
from xxgk.read.grid import Book, Document, cell_text, is_number
from xxgk.read.hidden import shown
from xxgk.read.identify import identify, identity, metadata
from xxgk.read.matches import FormMatch, cell_places
from xxgk.read.positional import positional
from xxgk.read.returns import RawCell, ReadError, Return
from xxgk.read.tablematch import search


def read_book(book: Book, forms: list[Form], digest: str, path: Path | None, props: dict[str, Any]) -> Return:
    """The return in ``book``; a refusal still says whose file it is when the metadata does."""
    meta = metadata(book, props)
    try:
        return _read_matched(book, forms, digest, path, meta)
    except ReadError as exc:  # refused, but whose file it is may still be known
        if meta is not None:
            exc.identity = identity(meta)
        raise


def _read_matched(book: Book, forms: list[Form], digest: str, path: Path | None,
                  meta: dict[str, Any] | None) -> Return:
    findings: list[Finding] = []
    form: Form | None = None
    ident: Identity
    match: FormMatch | None = None
    lay: Layout | None = None
    if meta is not None:
        ident = identity(meta)
        same = [f for f in forms if f.id == ident.form]
        exact = [f for f in same if f.fingerprint == ident.fingerprint]
        if exact:
            form = exact[0]
            lay = layout_of(form, summary=ident.kind == "summary")
            match = positional(book, form, lay)
            if match is None:
                match = search(book, form, lay)
        elif same:
            form = max(same, key=lambda f: f.version)
            findings.append(
                make(
                    "file.form_changed",
                    found=f"{ident.form} 第{ident.form_version}版（{ident.fingerprint or '无指纹'}）",
                    expected=f"{form.id} 第{form.version}版（{form.fingerprint}）",
                )
            )
            match = search(book, form, None)
    if match is None:
        form, match, title = identify(book, forms, meta)
        if meta is None:
            ident = Identity(form=form.id, form_version=form.version, source="labels")
        else:  # metadata of an unknown form: keep who it is from, trust the labels for what
            ident.form, ident.form_version, ident.fingerprint, ident.source = form.id, form.version, "", "labels"
        if ident.year is None:
            ident.year = title.year
        if not ident.agency_name:
            ident.agency_name = title.agency
    assert form is not None
    match = shown(book, form, lay, match)
    findings.extend(match.findings)
    if isinstance(book, Document):  # a report's other tables (信息处理费 in 2025 reports…)
        used = {tm.sheet for tm in match.tables.values()}
        unused = [n for n in book.names if n not in used and any(is_number(v) for row in book.grid(n).rows for v in row)]
        if unused:
            findings.append(make("structure.ignored", detail="文档中的" + "、".join(unused)))
    cells, notes = read_cells(book, form, match)
    cells = cellxml.amend(book.preflight, cells, (c.key for c in form.inputs), formulas=ident.kind != "summary")
    note_cols = {tid: tm.note_col for tid, tm in match.tables.items() if tm.note_col is not None}
    return Return(
        path=path or Path(""),
        kind=book.kind,
        form=form,
        identity=ident,
        cells=cells,
        notes=notes,
        note_cols=note_cols,
        signature=match.signature,
        findings=findings,
        sha256=digest,
    )


_raw_cell = partial(tuple.__new__, RawCell)  # RawCell(*fields), without its Python-level __new__


def read_cells(book: Book, form: Form, match: FormMatch) -> tuple[dict[str, RawCell], dict[str, str]]:
    """Every form cell's raw content and every row's 情况说明, where the match found them."""
    cells: dict[str, RawCell] = {}
    notes: dict[str, str] = {}
    for table in form.tables:
        tm = match.tables[table.id]
        rows, sheet = book.grid(tm.sheet).rows, tm.sheet
        if match.plan is not None:
            plan = match.plan[table.id]
            places, note_rows = plan.cells, plan.notes
        else:
            places, note_rows = cell_places(form, table, tm.rows, tm.cols)
        try:  # every cell inside the grid python-calamine returned: the usual case
            cells.update({
                key: _raw_cell((key, sheet, address, None if (v := rows[r][c]) == "" else v))
                for key, r, c, address in places
            })
        except IndexError:  # a table reaching past the used area: what lies beyond is blank
            get = book.grid(tm.sheet).get
            for key, r, c, address in places:
                cells[key] = _raw_cell((key, sheet, address, get(r, c)))
        if len(places) < len(form.table_cells[table.id]):  # rows or columns the return has not: blank, nowhere
            for cell in form.table_cells[table.id]:
                cells.setdefault(cell.key, _raw_cell((cell.key, sheet, "", None)))
        if tm.note_col is not None:
            nc, height = tm.note_col, len(rows)
            written = [
                (key, v) for key, r in note_rows
                if r < height and nc < len(rows[r]) and (v := rows[r][nc]) is not None and v != ""
            ]
            for key, value in written:
                note = cell_text(value)
                if note:
                    notes[key] = note
    return cells, notes
