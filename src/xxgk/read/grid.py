"""A workbook or document as grids of cells, and the folded text that labels are compared in."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any

import python_calamine as pc

from xxgk.forms.labels import QUOTES
from xxgk.read.returns import ReadError
from xxgk.read.safety import preflight as safety
from xxgk.read.tables import Tables

RESULT_SHEET = "校验结果"  # the sheet `annotate` puts first; never part of a return

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


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        text = norm(value).replace(",", "")
        return bool(text) and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text) is not None
    return False


def cell_text(value: Any) -> str:
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


class Grid:
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

    title = ""  # a document's title text (see `Document`)

    def __init__(self, wb: pc.CalamineWorkbook, preflight: safety.Preflight | None = None) -> None:
        self.wb, self.preflight = wb, preflight
        self.kind = preflight.kind if preflight is not None else "xlsx"
        self.meta = {m.name: m for m in wb.sheets_metadata}
        self.names: list[str] = list(wb.sheet_names)
        self._grids: dict[str, Grid] = {}

    def grid(self, name: str) -> Grid:
        if name not in self._grids:
            sheet = self._sheet(name)
            try:
                rows = sheet.to_python(skip_empty_area=False)
            except Exception as exc:  # noqa: BLE001 - any calamine failure is a bad file
                raise ReadError("file.unreadable", f"工作表“{name}”无法读取（{short_error(exc)}）") from None
            self._grids[name] = Grid(name, rows)
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
        """The sheet, parsed only once its part has been vetted (see `safety.preflight`)."""
        if self.preflight is not None:
            self.preflight.vet_sheet(name)
        try:
            return self.wb.get_sheet_by_name(name)
        except Exception as exc:  # noqa: BLE001 - any calamine failure is a bad file
            raise ReadError("file.unreadable", f"工作表“{name}”无法读取（{short_error(exc)}）") from None

    def close(self) -> None:
        self.wb.close()

    def data_sheets(self) -> list[str]:
        """Sheets that may hold a form table: visible ones first, never our own hidden ones."""
        names = [n for n in self.names if not n.startswith("_") and n != RESULT_SHEET]
        return sorted(names, key=lambda n: self.state(n) != "visible")


class Document(Book):
    """A Word document's or a web page's tables (`tables.Tables`) as a book of sheets 表1, 表2 …"""

    def __init__(self, tables: Tables) -> None:
        self.preflight, self.meta = None, {}
        self.kind, self.title = tables.kind, tables.title
        self.names = list(tables.grids)
        self._grids = {name: Grid(name, list(rows)) for name, rows in tables.grids.items()}

    def merged(self, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        return []  # spans are already expanded in the grid

    def close(self) -> None:
        pass


def short_error(exc: BaseException) -> str:
    """An exception's first line, short enough for a finding's message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def header_at(grid: Grid, r: int, c: int, lo: int) -> str:
    """The header over column ``c`` in row ``r``: its own text, or that of the nearest cell to
    its left (not left of column ``lo``) that holds one — a group header merged across
    columns is held by its first cell only."""
    for x in range(c, lo - 1, -1):
        text = grid.text(r, x)
        if text:
            return text
    return ""


def row_text(grid: Grid, r: int, lo: int, hi: int) -> list[str]:
    """The folded texts of row ``r`` in columns ``lo`` … ``hi``: its labels."""
    if not 0 <= r < grid.height:
        return []
    row = grid.norm_row(r)
    return [row[c] for c in range(max(lo, 0), min(hi, len(row) - 1) + 1) if row[c]]
