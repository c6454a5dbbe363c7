"""A worksheet whose long, regular runs of rows are streamed into its XML as it is saved.

xlsxwriter keeps every cell written as an object until the workbook is closed, then writes
each one through several Python calls: about 15 µs a cell under the profiler, most of 5.8 s
of CPU for the summary of 10,000 units.  Its ``constant_memory`` mode streams, but only for a whole
workbook written strictly row by row, which the form sheets (merged header blocks, notes
written beside their rows) are not.  `StreamedSheet` is an ordinary xlsxwriter worksheet
that also takes *runs*: consecutive rows of values in fixed columns with one format per
column, kept as a function that yields the rows.  When the workbook is saved, each run is
rendered into the sheet's XML in one pass — the rows drawn, formats' indices looked up once,
text as inline strings as ``constant_memory`` writes it — between the rows written cell by
cell, which stay xlsxwriter's own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

__all__ = ["Kind", "StreamedSheet"]

Rows = Callable[[], Iterable[Sequence[Any]]]  # yields each row's values, one per column

_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


Kind = Literal["text", "number", "cell"]  # cell: any value, rendered cell by cell (see `_cell`)


@dataclass(frozen=True)
class _Run:
    first: int
    count: int
    columns: tuple[tuple[int, Format | None, Kind], ...]
    rows: Rows


def _text(value: str) -> str:
    """A string's inline-string element body, escaped as xlsxwriter escapes one."""
    if _SPECIAL.search(value):
        value = Worksheet._escape_control_characters(value)  # "\x01" → _x0001_, "_x0041_" kept literal
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{space}>{value}</t></is>"


class StreamedSheet(Worksheet):  # type: ignore[misc]  # xlsxwriter has no type hints
    """An xlsxwriter worksheet that also takes runs of rows (`stream_rows`); add it with
    ``workbook.add_worksheet(name, worksheet_class=StreamedSheet)``."""

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[int, _Run] = {}
        self._row_tags: dict[tuple[Any, ...], str] = {}

    def stream_rows(self, first: int, count: int, columns: Sequence[tuple[int, Format | None, Kind]],
                    rows: Rows) -> None:
        """Rows ``first`` … ``first + count - 1`` are ``rows()``, each a sequence of values for
        ``columns`` ((column, format, kind) triples, left to right): a ``text`` column takes a
        `str`, a ``number`` column an int or a finite float, a ``cell`` column either, ""
        for a blank cell, or a (value, format) pair.  ``rows`` is called once, while the
        workbook is saved.  Rows may have heights of their own (``set_row``); nothing else
        may be written into them."""
        if count <= 0 or not columns:
            return
        if self.constant_memory:
            raise ValueError("stream_rows needs a workbook without constant_memory")
        cols = [c for c, _, _ in columns]
        if cols != sorted(set(cols)) or cols[0] < 0:
            raise ValueError("stream_rows: columns must be given left to right")
        last = first + count - 1
        if any(first < o.first + o.count and o.first <= last for o in self._runs.values()):
            raise ValueError(f"rows {first + 1}–{last + 1} overlap another run")
        if self._check_dimensions(first, cols[0]) or self._check_dimensions(last, cols[-1]):
            raise ValueError(f"rows {first + 1}–{last + 1} lie outside the worksheet")
        self._runs[first] = _Run(first, count, tuple(columns), rows)

    # ---------------------------------------------------------------- saving

    def _write_rows(self) -> None:
        if not self._runs:
            super()._write_rows()
            return
        self._calculate_spans()
        row = self.dim_rowmin
        while row <= self.dim_rowmax:
            run = self._runs.get(row)
            if run is not None:
                self._write_run(run)
                row += run.count
                continue
            if row in self.row_info or row in self.comments or self.table[row]:
                self._write_table_row(row)
            row += 1

    def _write_table_row(self, row: int) -> None:
        """One row of cells written through xlsxwriter (as its `_write_rows` writes one)."""
        span = self.row_spans.get(row // 16)
        info = self.row_info.get(row)
        if self.table[row]:
            self._write_row(row, span, info)
            cells = self.table[row]
            for col in sorted(cells):
                self._write_cell(row, col, cells[col])
            self._xml_end_tag("row")
        else:
            self._write_empty_row(row, span, info)

    def _write_run(self, run: _Run) -> None:
        for r in range(run.first, run.first + run.count):
            if self.table.get(r) or r in self.comments:
                raise ValueError(f"row {r + 1} is both streamed and written cell by cell")
        if self.default_row_height != self.original_row_height:
            raise ValueError("stream_rows: rows of the default height only")
        # a row's cells as a format string: {0} its number, {1}… its values (text already
        # escaped; a ``cell`` column's whole cell after its reference, rendered by `_cell`)
        cells = []
        for i, (col, fmt, kind) in enumerate(run.columns, start=1):
            style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
            ref = f'<c r="{xl_col_to_name(col)}{{0}}"'
            if kind == "text":
                cells.append(f'{ref}{style} t="inlineStr">{{{i}}}</c>')
            elif kind == "number":
                cells.append(f"{ref}{style}><v>{{{i}:.16G}}</v></c>")
            else:
                cells.append(f"{ref}{{{i}}}")
        fill = "".join(cells).format
        texts = [i for i, (_, _, kind) in enumerate(run.columns) if kind == "text"]
        free = [(i, fmt) for i, (_, fmt, kind) in enumerate(run.columns) if kind == "cell"]
        width, heights = len(run.columns), self.row_info
        write = self.fh.write
        n = run.first
        for values in run.rows():
            n += 1
            if n > run.first + run.count or len(values) != width:
                raise ValueError(f"row {n}: {len(values)} values for {width} columns, or past the run")
            if texts or free:
                values = list(values)
                for i in texts:
                    values[i] = _text(values[i])
                for i, fmt in free:
                    values[i] = _cell(values[i], fmt)
            info = heights.get(n - 1)  # a height of its own (set_row)
            start = f'<row r="{n}">' if info is None else self._row_tag(info).format(n)
            write(f"{start}{fill(n, *values)}</row>")
        if n != run.first + run.count:
            raise ValueError(f"{n - run.first} rows streamed from row {run.first + 1}, {run.count} announced")


    def _row_tag(self, info: Any) -> str:
        """The start tag xlsxwriter writes for a row of these properties (`RowInfo`), with
        ``{0}`` for its number: drawn once for each distinct set of properties."""
        key = (info.height, id(info.row_format), info.hidden, info.level, info.collapsed)
        tag = self._row_tags.get(key)
        if tag is None:
            saved: Any = self.fh  # type: ignore[has-type]
            self.fh = drawn = io.StringIO()
            try:
                self._write_row(0, None, info)
            finally:
                self.fh = saved
            tag = drawn.getvalue()
            tag = self._row_tags[key] = tag.replace('<row r="1"', '<row r="{0}"', 1)
        return tag


def _cell(value: Any, fmt: Format | None) -> str:
    """A ``cell`` column's cell after its reference: text, a number, "" for a blank cell with
    the column's format, or a (value, format) pair for a format of its own."""
    if isinstance(value, tuple):
        value, fmt = value
    style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
    if isinstance(value, str):
        return f'{style} t="inlineStr">{_text(value)}</c>' if value else f"{style}/>"
    return f"{style}><v>{value:.16G}</v></c>"
