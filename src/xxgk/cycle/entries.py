"""One file read and checked, as an `Entry`: small, picklable, the unit of a cycle's work."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from xxgk.check.checking import CheckResult
from xxgk.check.file import check_file
from xxgk.files import display_name
from xxgk.forms.findings import Finding, Report, make
from xxgk.forms.model import Form
from xxgk.read.tables import DOCUMENT_KINDS, KINDS

__all__ = ["Entry", "Kind", "Number", "check_source", "entry_of", "failed_entry", "parse_date"]

Kind = Literal["return", "summary", ""]  # "": not identified
Number = Decimal | int


@dataclass(frozen=True)
class Entry:
    """One file read and checked: small, picklable, no workbook; never changed once made."""

    file: str
    report: Report
    kind: Kind = ""
    form: str = ""
    fingerprint: str = ""
    year: int | None = None
    code: str = ""
    name: str = ""
    units: tuple[tuple[str, str], ...] = ()  # a summary's units (code, name)
    signature: dict[str, str] = field(default_factory=dict)
    values: dict[str, Number] | None = None  # every known value cell; ints where integral
    notes: dict[str, str] = field(default_factory=dict)  # row_key -> 情况说明
    sha256: str = ""
    mtime: float = 0.0
    complete: tuple[int, int] | None = None  # a summary's (units summed, units expected)
    submitter: str = ""  # roster code of the unit that handed it in, when known
    other_unit: str = ""  # the unit its file name or submitter names, when not its own
    notices: tuple[str, ...] = ()  # said about the file without being a finding
    file_kind: str = ""  # what the file was: xlsx, xls, ods, or the report itself as docx, html

    @property
    def shown_file(self) -> str:
        """The file's name, with what it was when it is the report itself (a register line)."""
        name = Path(self.file).name
        return f"{name}（{KINDS[self.file_kind]}）" if self.file_kind in DOCUMENT_KINDS else name

    @property
    def valid(self) -> bool:
        return self.values is not None and self.report.valid

    @property
    def label(self) -> str:
        return self.name or self.code or Path(self.file).name

    @property
    def date(self) -> dt.date | None:
        """填报日期 as a date, when it can be read as one."""
        return parse_date(self.signature.get("填报日期", ""))

    def newness(self) -> tuple[dt.date, float]:
        return (self.date or dt.date.min, self.mtime)

    @property
    def identity_text(self) -> str:
        """The unit its identity names, code and name ("（无）" when none)."""
        return " ".join(x for x in (self.code, self.name) if x) or "（无）"

    def with_findings(self, findings: Sequence[Finding], **changes: Any) -> Entry:
        """A copy with ``findings`` added to a copy of its report (and other fields changed)."""
        report = replace(self.report, findings=[*self.report.findings, *findings])
        return replace(self, report=report, **changes)


def parse_date(text: str) -> dt.date | None:
    """``2019-01-20``, ``2019年1月20日``, ``2019/1/20``, ``20190120`` or an Excel serial number."""
    text = text.strip()
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{5}(\.\d+)?", text):
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(text)))
    except (ValueError, OverflowError):
        return None
    return None


def _compact(values: Mapping[str, Decimal]) -> dict[str, Number]:
    """Integral values as ints: a fraction of the size in memory and in the pipe."""
    out: dict[str, Number] = {}
    for key, value in values.items():
        whole = int(value)  # values are finite: parsing refuses anything else
        out[key] = whole if whole == value else value
    return out


def entry_of(result: CheckResult, file: str | None = None) -> Entry:
    """The entry of a checked file (``file``: the name to show, default the path read)."""
    report, ret = result.report, result.ret
    shown = file if file is not None else report.file
    if file is not None:
        report = replace(report, file=file)
    if ret is None:  # not read; its unit may still be known (a refused return's identity)
        code, name = report.agency_code.strip(), report.agency_name.strip()
        return Entry(file=shown, report=report, kind="return" if code or name else "", code=code, name=name)
    ident = ret.identity
    kind: Kind = "summary" if ident.kind == "summary" else "return"
    name = (ident.agency_name or ident.region).strip()
    if kind == "summary" and not name:
        name = Path(shown).stem  # a summary written without --region is known by its file
    return Entry(
        file=shown,
        report=report,
        kind=kind,
        form=ret.form.id,
        fingerprint=ret.form.fingerprint,
        year=ident.year,
        code=ident.agency_code.strip(),
        name=name,
        units=tuple(ident.units),
        signature=dict(ret.signature),
        # a file whose cells could not all be read has no usable values
        values=None if result.unknown else _compact(result.values),
        notes=dict(ret.notes),
        sha256=ret.sha256,
        mtime=ret.mtime,
        complete=ident.complete,
        file_kind=ret.kind,
    )


def failed_entry(path: str, detail: str) -> Entry:
    """A file that brought its reader down: one ``file.unreadable`` finding."""
    file = display_name(path)
    return Entry(file=file, report=Report(file=file, findings=[make("file.unreadable", detail=display_name(detail))]))


def check_source(source: Path | str | bytes, name: str | None, forms: Sequence[Form] | None) -> Entry:
    """The entry of a file read and checked in this process (``bytes``: an upload named ``name``)."""
    if not isinstance(source, bytes):
        return entry_of(check_file(source, forms), name)
    shown = name or "上传文件.xlsx"
    suffix = Path(shown).suffix.lower() or ".xlsx"
    with tempfile.TemporaryDirectory(prefix="xxgk-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(source)
        return entry_of(check_file(path, forms), shown)
