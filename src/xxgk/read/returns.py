"""A return as read from a workbook: identity plus the raw content of every form cell.

The reader produces it, the checker consumes it; nothing here interprets values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from xxgk.forms.findings import Finding
from xxgk.forms.identity import Identity
from xxgk.forms.model import Form


class ReadError(Exception):
    """A file that cannot be read at all; ``code`` is a findings catalogue code."""

    def __init__(self, code: str, detail: str = "", **fields: Any) -> None:
        super().__init__(detail or code)
        self.code, self.detail, self.fields = code, detail, fields
        self.identity: Identity | None = None  # whose file it is, when known before the refusal


class Formula(NamedTuple):
    """An input cell holding a formula whose result cannot be known (a cell reference, a
    function): the reader puts this in place of the stored result, which may be stale."""

    text: str


class RawCell(NamedTuple):
    """What one form cell held: the value as the spreadsheet library returned it.

    A named tuple: a batch builds hundreds of thousands of them."""

    key: str
    sheet: str
    cell: str  # A1 address where it was found
    value: Any  # None, str, int, float, bool, date/datetime…


@dataclass
class Return:
    path: Path
    form: Form
    identity: Identity
    cells: dict[str, RawCell]  # every form cell: inputs, formula cells (cached value), headers
    notes: dict[str, str] = field(default_factory=dict)  # row_key -> 情况说明 text
    signature: dict[str, str] = field(default_factory=dict)  # 单位负责人 … 填报日期
    findings: list[Finding] = field(default_factory=list)  # found while reading (structure, identity)
    sha256: str = ""
    mtime: float = 0.0
    kind: str = ""  # what the file was: xlsx, xls, ods (workbooks), docx, html (the report itself)
