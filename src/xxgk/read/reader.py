"""File → `Return`: identify the form, year and agency, and read every form cell.

A workbook from our template carries its identity in the very hidden ``_xxgk``
sheet and has every cell where `layout` puts it; that is checked cheaply and
read by position.  Anything else — rows inserted or deleted, columns moved, a
different template version, the metadata lost because the table was re-typed,
or a table that never came from us — is read by matching the form's row labels
(and 行次 codes) in order, so a number is only ever taken from the row whose
label names it.  What cannot be matched exactly is refused with a `ReadError`
naming the rows or columns that differ.

File names mean nothing here; `safety.check` vets the bytes before
python-calamine parses them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import python_calamine as pc

from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin_forms
from xxgk.forms.findings import Finding, make
from xxgk.forms.identity import Identity
from xxgk.forms.labels import QUOTES, align_near, nearest
from xxgk.forms.layout import SIGNATURE, Layout, SheetLayout, TableLayout, a1, layout_of
from xxgk.forms.model import HEADER_MARK, Form, Older, Row, Table
from xxgk.read import cellxml, xmlscan
from xxgk.read.docx import read_docx
from xxgk.read.html import read_html
from xxgk.read.returns import RawCell, ReadError, Return
from xxgk.read.safety import preflight as safety
from xxgk.read.tables import DOCUMENT_KINDS, Tables, report_title

__all__ = ["RESULT_SHEET", "Book", "default_forms", "norm", "open_book", "open_file", "read", "read_bytes"]

RESULT_SHEET = "校验结果"  # the sheet `annotate` puts first; never part of a return

# Header texts of columns that hold no form values.
CODE_HEADERS = frozenset({"行次", "序号", "栏次", "编号"})
UNIT_HEADERS = frozenset({"单位", "计量单位", "统计单位"})
NOTE_HEADERS = frozenset({"情况说明", "说明", "备注", "备注说明", "填报说明"})
HINT_HEADERS = frozenset({"校验提示", "校验结果", "校验", "提示", "审核提示"})
_AUX = CODE_HEADERS | UNIT_HEADERS | NOTE_HEADERS | HINT_HEADERS
HEADER_BAND = 8  # rows above a table searched for its column headers
TRAILING = 40  # rows below a table searched for extra rows and the signature block
MIN_SHARE = 0.5  # share of a form's labels found before a non-matching sheet is called a variant
TITLE_CELL, TITLE_TEXT = 200, 1000  # characters of one cell, and of all, above a table read for its title


# ---------------------------------------------------------------- normalisation

_FOLD: dict[str, str | None] = {"、": ".", "\u200b": None, "\ufeff": None, "\u00ad": None, "\u2060": None}
_TRANS = {**str.maketrans(_FOLD), **QUOTES}


@lru_cache(maxsize=65536)
def _norm_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).translate(_TRANS).casefold()


def norm(value: Any) -> str:
    """Label/行次 comparison form: NFKC (full/half-width brackets, digits, spaces), no
    whitespace at all, 、 read as ., every quote as ", case folded; an integral number as its digits."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return str(value).casefold()
    return _norm_text(str(value))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        text = norm(value).replace(",", "")
        return bool(text) and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text) is not None
    return False


def _text(value: Any) -> str:
    """A cell value as text for notes and the signature block."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------- the workbook


class _Grid:
    """One sheet as absolute 0-based rows, with normalised text computed on demand."""

    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name, self.rows = name, rows
        self._norms: list[list[str] | None] | None = None

    @property
    def height(self) -> int:
        return len(self.rows)

    def get(self, r: int, c: int) -> Any:
        if r < 0 or c < 0:
            return None
        try:
            v = self.rows[r][c]
        except IndexError:  # beyond the used area: blank
            return None
        return None if v == "" else v

    def text(self, r: int, c: int) -> str:
        return norm(self.get(r, c))

    @property
    def norms(self) -> list[list[str]]:
        """Normalised text of every string cell ("" elsewhere), row by row."""
        return [self.norm_row(r) for r in range(len(self.rows))]

    def norm_row(self, r: int) -> list[str]:
        if self._norms is None:
            self._norms = [None] * len(self.rows)
        got = self._norms[r]
        if got is None:
            got = self._norms[r] = [norm(v) if isinstance(v, str) else "" for v in self.rows[r]]
        return got

    def width(self, r: int) -> int:
        return len(self.rows[r]) if 0 <= r < len(self.rows) else 0


class Book:
    """A workbook open in python-calamine, its sheets read into grids on demand."""

    title = ""  # a document's title text (see `_Document`)

    def __init__(self, wb: pc.CalamineWorkbook, preflight: safety.Preflight | None = None) -> None:
        self.wb, self.preflight = wb, preflight
        self.kind = preflight.kind if preflight is not None else "xlsx"
        self.meta = {m.name: m for m in wb.sheets_metadata}
        self.names: list[str] = list(wb.sheet_names)
        self._grids: dict[str, _Grid] = {}

    def grid(self, name: str) -> _Grid:
        if name not in self._grids:
            sheet = self._sheet(name)
            try:
                rows = sheet.to_python(skip_empty_area=False)
            except Exception as exc:  # noqa: BLE001 - any calamine failure is a bad file
                raise ReadError("file.unreadable", f"工作表“{name}”无法读取（{_short(exc)}）") from None
            self._grids[name] = _Grid(name, rows)
        return self._grids[name]

    def state(self, name: str) -> str:
        """``visible``, ``hidden`` or ``veryHidden`` (openpyxl's words)."""
        meta = self.meta.get(name)
        if meta is None or meta.visible == pc.SheetVisibleEnum.Visible:
            return "visible"
        return "veryHidden" if meta.visible == pc.SheetVisibleEnum.VeryHidden else "hidden"

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Merged ranges of a sheet (0-based corners); empty where the format has none."""
        sheet = self._sheet(name)
        try:
            return list(sheet.merged_cell_ranges or [])
        except Exception:  # noqa: BLE001 - merged ranges are cosmetic
            return []

    def _sheet(self, name: str) -> pc.CalamineSheet:
        """The sheet, parsed only once its part has been vetted (see `safety.check`)."""
        if self.preflight is not None:
            self.preflight.vet_sheet(name)
        try:
            return self.wb.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001 - any calamine failure is a bad file
            raise ReadError("file.unreadable", f"工作表“{name}”无法读取（{_short(exc)}）") from None

    def close(self) -> None:
        self.wb.close()

    def data_sheets(self) -> list[str]:
        """Sheets that may hold a form table: visible ones first, never our own hidden ones."""
        names = [n for n in self.names if not n.startswith("_") and n != RESULT_SHEET]
        return sorted(names, key=lambda n: self.state(n) != "visible")


class _Document(Book):
    """A Word document's or a web page's tables (`book.Tables`) as a book of sheets 表1, 表2 …"""

    def __init__(self, tables: Tables) -> None:
        self.preflight, self.meta = None, {}
        self.kind, self.title = tables.kind, tables.title
        self.names = list(tables.grids)
        self._grids = {name: _Grid(name, list(rows)) for name, rows in tables.grids.items()}

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        return []  # spans are already expanded in the grid

    def close(self) -> None:
        pass


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def open_book(data: bytes, preflight: safety.Preflight | None = None) -> Book:
    """Open workbook bytes, vetted by `safety.check` (lazily: then pass its ``preflight``,
    which vets each sheet before python-calamine parses it)."""
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise ReadError("file.encrypted", "工作簿已加密") from None
    except BaseException as exc:  # calamine may raise a Rust panic, which is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
            raise
        raise ReadError("file.unreadable", f"文件已损坏（{_short(exc)}）") from None
    return Book(wb, preflight)


# ---------------------------------------------------------------- entry points


@lru_cache(maxsize=1)
def _builtin_cached() -> tuple[Form, ...]:
    return tuple(builtin_forms())


def default_forms() -> list[Form]:
    """The forms a return is matched against when none are given: the built-in ones,
    loaded once per process (a batch reads thousands of files)."""
    return list(_builtin_cached())


def read(path: str | Path, forms: Sequence[Form] | None = None) -> Return:
    """Read one return.  Raises `ReadError` (with a findings catalogue code) when the
    file cannot be read at all; everything else becomes a finding in ``Return.findings``."""
    path = Path(path)
    data, st = _file_bytes(path)
    ret = read_bytes(data, forms, path=path)
    ret.mtime = st.st_mtime
    return ret


def open_file(path: str | Path) -> Book:
    """Any workbook file opened for reading its sheets, vetted as `read` vets a return: for
    files that are not returns (last year's summary's 分单位明细).  Raises `ReadError`."""
    data, _ = _file_bytes(Path(path))
    return open_book(data, safety.check(data, lazy=True))


def _file_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its status, refused past `safety.MAX_FILE`."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            if st.st_size > safety.MAX_FILE:
                raise ReadError("file.too_large", f"文件大小{st.st_size // (1024 * 1024)}MB")
            return _read_all(fd, st.st_size), st
        finally:
            os.close(fd)
    except OSError as exc:
        raise ReadError("file.unreadable", exc.strerror or type(exc).__name__) from None


def _read_all(fd: int, size: int) -> bytes:
    """The whole file in as few system calls as its size allows (it may change meanwhile)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, max(size + 1, 65536))
        if not chunk:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > safety.MAX_FILE:
            raise ReadError("file.too_large", f"文件大小超过{safety.MAX_FILE // (1024 * 1024)}MB")


def read_bytes(data: bytes, forms: Sequence[Form] | None = None, *, path: Path | None = None) -> Return:
    """`read` for bytes already in memory."""
    # the bytes are hashed and vetted while they are still in the CPU's cache: after the
    # spreadsheet is parsed, hashing them took several times as long (measured)
    digest = hashlib.sha256(data).hexdigest()
    pre = safety.check(data, lazy=True)
    known = list(forms) if forms is not None else default_forms()
    if pre.kind in DOCUMENT_KINDS:
        tables = read_docx(data) if pre.kind == "docx" else read_html(data)
        if not tables.grids:
            raise ReadError("file.not_ours", f"{'Word文档' if pre.kind == 'docx' else '网页'}中没有表格")
        return _read_book(_Document(tables), known, digest, path, {})
    props = _properties(pre)
    first = _first_sheet(props, known)
    if first in pre.parts:  # parsed first in any case: vetted now, while the bytes are in the cache
        pre.vet_sheet(first)
    book = open_book(data, pre)
    try:
        return _read_book(book, known, digest, path, props)
    finally:
        book.close()


def _first_sheet(props: dict[str, Any], forms: list[Form]) -> str | None:
    """The sheet the positional read opens first, when the metadata names a known form."""
    if props.get(ids.KIND) != "return":
        return None
    same = [f for f in forms if f.id == props.get(ids.FORM) and f.fingerprint == props.get(ids.FINGERPRINT)]
    return layout_of(same[0]).sheets[0].name if same else None


def _read_book(book: Book, forms: list[Form], digest: str, path: Path | None, props: dict[str, Any]) -> Return:
    meta = _metadata(book, props)
    try:
        return _read_matched(book, forms, digest, path, meta)
    except ReadError as exc:  # refused, but whose file it is may still be known
        if meta is not None:
            exc.identity = _identity(meta)
        raise


def _read_matched(book: Book, forms: list[Form], digest: str, path: Path | None,
                  meta: dict[str, Any] | None) -> Return:
    findings: list[Finding] = []
    form: Form | None = None
    ident: Identity
    match: _FormMatch | None = None
    lay: Layout | None = None
    if meta is not None:
        ident = _identity(meta)
        same = [f for f in forms if f.id == ident.form]
        exact = [f for f in same if f.fingerprint == ident.fingerprint]
        if exact:
            form = exact[0]
            lay = layout_of(form, summary=ident.kind == "summary")
            match = _positional(book, form, lay)
            if match is None:
                match = _search(book, form, lay)
        elif same:
            form = max(same, key=lambda f: f.version)
            findings.append(
                make(
                    "file.form_changed",
                    found=f"{ident.form} 第{ident.form_version}版（{ident.fingerprint or '无指纹'}）",
                    expected=f"{form.id} 第{form.version}版（{form.fingerprint}）",
                )
            )
            match = _search(book, form, None)
    if match is None:
        form, match, title = _identify(book, forms, meta)
        if meta is None:
            ident = Identity(form=form.id, form_version=form.version, source="labels")
        else:  # metadata of an unknown form: keep who it is from, trust the labels for what
            ident.form, ident.form_version, ident.fingerprint, ident.source = form.id, form.version, "", "labels"
        if ident.year is None:
            ident.year = title.year
        if not ident.agency_name:
            ident.agency_name = title.agency
    assert form is not None
    match = _shown(book, form, lay, match)
    findings.extend(match.findings)
    if isinstance(book, _Document):  # a report's other tables (信息处理费 in 2025 reports…)
        used = {tm.sheet for tm in match.tables.values()}
        unused = [n for n in book.names if n not in used and any(_is_number(v) for row in book.grid(n).rows for v in row)]
        if unused:
            findings.append(make("structure.ignored", detail="文档中的" + "、".join(unused)))
    cells, notes = _read_cells(book, form, match)
    cells = cellxml.amend(book.preflight, cells, (c.key for c in form.inputs), formulas=ident.kind != "summary")
    return Return(
        path=path or Path(""),
        kind=book.kind,
        form=form,
        identity=ident,
        cells=cells,
        notes=notes,
        signature=match.signature,
        findings=findings,
        sha256=digest,
    )


_raw_cell = partial(tuple.__new__, RawCell)  # RawCell(*fields), without its Python-level __new__


def _read_cells(book: Book, form: Form, match: _FormMatch) -> tuple[dict[str, RawCell], dict[str, str]]:
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
            places, note_rows = _places(form, table, tm.rows, tm.cols)
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
                note = _text(value)
                if note:
                    notes[key] = note
    return cells, notes


# ---------------------------------------------------------------- metadata


# Each match runs from a <property start tag to the next "<" or ">" at most, three times
# over: the matches' spans never overlap, so a damaged part is still read in linear time.
_PROPERTY = re.compile(rb"<property\b([^<>]*)>\s*<vt:(\w+)>([^<]*)</vt:\2>")


def _properties(pre: safety.Preflight) -> dict[str, Any]:
    """The template's identity as xlsx custom document properties (docProps/custom.xml):
    read from the archive already open for vetting, it spares parsing the metadata sheet."""
    part = pre.read_part("docProps/custom.xml")
    if part is None:
        return {}
    out: dict[str, Any] = {}
    for attrs, _, value in _PROPERTY.findall(part):
        name = xmlscan.attribute(attrs, b"name")
        if name is not None:
            out[xmlscan.unescape(name.decode("utf-8", "replace"))] = xmlscan.unescape(value.decode("utf-8", "replace"))
    return out


def _metadata(book: Book, props: dict[str, Any]) -> dict[str, Any] | None:
    if ids.META_SHEET not in book.names:
        return None
    if props.get(ids.FORM) and props.get(ids.KIND) == "return":  # a summary's unit list is on the sheet
        return props
    grid = book.grid(ids.META_SHEET)
    out: dict[str, Any] = {}
    for r in range(grid.height):
        key = grid.get(r, 0)
        if isinstance(key, str) and key.strip():
            out[key.strip()] = grid.get(r, 1)
    return out if out.get(ids.FORM) else None


def _identity(meta: dict[str, Any]) -> Identity:
    def text(key: str) -> str:
        return _text(meta.get(key))

    def number(key: str) -> int | None:
        value = text(key)
        try:
            return int(float(value)) if value else None
        except ValueError:
            return None

    units = []
    for line in text(ids.UNITS).splitlines():
        code, _, name = line.partition("\t")
        if code or name:
            units.append((code.strip(), name.strip()))
    summed, _, expected = text(ids.COMPLETE).partition("/")
    complete = (int(summed), int(expected)) if summed.isdigit() and expected.isdigit() else None
    return Identity(
        kind=text(ids.KIND) or "return",
        form=text(ids.FORM),
        form_version=number(ids.FORM_VERSION) or 0,
        fingerprint=text(ids.FINGERPRINT),
        year=number(ids.YEAR),
        agency_code=text(ids.AGENCY_CODE),
        agency_name=text(ids.AGENCY_NAME),
        template_id=text(ids.TEMPLATE_ID),
        region=text(ids.REGION),
        units=units,
        complete=complete,
        source="metadata",
    )


# ---------------------------------------------------------------- matches


@dataclass
class _TableMatch:
    table: Table
    sheet: str
    rows: dict[str, int]  # row id -> grid row
    cols: dict[str, int]  # column id -> grid column
    note_col: int | None
    end: int  # last grid row of the table
    findings: list[Finding] = field(default_factory=list)  # how it was read, where not as the form prints it


@dataclass
class _FormMatch:
    tables: dict[str, _TableMatch]
    findings: list[Finding] = field(default_factory=list)
    signature: dict[str, str] = field(default_factory=dict)
    plan: dict[str, _TablePlan] | None = None  # the layout's, when everything sits where it puts it


@dataclass
class _Problems:
    """Why a table could not be matched; rendered into one `file.variant` detail."""

    missing: list[str] = field(default_factory=list)
    extra_rows: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    missing_cols: list[str] = field(default_factory=list)
    extra_cols: list[str] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # labels close to two standard ones

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def extend(self, other: _Problems) -> None:
        for f in fields(self):
            getattr(self, f.name).extend(getattr(other, f.name))

    def detail(self, limit: int = 6) -> str:
        parts = []
        for what, items in (
            ("找不到指标", self.missing),
            ("行次不符", self.codes),
            ("表中多出的行", self.extra_rows),
            ("找不到数值列", self.missing_cols),
            ("表中多出的数值列", self.extra_cols),
            ("无法确定对应哪个指标", self.unsure),
        ):
            if items:
                shown = "、".join(items[:limit]) + (f"等{len(items)}项" if len(items) > limit else "")
                parts.append(f"{what}：{shown}")
        return "；".join(parts)


# ---------------------------------------------------------------- fast path: our layout, untouched


@dataclass(frozen=True)
class _TablePlan:
    """One table as the template lays it out, computed once per layout: what the fast path
    compares and where it reads."""

    sheet: str
    labels: tuple[tuple[int, int, str, str, str, str], ...]  # row, label col, label, code, both normalised
    code_col: int
    cols: dict[str, int]  # column id -> grid column
    cells: tuple[tuple[str, int, int, str], ...]  # cell key, row, column, A1 address
    notes: tuple[tuple[str, int], ...]  # row key, row
    groups: tuple[tuple[int, int, str], ...]  # row, column, normalised group header over that column


@lru_cache(maxsize=64)
def _plan(lay: Layout) -> dict[str, _TablePlan]:
    """Keyed by the (cached, hashed by identity) layout: a form hashes all its contents."""
    form, plans = lay.form, {}
    for table in form.tables:
        tl, sl = lay.tables[table.id], lay.sheet_of(table)
        cols = {col.id: sl.value_col0 + i for i, col in enumerate(table.columns)}
        cells, notes = _places(form, table, tl.row_of, cols)
        plans[table.id] = _TablePlan(
            sheet=sl.name,
            labels=tuple(
                (tl.row_of[row.id], len(row.groups), row.label, row.code, norm(row.label), norm(row.code))
                for row in table.rows
            ),
            code_col=sl.code_col,
            cols=cols,
            cells=cells,
            notes=notes,
            groups=tuple(
                (tl.header_top + depth, c, norm(group))
                for col, c in zip(table.columns, cols.values(), strict=True)
                for depth, group in enumerate(col.groups)
            ),
        )
    return plans


def _places(
    form: Form, table: Table, row_of: dict[str, int], col_of: dict[str, int]
) -> tuple[tuple[tuple[str, int, int, str], ...], tuple[tuple[str, int], ...]]:
    """Where a table's cells (key, row, column, A1) and its rows' notes (row key, row) are,
    given where its rows and columns were found."""
    cells = tuple(
        (cell.key, row_of[cell.row.id], col_of[cell.column.id], a1(row_of[cell.row.id], col_of[cell.column.id]))
        for cell in form.table_cells[table.id]
        if cell.row.id in row_of and cell.column.id in col_of
    )
    return cells, tuple((f"{table.id}.{row.id}", row_of[row.id]) for row in table.rows if row.id in row_of)


def _positional(book: Book, form: Form, lay: Layout) -> _FormMatch | None:
    """The match when every label, 行次 and column header sits where `layout` puts it."""
    tables: dict[str, _TableMatch] = {}
    plans = _plan(lay)
    for table in form.tables:
        plan, tl, sl = plans[table.id], lay.tables[table.id], lay.sheet_of(table)
        if plan.sheet not in book.names or not _in_place(book.grid(plan.sheet), table, plan, tl, sl):
            return None
        tables[table.id] = _TableMatch(table, sl.name, dict(tl.row_of), dict(plan.cols), sl.note_col, tl.last_row)
    match = _FormMatch(tables, plan=plans)
    sig = lay.signature
    last = book.grid(lay.sheets[-1].name)
    for name, place in sig.items():
        label = last.get(place.row, 0)  # where the template writes it, as it wrote it (fast)
        if not (isinstance(label, str) and label.startswith(name)) and (
            _signature_label(last, place.row, place.col) != name
        ):
            match.signature = _find_signature(book, form, tables)
            break
        match.signature[name] = _text(last.get(place.row, place.col))
    return match


def _in_place(grid: _Grid, table: Table, plan: _TablePlan, tl: TableLayout, sl: SheetLayout) -> bool:
    """Whether ``grid`` holds ``table`` exactly where the layout puts it."""
    rows, cc = grid.rows, plan.code_col
    if len(rows) <= tl.last_row:
        return False
    for r, lc, label, code, nlabel, ncode in plan.labels:
        row = rows[r]
        try:
            got_label, got_code = row[lc], row[cc]
        except IndexError:
            return False
        # as the template wrote them (fast), or equal once normalised
        if (got_label != label and norm(got_label) != nlabel) or (got_code != code and norm(got_code) != ncode):
            return False
    band = range(tl.header_top, tl.header_top + tl.header_rows)
    for col, c in zip(table.columns, plan.cols.values(), strict=True):
        label = norm(col.label)
        if not any(grid.text(r, c) == label for r in band):
            return False
    # the whole header path: blocks told apart only by their group headers (结果维持 …
    # under 未经复议直接起诉 and under 复议后起诉) must not be read for one another
    value_col0 = sl.value_col0
    if any(_header_at(grid, r, c, value_col0) != group for r, c, group in plan.groups):
        return False
    # the hint and note columns where they belong and nothing added to their right:
    # otherwise a column was inserted, and the search decides what it holds
    if grid.text(tl.header_top, sl.hint_col) not in HINT_HEADERS or (
        grid.text(tl.header_top, sl.note_col) not in NOTE_HEADERS
    ):
        return False
    if any(grid.text(r, c) for r in band for c in range(sl.note_col + 1, grid.width(r))):
        return False
    # a labelled row holding numbers right after the table: rows were added at its end
    after = tl.last_row + 1
    return not (
        _row_text(grid, after, 0, sl.label_cols - 1) and any(_is_number(grid.get(after, c)) for c in plan.cols.values())
    )


def _header_at(grid: _Grid, r: int, c: int, lo: int) -> str:
    """The header over column ``c`` in row ``r``: its own text, or that of the nearest cell to
    its left (not left of column ``lo``) that holds one — a group header merged across
    columns is held by its first cell only."""
    for x in range(c, lo - 1, -1):
        text = grid.text(r, x)
        if text:
            return text
    return ""


def _signature_label(grid: _Grid, r: int, value_col: int) -> str | None:
    for c in range(value_col):
        text = grid.text(r, c)
        if text:
            for name in SIGNATURE:
                if text.startswith(name):
                    return name
    return None


def _row_text(grid: _Grid, r: int, lo: int, hi: int) -> list[str]:
    if not 0 <= r < grid.height:
        return []
    row = grid.norm_row(r)
    return [row[c] for c in range(max(lo, 0), min(hi, len(row) - 1) + 1) if row[c]]


# ---------------------------------------------------------------- search by labels


def _search(book: Book, form: Form, lay: Layout | None) -> _FormMatch:
    """Match ``form`` by labels; with a layout, rows/columns found elsewhere become
    ``structure.moved`` warnings.  Raises ``file.variant`` when anything does not match."""
    result = _match_form(book, form, lay)
    if isinstance(result, _Problems):
        raise ReadError("file.variant", result.detail())
    return result


def _match_form(book: Book, form: Form, lay: Layout | None) -> _FormMatch | _Problems:
    tables: dict[str, _TableMatch] = {}
    problems = _Problems()
    findings: list[Finding] = []
    cursor: dict[str, int] = {}
    prev_sheet: str | None = None
    for table in form.tables:
        sheets = book.data_sheets()
        if lay is not None:
            want = lay.sheet_of(table).name
            if want in book.names:
                sheets = [want]
        elif prev_sheet is not None and table.sheet == form.tables[form.tables.index(table) - 1].sheet:
            sheets = [prev_sheet, *(s for s in sheets if s != prev_sheet)]
        best: tuple[int, _TableMatch | _Problems] | None = None
        for name in sheets:
            grid = book.grid(name)
            found = _match_table(grid, table, cursor.get(name, 0), _others(form, table))
            score = _score(found, table)
            if best is None or score > best[0]:
                best = (score, found)
            if isinstance(found, _TableMatch):
                break
        assert best is not None
        found = best[1]
        if isinstance(found, _Problems):
            problems.extend(found)
            continue
        tables[table.id] = found
        findings += found.findings
        cursor[found.sheet] = found.end + 1
        prev_sheet = found.sheet
        if lay is not None:
            findings += _moves(found, lay.tables[table.id], lay)
    if problems:
        return problems
    match = _FormMatch(tables, findings)
    match.signature = _find_signature(book, form, tables)
    return match


def _score(found: _TableMatch | _Problems, table: Table) -> int:
    if isinstance(found, _TableMatch):
        return 10**6
    return len(table.rows) - len(found.missing) - len(found.codes)


def _moves(tm: _TableMatch, tl: TableLayout, lay: Layout) -> list[Finding]:
    sl = lay.sheet_of(tm.table)
    out = []
    single = len(tm.table.columns) == 1
    for row in tm.table.rows:
        if row.id not in tm.rows:
            continue  # read as blank: the match said so
        want, got = tl.row_of[row.id], tm.rows[row.id]
        if want != got:
            col = tm.cols[tm.table.columns[0].id]
            out.append(
                make(
                    "structure.moved",
                    label=row.label,
                    indicator=row.code if single else f"{tm.table.id}.{row.code}",
                    sheet=tm.sheet,
                    cell=a1(got, col),
                    detail=f"模板中在第{want + 1}行，现在第{got + 1}行",
                )
            )
    for i, column in enumerate(tm.table.columns):
        if column.id not in tm.cols:
            continue
        want, got = sl.value_col0 + i, tm.cols[column.id]
        if want != got:
            out.append(
                make(
                    "structure.moved",
                    label=f"“{column.label}”列",
                    sheet=tm.sheet,
                    cell=a1(tm.rows[tm.table.rows[0].id], got),
                    detail=f"模板中在{_col_name(want)}列，现在{_col_name(got)}列",
                )
            )
    return out


def _col_name(c: int) -> str:
    return a1(0, c)[:-1]


_OTHERS: dict[tuple[str, str, str], frozenset[str]] = {}


def _others(form: Form, table: Table) -> frozenset[str]:
    """Normalised captions, stubs and labels of the form's other tables: where a table
    stacked below this one begins."""
    key = (form.id, form.fingerprint, table.id)
    if key not in _OTHERS:
        out: set[str] = set()
        for t in form.tables:
            if t.id != table.id:
                out.update(norm(x) for x in (t.title, t.stub, *(r.label for r in t.rows), *(c.label for c in t.columns)))
        _OTHERS[key] = frozenset(out - {""})
    return _OTHERS[key]


def _match_table(grid: _Grid, table: Table, lo: int, stop: frozenset[str] = frozenset()) -> _TableMatch | _Problems:
    """Find ``table`` in ``grid`` at or below row ``lo`` by its labels in order.

    Besides exact labels: a known older printing of the table (`Older`), a misprint that is
    the unique close match at its position (`match.align_near`), a few value rows left out
    (read as blank, with a warning) and rows added (ignored, with a notice) — each said in a
    finding on the match.  Anything less certain is a problem: the return is refused."""
    labels = [norm(r.label) for r in table.rows]
    codes = [norm(r.code) for r in table.rows]
    label_set = set(labels)
    group_set = {norm(g) for r in table.rows for g in r.groups}
    older_set = {norm(label) for o in table.older for label, _ in o.rows}
    norms = grid.norms
    hits: dict[int, int] = {}
    for r in range(lo, len(norms)):
        for c, text in enumerate(norms[r]):
            if text in label_set:
                hits[c] = hits.get(c, 0) + 1
    if not hits:
        if len(table.rows) == 1:
            return _match_unlabelled(grid, table, lo)
        return _Problems(missing=[_row_name(r) for r in table.rows])
    main = max(sorted(hits), key=lambda c: hits[c])
    lab_lo = lab_hi = main
    while lab_lo - 1 in hits:
        lab_lo -= 1
    while lab_hi + 1 in hits:
        lab_hi += 1
    # Rows with label text, each reduced to its leaf label.
    seq: list[tuple[int, str]] = []
    for r in range(lo, len(norms)):
        texts = _row_text(grid, r, lab_lo, lab_hi)
        if not texts:
            continue
        leaf = next((t for t in reversed(texts) if t in label_set), None)
        if leaf is None and texts[-1] in older_set:  # a row of an older printing (its last label)
            leaf = texts[-1]
        if leaf is None:
            rest = [t for t in texts if t not in group_set]
            if not rest:
                continue  # a row that only carries group labels
            leaf = rest[-1]
        seq.append((r, leaf))
    leaves = [t for _, t in seq]
    exact = _align(labels, leaves)
    first_guess = seq[min(exact.values())][0] if exact else lo
    band = {t for r in range(max(lo, first_guess - HEADER_BAND), first_guess) for t in grid.norm_row(r) if t}
    olds = _older(table, exact, set(leaves), band, labels)
    findings: list[Finding] = []
    problems = _Problems()
    blank: set[str] = {x for o in olds for x in o.replaces}
    for old in olds:
        alias = {norm(label): row_id for label, row_id in old.rows}
        used = []
        for j, leaf in enumerate(leaves):
            row_id = alias.get(leaf)
            i = next((k for k, r in enumerate(table.rows) if r.id == row_id), None)
            if i is not None and i not in exact and j not in exact.values():
                exact[i] = j
                blank.discard(table.rows[i].id)
                used.append(f"第{seq[j][0] + 1}行“{_original(grid, seq[j][0], lab_lo, lab_hi)}”读作“{table.rows[i].label}”")
        if not _in_order(exact):
            return _Problems(missing=[f"{old.name}的行次序与标准表式不同"])
        findings.append(_older_finding(grid, table, old, used, seq[min(exact.values())][0], lab_lo))
    aligned = align_near(labels, leaves, exact)
    for j, tied in aligned.ambiguous:
        r = seq[j][0]
        problems.unsure.append(
            f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”与" + "、".join(f"“{_standard_label(table, t)}”" for t in tied) + "同样接近"
        )
    for i, j in aligned.near:
        r = seq[j][0]
        findings.append(make(
            "structure.near", sheet=grid.name, cell=a1(r, lab_hi), label=table.rows[i].label,
            detail=f"第{r + 1}行“{_leaf_text(grid, r, lab_lo, lab_hi, seq[j][1])}”按“{table.rows[i].label}”读取",
        ))
    matched = aligned.pairs
    rows: dict[str, int] = {}
    absent: list[Row] = []
    for i, row in enumerate(table.rows):
        at = matched.get(i)
        if at is not None:
            rows[row.id] = seq[at][0]
        elif row.id not in blank and row.kind != "header":
            absent.append(row)
    if not rows:
        return _Problems(missing=[_row_name(r) for r in table.rows])
    taken_j = set(matched.values())
    for j, (r, leaf) in enumerate(seq):  # a standard label left over: rows swapped or repeated
        if j not in taken_j and leaf in label_set and min(rows.values()) <= r <= max(rows.values()):
            problems.extra_rows.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”（次序与标准表式不同或重复）")
    value_rows = sum(r.kind != "header" for r in table.rows)
    if len(absent) > max(1, value_rows // 10):
        problems.missing += [_row_name(r) for r in absent]
    else:  # a row left out, not one printed under another name at its place: that is refused
        for row in absent:
            instead = _instead(grid, table, row, matched, seq, group_set, lab_lo, lab_hi)
            if instead:
                problems.missing.append(f"{_row_name(row)}（该处为{instead}）")
    first, last = min(rows.values()), max(rows.values())
    for row in absent:
        findings.append(make(
            "structure.absent", sheet=grid.name, label=_row_name(row),
            detail=f"{table.title or table.sheet}在第{first + 1}至{last + 1}行，其中没有“{row.label}”",
        ))
    taken = set(rows.values())
    # 行次: the column (outside the labels) where most matched rows carry their code
    code_col = _code_column(grid, table, rows, codes, lab_lo, lab_hi)
    if code_col is not None:
        for i, row in enumerate(table.rows):
            at = rows.get(row.id)
            if at is None:
                continue
            got = grid.text(at, code_col)
            if got and got != codes[i]:
                shown = _text(grid.get(at, code_col))
                problems.codes.append(f"第{at + 1}行“{row.label}”标为第{shown}行，应为第{row.code}行")
    # Columns
    header_lo = max(lo, first - HEADER_BAND)
    cols, note_col, col_problems, col_findings = _match_columns(grid, table, rows, header_lo, first, lab_hi, code_col, olds)
    problems.extend(col_problems)
    findings += col_findings
    value_cols = list(cols.values())
    # Added rows: labelled rows inside the table and labelled rows with numbers straight after
    # it are ignored (with a notice); an unlabelled row with numbers inside it is refused.
    ignored: list[str] = []
    for r, leaf in seq:
        if first < r < last and r not in taken and (
            leaf not in group_set or any(_is_number(grid.get(r, c)) for c in value_cols)
        ):
            ignored.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”")
    for r in range(first + 1, last):
        if r not in taken and not _row_text(grid, r, lab_lo, lab_hi) and any(
            _is_number(grid.get(r, c)) for c in value_cols
        ):
            problems.extra_rows.append(f"第{r + 1}行（无指标名称却填有数值）")
    end = last
    for r in range(last + 1, min(last + 1 + TRAILING, grid.height)):
        texts = _row_text(grid, r, lab_lo, lab_hi)
        values = [grid.get(r, c) for c in value_cols]
        if not texts and all(v is None for v in values):
            break
        if any(t.startswith(_SIG_NORMS) for t in texts) or not stop.isdisjoint(grid.norm_row(r)):
            break  # the signature block, or the next table of the form
        if texts and all(t in group_set for t in texts):
            continue
        if any(_is_number(v) for v in values):
            if not texts:
                problems.extra_rows.append(f"第{r + 1}行“无指标名称”")
            else:
                ignored.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”")
            end = r
    if ignored:
        findings.append(make("structure.ignored", sheet=grid.name, detail="表中多出的" + "、".join(ignored)))
    if problems:
        return problems
    return _TableMatch(table, grid.name, rows, cols, note_col, end, findings)


def _leaf_text(grid: _Grid, r: int, lo: int, hi: int, leaf: str) -> str:
    """The label cell of row ``r`` whose folded text is ``leaf``, as printed."""
    return next((_text(grid.get(r, c)) for c in range(lo, hi + 1) if grid.text(r, c) == leaf), leaf)


def _instead(
    grid: _Grid, table: Table, row: Any, matched: dict[int, int], seq: list[tuple[int, str]],
    group_set: set[str], lab_lo: int, lab_hi: int,
) -> str:
    """The unmatched labelled rows printed where the absent ``row`` belongs, if any."""
    i = table.rows.index(row)
    below = [j for k, j in matched.items() if k < i]
    above = [j for k, j in matched.items() if k > i]
    lo_j, hi_j = max(below, default=-1), min(above, default=len(seq))
    taken = set(matched.values())
    return "、".join(
        f"第{seq[j][0] + 1}行“{_original(grid, seq[j][0], lab_lo, lab_hi)}”"
        for j in range(lo_j + 1, hi_j)
        if j not in taken and seq[j][1] not in group_set
        and any(_is_number(v) for c, v in enumerate(grid.rows[seq[j][0]]) if c > lab_hi)
    )


def _older(table: Table, exact: dict[int, int], leaves: set[str], band: set[str], labels: list[str]) -> list[Older]:
    """The known older printings of ``table`` this one is: every mark printed (as a row label
    or a header above the rows), none of the labels of what they replace."""
    out = []
    for old in table.older:
        if not all(norm(m) in leaves or norm(m) in band for m in old.marks):
            continue
        replaced_rows = any(i in exact for i, r in enumerate(table.rows) if r.id in old.replaces)
        replaced_cols = any(norm(c.label) in band for c in table.columns if c.id in old.replaces)
        if not (replaced_rows or replaced_cols):
            out.append(old)
    return out


def _older_finding(grid: _Grid, table: Table, old: Older, used: list[str], r: int, c: int) -> Finding:
    mapped = {i for _, i in (*old.rows, *old.columns)}
    blanks = [f"“{label}”" for x_id, label in _labelled(table) if x_id in old.replaces and x_id not in mapped]
    detail = "；".join(
        [*used, *([f"{'、'.join(blanks)}没有对应的数，按空白读取"] if blanks else [])]
    )
    return make("structure.older", sheet=grid.name, cell=a1(r, max(c, 0)),
                label=f"{table.title or table.sheet}按{old.name}", detail=detail or "含义相同")


def _in_order(pairs: dict[int, int]) -> bool:
    js = [j for _, j in sorted(pairs.items())]
    return all(a < b for a, b in zip(js, js[1:], strict=False))


def _labelled(table: Table) -> list[tuple[str, str]]:
    """(id, label) of every row and column of ``table``."""
    return [(r.id, r.label) for r in table.rows] + [(c.id, c.label) for c in table.columns]


def _standard_label(table: Table, folded: str) -> str:
    """A standard label (row or column) of ``table`` as printed, from its folded text."""
    return next((label for _, label in _labelled(table) if norm(label) == folded), folded)


def _match_unlabelled(grid: _Grid, table: Table, lo: int) -> _TableMatch | _Problems:
    """A one-row table printed without a row label (table 四: header rows, then one row of
    numbers): the first row holding numbers under a header row that carries most of the
    column labels."""
    want = {norm(c.label) for c in table.columns}
    for h in range(lo, grid.height):
        row = grid.norm_row(h)
        at = [c for c, t in enumerate(row) if t in want]
        if len(at) * 5 < len(table.columns) * 3:
            continue
        for r in range(h + 1, min(h + 1 + HEADER_BAND, grid.height)):
            if any(t in want for t in grid.norm_row(r)):
                continue  # still the header band
            if not any(_is_number(v) for v in grid.rows[r]):
                break
            rows = {table.rows[0].id: r}
            top = max(lo, h - HEADER_BAND)
            # the first labelled column of the header band (a label merged down shows in its top row only)
            left = min(c for rr in range(top, h + 1) for c, t in enumerate(grid.norm_row(rr)) if t in want)
            cols, note_col, problems, findings = _match_columns(grid, table, rows, top, r, left - 1, None, [])
            if problems:
                return problems
            return _TableMatch(table, grid.name, rows, cols, note_col, r, findings)
        break
    return _Problems(missing=[_row_name(r) for r in table.rows])


_SIG_NORMS = tuple(norm(n) for n in SIGNATURE)


def _row_name(row: Any) -> str:
    return f"第{row.code}行“{row.label}”"


def _original(grid: _Grid, r: int, lo: int, hi: int) -> str:
    texts = [_text(grid.get(r, c)) for c in range(lo, hi + 1)]
    return " ".join(t for t in texts if t)[:60]


def _align(a: list[str], b: list[str]) -> dict[int, int]:
    """Index pairs of a longest common subsequence of ``a`` and ``b`` (order kept)."""
    out: dict[int, int] = {}
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            out[block.a + k] = block.b + k
    return out


def _code_column(
    grid: _Grid, table: Table, rows: dict[str, int], codes: list[str], lab_lo: int, lab_hi: int
) -> int | None:
    counts: dict[int, int] = {}
    for i, row in enumerate(table.rows):
        r = rows.get(row.id)
        if r is None:
            continue
        width = grid.width(r)
        for c in range(width):
            if lab_lo <= c <= lab_hi:
                continue
            v = grid.get(r, c)
            if v is not None and norm(v) == codes[i]:
                counts[c] = counts.get(c, 0) + 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda c: counts[c])
    need = max(2, (len(rows) * 6 + 9) // 10) if len(rows) > 2 else len(rows)
    if counts[best] < need:
        return None
    # a column headed by one of the table's column labels holds values that happen to equal
    # the 行次 (行政许可 1 in a one-row table), never the 行次 themselves
    top = min(rows.values())
    labels = {norm(c.label) for c in table.columns}
    above = next((t for r in range(top - 1, max(top - HEADER_BAND, 0) - 1, -1) if (t := grid.text(r, best))), "")
    return None if above in labels else best


def _match_columns(
    grid: _Grid,
    table: Table,
    rows: dict[str, int],
    header_lo: int,
    first: int,
    lab_hi: int,
    code_col: int | None,
    olds: list[Older],
) -> tuple[dict[str, int], int | None, _Problems, list[Finding]]:
    """The value columns by their headers: exact, renamed by a known older printing (whose
    other columns are then ignored), or a unique close misprint at its position."""
    problems = _Problems()
    findings: list[Finding] = []
    alias = {norm(label): norm(table.column(col_id).label) for o in olds for label, col_id in o.columns}
    blank = {x for o in olds for x in o.replaces} - {col_id for o in olds for _, col_id in o.columns}
    data_rows = [rows[r.id] for r in table.rows if r.id in rows]
    value_rows = [rows[r.id] for r in table.rows if r.id in rows and r.kind != "header"]
    units = {norm(r.unit) for r in table.rows if r.unit and r.unit != HEADER_MARK}
    width = max([grid.width(r) for r in range(header_lo, first)] + [grid.width(r) for r in data_rows] + [0])
    col_labels = [norm(c.label) for c in table.columns]
    # a header that heads several columns (结果维持 under 未经复议直接起诉 and under 复议后起诉)
    # is told apart by its whole path of group headers
    repeated = {h for h in col_labels if col_labels.count(h) > 1}
    group_set = {norm(g) for c in table.columns for g in c.groups}
    groups, misprints = sorted(group_set), dict[str, str]()
    col_keys = [_path_key([norm(g) for g in c.groups], h) if h in repeated else h
                for c, h in zip(table.columns, col_labels, strict=True)]
    note_col: int | None = None
    cands: list[tuple[int, str, str]] = []  # (column, normalised header (path), header as written)
    for c in range(lab_hi + 1, width):
        if c == code_col:
            continue
        header, shown, at = "", "", first
        for r in range(first - 1, header_lo - 1, -1):
            v = grid.get(r, c)
            t = grid.text(r, c)
            if t and isinstance(v, str) and not t.isdigit():
                header, shown, at = t, _text(v), r
                break
        if header in _AUX:
            if header in NOTE_HEADERS and note_col is None:
                note_col = c
            continue
        if header in alias:
            findings.append(make("structure.older", sheet=grid.name, cell=a1(first, c), label=f"{_col_name(c)}列“{shown}”",
                                 detail=f"读作“{table.columns[col_labels.index(alias[header])].label}”"))
            header = alias[header]
        if header in repeated:
            path = [g for r in range(header_lo, at) if (g := _group(_header_at(grid, r, c, lab_hi + 1), groups, misprints))]
            cands.append((c, _path_key(list(dict.fromkeys(path)), header), shown))
            continue
        if header in col_labels:
            cands.append((c, header, shown))
            continue
        values = [grid.get(r, c) for r in data_rows]
        if units and not header:
            texts = [norm(v) for v in values if isinstance(v, str)]
            if texts and sum(t in units or t == norm(HEADER_MARK) for t in texts) * 2 >= len(values):
                continue  # a unit column without a header
        numeric = any(_is_number(grid.get(r, c)) for r in value_rows)
        if numeric or header:
            cands.append((c, header, shown))
    cols: dict[str, int] = {}
    for printed, standard in misprints.items():
        findings.append(make("structure.near", sheet=grid.name, label=standard,
                             detail=f"表头“{printed}”按“{_group_label(table, standard)}”读取"))
    headers = [x[1] for x in cands]
    aligned = align_near(col_keys, headers, _align(col_keys, headers))
    for j, tied in aligned.ambiguous:
        problems.unsure.append(f"{_col_desc(cands[j])}与" + "、".join(f"“{_standard_label(table, t)}”" for t in tied) + "同样接近")
    for i, j in aligned.near:
        findings.append(make(
            "structure.near", sheet=grid.name, cell=a1(first, cands[j][0]), label=table.columns[i].label,
            detail=f"{_col_desc(cands[j])}按“{table.columns[i].label}”读取",
        ))
    matched = aligned.pairs
    used = set(matched.values())
    extra = [_col_desc(x) for j, x in enumerate(cands) if j not in used]
    if len(table.columns) == 1 and not matched and len(cands) == 1:
        matched, extra = {0: 0}, []  # the one value column, whatever its header says
    for i, col in enumerate(table.columns):
        hit = matched.get(i)
        if hit is not None:
            cols[col.id] = cands[hit][0]
        elif col.id not in blank:
            if len(table.columns) == 1 and cands:  # several value columns, none of them the form's
                problems.missing_cols.append(f"“{col.label}”（表中的数值列为{'、'.join(_col_desc(x) for x in cands)}）")
                return cols, note_col, problems, findings
            problems.missing_cols.append(f"“{'/'.join((*col.groups, col.label))}”")
    if extra and olds:  # the older printing's columns that have no counterpart
        findings.append(make("structure.ignored", sheet=grid.name, detail="表中多出的" + "、".join(extra)))
    elif extra:
        problems.extra_cols += extra
    return cols, note_col, problems, findings


def _group(text: str, groups: list[str], misprints: dict[str, str]) -> str:
    """A column group header as the form names it: exact, or the unique close misprint of one
    (行政法复议 for 行政复议, noted in ``misprints``); "" for anything else."""
    if not text or text in groups:
        return text
    hit = nearest(text, groups)
    if not hit.indices:
        return ""
    misprints[text] = groups[hit.indices[0]]
    return groups[hit.indices[0]]


def _group_label(table: Table, folded: str) -> str:
    return next((g for c in table.columns for g in c.groups if norm(g) == folded), folded)


def _path_key(groups: list[str], header: str) -> str:
    return "/".join((*groups, header))


def _col_desc(x: tuple[int, str, str]) -> str:
    c, _, shown = x
    return f"{_col_name(c)}列“{shown}”" if shown else f"{_col_name(c)}列（无列名）"


# ---------------------------------------------------------------- hidden sheets


def _shown(book: Book, form: Form, lay: Layout | None, match: _FormMatch) -> _FormMatch:
    """``match`` read from what a spreadsheet shows.  A clerk copies the form's sheet
    (移动或复制 → “统计表 (2)”), corrects the copy and hides the original: a table found on a
    hidden sheet is read from the visible sheet that holds it instead, with a warning when
    the figures differ (or when no visible sheet holds it); visible copies that disagree
    with each other are refused.  (``lay``: the layout of the template the file came from.)"""
    used = {tm.sheet: None for tm in match.tables.values()}
    hidden = [name for name in used if book.state(name) != "visible"]
    if not hidden:
        return match
    tables, findings, plan = dict(match.tables), list(match.findings), match.plan
    visible = [n for n in book.data_sheets() if n not in used and book.state(n) == "visible"]
    for sheet in hidden:
        on_it = [tm for tm in match.tables.values() if tm.sheet == sheet]
        copies = [(name, found) for name in visible if (found := _copy_on(book, name, on_it, form, lay)) is not None]
        if not copies:
            findings.append(make("structure.hidden_sheet", sheet=sheet, detail="没有可见的工作表含有这张表，已读取隐藏工作表中的数字"))
            continue
        figures = {_figures(book, form, found) for _, found in copies}
        if len(figures) > 1:
            names = "、".join(f"“{name}”" for name, _ in copies)
            raise ReadError("file.variant", f"工作表“{sheet}”已隐藏，而可见的工作表{names}都含有这张表且数字不同，无法确定以哪一张为准")
        name, found = copies[0]
        if figures != {_figures(book, form, on_it)}:
            findings.append(make("structure.hidden_sheet", sheet=sheet,
                                 detail=f"它与可见的工作表“{name}”数字不同，已读取可见的“{name}”"))
        for tm in found:
            if plan is not None and (tm.rows, tm.cols) != (tables[tm.table.id].rows, tables[tm.table.id].cols):
                plan = None  # not where the layout puts it: cells are placed by the match
            tables[tm.table.id] = tm
    return _FormMatch(tables, findings, match.signature, plan)


def _copy_on(book: Book, name: str, tms: list[_TableMatch], form: Form, lay: Layout | None) -> list[_TableMatch] | None:
    """The tables of ``tms`` found on sheet ``name`` (where the layout puts them, else by
    their labels), or None when it does not hold them all."""
    try:
        grid = book.grid(name)
    except ReadError:
        return None  # a sheet that cannot be read shows no table
    if lay is not None:
        plans = _plan(lay)
        if all(_in_place(grid, tm.table, plans[tm.table.id], lay.tables[tm.table.id], lay.sheet_of(tm.table))
               for tm in tms):
            return [
                _TableMatch(tm.table, name, dict(lay.tables[tm.table.id].row_of), dict(plans[tm.table.id].cols),
                            lay.sheet_of(tm.table).note_col, lay.tables[tm.table.id].last_row)
                for tm in tms
            ]
    out, lo = [], 0
    for tm in tms:
        found = _match_table(grid, tm.table, lo, _others(form, tm.table))
        if not isinstance(found, _TableMatch):
            return None
        out.append(found)
        lo = found.end + 1
    return out


def _figures(book: Book, form: Form, tms: list[_TableMatch]) -> tuple[Any, ...]:
    """Every form cell's content in the tables matched, in order: what two copies compare."""
    out: list[Any] = []
    for tm in tms:
        get = book.grid(tm.sheet).get
        cells, _ = _places(form, tm.table, tm.rows, tm.cols)
        out.extend(get(r, c) for _, r, c, _ in cells)
    return tuple(out)


# ---------------------------------------------------------------- signature block

_SIG_RE = re.compile(
    "(" + "|".join(SIGNATURE) + r")\s*[:：]?\s*(.*?)\s*(?=(?:" + "|".join(SIGNATURE) + r")|$)", re.S
)


def _find_signature(book: Book, form: Form, tables: dict[str, _TableMatch]) -> dict[str, str]:
    """单位负责人 … 填报日期 below the last table: label then value, in cells or as ``名：值`` text."""
    last = tables[form.tables[-1].id]
    grid = book.grid(last.sheet)
    out: dict[str, str] = {}
    for r in range(last.end + 1, min(last.end + 1 + TRAILING, grid.height)):
        cells = [_text(v) for v in grid.rows[r]]
        line = "\t".join(cells)
        if not any(n in line for n in SIGNATURE):
            continue
        for m in _SIG_RE.finditer(line):
            value = next((t for t in m.group(2).split("\t") if t.strip()), "").strip()
            out.setdefault(m.group(1), value)
    return {n: out[n] for n in SIGNATURE if n in out}


# ---------------------------------------------------------------- identification by labels


@dataclass
class _Title:
    year: int | None = None
    agency: str = ""


def _identify(book: Book, forms: list[Form], meta: dict[str, Any] | None) -> tuple[Form, _FormMatch, _Title]:
    """Which form a workbook without (usable) metadata holds, from its row labels."""
    grids = [book.grid(n) for n in book.data_sheets()]
    present: set[str] = set()
    for g in grids:
        for row in g.norms:
            present.update(t for t in row if t)
    if not present:
        raise ReadError("file.not_ours", "工作簿是空的")
    scored = []
    for form in forms:
        labels = [norm(r.label) for t in form.tables for r in t.rows]
        share = sum(lb in present for lb in labels) / max(len(labels), 1)
        scored.append((share, form))
    scored.sort(key=lambda x: -x[0])
    full: list[tuple[Form, _FormMatch]] = []
    partial: list[tuple[float, Form, _Problems]] = []
    for share, form in scored:
        if share < MIN_SHARE:
            continue
        result = _match_form(book, form, None)
        if isinstance(result, _Problems):
            partial.append((share, form, result))
        else:
            full.append((form, result))
    if full:
        titles = [(form, match, _title(book, form, match)) for form, match in full]
        if len(titles) > 1:
            # the form of the year in the title; then the one read as printed (a 2019 report
            # also reads as the 2021 form, through its known older printings)
            years = {y for t in titles if (y := t[2].year) is not None}
            dated = [t for t in titles if len(years) == 1 and t[0].applies_to(min(years))]
            titles = dated or titles
            fewest = min(len(t[1].findings) for t in titles)
            titles = [t for t in titles if len(t[1].findings) == fewest]
        if len(titles) > 1:
            named = [t for t in titles if t[2].agency or t[2].year]
            if len({t[0].fingerprint for t in titles}) > 1 and len(named) != 1:
                raise ReadError("file.not_ours", "同时符合多个表式：" + "、".join(t[0].id for t in titles))
            titles = named or titles
        return titles[0]
    if partial:
        share, form, problems = partial[0]
        raise ReadError("file.variant", f"与{form.name}（{form.id}）不一致：{problems.detail()}")
    wanted = f"（元数据中的表式为{_text(meta.get(ids.FORM))}）" if meta else ""
    raise ReadError("file.not_ours", f"表中没有找到已知统计表的指标名称{wanted}")


def _title(book: Book, form: Form, match: _FormMatch) -> _Title:
    """Year and agency from the text above the first table (title, 填报单位 line)."""
    tm = match.tables[form.tables[0].id]
    grid = book.grid(tm.sheet)
    top = min(tm.rows.values())
    lines = []
    for r in range(0, max(top - 1, 0)):
        texts = [_text(v)[:TITLE_CELL] for v in grid.rows[r] if isinstance(v, str | int | float) and _text(v)]
        if texts:
            lines.append("".join("".join(unicodedata.normalize("NFKC", t).split()) for t in texts))
    # the title's patterns are searched from every position: their cost grows with the
    # square of the text, so it is kept to what a title and a 填报单位 line can be
    text = "".join(lines)[:TITLE_TEXT]
    out = _Title()
    for pattern in (_title_re(form.title, "agency"), _title_re(form.summary_title, "region")):
        m = pattern.search(text)
        if m:
            out.agency = _clean_agency(m.group("who"))
            year = m.groupdict().get("year")
            out.year = int(year) if year else None
            break
    if book.title and (out.year is None or not out.agency):  # a document: its own title
        who, year = report_title(book.title)
        out.agency, out.year = out.agency or _clean_agency(who), out.year if out.year is not None else year
    if out.year is None or not out.agency:  # a retyped report's own title
        who, year = report_title(text)
        out.agency, out.year = out.agency or _clean_agency(who), out.year if out.year is not None else year
    if out.year is None:
        m = re.search(r"((?:19|20)\d\d)年", text)
        out.year = int(m.group(1)) if m else None
    m = re.search(r"填报单位[:：]?(.+?)(?=(?:填报|统计|年度|日期|单位负责人|\d{4}年)|$)", text)
    if m and not out.agency:
        out.agency = _clean_agency(m.group(1))
    return out


@lru_cache(maxsize=64)
def _title_re(template: str, who: str) -> re.Pattern[str]:
    """A tolerant regex for a title template: whitespace ignored, full/half-width alike."""
    template = "".join(unicodedata.normalize("NFKC", template).split())
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for part in parts:
        if part == "{" + who + "}":
            out.append(r"(?P<who>.*?)")
        elif part == "{year}":
            out.append(r"(?P<year>(?:19|20)\d\d)")
        elif part.startswith("{") and part.endswith("}"):
            out.append(r".*?")
        else:
            out.append("".join(re.escape(ch) for ch in part))
    return re.compile("".join(out))


def _clean_agency(text: str) -> str:
    text = re.sub(r"^(附件|附表)\s*\d*\s*[:：.]?", "", text.strip())
    text = re.sub(r"^(填报单位|单位名称)[:：]?", "", text)
    return text.strip(" :：-—")

