"""The roster: which units report (代码, 名称), from CSV or a spreadsheet.

Rosters are kept by hand in Excel, so a CSV may be UTF-8, UTF-8 with BOM or GBK
(what Chinese Excel saves), and codes may come back as numbers.  Every mistake
is reported with the file and line so the person who keeps the list can fix it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xxgk.read.open import open_file
from xxgk.read.returns import ReadError

CODE_HEADERS = ("代码", "code", "单位代码")
NAME_HEADERS = ("名称", "name", "单位名称")
CATEGORY_HEADERS = ("类别", "category", "单位类别", "分组")  # optional: 部门, 乡镇 … (the register groups by it)
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
HEADER_SEARCH = 10  # rows searched for the header (a title and notes may sit above it)


class RosterError(ValueError):
    """A roster that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    category: str = ""  # the roster's optional 类别 column


def read_roster(path: Path | str) -> list[Unit]:
    """Units in file order (with their 类别 when the roster has that column); raises
    `RosterError` on a missing 名称 column, an empty name (or
    code, when there is a 代码 column), a duplicate code, or a duplicate name in a roster of
    names only (with codes, `duplicate_names` lists them for a warning)."""
    path = Path(path)
    try:
        rows = _sheet_rows(path) if path.suffix.lower() in SPREADSHEETS else _csv_rows(path)
    except OSError as exc:
        raise RosterError(f"{path}: 无法读取名单文件 (cannot read roster): {exc.strerror}") from None
    return _units(path, rows)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # a superset of GBK, as saved by Chinese Excel


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = _decode(path.read_bytes())
    except UnicodeDecodeError:
        raise RosterError(f"{path}: 无法识别文件编码，请另存为UTF-8的CSV (unknown encoding)") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise RosterError(f"{path}: 第{reader.line_num}行：CSV格式错误 (bad CSV): {exc}") from None
    return rows


def _sheet_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The first sheet's rows, the file vetted as a return is (`open.open_file`)."""
    try:
        book = open_file(path)
        try:
            if not book.names:
                raise ReadError("file.unreadable", "没有工作表")
            data = book.grid(book.names[0]).rows
        finally:
            book.close()
    except ReadError as exc:
        raise RosterError(f"{path}: 无法读取表格 (cannot read spreadsheet): {exc.detail}") from None
    return [(i + 1, [_cell_text(v) for v in row]) for i, row in enumerate(data)]


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code Excel stored as a number
    return "" if value is None else str(value)


def _norm(header: str) -> str:
    return "".join(header.split()).lower()


def _column(path: Path, line: int, header: list[str], names: tuple[str, ...]) -> int:
    wanted = {_norm(n) for n in names}
    for i, cell in enumerate(header):
        if _norm(cell) in wanted:
            return i
    found = "、".join(c.strip() for c in header if c.strip()) or "（空）"
    raise RosterError(
        f"{path}: 第{line}行：缺少“{names[0]}”列 (missing column {names[1]!r}); 现有列：{found}"
    )


def duplicate_names(units: Sequence[Unit]) -> list[str]:
    """Names that more than one unit of a roster bears (told apart by their codes only)."""
    counts = Counter("".join(u.name.split()) for u in units)
    return [n for n, k in counts.items() if k > 1]


def _header(path: Path, rows: list[tuple[int, list[str]]]) -> int:
    """Index of the header row: the first with a 名称 column (title rows above it are skipped)."""
    wanted = {_norm(n) for n in NAME_HEADERS}
    for i, (_, row) in enumerate(rows[:HEADER_SEARCH]):
        if any(_norm(c) in wanted for c in row):
            return i
    return 0  # none: the first row, whose missing column `_column` reports


def _units(path: Path, rows: list[tuple[int, list[str]]]) -> list[Unit]:
    """Units after the header row; a roster of names only (no 代码 column) is matched by name."""
    rows = [(line, row) for line, row in rows if any(c.strip() for c in row)]
    if not rows:
        raise RosterError(f"{path}: 名单为空 (the roster is empty)")
    at = _header(path, rows)
    line, header = rows[at]
    name_col = _column(path, line, header, NAME_HEADERS)
    wanted = {_norm(n) for n in CODE_HEADERS}
    code_col = next((i for i, c in enumerate(header) if _norm(c) in wanted), None)
    kinds = {_norm(n) for n in CATEGORY_HEADERS}
    category_col = next((i for i, c in enumerate(header) if _norm(c) in kinds), None)
    units: list[Unit] = []
    seen: dict[str, int] = {}
    names: dict[str, int] = {}
    for line, row in rows[at + 1:]:
        code = _get(row, code_col) if code_col is not None else ""
        name = _get(row, name_col)
        if not name:
            raise RosterError(f"{path}: 第{line}行：名称为空 (empty name)")
        if code_col is not None and not code:
            raise RosterError(f"{path}: 第{line}行：“{name}”的代码为空 (empty code)")
        if code in seen:
            raise RosterError(
                f"{path}: 第{line}行：代码{code}与第{seen[code]}行重复 (duplicate code)"
            )
        key = "".join(name.split())
        if key in names and code_col is None:  # matched by name only: two would be one unit
            raise RosterError(f"{path}: 第{line}行：名称“{name}”与第{names[key]}行重复 (duplicate name)")
        if code:
            seen[code] = line
        names.setdefault(key, line)
        units.append(Unit(code, name, _get(row, category_col) if category_col is not None else ""))
    if not units:
        raise RosterError(f"{path}: 名单中没有单位 (no units after the header)")
    return units


def _get(row: list[str], col: int) -> str:
    return " ".join(row[col].split()) if col < len(row) else ""
