"""What a cycle comes to: the register (报送情况) lines, the accepted blocks, the `Summary`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from xxgk import __version__
from xxgk.cycle.entries import Entry, Number
from xxgk.cycle.previous import LastYear
from xxgk.cycle.roster import Unit
from xxgk.forms.findings import Finding, Report, batch_json
from xxgk.forms.model import Form

__all__ = ["FAILING", "STATUS_LABELS", "UNKNOWN_UNIT", "Prefer", "Status", "Summary", "UnitBlock", "UnitStatus"]

Status = Literal["valid", "invalid", "missing", "duplicate", "unexpected", "conflict", "exempt"]
Prefer = Literal["strict", "latest"]

STATUS_LABELS: dict[Status, str] = {
    "valid": "已通过",
    "invalid": "未通过校验",
    "missing": "未报送",
    "duplicate": "重复报送",
    "unexpected": "名单外单位",
    "conflict": "数据冲突",
    "exempt": "免报",
}
# statuses that leave the summary incomplete (exit code 1)
FAILING: frozenset[Status] = frozenset({"invalid", "missing", "conflict"})
UNKNOWN_UNIT = "（无法识别）"  # the register's name for a file whose unit could not be told


@dataclass(frozen=True)
class UnitBlock:
    """One accepted input, summed as a whole: a unit's return or a lower-level summary."""

    code: str
    name: str
    entry: Entry

    @property
    def values(self) -> dict[str, Number]:
        assert self.entry.values is not None
        return self.entry.values

    @property
    def is_summary(self) -> bool:
        return self.entry.kind == "summary"


@dataclass(frozen=True)
class UnitStatus:
    """One line of the status register (报送情况)."""

    code: str
    name: str
    status: Status
    entries: tuple[Entry, ...] = ()
    detail: str = ""
    on_roster: bool = False

    @property
    def files(self) -> list[str]:
        return [e.file for e in self.entries]

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "status": self.status, "files": self.files}
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass
class Summary:
    """A cycle's outcome: the register, the accepted blocks and their totals, as of when it was made."""

    form: Form
    year: int
    region: str
    totals: dict[str, Decimal]  # every value cell: inputs summed, formulas recomputed
    blocks: list[UnitBlock]  # accepted inputs, roster order first
    register: list[UnitStatus]
    entries: list[Entry]  # every file read, in the order added
    units: list[tuple[str, str]]  # every unit included, summaries flattened
    notes: dict[str, str] = field(default_factory=dict)  # row_key -> 情况说明 of the summary
    findings: list[Finding] = field(default_factory=list)  # about the summary's own figures
    roster: list[Unit] | None = None
    prefer: Prefer = "strict"
    expected: int = 0  # units the summary should hold: the roster's, else those found
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files found but not read, and why
    last: LastYear | None = None  # last year's figures, when the collection compared with them
    built_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    tool_version: str = __version__

    @property
    def reports(self) -> list[Report]:
        return [e.report for e in self.entries]

    @property
    def failing(self) -> list[UnitStatus]:
        """Register lines that keep the summary from being complete."""
        return [u for u in self.register if u.status in FAILING]

    @property
    def complete(self) -> bool:
        return not self.failing

    def counts_text(self) -> str:
        """已通过24，未通过校验3，…: the register's statuses that occur, in the register's order."""
        counts = Counter(u.status for u in self.register)
        return "，".join(f"{label}{counts[s]}" for s, label in STATUS_LABELS.items() if counts[s])

    def to_json(self, output: Path | str | None = None) -> dict[str, Any]:
        data = batch_json(self.reports)
        data["skipped"] = [{"file": f, "reason": why} for f, why in self.skipped]
        data["units"] = [u.to_json() for u in self.register]
        data["output"] = str(output) if output is not None else None
        return data
