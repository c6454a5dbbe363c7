"""One reporting cycle: the returns of one form and year, by unit → the register and the summary.

A `Collection` is made for a form, a year, a region and (optionally) a roster, fixed for
its life.  Returns are added one at a time (`add`: read and checked in this process, as a
server does on each upload) or as entries read elsewhere (`add_entry`: the process pool
of `xxgk.pool` for a batch).  Every decision about one file that depends on the cycle is
made when it is added, and made into a *new* entry — the entry given is never changed:

* a file of another form or year than the cycle's gets ``file.wrong_form`` /
  ``file.wrong_year`` and no values (it is not summed);
* a file whose name names another roster unit than its identity (a unit filled a
  neighbour's template), or whose identity names another unit than its submitter, gets
  ``file.other_unit`` naming both; it never replaces the named unit's own return;
* a summary that says it is incomplete gets ``summary.incomplete`` (a warning that needs an
  explanation one level up);
* with last year's data (`xxgk.previous.Previous`), each unit's year-over-year checks.

`register()` and `summary()` are computed afresh from the entries on every call and change
nothing.  Who counts for a unit:

* units are identified by agency code, falling back to the name;
* a roster unit with no file is 未报送 (``missing``), or 免报 (``exempt``) when excused;
  a file from a unit not on the roster is 名单外单位 (``unexpected``) and is not summed;
* two files of the same unit with the same values: one counts, the other is a
  ``duplicate``; with different values both are refused as a ``conflict`` naming both
  files, unless ``prefer="latest"`` takes the later one (填报日期, then mtime);
* a summary counts as one block; a unit counted twice — directly and inside a summary,
  or inside two summaries — refuses both blocks as a ``conflict`` naming both places.

Totals are exact `Decimal` sums of the input cells of the accepted blocks; formula cells
are recomputed from them.  The library never prints; see `xxgk.cli` for that.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

from xxgk import __version__
from xxgk.check.checking import CheckResult
from xxgk.check.file import check_file
from xxgk.cycle.roster import Unit
from xxgk.files import display_name
from xxgk.forms.builtin import builtin, for_year
from xxgk.forms.findings import WARNING, Finding, Report, make
from xxgk.forms.model import Form, row_key
from xxgk.read.tables import DOCUMENT_KINDS, KINDS

if TYPE_CHECKING:
    from xxgk.cycle.previous import Previous

__all__ = [
    "FAILING",
    "STATUS_LABELS",
    "Block",
    "Collection",
    "CollectionError",
    "Entry",
    "Kind",
    "OffRoster",
    "Prefer",
    "Status",
    "Summary",
    "UnitKey",
    "UNKNOWN_UNIT",
    "UnitStatus",
    "cycle_of",
    "entry_of",
    "failed_entry",
    "parse_date",
]

Status = Literal["valid", "invalid", "missing", "duplicate", "unexpected", "conflict", "exempt"]
Kind = Literal["return", "summary", ""]  # "": not identified
Prefer = Literal["strict", "latest"]
PREFER: tuple[Prefer, ...] = get_args(Prefer)

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

Number = Decimal | int
UNKNOWN_UNIT = "（无法识别）"  # the register's name for a file whose unit could not be told


class CollectionError(Exception):
    """The cycle cannot be formed (no readable return to tell its form and year, or a tie)."""


class OffRoster(NamedTuple):
    """The key of a unit not on the roster: by its code, or by its name when it has none."""

    by: Literal["code", "name"]
    text: str


UnitKey = int | OffRoster  # an index into the roster, or a unit not on it


# ---------------------------------------------------------------- entries


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


def _check_source(source: Path | str | bytes, name: str | None, forms: Sequence[Form] | None) -> Entry:
    if not isinstance(source, bytes):
        return entry_of(check_file(source, forms), name)
    shown = name or "上传文件.xlsx"
    suffix = Path(shown).suffix.lower() or ".xlsx"
    with tempfile.TemporaryDirectory(prefix="xxgk-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(source)
        return entry_of(check_file(path, forms), shown)


def cycle_of(entries: Sequence[Entry], *, year: int | None = None,
             forms: Sequence[Form] | None = None) -> tuple[Form, int]:
    """The form and year of a batch: the one place where they are inferred from the files.

    ``year`` given (``--year``): that year, and the form of most files of that year (the
    year's form when none is).  Not given: the form and year of most files.  Raises
    `CollectionError` when no file tells its form and year, or when two tie (there is then
    no telling which files are the odd ones out)."""
    counts = Counter((e.form, e.year) for e in entries
                     if e.form and e.year is not None and (year is None or e.year == year))
    if not counts:
        if year is not None:
            return for_year(year), year
        raise CollectionError("没有可以读取并识别年度的统计表，无法确定表式和年度，无法汇总。")
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = "、".join(f"{f} {y}年度 {n}份" for (f, y), n in ranked if n == ranked[0][1])
        raise CollectionError(
            f"报送文件的表式或年度不一致，且无法判断以哪一种为准（{tied}）。请分开处理，或指定年度 (--year)。"
        )
    (form_id, found), _ = ranked[0]
    assert found is not None
    return form_by_id(form_id, forms), found


def form_by_id(form_id: str, forms: Sequence[Form] | None = None) -> Form:
    known = [f for f in forms or () if f.id == form_id]
    return known[0] if known else builtin(form_id)


# ---------------------------------------------------------------- the register and the summary


@dataclass(frozen=True)
class Block:
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
    form: Form
    year: int
    region: str
    totals: dict[str, Decimal]  # every value cell: inputs summed, formulas recomputed
    blocks: list[Block]  # accepted inputs, roster order first
    register: list[UnitStatus]
    entries: list[Entry]  # every file read, in the order added
    units: list[tuple[str, str]]  # every unit included, summaries flattened
    notes: dict[str, str] = field(default_factory=dict)  # row_key -> 情况说明 of the summary
    findings: list[Finding] = field(default_factory=list)  # about the summary's own figures
    roster: list[Unit] | None = None
    prefer: Prefer = "strict"
    expected: int = 0  # units the summary should hold: the roster's, else those found
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files found but not read, and why
    previous: Previous | None = None  # last year's data the collection compared with
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
        from xxgk.forms.findings import batch_json

        data = batch_json(self.reports)
        data["skipped"] = [{"file": f, "reason": why} for f, why in self.skipped]
        data["units"] = [u.to_json() for u in self.register]
        data["output"] = str(output) if output is not None else None
        return data


# ---------------------------------------------------------------- the collection


_TEMPLATE_NAME = re.compile(r"([0-9A-Za-z]+)_(.+)_\d{4}年")  # as `names.file_name` names a template


def _norm_name(name: str) -> str:
    return re.sub(r"\s+", "", name)


class Collection:
    """One reporting cycle (see the module doc)."""

    def __init__(
        self,
        form: Form,
        year: int,
        *,
        region: str = "",
        roster: Sequence[Unit] | None = None,
        previous: Previous | None = None,
        prefer: Prefer = "strict",
        forms: Sequence[Form] | None = None,
    ) -> None:
        if prefer not in PREFER:
            raise ValueError(f"prefer must be one of {', '.join(PREFER)}, not {prefer!r}")
        self._form, self._year, self._region = form, year, region
        self._roster: tuple[Unit, ...] | None = tuple(roster) if roster is not None else None
        self.previous, self.prefer, self.forms = previous, prefer, forms
        self._entries: list[Entry] = []
        self._exempt: dict[str, str] = {}
        self._by_code: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        for i, u in enumerate(self._roster or ()):
            if u.code:
                self._by_code.setdefault(u.code.strip(), i)
            self._by_name.setdefault(_norm_name(u.name), i)
        # roster names by their first two characters: a file name is searched in time of its
        # own length, not the roster's (10,000 files against a 10,000-unit roster)
        self._by_start: dict[str, list[str]] = {}
        for n in self._by_name:
            self._by_start.setdefault(n[:2], []).append(n)

    @property
    def form(self) -> Form:
        return self._form

    @property
    def year(self) -> int:
        return self._year

    @property
    def region(self) -> str:
        return self._region

    @property
    def roster(self) -> tuple[Unit, ...] | None:
        return self._roster

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    # ------------------------------------------------------------ adding

    def add(self, source: Path | str | bytes, *, name: str | None = None, submitter: str | None = None) -> Entry:
        """Read and check one return in this process and add it; its entry as added.

        ``bytes``: ``name`` is the file name to show only.  ``submitter``: the roster code
        of the unit that handed it in; the entry replaces that unit's earlier one."""
        return self.add_entry(_check_source(source, name, self.forms), submitter=submitter)

    def add_entry(self, entry: Entry, *, submitter: str | None = None) -> Entry:
        """Add an entry read elsewhere (e.g. by `xxgk.pool`); returns the entry as judged
        for this cycle (a new one when the cycle adds findings; ``entry`` is not changed)."""
        if submitter:
            entry = replace(entry, submitter=submitter.strip())
        judged = self.judge(entry)
        if judged.submitter:
            self._entries = [e for e in self._entries if e.submitter != judged.submitter]
        self._entries.append(judged)
        return judged

    def exempt(self, code: str, reason: str) -> None:
        """Excuse a roster unit (免报): the register shows it as ``exempt`` with the reason."""
        self._exempt[code.strip()] = reason.strip()

    def judge(self, entry: Entry) -> Entry:
        """The entry as this cycle sees it: the decisions that depend on the cycle (form,
        year, roster, last year) added as findings, in a new entry."""
        if entry.form and entry.year is not None:
            if entry.form != self._form.id:
                return entry.with_findings(
                    [make("file.wrong_form", found=entry.form, expected=f"{self._form.name}（{self._form.id}）")],
                    values=None)
            if entry.year != self._year:
                return entry.with_findings([make("file.wrong_year", found=entry.year, expected=self._year)],
                                           values=None)
        found: list[Finding] = []
        other = self._other_unit(entry)
        if other:
            found.append(make("file.other_unit", found=other, expected=self._identity_text(entry),
                              detail=Path(entry.file).name))
        if entry.kind == "summary" and entry.complete is not None and entry.complete[0] < entry.complete[1]:
            found.append(make("summary.incomplete", found=entry.complete[0], expected=entry.complete[1]))
        notices: tuple[str, ...] = ()
        if self.previous is not None and entry.values is not None:
            more, why = self.previous.compare_entry(self._form, entry)
            found.extend(more)
            notices = (why,) if why else ()
        if not found and not notices and not other:
            return entry
        return entry.with_findings(found, other_unit=other, notices=entry.notices + notices)

    @staticmethod
    def _identity_text(entry: Entry) -> str:
        return " ".join(x for x in (entry.code, entry.name) if x) or "（无）"

    def _other_unit(self, entry: Entry) -> str:
        """The unit that names the file (its submitter, or a roster unit in its file name)
        when that is not the unit its identity names; "" otherwise."""
        if entry.kind != "return" or not (entry.code or entry.name):
            return ""
        if entry.submitter:
            theirs = self._key(entry.submitter, "")
            if theirs != self._key(entry.code, entry.name):
                return self._unit_text(theirs, entry.submitter)
            return ""
        stem = os.path.splitext(os.path.basename(entry.file))[0]  # per file of a batch: no Path
        if (entry.code and entry.code in stem) or (entry.name and (
                entry.name in stem or _norm_name(entry.name) in _norm_name(stem))):
            return ""  # it names its own unit (maybe besides another): no telling
        named = self._named_in(stem)
        if named is not None:
            return "" if named == self._key(entry.code, entry.name) else self._unit_text(named, "")
        # no roster to go by: a template's own name, <code>_<name>_<year>年<form>
        m = _TEMPLATE_NAME.match(stem)
        return f"{m[1]} {m[2]}" if m else ""

    def _named_in(self, stem: str) -> int | None:
        """The roster unit a file name names: by a code standing alone, else the longest name."""
        if self._roster is None:
            return None
        for token in re.split(r"[^0-9A-Za-z]+", stem):
            if token and token in self._by_code:
                return self._by_code[token]
        text = _norm_name(stem)
        starts = {text[i:i + k] for i in range(len(text)) for k in (1, 2)}
        hits = [(len(n), self._by_name[n]) for start in starts for n in self._by_start.get(start, ())
                if n and n in text]
        return max(hits)[1] if hits else None

    def _unit_text(self, key: UnitKey, fallback: str) -> str:
        if isinstance(key, int) and self._roster is not None:
            u = self._roster[key]
            return " ".join(x for x in (u.code, u.name) if x)
        return fallback or key.text if isinstance(key, OffRoster) else fallback

    def _key(self, code: str, name: str) -> UnitKey:
        """A roster index when the unit is on the roster, else its code (or name)."""
        code = code.strip()
        if code and code in self._by_code:
            return self._by_code[code]
        if name and _norm_name(name) in self._by_name:
            return self._by_name[_norm_name(name)]
        return OffRoster("code", code) if code else OffRoster("name", _norm_name(name))

    # ------------------------------------------------------------ the register and the summary

    def register(self) -> list[UnitStatus]:
        """The status register, computed afresh."""
        return _Resolution(self).register

    def summary(self) -> Summary:
        """The summary of what has been added so far, computed afresh (valid when empty)."""
        done = _Resolution(self)
        form = self._form
        totals = _totals(form, done.blocks)
        notes, findings = _aggregate_checks(form, totals, done.blocks)
        units = _flatten(done.blocks)
        expected = len(self._roster) if self._roster is not None else len(
            {*units, *((u.code, u.name) for u in done.register if u.status in FAILING)})
        summary = Summary(
            form=form, year=self._year, region=self._region, totals=totals, blocks=done.blocks,
            register=done.register, entries=list(self._entries), units=units, notes=notes,
            findings=findings, roster=list(self._roster) if self._roster is not None else None,
            prefer=self.prefer, expected=expected, previous=self.previous,
        )
        if self.previous is not None:
            summary.findings = [*summary.findings, *self.previous.compare_summary(summary)]
        return summary


class _Resolution:
    """Who counts for each unit, worked out once from a collection's entries."""

    def __init__(self, c: Collection) -> None:
        self.c = c
        self.roster = c.roster
        self.groups: dict[UnitKey, list[Entry]] = {}
        self.unknown: list[Entry] = []
        for e in c.entries:
            if e.submitter:
                self.groups.setdefault(c._key(e.submitter, ""), []).append(e)
            elif not e.code and not e.name:
                self.unknown.append(e)
            else:
                self.groups.setdefault(c._key(e.code, e.name), []).append(e)
        self.register, self.blocks = self._resolve()

    def covers(self, e: Entry) -> list[UnitKey]:
        """Units an accepted entry accounts for: itself, or a summary's units."""
        if e.kind == "summary":
            return [self.c._key(code, name.strip()) for code, name in e.units]
        return [self.c._key(e.submitter or e.code, e.name)]

    def off_roster(self, key: UnitKey, entries: Sequence[Entry]) -> bool:
        """Not on the roster, and (for summaries) holding no unit of the roster either."""
        if self.roster is None or isinstance(key, int):
            return False
        return not any(e.kind == "summary" and any(isinstance(u, int) for u in self.covers(e)) for e in entries)

    def naming(self, key: UnitKey, entries: Sequence[Entry]) -> tuple[str, str]:
        if isinstance(key, int) and self.roster is not None:
            return self.roster[key].code, self.roster[key].name
        first = entries[0] if entries else None
        return (first.code, first.name) if first else ("", "")

    @staticmethod
    def _status(key: UnitKey, code: str, name: str, status: Status, entries: tuple[Entry, ...] = (),
                detail: str = "") -> UnitStatus:
        return UnitStatus(code, name, status, entries, detail, on_roster=isinstance(key, int))

    def _resolve(self) -> tuple[list[UnitStatus], list[Block]]:
        # 1. within a unit: files naming another unit set aside; duplicates, conflicts, the latest
        chosen: dict[UnitKey, Entry] = {}
        lines: dict[UnitKey, UnitStatus] = {}
        extra: dict[UnitKey, list[UnitStatus]] = {}
        for key, group in self.groups.items():
            code, name = self.naming(key, group)
            aside = [e for e in group if e.other_unit] if len(group) > 1 else []
            if len(aside) == len(group):
                aside = aside[1:]  # all of them name another unit: the first stands for the unit
            extra[key] = [
                self._status(key, code, name, "invalid", (e,), f"文件名或报送单位为{e.other_unit}，"
                           f"与文件内的单位（{Collection._identity_text(e)}）不符，未计入汇总")
                for e in aside
            ]
            group = [e for e in group if e not in aside]
            pick, others, conflict = self._choose(group)
            if conflict:
                names = "、".join(Path(e.file).name for e in group)
                detail = f"同一单位报送了{len(group)}份数据不同的文件（{names}），均未计入汇总，请确认以哪一份为准"
                if self.off_roster(key, group):
                    lines[key] = self._status(key, code, name, "unexpected", tuple(group), f"不在报送单位名单中；{detail}")
                else:
                    lines[key] = self._status(key, code, name, "conflict", tuple(group), detail)
                continue
            assert pick is not None
            chosen[key] = pick
            extra[key] += [self._status(key, code, name, "duplicate", (o,), reason) for o, reason in others]
        # 2. across blocks: a unit counted twice (directly and in a summary, or in two summaries)
        counted: dict[UnitKey, list[UnitKey]] = {}
        for key, e in chosen.items():
            if e.valid:
                for unit in dict.fromkeys(self.covers(e)):
                    counted.setdefault(unit, []).append(key)
        refused: dict[UnitKey, str] = {}
        for unit, keys in counted.items():
            if len(keys) > 1:
                places = "、".join(
                    f"{Path(chosen[k].file).name}（{'汇总表' if chosen[k].kind == 'summary' else '单位报表'}）"
                    for k in keys
                )
                who = self._unit_label(unit, keys, chosen)
                for k in keys:
                    refused[k] = refused.get(k, "") + f"{who}被重复计入：{places}，均未计入汇总。"
        # 3. statuses
        in_summary: dict[UnitKey, Entry] = {}
        for key, e in chosen.items():
            if e.valid and key not in refused and e.kind == "summary":
                for unit in self.covers(e):
                    if unit != key:
                        in_summary.setdefault(unit, e)
        register: list[UnitStatus] = []
        blocks: list[Block] = []
        order: list[UnitKey] = list(range(len(self.roster))) if self.roster is not None else []
        listed = set(order)
        order += [k for k in self.groups if k not in listed]
        exempt = self.c._exempt
        for key in order:
            on_roster = isinstance(key, int)
            group = self.groups.get(key, [])
            code, name = self.naming(key, group)
            before: list[UnitStatus] = []
            if key in lines:
                line = lines[key]
            elif key in chosen and key in in_summary and not chosen[key].valid:
                # counted inside a summary; its own file failed and is not counted: no double count
                line = self._status(key, code, name, "valid", (in_summary[key],), f"已计入{in_summary[key].label}汇总表")
                before = [self._status(key, code, name, "duplicate", (chosen[key],),
                                     f"该单位已计入{in_summary[key].label}汇总表；本文件未通过校验，未计入")]
            elif key in chosen:
                e = chosen[key]
                line = self._line(key, code, name, e, refused)
                if line.status == "valid":
                    blocks.append(Block(code, name, e))
            elif key in in_summary:
                line = self._status(key, code, name, "valid", (in_summary[key],), f"已计入{in_summary[key].label}汇总表")
            elif code in exempt and on_roster:
                line = self._status(key, code, name, "exempt", (), exempt[code] or "免报")
            else:
                line = self._status(key, code, name, "missing")
            if code in exempt and on_roster and line.status != "exempt":
                line = replace(line, detail="；".join(x for x in (line.detail, f"已登记免报（{exempt[code]}），但报送了文件") if x))
            register.append(line)
            register.extend((*before, *extra.get(key, [])))
        for e in self.unknown:
            register.append(UnitStatus("", UNKNOWN_UNIT, "invalid", (e,), "无法识别报送单位"))
        return register, blocks

    def _line(self, key: UnitKey, code: str, name: str, e: Entry, refused: Mapping[UnitKey, str]) -> UnitStatus:
        if self.off_roster(key, [e]):
            return self._status(key, code, name, "unexpected", (e,), "不在报送单位名单中，未计入汇总")
        if key in refused:
            return self._status(key, code, name, "conflict", (e,), refused[key])
        if not e.valid:
            r = e.report
            detail = f"错误{r.errors}项，未说明的提醒{r.unexplained}项"
            if e.kind == "summary" and e.complete is not None and e.complete[0] < e.complete[1]:
                detail = f"该汇总表不完整（{e.complete[1]}个单位中汇总{e.complete[0]}个）；{detail}"
            return self._status(key, code, name, "invalid", (e,), detail)
        detail = f"汇总表，包含{len(e.units)}个单位" if e.kind == "summary" else ""
        if e.kind == "summary" and e.complete is not None and e.complete[0] < e.complete[1]:
            detail += f"（不完整：{e.complete[1]}个单位中汇总{e.complete[0]}个，已说明）"
        return self._status(key, code, name, "valid", (e,), detail)

    def _unit_label(self, unit: UnitKey, keys: list[UnitKey], chosen: Mapping[UnitKey, Entry]) -> str:
        if isinstance(unit, int) and self.roster is not None:
            return f"单位“{self.roster[unit].name}”"
        assert isinstance(unit, OffRoster)
        for k in keys:
            e = chosen[k]
            for c, n in ([(e.code, e.name)] if e.kind != "summary" else list(e.units)):
                if (unit.by == "code" and c.strip() == unit.text) or (unit.by == "name" and _norm_name(n) == unit.text):
                    return f"单位“{n or c}”"
        return f"单位“{unit.text}”"

    def _choose(self, group: list[Entry]) -> tuple[Entry | None, list[tuple[Entry, str]], bool]:
        """The entry that counts for a unit, the others with why, and whether it is a conflict."""
        if len(group) == 1:
            return group[0], [], False
        readable = [e for e in group if e.values is not None]
        pool = readable or group
        distinct = {_signature(e) for e in readable}
        if len(distinct) > 1 and self.c.prefer == "strict":
            return None, [], True
        if len(distinct) > 1:  # latest
            pick = max(pool, key=lambda e: e.newness())
        else:  # identical values (or none readable): the valid one, then the latest
            pick = max(pool, key=lambda e: (e.valid, e.newness()))
        others = []
        for o in group:
            if o is pick:
                continue
            if o.values is None:
                why = f"该单位另有可用文件{Path(pick.file).name}，本文件未计入"
            elif _signature(o) == _signature(pick):
                why = f"与{Path(pick.file).name}数据相同，只计一次"
            else:
                why = f"较早的版本，已按最新文件{Path(pick.file).name}汇总"
            others.append((o, why))
        return pick, others, False


def _signature(e: Entry) -> frozenset[tuple[str, Number]]:
    return frozenset((e.values or {}).items())


def _totals(form: Form, blocks: list[Block]) -> dict[str, Decimal]:
    # whole numbers travel as ints (see _compact): summed as ints, exact, and several
    # times faster than Decimal additions; a Decimal among them makes the sum a Decimal
    keys = [c.key for c in form.inputs]
    rows = [b.values for b in blocks]
    if not keys:
        return form.compute({})
    try:  # the usual case, column by column in C: every block has every input
        pick = itemgetter(*keys)
        table = [pick(v) for v in rows] if len(keys) > 1 else [(v[keys[0]],) for v in rows]
        columns = zip(*table, strict=True) if table else ((0,) for _ in keys)
        sums = {k: Decimal(sum(col)) for k, col in zip(keys, columns, strict=True)}
    except KeyError:  # an input a block does not have counts as 0
        sums = {k: Decimal(sum(v.get(k, 0) for v in rows)) for k in keys}
    return form.compute(sums)


def _flatten(blocks: list[Block]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for b in blocks:
        out.extend(b.entry.units if b.is_summary else [(b.code, b.name)])
    return list(dict.fromkeys(out))


def _aggregate_checks(
    form: Form, totals: Mapping[str, Decimal], blocks: list[Block]
) -> tuple[dict[str, str], list[Finding]]:
    """The form's rules on the totals.

    A warning that the totals trip is explained in the summary's 情况说明 by the
    explanations the units gave (every unit was accepted); an error — impossible for
    sums of accepted returns under additive rules — is reported as a finding.
    """
    notes: dict[str, list[str]] = {}
    findings: list[Finding] = []
    cells = form.cells
    for check in form.checks:
        if any(k not in totals for k in check.bind.values()):
            continue
        if check.evaluate(totals):
            continue
        anchor = cells[check.anchor]
        if check.rule.severity == WARNING:
            texts = [
                f"{b.name}：{f.explanation}"
                for b in blocks
                for f in b.entry.report.findings
                if f.rule == check.id and f.explained and f.explanation
            ]
            row = notes.setdefault(row_key(anchor.table, anchor.row), [])
            for t in texts or ["汇总数据，由各单位已通过校验的数据相加得出"]:
                if t not in row:
                    row.append(t)
        else:
            findings.append(make(
                "rule.error", message=check.message.rstrip("。"), detail="汇总数据",
                indicator=anchor.key, label=anchor.label, found=format(totals[anchor.key], "f"),
                rule=check.id,
            ))
    return {k: "；".join(v) for k, v in notes.items()}, findings
