"""Many returns (and lower-level summaries) + a roster → one `Summary`.

Every file is read and checked in worker processes; a worker sends back only a
compact `Entry` (the report, the exact values, identity, signature, SHA-256 and
mtime), never a workbook.  The parent then decides, for every unit, which file
counts:

* units are identified by agency code, falling back to the name;
* a unit on the roster with no file is 未报送 (``missing``); a file from a unit not
  on the roster is 名单外单位 (``unexpected``) and is not summed;
* two files of the same unit with the same values: one counts, the other is a
  ``duplicate``; with different values both are refused as a ``conflict`` naming both
  files, unless ``prefer="latest"`` takes the later one (填报日期, then mtime);
* a summary (metadata kind=summary) counts as one block; a unit counted twice —
  directly and inside a summary, or inside two summaries — refuses both blocks as a
  ``conflict`` naming both places;
* files of another form or year than the batch's (the form and year of most files)
  get a ``file.wrong_form``/``file.wrong_year`` finding and are not summed.  Only when
  no form/year is the clear majority is the whole batch refused with `MergeError`:
  there is then no way to tell which files are the odd ones out.

Totals are exact `Decimal` sums of the input cells of the accepted blocks; formula
cells are recomputed from them.  The library never prints; see `xxgk.cli` for that.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Any

from . import __version__
from . import forms as forms_mod
from .check import check_file, collect_files, compare_years
from .findings import WARNING, Finding, Report, batch_json, make
from .forms import Form
from .layout import layout_of
from .reader import default_forms
from .returns import row_key
from .roster import Unit, read_roster

__all__ = [
    "STATUS_LABELS",
    "Block",
    "Entry",
    "MergeError",
    "Summary",
    "UnitStatus",
    "build",
    "collect",
    "merge",
    "read_entries",
]

PREFER = ("strict", "latest")
SUMMARY = "summary"

STATUS_LABELS = {
    "valid": "已通过",
    "invalid": "未通过校验",
    "missing": "未报送",
    "duplicate": "重复报送",
    "unexpected": "名单外单位",
    "conflict": "数据冲突",
}
# statuses that leave the summary incomplete (exit code 1)
FAILING = frozenset({"invalid", "missing", "conflict"})

Number = Decimal | int


class MergeError(Exception):
    """The batch as a whole cannot be merged (no readable return, forms or years tied)."""


# ---------------------------------------------------------------- worker results


@dataclass
class Entry:
    """What a worker sends back for one file: small, picklable, no workbook."""

    file: str
    report: Report
    kind: str = ""  # "return" | "summary" | "" (not identified)
    form: str = ""
    fingerprint: str = ""
    year: int | None = None
    code: str = ""
    name: str = ""
    units: tuple[tuple[str, str], ...] = ()  # a summary's units (code, name)
    signature: dict[str, str] = field(default_factory=dict)
    values: dict[str, Number] | None = None  # every known value cell; ints where integral
    sha256: str = ""
    mtime: float = 0.0
    file_kind: str = ""  # xlsx, xls, ods, docx, html (book.KINDS names them)

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


def _entry(path: str, form_list: Sequence[Form] | None) -> Entry:
    try:
        result = check_file(path, form_list)
    except Exception as exc:  # noqa: BLE001 - check_file does not raise; a batch never stops
        return _failed(path, f"{type(exc).__name__}: {exc}")
    report, ret = result.report, result.ret
    if ret is None:
        return Entry(file=path, report=report)
    ident = ret.identity
    kind = SUMMARY if ident.kind == SUMMARY else "return"
    return Entry(
        file=path,
        report=report,
        kind=kind,
        form=ret.form.id,
        fingerprint=ret.form.fingerprint,
        year=ident.year,
        code=ident.agency_code.strip(),
        name=(ident.agency_name or ident.region).strip(),
        units=tuple(ident.units),
        signature=dict(ret.signature),
        # a file whose cells could not all be read has no usable values
        values=None if result.unknown else _compact(result.values),
        sha256=ret.sha256,
        mtime=ret.mtime,
        file_kind=ret.kind,
    )


def _failed(path: str, detail: str) -> Entry:
    return Entry(file=path, report=Report(file=path, findings=[make("file.unreadable", detail=detail)]))


def _chunk(paths: list[str], form_list: Sequence[Form] | None) -> list[Entry]:
    return [_entry(p, form_list) for p in paths]


def read_entries(
    paths: Sequence[Path | str],
    *,
    jobs: int | None = None,
    forms: Sequence[Form] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Entry]:
    """Read and check every file, in parallel across ``jobs`` processes; results in input order.

    A worker that dies (a file that brings the process down) costs only its own files: the
    others are retried one by one and the culprit gets a ``file.unreadable`` finding.
    """
    files = [str(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    with _frozen(forms):
        return _read_all(files, jobs, forms, progress)


@contextmanager
def _frozen(forms: Sequence[Form] | None) -> Iterator[None]:
    """The forms loaded, then everything alive frozen out of the garbage collector's sight
    for the batch: its full collections no longer walk them over and over (measured: 7%
    of reading a return), and forked workers inherit both."""
    for form in forms if forms is not None else default_forms():
        layout_of(form)
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:  # leave a caller's own freeze as it was
            gc.unfreeze()


def _read_all(
    files: list[str], jobs: int, forms: Sequence[Form] | None, progress: Callable[[int, int], None] | None
) -> list[Entry]:
    total, done = len(files), 0
    if jobs == 1 or total < 2:
        out = []
        for f in files:
            out.append(_entry(f, forms))
            done += 1
            if progress:
                progress(done, total)
        return out
    chunks = _chunked(files, jobs)
    results: dict[int, list[Entry]] = {}
    retry: list[int] = []
    with _pool(jobs) as pool:
        futures: list[tuple[int, Future[list[Entry]]]] = [
            (i, pool.submit(_chunk, c, forms)) for i, c in enumerate(chunks)
        ]
        for i, fut in futures:
            try:
                results[i] = fut.result()
            except BrokenProcessPool:
                retry.append(i)
                continue
            done += len(chunks[i])
            if progress:
                progress(done, total)
    for i in retry:
        results[i] = []
        for f in chunks[i]:
            results[i].append(_isolated(f, forms))
            done += 1
            if progress:
                progress(done, total)
    return [e for i in range(len(chunks)) for e in results[i]]


def _chunked(files: list[str], jobs: int) -> list[list[str]]:
    """Work in chunks that shrink towards the end: few round trips while there is plenty
    left, and no worker idle long at the end waiting for another's last chunk."""
    chunks, at = [], 0
    while at < len(files):
        size = max(2, min(32, (len(files) - at) // (jobs * 4)))
        chunks.append(files[at : at + size])
        at += size
    return chunks


def _pool(jobs: int) -> ProcessPoolExecutor:
    # fork is cheapest (forms already loaded); elsewhere the platform default
    if sys.platform.startswith("linux"):
        return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork"))
    return ProcessPoolExecutor(max_workers=jobs)


def _isolated(path: str, form_list: Sequence[Form] | None) -> Entry:
    """One file in a process of its own, so a crash is pinned on it."""
    try:
        with _pool(1) as pool:
            return pool.submit(_entry, path, form_list).result()
    except BrokenProcessPool:
        return _failed(path, "读取该文件时处理进程异常退出")


# ---------------------------------------------------------------- the summary model


@dataclass
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
        return self.entry.kind == SUMMARY


@dataclass
class UnitStatus:
    """One line of the status register (报送情况)."""

    code: str
    name: str
    status: str  # valid | invalid | missing | duplicate | unexpected | conflict
    entries: list[Entry] = field(default_factory=list)
    detail: str = ""
    on_roster: bool = False

    @property
    def files(self) -> list[str]:
        return [e.file for e in self.entries]

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "files": self.files,
        }
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
    entries: list[Entry]  # every file read, in input order
    units: list[tuple[str, str]]  # every unit included, summaries flattened
    notes: dict[str, str] = field(default_factory=dict)  # row_key -> 情况说明 of the summary
    findings: list[Finding] = field(default_factory=list)  # about the summary's own figures
    roster: list[Unit] | None = None
    prefer: str = "strict"
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
        data["units"] = [u.to_json() for u in self.register]
        data["output"] = str(output) if output is not None else None
        return data


# ---------------------------------------------------------------- merging


def collect(paths: Iterable[Path | str], exclude: Iterable[Path | str] = ()) -> list[Path]:
    """Files named and spreadsheets found in directories, minus ``exclude`` (e.g. the output)."""
    paths = list(paths)
    try:
        files = collect_files(paths, must_exist=True)
    except (FileNotFoundError, NotADirectoryError) as exc:
        named = next((p for p in paths if Path(p) == Path(exc.filename)), exc.filename)
        raise MergeError(f"找不到文件或目录：{named}") from None
    skip = {Path(p).resolve() for p in exclude}
    return [p for p in files if p.resolve() not in skip] if skip else files


def merge(
    paths: Iterable[Path | str],
    *,
    roster: Sequence[Unit] | Path | str | None = None,
    region: str = "",
    prefer: str = "strict",
    jobs: int | None = None,
    previous: Path | str | None = None,
    forms: Sequence[Form] | None = None,
    exclude: Iterable[Path | str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Read, check and merge the returns under ``paths`` (files or directories).

    ``roster`` is a list of units or a roster file; ``previous`` last year's summary (or a
    return), whose figures the year-over-year rules compare the new totals with.
    Raises `MergeError` only when the batch as a whole cannot be merged.
    """
    if prefer not in PREFER:
        raise MergeError(f"prefer must be one of {', '.join(PREFER)}, not {prefer!r}")
    units = read_roster(roster) if isinstance(roster, str | Path) else roster
    files = collect(paths, exclude)
    entries = read_entries(files, jobs=jobs, forms=forms, progress=progress)
    summary = build(entries, roster=units, region=region, prefer=prefer, forms=forms)
    if previous is not None:
        summary.findings.extend(compare_previous(summary, previous, forms))
    return summary


def build(
    entries: list[Entry],
    *,
    roster: Sequence[Unit] | None = None,
    region: str = "",
    prefer: str = "strict",
    forms: Sequence[Form] | None = None,
) -> Summary:
    """The summary of checked entries (see the module doc for the rules)."""
    if prefer not in PREFER:
        raise MergeError(f"prefer must be one of {', '.join(PREFER)}, not {prefer!r}")
    form, year = _batch_form(entries, forms)
    for e in entries:
        _fit(e, form, year)
    roster_list = list(roster) if roster is not None else None
    merger = _Merger(roster_list, prefer)
    for e in entries:
        merger.add(e)
    register, blocks = merger.resolve()
    totals = _totals(form, blocks)
    summary = Summary(
        form=form,
        year=year,
        region=region,
        totals=totals,
        blocks=blocks,
        register=register,
        entries=entries,
        units=_flatten(blocks),
        roster=roster_list,
        prefer=prefer,
    )
    summary.notes, summary.findings = _aggregate_checks(form, totals, blocks)
    return summary


def _batch_form(entries: list[Entry], form_list: Sequence[Form] | None) -> tuple[Form, int]:
    counts = Counter((e.form, e.year) for e in entries if e.form and e.year is not None)
    if not counts:
        raise MergeError("没有可以读取并识别年度的统计表，无法汇总。")
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = "、".join(f"{f} {y}年度 {n}份" for (f, y), n in ranked if n == ranked[0][1])
        raise MergeError(f"报送文件的表式或年度不一致，且无法判断以哪一种为准（{tied}）。请分开汇总。")
    (form_id, year), _ = ranked[0]
    known = [f for f in form_list or () if f.id == form_id]
    form = known[0] if known else forms_mod.builtin(form_id)
    return form, year


def _fit(e: Entry, form: Form, year: int) -> None:
    """A file of another form or year gets a finding and no values."""
    if not e.form or e.year is None:
        return
    if e.form != form.id:
        e.report.findings.append(make("file.wrong_form", found=e.form, expected=f"{form.name}（{form.id}）"))
        e.values = None
    elif e.year != year:
        e.report.findings.append(make("file.wrong_year", found=e.year, expected=year))
        e.values = None


def _norm_name(name: str) -> str:
    return re.sub(r"\s+", "", name)


class _Merger:
    """Groups entries by unit and decides which ones count."""

    def __init__(self, roster: list[Unit] | None, prefer: str) -> None:
        self.roster, self.prefer = roster, prefer
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        for i, u in enumerate(roster or ()):
            if u.code:
                self.by_code.setdefault(u.code.strip(), i)
            self.by_name.setdefault(_norm_name(u.name), i)
        self.groups: dict[Any, list[Entry]] = {}
        self.unknown: list[Entry] = []

    def key(self, code: str, name: str) -> Any:
        """A roster index when the unit is on the roster, else its code (or name)."""
        if code and code in self.by_code:
            return self.by_code[code]
        if name and _norm_name(name) in self.by_name:
            return self.by_name[_norm_name(name)]
        return ("code", code) if code else ("name", _norm_name(name))

    def add(self, e: Entry) -> None:
        if not e.code and not e.name:
            self.unknown.append(e)
        else:
            self.groups.setdefault(self.key(e.code, e.name), []).append(e)

    def covers(self, e: Entry) -> list[Any]:
        """Units an accepted entry accounts for: itself, or a summary's units."""
        if e.kind == SUMMARY:
            return [self.key(c.strip(), n.strip()) for c, n in e.units]
        return [self.key(e.code, e.name)]

    def off_roster(self, key: Any, entries: list[Entry]) -> bool:
        """Not on the roster, and (for summaries) holding no unit of the roster either."""
        if self.roster is None or isinstance(key, int):
            return False
        return not any(
            e.kind == SUMMARY and any(isinstance(u, int) for u in self.covers(e)) for e in entries
        )

    def naming(self, key: Any, entries: list[Entry]) -> tuple[str, str]:
        if isinstance(key, int) and self.roster is not None:
            return self.roster[key].code, self.roster[key].name
        first = entries[0] if entries else None
        return (first.code, first.name) if first else ("", "")

    def resolve(self) -> tuple[list[UnitStatus], list[Block]]:
        # 1. within a unit: duplicates, conflicts, the latest
        chosen: dict[Any, Entry] = {}
        lines: dict[Any, UnitStatus] = {}
        extra: dict[Any, list[UnitStatus]] = {}
        for key, group in self.groups.items():
            code, name = self.naming(key, group)
            pick, others, conflict = self._choose(group)
            if conflict:
                names = "、".join(Path(e.file).name for e in group)
                detail = f"同一单位报送了{len(group)}份数据不同的文件（{names}），均未计入汇总，请确认以哪一份为准"
                if self.off_roster(key, group):
                    lines[key] = UnitStatus(code, name, "unexpected", list(group), f"不在报送单位名单中；{detail}")
                else:
                    lines[key] = UnitStatus(code, name, "conflict", list(group), detail)
                continue
            assert pick is not None
            chosen[key] = pick
            extra[key] = [
                UnitStatus(code, name, "duplicate", [o], reason) for o, reason in others
            ]
        # 2. across blocks: a unit counted twice (directly and in a summary, or in two summaries)
        counted: dict[Any, list[Any]] = {}
        for key, e in chosen.items():
            if e.valid:
                for unit in dict.fromkeys(self.covers(e)):
                    counted.setdefault(unit, []).append(key)
        refused: dict[Any, str] = {}
        for unit, keys in counted.items():
            if len(keys) > 1:
                places = "、".join(
                    f"{Path(chosen[k].file).name}（{'汇总表' if chosen[k].kind == SUMMARY else '单位报表'}）"
                    for k in keys
                )
                who = self._unit_label(unit, keys, chosen)
                for k in keys:
                    refused[k] = refused.get(k, "") + f"{who}被重复计入：{places}，均未计入汇总。"
        # 3. statuses
        in_summary: dict[Any, Entry] = {}
        for key, e in chosen.items():
            if e.valid and key not in refused and e.kind == SUMMARY:
                for unit in self.covers(e):
                    if unit != key:
                        in_summary.setdefault(unit, e)
        register: list[UnitStatus] = []
        blocks: list[Block] = []
        order: list[Any] = list(range(len(self.roster))) if self.roster is not None else []
        listed = set(order)
        order += [k for k in self.groups if k not in listed]
        for key in order:
            on_roster = isinstance(key, int)
            group = self.groups.get(key, [])
            code, name = self.naming(key, group)
            if key in lines:
                line = lines[key]
            elif key in chosen and key in in_summary and not chosen[key].valid:
                # counted inside a summary; its own file failed and is not counted: no double count
                line = UnitStatus(code, name, "valid", [in_summary[key]], f"已计入{in_summary[key].label}汇总表")
                e = chosen[key]
                extra.setdefault(key, []).insert(0, UnitStatus(
                    code, name, "duplicate", [e],
                    f"该单位已计入{in_summary[key].label}汇总表；本文件未通过校验，未计入"))
            elif key in chosen:
                e = chosen[key]
                line = self._line(key, code, name, e, refused, in_summary)
                if line.status == "valid":
                    blocks.append(Block(code, name, e))
            elif key in in_summary:
                line = UnitStatus(code, name, "valid", [in_summary[key]],
                                  f"已计入{in_summary[key].label}汇总表")
            else:
                line = UnitStatus(code, name, "missing")
            line.on_roster = on_roster
            register.append(line)
            for dup in extra.get(key, []):
                dup.on_roster = on_roster
                register.append(dup)
        for e in self.unknown:
            register.append(UnitStatus("", "（无法识别）", "invalid", [e], "无法识别报送单位"))
        return register, blocks

    def _line(
        self, key: Any, code: str, name: str, e: Entry, refused: Mapping[Any, str],
        in_summary: Mapping[Any, Entry],
    ) -> UnitStatus:
        if self.off_roster(key, [e]):
            return UnitStatus(code, name, "unexpected", [e], "不在报送单位名单中，未计入汇总")
        if key in refused:
            return UnitStatus(code, name, "conflict", [e], refused[key])
        if not e.valid:
            r = e.report
            detail = f"错误{r.errors}项，未说明的提醒{r.unexplained}项"
            return UnitStatus(code, name, "invalid", [e], detail)
        if key in in_summary and in_summary[key] is not e:
            # counted in a summary and directly: caught above as refused; never both
            raise AssertionError("unit counted twice")  # pragma: no cover
        detail = f"汇总表，包含{len(e.units)}个单位" if e.kind == SUMMARY else ""
        return UnitStatus(code, name, "valid", [e], detail)

    def _unit_label(self, unit: Any, keys: list[Any], chosen: Mapping[Any, Entry]) -> str:
        if isinstance(unit, int) and self.roster is not None:
            return f"单位“{self.roster[unit].name}”"
        kind, text = unit
        for k in keys:
            e = chosen[k]
            for c, n in ([(e.code, e.name)] if e.kind != SUMMARY else list(e.units)):
                if (kind == "code" and c.strip() == text) or (kind == "name" and _norm_name(n) == text):
                    return f"单位“{n or c}”"
        return f"单位“{text}”"

    def _choose(self, group: list[Entry]) -> tuple[Entry | None, list[tuple[Entry, str]], bool]:
        """The entry that counts for a unit, the others with why, and whether it is a conflict."""
        if len(group) == 1:
            return group[0], [], False
        readable = [e for e in group if e.values is not None]
        pool = readable or group
        distinct = {_signature(e) for e in readable}
        if len(distinct) > 1 and self.prefer == "strict":
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
            row = notes.setdefault(row_key(anchor), [])
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


def compare_previous(
    summary: Summary, previous: Path | str, form_list: Sequence[Form] | None = None
) -> list[Finding]:
    """Year-over-year rules (``last(x)``) on the summary's totals against last year's summary
    (or return), which may follow another edition of the form (`check.compare_years`)."""
    result = check_file(previous, form_list)
    if result.ret is None or not result.values:
        reasons = "；".join(f.message for f in result.report.findings) or "没有可比对的数据"
        return [make("previous.unmapped", detail=f"上年数据{Path(previous).name}无法读取：{reasons}")]
    found = compare_years(summary.form, summary.totals, result.ret.form, result.values, notes=summary.notes)
    places = layout_of(summary.form, summary=True).places
    return [
        replace(f, sheet=places[f.indicator].sheet, cell=places[f.indicator].a1) if f.indicator in places else f
        for f in found
    ]
