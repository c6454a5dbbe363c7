"""An `Entry` as text and back: what a server keeps of a file it has read, so that it never
reads the file again (a restart, a 免报 taken back, a changed roster rebuild from these)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from xxgk.cycle.entries import Entry, Number
from xxgk.forms.findings import Finding, Report

__all__ = ["entry_from_json", "entry_json", "report_from_json", "report_json"]


def report_json(report: Report) -> str:
    """The report as `xxgk check --format json` gives it."""
    return json.dumps(report.to_json(), ensure_ascii=False)


def report_from_json(text: str) -> Report:
    return _report(json.loads(text))


def _report(data: dict[str, Any]) -> Report:
    return Report(file=data["file"], form=data["form"], year=data["year"],
                  agency_code=data["agency"]["code"], agency_name=data["agency"]["name"],
                  findings=[Finding(**f) for f in data["issues"]])


def entry_json(entry: Entry) -> str:
    """Everything an entry holds; exact values (a fraction as its decimal text)."""
    values = None if entry.values is None else {
        k: v if isinstance(v, int) else {"d": str(v)} for k, v in entry.values.items()}
    return json.dumps({
        "file": entry.file, "report": entry.report.to_json(), "kind": entry.kind, "form": entry.form,
        "fingerprint": entry.fingerprint, "year": entry.year, "code": entry.code, "name": entry.name,
        "units": [list(u) for u in entry.units], "signature": entry.signature, "values": values,
        "notes": entry.notes, "sha256": entry.sha256, "mtime": entry.mtime,
        "complete": list(entry.complete) if entry.complete is not None else None,
        "submitter": entry.submitter, "other_unit": entry.other_unit, "notices": list(entry.notices),
        "file_kind": entry.file_kind,
    }, ensure_ascii=False)


def entry_from_json(text: str) -> Entry:
    d = json.loads(text)
    values: dict[str, Number] | None = None
    if d["values"] is not None:
        values = {k: Decimal(v["d"]) if isinstance(v, dict) else int(v) for k, v in d["values"].items()}
    complete = d["complete"]
    return Entry(
        file=d["file"], report=_report(d["report"]), kind=d["kind"], form=d["form"], fingerprint=d["fingerprint"],
        year=d["year"], code=d["code"], name=d["name"], units=tuple((str(a), str(b)) for a, b in d["units"]),
        signature=dict(d["signature"]), values=values, notes=dict(d["notes"]), sha256=d["sha256"],
        mtime=float(d["mtime"]), complete=(int(complete[0]), int(complete[1])) if complete is not None else None,
        submitter=d["submitter"], other_unit=d["other_unit"], notices=tuple(d["notices"]), file_kind=d["file_kind"],
    )
