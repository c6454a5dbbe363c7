"""The site's service: the store, the live `Collection` and the work done for the pages.

The site adds no checking of its own: an upload goes to `Collection.add` (the library's
pre-flight, reader and checks), the register and the summary are the collection's, the
annotated copy is `annotate`'s and the template `template`'s.  What this module adds is
bookkeeping: the file kept before its row commits, the history, the audit log, and the
four statuses a clerk reads.  Its methods block (reading, checking, writing workbooks):
the app calls them through `Service.run`, in a bounded pool of worker threads.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path, PurePath
from typing import Any, TypeVar

from xxgk.check.file import check_file
from xxgk.cycle.collection import Collection
from xxgk.cycle.entries import Entry, entry_of, failed_entry
from xxgk.cycle.previous import Previous
from xxgk.cycle.roster import Unit
from xxgk.files import display_name
from xxgk.forms.builtin import default_forms
from xxgk.forms.findings import Finding, Report
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read.open import read
from xxgk.report import annotate
from xxgk.report.summary.csvout import write_csv
from xxgk.report.summary.workbook import write_summary
from xxgk.site.datadir import sent_back
from xxgk.site.store import SCRATCH, Store, UnitRow, Upload, now
from xxgk.write import template

T = TypeVar("T")
NAME_LENGTH = 200  # characters of a file name kept

# the four states of the register, plus 免报; (key, label)
STATES = {
    "missing": "未报送",
    "failing": "未通过",
    "explain": "提醒待说明",
    "passed": "已通过",
    "exempt": "免报",
}


@dataclass(frozen=True)
class Line:
    """One unit's line of the register as the office reads it."""

    unit: UnitRow
    state: str
    detail: str
    upload: Upload | None

    @property
    def label(self) -> str:
        return STATES[self.state]

    def to_json(self) -> dict[str, Any]:
        up = self.upload
        return {
            "id": self.unit.id, "code": self.unit.code, "name": self.unit.name,
            "state": self.state, "label": self.label, "detail": self.detail,
            "at": up.at if up else "", "errors": up.errors if up else 0,
            "warnings": up.warnings if up else 0, "file": up.name if up else "",
        }


def upload_name(name: str) -> str:
    """The client's file name as kept and shown: its last part only (never a path), printable,
    without what a file system refuses; `display_name` first makes undecodable bytes readable."""
    last = display_name(PurePath(name.replace("\\", "/")).name)
    clean = "".join(ch for ch in last if ch.isprintable() and ch not in '"<>|:*?').strip()
    if len(clean) > NAME_LENGTH:  # shortened before the extension, which says what the file is
        suffix = PurePath(clean).suffix if len(PurePath(clean).suffix) <= 10 else ""
        clean = clean[:NAME_LENGTH - len(suffix)].rstrip() + suffix
    return clean or "未命名文件"


def report_json(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False)


def report_from_json(text: str) -> Report:
    data = json.loads(text)
    return Report(file=data["file"], form=data["form"], year=data["year"],
                  agency_code=data["agency"]["code"], agency_name=data["agency"]["name"],
                  findings=[Finding(**f) for f in data["issues"]])


def read_upload(path: str, name: str) -> Entry:
    """In a worker process: one upload read and checked as `Collection.add` reads a file
    (``name``: the client's file name, shown, never opened)."""
    try:
        return entry_of(check_file(path), name)
    except Exception as exc:  # noqa: BLE001 - check_file does not raise; nothing may stop the site
        return failed_entry(name, f"{type(exc).__name__}: {exc}")


def _warm() -> None:
    """Load the forms in a fresh worker, before the first upload waits for it."""
    for form in default_forms():
        layout_of(form)


class Readers:
    """Worker processes that read and check uploads (both cores; a file that brings its worker
    down costs only itself: the pool is replaced and the file gets ``file.unreadable``)."""

    def __init__(self, processes: int | None = None) -> None:
        self._processes = processes or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._procs = self._new()

    def _new(self) -> ProcessPoolExecutor:
        procs = ProcessPoolExecutor(max_workers=self._processes, mp_context=get_context("spawn"))
        for _ in range(self._processes):
            procs.submit(_warm)
        return procs

    def read(self, path: Path, name: str) -> Future[Entry]:
        """``path`` read and checked in a worker; a pool broken by an earlier file is replaced."""
        with self._lock:
            try:
                return self._procs.submit(read_upload, str(path), name)
            except BrokenProcessPool:  # a worker died since the last read: a new pool
                self._procs = self._new()
                return self._procs.submit(read_upload, str(path), name)

    def entry(self, future: Future[Entry], name: str) -> Entry:
        """The entry a worker made, or ``file.unreadable`` when the worker died making it."""
        try:
            return future.result()
        except BrokenProcessPool:  # the next read makes a new pool
            return failed_entry(name, "读取该文件时处理进程异常终止，文件可能已损坏或含有恶意内容")

    def close(self) -> None:
        self._procs.shutdown(wait=True, cancel_futures=True)


class Service:
    """One year's collection, served; thread-safe (one lock around the collection).

    Uploads are read and checked by ``readers`` (worker processes), then added to the
    collection here with `Collection.add_entry`; the other blocking work runs in ``threads``
    worker threads.  The caller closes ``readers`` (they may serve several cycles: tests)."""

    def __init__(self, store: Store, form: Form, year: int, region: str, readers: Readers, *,
                 previous: Previous | None = None, threads: int = 4) -> None:
        self.store, self.form, self.year, self.region = store, form, year, region
        self.previous = previous
        self.readers = readers
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xxgk-work")
        self._entries: dict[int, Entry] = {}  # unit id -> its current return, as checked
        self._register: tuple[int, list[Line]] | None = None
        self.collection = self._load()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the worker pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _load(self) -> Collection:
        """The collection as the store has it: every unit's latest upload added again."""
        units = self.store.units()
        collection = Collection(self.form, self.year, region=self.region, previous=self.previous,
                                roster=[Unit(u.code, u.name) for u in units])
        latest = self.store.latest()
        reading = {u.id: self.readers.read(self.store.path(latest[u.id]), latest[u.id].name)
                   for u in units if u.id in latest}
        for unit in units:
            if unit.exempt is not None:
                collection.exempt(unit.code, unit.exempt)
            if unit.id in reading:
                entry = self.readers.entry(reading[unit.id], latest[unit.id].name)
                self._entries[unit.id] = collection.add_entry(entry, submitter=unit.code)
        return collection

    # ------------------------------------------------------------ uploads

    def accept(self, unit: UnitRow, data: bytes, name: str, *, via: str, address: str) -> Upload:
        """Keep the file, check it, record it: the unit's new current return."""
        name = upload_name(name)
        digest, rel = self.store.put_file(data, PurePath(name).suffix)
        read = self.readers.entry(self.readers.read(self.store.data / rel, name), name)
        with self._lock:
            entry = self.collection.add_entry(read, submitter=unit.code)
            report = entry.report
            with self.store.transaction() as db:
                cur = db.execute(
                    "INSERT INTO uploads (unit, at, name, size, sha256, path, via, valid, errors, warnings,"
                    " unexplained, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (unit.id, now(), name, len(data), digest, rel, via, int(entry.valid), report.errors,
                     report.warnings, report.unexplained, report_json(report)))
                who = "办公室（代报纸质报表）" if via == "office" else unit.name
                verdict = "通过" if entry.valid else "未通过"
                self.store.audit(db, who, "上传报表", f"{unit.name}：{name}（{len(data)}字节，{verdict}）", address)
            self._entries[unit.id] = entry
        upload = self.store.upload(int(cur.lastrowid or 0))
        assert upload is not None
        return upload

    def entry(self, unit_id: int) -> Entry | None:
        with self._lock:
            return self._entries.get(unit_id)

    def report(self, upload: Upload) -> Report:
        return report_from_json(self.store.report_text(upload.id))

    # ------------------------------------------------------------ the register

    def register(self) -> list[Line]:
        """Every roster unit's line; computed afresh when anything changed since the last time."""
        with self._lock:
            version = self.store.version
            if self._register is not None and self._register[0] == version:
                return self._register[1]
            statuses = {(s.code, s.name): s for s in self.collection.register()}
            by_code = {s.code: s for s in statuses.values() if s.code}
            latest = self.store.latest()
            back = sent_back(self.store)
            lines = []
            for unit in self.store.units():
                status = by_code.get(unit.code) if unit.code else statuses.get((unit.code, unit.name))
                line = self._line(unit, status, latest.get(unit.id))
                if unit.id in back and line.state != "exempt":  # the office sent it back: not passed
                    line = Line(unit, "failing", f"已退回：{back[unit.id].note}", line.upload)
                lines.append(line)
            self._register = (version, lines)
            return lines

    def _line(self, unit: UnitRow, status: Any, upload: Upload | None) -> Line:
        if unit.exempt is not None:
            return Line(unit, "exempt", unit.exempt, upload)
        entry = self._entries.get(unit.id)
        if upload is None or entry is None:
            return Line(unit, "missing", "", upload)
        detail = status.detail if status is not None else ""
        if status is not None and status.status == "valid":
            return Line(unit, "passed", detail, upload)
        if entry.report.errors == 0 and entry.report.unexplained and entry.values is not None \
                and (status is None or status.status == "invalid"):
            return Line(unit, "explain", detail, upload)
        return Line(unit, "failing", detail, upload)

    # ------------------------------------------------------------ management

    def exempt(self, unit: UnitRow, reason: str | None, *, address: str) -> None:
        """Mark a unit 免报 with ``reason``, or (None) take the mark away."""
        with self._lock:
            with self.store.transaction() as db:
                db.execute("UPDATE units SET exempt = ? WHERE id = ?", (reason, unit.id))
                action = f"标记免报：{reason}" if reason is not None else "取消免报"
                self.store.audit(db, "办公室", action, unit.name, address)
            if reason is not None:
                self.collection.exempt(unit.code, reason)
            else:  # the collection has no "un-exempt": rebuild it from the store
                self._entries.clear()
                self.collection = self._load()

    # ------------------------------------------------------------ files made for download

    def template_file(self, unit: UnitRow) -> Path:
        """The unit's pre-filled template (with last year's summary kept: its 上年结转 and
        现行有效件数 carried from the unit's row), written once and kept."""
        carried = self.previous.carried(self.form, unit.code) if self.previous is not None else {}
        kept = (self.store.meta("previous") or "").rsplit("/", 1)[-1][:8] if carried else ""
        path = self.store.data / "templates" / f"{unit.id}-{template_key(unit)}{'-' + kept if kept else ''}.xlsx"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            template.write_template(self.form, path, year=self.year, agency=unit.name, code=unit.code,
                                    overwrite=True, values=carried)
        return path

    def annotated_file(self, upload: Upload) -> Path | None:
        """The marked copy of ``upload`` (None when the file could not be read as a return)."""
        out = self.store.data / "annotated" / str(upload.id)
        done = list(out.glob("*_校验结果.*")) if out.is_dir() else []
        if done:
            return done[0]
        report = self.report(upload)
        try:
            ret = read(self.store.path(upload))
        except Exception:  # noqa: BLE001 - an unreadable file has no copy to mark
            return None
        return annotate.annotate(ret, report.findings, out, overwrite=True)

    def summary_bytes(self, kind: str) -> bytes:
        """The summary workbook (``xlsx``) or CSV (``csv``), as `xxgk merge` writes them (with last
        year's summary kept: its 本年与上年 sheets, as ``merge --previous``)."""
        with self._lock:
            result = self.collection.summary()
        tmp_dir = self.store.data / SCRATCH
        tmp_dir.mkdir(exist_ok=True)
        target = tmp_dir / f"{threading.get_ident()}-summary.{kind}"
        try:
            if kind == "csv":
                write_csv(result, target, overwrite=True)
            else:
                write_summary(result, target, overwrite=True)
            return target.read_bytes()
        finally:
            target.unlink(missing_ok=True)

    def annotated_zip(self) -> bytes:
        """Every current return's marked copy, one folder per unit."""
        buf = io.BytesIO()
        latest = self.store.latest()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for unit in self.store.units():
                up = latest.get(unit.id)
                path = self.annotated_file(up) if up is not None and (up.errors or up.warnings) else None
                if up is not None and path is not None:
                    zf.write(path, f"{safe_part(unit.code or str(unit.id))}_{safe_part(unit.name)}/"
                                   f"{PurePath(up.name).stem}_校验结果{path.suffix}")
        return buf.getvalue()

    def reminder(self, links: dict[int, str] | None = None) -> str:
        """催报: who is missing or failing, with what; ready to paste into a message."""
        lines = self.register()
        missing = [x for x in lines if x.state == "missing"]
        failing = [x for x in lines if x.state in ("failing", "explain")]
        deadline = self.form.deadline
        out = [f"【催报】{self.region}{self.year}年度政府信息公开情况统计表报送情况（{now()[:16]}）"]
        if not missing and not failing:
            out.append("全部单位已报送并通过校验（或免报），感谢配合。")
            return "\n".join(out) + "\n"
        if missing:
            out.append(f"尚未报送（{len(missing)}个）：")
            out.extend(f"  {i}. {x.unit.name}" for i, x in enumerate(missing, 1))
        if failing:
            out.append(f"已报送但未通过校验（{len(failing)}个）：")
            for i, x in enumerate(failing, 1):
                up = x.upload
                what = []
                if up is not None and up.errors:
                    what.append(f"错误{up.errors}项")
                if up is not None and up.unexplained:
                    what.append(f"提醒{up.unexplained}项待说明")
                out.append(f"  {i}. {x.unit.name}（{'，'.join(what) or x.detail or x.label}）")
        ask = "请尽快通过本单位的报送链接下载模板、填写并上传；未通过的单位请按网页上列出的问题修改后重新上传。"
        out.append(ask + (f"报送截止：{deadline}。" if deadline else ""))
        return "\n".join(out) + "\n"


def template_key(unit: UnitRow) -> str:
    return unit.token_hash[:8]


def safe_part(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() and ch not in '/\\"<>|:*?').strip() or "_"
