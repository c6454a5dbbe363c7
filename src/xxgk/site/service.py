"""The site's service: the store, the live `Collection` and the work done for the pages.

The site adds no checking of its own: an upload goes to `Collection.add` (the library's
pre-flight, reader and checks, in a bounded worker process), the register and the summary
are the collection's, the annotated copy is `annotate`'s and the template `template`'s.  What
this module adds is bookkeeping: the file kept before its row commits, each upload's entry as
read (stored: a file is read once), the history, the audit log, and the four statuses a clerk
reads.  Reading and making downloads run in worker processes, awaited; the rest blocks
briefly and runs through `Service.run`, in a bounded pool of worker threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any, TypeVar

from xxgk.cycle.collection import Collection
from xxgk.cycle.entries import Entry, failed_entry
from xxgk.cycle.pool import read_entry
from xxgk.cycle.previous import Previous
from xxgk.cycle.roster import Unit
from xxgk.cycle.state import STATES, open_counts, report_state, unit_state
from xxgk.cycle.stored import entry_from_json, entry_json, report_from_json, report_json
from xxgk.cycle.summary import UnitStatus
from xxgk.cycle.worker import Exceeded, Limits, Workers
from xxgk.files import display_name, write_atomically
from xxgk.forms.findings import Report
from xxgk.forms.model import Form
from xxgk.read.tables import DOCUMENT_KINDS
from xxgk.site.datadir import cycle_settings, date_text, sent_back, time_left
from xxgk.site.lines import Held, Line, Sent
from xxgk.site.store import Store, UnitRow, Upload, now
from xxgk.site.tasks import Made, make_annotated, make_summary
from xxgk.write import template

T = TypeVar("T")
NAME_LENGTH = 200  # characters of a file name kept
ANNOTATED = "annotated"  # marked copies, one folder per what they are made of
CACHE = "cache"  # the summary and the zip, as last made
PRELOAD = ("xxgk.site.tasks", "xxgk.report.annotate", "xxgk.report.summary.workbook")


def workers(processes: int | None = None, limits: Limits | None = None) -> Workers:
    """The site's worker processes: reading uploads and making downloads, each bounded; at least
    four (a unit's costly files take at most half of them)."""
    return Workers(max(4, processes or 0), limits, preload=PRELOAD)


def upload_name(name: str) -> str:
    """The client's file name as kept and shown: its last part only (never a path), printable,
    without what a file system refuses; `display_name` first makes undecodable bytes readable."""
    last = display_name(PurePath(name.replace("\\", "/")).name)
    clean = "".join(ch for ch in last if ch.isprintable() and ch not in '"<>|:*?').strip()
    if len(clean) > NAME_LENGTH:  # shortened before the extension, which says what the file is
        suffix = PurePath(clean).suffix if len(PurePath(clean).suffix) <= 10 else ""
        clean = clean[:NAME_LENGTH - len(suffix)].rstrip() + suffix
    return clean or "未命名文件"


def renamed(entry: Entry, name: str) -> Entry:
    """An entry read from the same bytes under another client file name."""
    return replace(entry, file=name, report=replace(entry.report, file=name))


class Service:
    """One year's collection, served; thread-safe (one lock around the collection, held only
    for bookkeeping: never while a file is read or a download made).

    Uploads are read and checked by ``workers`` (worker processes, each read bounded in time
    and memory: `xxgk.cycle.worker`); each entry as read is stored with its upload, so the
    collection is rebuilt from the store, never by reading files again.  Downloads (marked
    copies, summaries, the zip) are made by the workers too, kept by what they are made of.
    The other blocking work runs in ``threads`` worker threads.  The caller closes ``workers``
    (they may serve several cycles: tests)."""

    def __init__(self, store: Store, form: Form, year: int, region: str, workers: Workers, *,
                 previous: Previous | None = None, threads: int = 4) -> None:
        self.store, self.form, self.year, self.region = store, form, year, region
        self.previous = previous
        self.workers = workers
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xxgk-work")
        self._raw: dict[int, Entry] = {}  # unit id -> its current return, as read
        self._entries: dict[int, Entry] = {}  # unit id -> its current return, as checked in the cycle
        self._held: dict[int, Held] = {}  # unit id -> an upload waiting for its confirmation
        self._holds: dict[int, list[tuple[float, int]]] = {}  # unit id -> (when, bytes) of each file held
        self._register: tuple[int, list[Line]] | None = None
        self._making: dict[str, Future[Any]] = {}  # what the workers are making now, by key
        self._making_lock = threading.RLock()  # a done future runs its callback at once
        self.rejudged = 0  # current returns whose stored findings changed at start (last year's data)
        self.collection = self._load()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the worker pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _load(self) -> Collection:
        """The collection as the store has it: every unit's latest upload as stored when it was
        read (one kept before results were stored is read once now, bounded, and kept).  A
        stored verdict that the cycle now judges otherwise (last year's data changed) is updated, and
        a changed state kept as a recheck (`_note_rechecks`)."""
        units = self.store.units()
        latest = self.store.latest()
        texts = self.store.entry_texts([up.id for up in latest.values()])
        legacy = {u.id: self.workers.submit(read_entry, str(self.store.path(up)), up.name, key="start")
                  for u in units if (up := latest.get(u.id)) is not None and up.id not in texts}
        for unit in units:
            up = latest.get(unit.id)
            if up is None:
                continue
            if up.id in texts:
                self._raw[unit.id] = entry_from_json(texts[up.id])
            else:
                self._raw[unit.id] = self._outcome(legacy[unit.id], up.name)
                with self.store.transaction() as db:
                    db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?)", (up.id, entry_json(self._raw[unit.id])))
        collection = self._collection(units)
        self._note_rechecks(units, latest)
        for unit in units:
            up = latest.get(unit.id)
            entry = self._entries.get(unit.id)
            if up is not None and entry is not None and report_json(entry.report) != self.store.report_text(up.id):
                self._restate(up, entry)
        return collection

    def _note_rechecks(self, units: list[UnitRow], latest: dict[int, Upload]) -> None:
        """Every current return whose state, judged anew at this start (last year's data given,
        rules changed), differs from the one last recorded: kept (the unit's page and the office's
        history show it) and logged.  Judged from the stored entries: no file is read."""
        said = self.store.last_verdicts()
        changed = []
        for unit in units:
            up, entry = latest.get(unit.id), self._entries.get(unit.id)
            if up is None or entry is None:
                continue
            r = entry.report
            before = said.get(up.id) or STATES[report_state(up.valid, up.errors, up.unexplained)]
            after = STATES[report_state(entry.valid, r.errors, r.unexplained)]
            if before == after:
                continue
            old = {f.code for f in report_from_json(self.store.report_text(up.id)).findings}
            anew = any(f.code.startswith("previous.") and f.code not in old for f in r.findings)
            reason = "根据上年数据重新校验" if anew or (self.previous is not None and not r.valid) else "重新校验"
            changed.append((unit, up, before, after, open_counts(r.errors, r.unexplained), reason))
        if not changed:
            return
        with self.store.transaction() as db:
            for unit, up, before, after, counts, reason in changed:
                db.execute("INSERT INTO rechecks (upload, at, before, after, counts, reason) VALUES (?, ?, ?, ?, ?, ?)",
                           (up.id, now(), before, after, counts, reason))
                self.store.audit(db, "系统", reason, f"{unit.name}：{up.name}由“{before}”改为“{after}”"
                                 + (f"（{counts}）" if counts else ""), "")

    def _collection(self, units: list[UnitRow]) -> Collection:
        """A new collection of the stored entries (no file read)."""
        collection = Collection(self.form, self.year, region=self.region, previous=self.previous,
                                roster=[Unit(u.code, u.name) for u in units])
        self._entries.clear()
        for unit in units:
            if unit.exempt is not None:
                collection.exempt(unit.code, unit.exempt)
            raw = self._raw.get(unit.id)
            if raw is not None:
                self._entries[unit.id] = collection.add_entry(raw, submitter=unit.code)
        return collection

    def _restate(self, up: Upload, entry: Entry) -> None:
        report = entry.report
        with self.store.transaction() as db:
            db.execute("UPDATE uploads SET valid = ?, errors = ?, warnings = ?, unexplained = ?, report = ?"
                       " WHERE id = ?", (int(entry.valid), report.errors, report.warnings, report.unexplained,
                                          report_json(report), up.id))
        self.rejudged += 1

    def _outcome(self, future: Future[Entry], name: str) -> Entry:
        """The entry a worker made, or ``file.unreadable`` saying which limit the read passed."""
        try:
            return future.result()
        except (Exceeded, RuntimeError) as exc:
            return failed_entry(name, str(exc))

    # ------------------------------------------------------------ uploads

    async def accept(self, unit: UnitRow, data: bytes, name: str, *, via: str, address: str,
                     hold_worse: bool = False) -> Upload | Held:
        """Keep the file, check it (in a worker, awaited without holding a thread), record it:
        the unit's new current return.

        ``hold_worse``: when the unit's current return has passed and this one would not, it
        is kept and checked but not recorded; the `Held` return waits for the unit to confirm
        (`release`) that the last upload is to count."""
        name = upload_name(name)
        digest, rel = await self.run(self.store.put_file, data, PurePath(name).suffix)
        raw = await asyncio.wrap_future(self._read(rel, name, key=f"unit:{unit.id}"))
        if hold_worse:
            held = await self.run(self._hold, unit, raw, digest, rel, name, len(data))
            if held is not None:
                return held
        return await self.run(self._record, unit, raw, name, len(data), digest, rel, via, address)

    def _hold(self, unit: UnitRow, raw: Entry, digest: str, rel: str, name: str, size: int) -> Held | None:
        """``raw`` held for the unit's confirmation when it would replace a return that passed
        with one that does not."""
        with self._lock:
            now_entry = self._entries.get(unit.id)
            judged = self.collection.judge(replace(raw, submitter=unit.code))
            if unit.exempt is None and now_entry is not None and now_entry.valid and not judged.valid:
                held = Held(unit.id, digest, rel, name, size, judged, now_entry.file, raw)
                self._held[unit.id] = held
                self._holds.setdefault(unit.id, []).append((time.time(), size))
                return held
        return None

    def held_since(self, unit_id: int, seconds: float) -> tuple[int, int]:
        """How many files the unit sent that were held (and their bytes) in the last ``seconds``:
        counted against its quotas like the uploads recorded (`Store.sent_since`)."""
        since = time.time() - seconds
        with self._lock:
            recent = [(t, n) for t, n in self._holds.get(unit_id, []) if t >= since - 24 * 3600]
            self._holds[unit_id] = recent
        return sum(1 for t, _ in recent if t >= since), sum(n for t, n in recent if t >= since)

    def held(self, unit: UnitRow, digest: str) -> Held | None:
        """The upload ``unit`` is asked to confirm, when ``digest`` names it."""
        with self._lock:
            held = self._held.get(unit.id)
        return held if held is not None and held.digest == digest else None

    def release(self, unit: UnitRow, held: Held, *, address: str) -> Upload:
        """The held upload confirmed by its unit: recorded as its current return (as read: not again)."""
        with self._lock:
            self._held.pop(unit.id, None)
        return self._record(unit, held.read, held.name, held.size, held.digest, held.path, "unit", address,
                            confirmed=True)

    def _read(self, rel: str, name: str, *, key: str) -> Future[Entry]:
        """The entry of the stored file ``rel`` under the name ``name``: as stored for an earlier
        upload of the same bytes, or as a worker reads it now (one read for uploads at once)."""
        done: Future[Entry] = Future()
        known = self.store.entry_text_of_file(rel)
        if known is not None:
            done.set_result(renamed(entry_from_json(known), name))
            return done
        with self._making_lock:
            reading = self._making.get(rel)
            if reading is None:
                reading = self._making[rel] = self.workers.submit(read_entry, str(self.store.data / rel), name, key=key)
                reading.add_done_callback(lambda _: self._forget(rel))

        def finish(f: Future[Entry]) -> None:
            done.set_result(renamed(self._outcome(f, name), name))

        reading.add_done_callback(finish)
        return done

    def _forget(self, key: str) -> None:
        with self._making_lock:
            self._making.pop(key, None)

    def _record(self, unit: UnitRow, raw: Entry, name: str, size: int, digest: str, rel: str, via: str,
                address: str, confirmed: bool = False) -> Upload:
        with self._lock:
            self._held.pop(unit.id, None)
            entry = self.collection.add_entry(raw, submitter=unit.code)
            report = entry.report
            with self.store.transaction() as db:
                cur = db.execute(
                    "INSERT INTO uploads (unit, at, name, size, sha256, path, via, valid, errors, warnings,"
                    " unexplained, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (unit.id, now(), name, size, digest, rel, via, int(entry.valid), report.errors,
                     report.warnings, report.unexplained, report_json(report)))
                db.execute("INSERT INTO entries VALUES (?, ?)", (cur.lastrowid, entry_json(raw)))
                who = "办公室（代报纸质报表）" if via == "office" else unit.name
                verdict = "通过" if entry.valid else "未通过"
                what = "确认以新文件取代已通过的报表" if confirmed else "上传报表"
                self.store.audit(db, who, what, f"{unit.name}：{name}（{size}字节，{verdict}）", address)
            self._raw[unit.id] = raw
            self._entries[unit.id] = entry
        upload = self.store.upload(int(cur.lastrowid or 0))
        assert upload is not None
        return upload

    def entry(self, unit_id: int) -> Entry | None:
        with self._lock:
            return self._entries.get(unit_id)

    def history(self, unit: UnitRow, line: Line | None) -> list[Sent]:
        """The unit's uploads, newest first, each with the verdict it has now (see `Sent`)."""
        rechecks = self.store.rechecks(unit.id)
        out = []
        for i, up in enumerate(self.store.uploads(unit.id)):
            again = tuple(rechecks.get(up.id, ()))
            if i == 0 and line is not None and line.state not in ("missing", "exempt", "other"):
                st = line.status
                out.append(Sent(up, st.key, st.errors, st.warnings, True, again))
            else:
                key = report_state(up.valid, up.errors, up.unexplained)
                out.append(Sent(up, key, up.errors, up.warnings, i == 0, again))
        return out

    def report(self, upload: Upload) -> Report:
        """The findings of ``upload``: as judged now when it is its unit's current return (a
        restart with last year's data may have judged it anew), else as kept when uploaded."""
        with self._lock:
            entry = self._entries.get(upload.unit)
        latest = self.store.uploads(upload.unit)[:1]
        if entry is not None and latest and latest[0].id == upload.id:
            return entry.report
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
                returned = back[unit.id].note if unit.id in back else None  # the office sent it back
                lines.append(self._line(unit, status, latest.get(unit.id), returned))
            self._register = (version, lines)
            return lines

    def _line(self, unit: UnitRow, status: UnitStatus | None, upload: Upload | None,
              returned: str | None = None) -> Line:
        if upload is None or unit.id not in self._entries:
            status = None  # nothing of the unit's own received
        return Line(unit, unit_state(status, exempt=unit.exempt, returned=returned), upload)

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
            else:  # the collection has no "un-exempt": rebuilt from the stored entries (nothing read)
                self.collection = self._collection(self.store.units())

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

    def _made(self, key: str, fn: Callable[..., str], *args: Any, owner: str) -> Future[str]:
        """``fn(*args)`` made by a worker, once for all who ask for ``key`` at the same time."""
        with self._making_lock:
            making = self._making.get(key)
            if making is None:
                making = self._making[key] = self.workers.submit(fn, *args, key=owner)
                making.add_done_callback(lambda _: self._forget(key))
            return making

    async def annotated_file(self, upload: Upload) -> Path | None:
        """The marked copy of ``upload``, made by a worker and kept by what it is made of (the file's
        content and its findings); None when there is nothing to mark: no findings, or a file not
        read as a workbook (a Word report, a web page, a refused file).  Raises `Exceeded` when the
        worker passed a limit."""
        report_text = report_json(await self.run(self.report, upload))
        raw_text = (await self.run(self.store.entry_texts, [upload.id])).get(upload.id)
        if raw_text is None or not report_from_json(report_text).findings:
            return None
        if entry_from_json(raw_text).file_kind in ("", *DOCUMENT_KINDS):
            return None
        key = hashlib.sha256(f"{upload.sha256}\n{upload.name}\n{report_text}".encode()).hexdigest()[:32]
        out = self.store.data / ANNOTATED / key
        done = list(out.glob("*_校验结果.*")) if out.is_dir() else []
        if done:
            return done[0]
        made = self._made(f"annotated:{key}", make_annotated, str(self.store.path(upload)), report_text, str(out),
                          upload.name, owner=f"unit:{upload.unit}")
        try:
            made_path: str = await asyncio.wrap_future(made)
        except RuntimeError:  # the file no longer reads as it did: nothing to mark
            return None
        return Path(made_path)

    def _state_key(self, what: str) -> str:
        """What a download of the whole collection is made of: each unit's current upload and mark."""
        latest = self.store.latest()
        made_of = [what, self.store.meta("previous") or "", self.form.id]
        made_of += [f"{u.id}:{up.id if (up := latest.get(u.id)) else ''}:{u.exempt or ''}" for u in self.store.units()]
        return hashlib.sha256("\n".join(made_of).encode()).hexdigest()[:32]

    async def summary_file(self, kind: str) -> Path:
        """The summary workbook (``xlsx``) or CSV (``csv``), as `xxgk merge` writes them: made by a
        worker, kept until a return or a mark changes.  Raises `Exceeded` past a limit."""
        key = await self.run(self._state_key, f"summary.{kind}")
        target = self.store.data / CACHE / f"summary-{key}.{kind}"
        if target.is_file():
            return target
        target.parent.mkdir(exist_ok=True)
        made = self._made(f"summary:{key}", make_summary, await self.run(self._made_of), kind, str(target),
                          owner="office")
        made_path: str = await asyncio.wrap_future(made)
        path = Path(made_path)
        await self.run(_drop_others, path, "summary-", f".{kind}")
        return path

    def _made_of(self) -> Made:
        """The collection as plain data, for a worker to rebuild."""
        units = self.store.units()
        previous = self.store.meta("previous")
        with self._lock:
            raw = [(self._raw[u.id], u.code) for u in units if u.id in self._raw]
        return Made(self.form.id, self.year, self.region, tuple(Unit(u.code, u.name) for u in units),
                    tuple((u.code, u.exempt) for u in units if u.exempt is not None),
                    (str(self.store.data / previous), self.previous.path.name)
                    if previous and self.previous is not None else None, tuple(raw))

    async def annotated_zip(self) -> Path:
        """Every current return's marked copy, one folder per unit (each made by a worker; a unit
        whose copy passed a limit is named in 未生成批注副本.txt)."""
        key = await self.run(self._state_key, "zip")
        target = self.store.data / CACHE / f"annotated-{key}.zip"
        if target.is_file():
            return target
        latest = self.store.latest()
        members: list[tuple[str, Path]] = []
        missed: list[str] = []
        for unit in self.store.units():
            up = latest.get(unit.id)
            if up is None or not (up.errors or up.warnings):
                continue
            try:
                path = await self.annotated_file(up)
            except Exceeded as exc:
                missed.append(f"{unit.code} {unit.name}：{exc}")
                continue
            if path is not None:
                members.append((f"{safe_part(unit.code or str(unit.id))}_{safe_part(unit.name)}/"
                                f"{PurePath(up.name).stem}_校验结果{path.suffix}", path))
        target.parent.mkdir(exist_ok=True)
        await self.run(_write_zip, target, members, missed)
        await self.run(_drop_others, target, "annotated-", ".zip")
        return target

    def reminder(self, links: dict[int, str] | None = None) -> str:
        """催报: who is missing or failing, with what; ready to paste into a message (the words
        of each unit's state, as its page and the register show it)."""
        lines = self.register()
        missing = [x for x in lines if x.state == "missing"]
        failing = [x for x in lines if x.status.reminder]
        deadline = self.form.deadline
        out = [f"【催报】{self.region}{self.year}年度政府信息公开情况统计表报送情况（{now()[:16]}）"]
        if not missing and not failing:
            out.append("全部单位已报送并通过校验（或免报），感谢配合。")
            return "\n".join(out) + "\n"
        if missing:
            out.append(f"尚未报送（{len(missing)}个）：")
            out.extend(f"  {i}. {x.unit.name}" for i, x in enumerate(missing, 1))
        for key, title in (("failing", "已报送但未通过"), ("explain", "有提醒待说明"), ("returned", "已退回")):
            group = [x for x in failing if (x.state if not x.status.returned else "returned") == key]
            if group:
                out.append(f"{title}（{len(group)}个）：")
                out.extend(f"  {i}. {x.unit.name}（{x.status.reminder}）" for i, x in enumerate(group, 1))
        ask = "请尽快通过本单位的报送链接下载模板、填写并上传；未通过的单位请按网页上列出的问题修改后重新上传。"
        settings = cycle_settings(self.store)  # the deadline and contact the units' pages show
        if settings.deadline is not None:
            ask += f"报送截止：{date_text(settings.deadline)}（{time_left(settings, dt.date.today())}）。"
        elif deadline:
            ask += f"报送截止：{deadline}。"
        out.append(ask)
        if settings.contact:
            out.append(f"联系方式：{settings.contact}")
        return "\n".join(out) + "\n"


def template_key(unit: UnitRow) -> str:
    return unit.token_hash[:8]


def safe_part(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() and ch not in '/\\"<>|:*?').strip() or "_"


def _write_zip(target: Path, members: list[tuple[str, Path]], missed: list[str]) -> None:
    """The zip of ``members`` (name in the zip, file), written from the files, published whole."""
    def render(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for arcname, path in members:
                zf.write(path, arcname)
            if missed:
                zf.writestr("未生成批注副本.txt", "\n".join(missed) + "\n")

    write_atomically(target, render, overwrite=True)


def _drop_others(keep: Path, prefix: str, suffix: str) -> None:
    """Earlier downloads of the same kind, made of what has since changed."""
    for old in keep.parent.glob(f"{prefix}*{suffix}"):
        if old != keep:
            old.unlink(missing_ok=True)
