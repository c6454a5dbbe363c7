"""Check files on disk: one that cannot be read at all becomes a report with one finding,
so a batch never stops at a bad file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xxgk.check.checking import CheckResult, check_return
from xxgk.files import display_name
from xxgk.forms.findings import Code, Report, is_code, make
from xxgk.forms.model import Form
from xxgk.read.returns import ReadError


def check_file(path: Path | str, forms: Sequence[Form] | None = None) -> CheckResult:
    """Read and check one file; a file that cannot be read gives a report, never an exception."""
    from xxgk.read.open import read

    path = Path(path)
    try:
        ret = read(path, forms)
    except ReadError as exc:
        refused = _unreadable(path, exc.code, exc.detail, exc.fields)
        if exc.identity is not None:  # refused, but its unit known: attributed to that unit
            ident = exc.identity
            refused.report.agency_code, refused.report.agency_name = ident.agency_code, ident.agency_name
        return refused
    except MemoryError:  # past a worker's memory limit: the worker says so (`xxgk.cycle.worker`)
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a batch
        return _unreadable(path, "file.unreadable", f"{type(exc).__name__}: {exc}", {})
    return check_return(ret)


def _unreadable(path: Path, code: str, detail: str, fields: Mapping[str, Any]) -> CheckResult:
    """The report of a file refused with ``code``; a code the catalogue lacks is kept in the detail."""
    known: Code = "file.unreadable"
    if is_code(code):
        known = code
    else:
        detail = f"{code}: {detail}" if detail else code
    extra = {k: v for k, v in fields.items() if k not in ("detail", "sheet", "cell")}
    detail = display_name(detail) or "未知原因"
    if path.suffix.lower() == ".et":  # WPS's own spreadsheet format: tried as the spreadsheet it is
        detail = f"{detail}；已按WPS表格（.et）尝试读取，请在WPS中另存为.xlsx后报送"
    finding = make(known, detail=detail, **extra)
    return CheckResult(Report(file=display_name(path), findings=[finding]))
