"""The site's memory: one SQLite database (WAL) beside the uploaded files, content-addressed.

Every uploaded file is written under ``files/`` by its SHA-256 — atomically, and before the
row that names it is committed — so a crash leaves at worst a file no row names, never a row
without its file or a half-written file under a final name.  Nothing accepted is deleted or
overwritten: the latest upload of a unit is its current return, the earlier ones its history;
only a unit's refused files past its newest few are removed (`Store.prune_refused`), their
rows kept.  The directory is the owner's only (0700; the database 0600).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xxgk.files import publish, temp_beside

DB_NAME = "xxgk.sqlite3"
FILES = "files"
SCRATCH = "tmp"  # summaries being written for a download
SESSION_SECONDS = 12 * 3600
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY,          -- roster order
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    exempt TEXT,                     -- 免报: the reason
    on_roster INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS uploads (
    id INTEGER PRIMARY KEY,
    unit INTEGER NOT NULL REFERENCES units(id),
    at TEXT NOT NULL,
    name TEXT NOT NULL,              -- the client's file name: shown, never a path
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,              -- relative to the data directory
    via TEXT NOT NULL,               -- unit | office (a paper return typed in by the office)
    valid INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    unexplained INTEGER NOT NULL,
    report TEXT NOT NULL,            -- the findings as `xxgk check --format json` gives them
    pruned INTEGER NOT NULL DEFAULT 0  -- a refused file removed to bound the disk (the row stays)
);
CREATE INDEX IF NOT EXISTS uploads_unit ON uploads(unit, id);
CREATE INDEX IF NOT EXISTS uploads_path ON uploads(path);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (    -- each upload as read, before the cycle judged it: never read again
    upload INTEGER PRIMARY KEY REFERENCES uploads(id),
    entry TEXT NOT NULL              -- `xxgk.cycle.stored.entry_json`
);
CREATE TABLE IF NOT EXISTS rechecks (
    id INTEGER PRIMARY KEY,
    upload INTEGER NOT NULL REFERENCES uploads(id),
    at TEXT NOT NULL,
    before TEXT NOT NULL,            -- the state's words before (已通过 …)
    after TEXT NOT NULL,             -- and as judged now
    counts TEXT NOT NULL,            -- what is open now (错误1项，提醒2项待说明), "" when nothing
    reason TEXT NOT NULL             -- why it was judged anew (根据上年数据重新校验 …)
);
CREATE TABLE IF NOT EXISTS sessions (hash TEXT PRIMARY KEY, expires REAL NOT NULL);
"""
UPLOAD_COLUMNS = "id, unit, at, name, size, sha256, path, via, valid, errors, warnings, unexplained, pruned"
SQLITE_IDS = range(1, 2**63)  # what an INTEGER PRIMARY KEY can be
TEMPORARIES = (".~*.tmp", ".~*.raw")  # written beside their final name, renamed when complete


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    token_hash: str
    exempt: str | None
    on_roster: bool


@dataclass(frozen=True)
class Upload:
    id: int
    unit: int
    at: str
    name: str
    size: int
    sha256: str
    path: str
    via: str
    valid: bool
    errors: int
    warnings: int
    unexplained: int
    pruned: bool = False


@dataclass(frozen=True)
class Recheck:
    """A return judged anew (a restart with last year's data, changed rules) with another verdict."""

    upload: int
    at: str
    before: str
    after: str
    counts: str
    reason: str

    @property
    def text(self) -> str:
        """根据上年数据重新校验：原结论“已通过”，现为“提醒待说明”（提醒2项待说明）。"""
        counts = f"（{self.counts}）" if self.counts else ""
        return f"{self.reason}：原结论“{self.before}”，现为“{self.after}”{counts}。"


def now(ago: float = 0) -> str:
    """Local time to the second, as the office reads it (``ago`` seconds back)."""
    return (dt.datetime.now() - dt.timedelta(seconds=ago)).strftime("%Y-%m-%d %H:%M:%S")


def disk_full(exc: BaseException) -> bool:
    """``exc`` says the disk (or the database's file system) is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


@dataclass(frozen=True)
class AuditPage:
    rows: list[tuple[str, str, str, str, str]]
    total: int  # rows matching the filter


class Store:
    """The database and the file area of one data directory; safe to share between threads."""

    def __init__(self, data: Path) -> None:
        self.data = Path(data)
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.data, 0o700)  # links, the password hash, every return: the owner's only
        (self.data / FILES).mkdir(exist_ok=True)
        db_path = self.data / DB_NAME
        os.close(os.open(db_path, os.O_CREAT | os.O_RDWR, 0o600))  # SQLite gives its -wal and -shm the same mode
        os.chmod(db_path, 0o600)
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        if "pruned" not in {r[1] for r in self._db.execute("PRAGMA table_info(uploads)")}:  # made before
            self._db.execute("ALTER TABLE uploads ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0")
        self._sessions: dict[str, float] = {}  # sessions begun while the disk was full
        self.version = self._count()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.version += 1

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _count(self) -> int:
        return int(self._rows("SELECT (SELECT count(*) FROM uploads) + (SELECT count(*) FROM audit)")[0][0])

    # ------------------------------------------------------------ meta

    def meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, pairs: dict[str, str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", pairs.items())

    # ------------------------------------------------------------ units

    def units(self, *, roster_only: bool = True) -> list[UnitRow]:
        sql = "SELECT id, code, name, token_hash, exempt, on_roster FROM units"
        sql += " WHERE on_roster ORDER BY id" if roster_only else " ORDER BY id"
        return [_unit(r) for r in self._rows(sql)]

    def unit(self, unit_id: int) -> UnitRow | None:
        if unit_id not in SQLITE_IDS:
            return None
        rows = self._rows("SELECT id, code, name, token_hash, exempt, on_roster FROM units WHERE id = ?", (unit_id,))
        return _unit(rows[0]) if rows else None

    def unit_by_token_hash(self, token_hash: str) -> UnitRow | None:
        rows = self._rows(
            "SELECT id, code, name, token_hash, exempt, on_roster FROM units WHERE token_hash = ? AND on_roster",
            (token_hash,),
        )
        return _unit(rows[0]) if rows else None

    # ------------------------------------------------------------ uploads

    def uploads(self, unit_id: int | None = None) -> list[Upload]:
        sql = f"SELECT {UPLOAD_COLUMNS} FROM uploads"
        rows = self._rows(sql + " WHERE unit = ? ORDER BY id DESC", (unit_id,)) if unit_id is not None \
            else self._rows(sql + " ORDER BY id")
        return [_upload(r) for r in rows]

    def upload(self, upload_id: int) -> Upload | None:
        if upload_id not in SQLITE_IDS:
            return None
        rows = self._rows(f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,))
        return _upload(rows[0]) if rows else None

    def latest(self) -> dict[int, Upload]:
        """Each unit's current return: its latest upload."""
        rows = self._rows(f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id IN (SELECT max(id) FROM uploads GROUP BY unit) ORDER BY unit")
        return {r[1]: _upload(r) for r in rows}

    def report_text(self, upload_id: int) -> str:
        return str(self._rows("SELECT report FROM uploads WHERE id = ?", (upload_id,))[0][0])

    def entry_texts(self, upload_ids: Sequence[int]) -> dict[int, str]:
        """The stored entries of these uploads (those read since results were stored)."""
        out: dict[int, str] = {}
        for at in range(0, len(upload_ids), 500):
            part = list(upload_ids[at:at + 500])
            marks = ",".join("?" * len(part))
            out.update((r[0], r[1]) for r in self._rows(f"SELECT upload, entry FROM entries WHERE upload IN ({marks})", part))
        return out

    def entry_text_of_file(self, path: str) -> str | None:
        """The stored entry of an earlier upload of the same file (bytes and kind), when there is one."""
        rows = self._rows("SELECT e.entry FROM entries e JOIN uploads u ON u.id = e.upload WHERE u.path = ?"
                          " ORDER BY u.id DESC LIMIT 1", (path,))
        return str(rows[0][0]) if rows else None

    def rechecks(self, unit_id: int) -> dict[int, list[Recheck]]:
        """The rechecks of a unit's uploads that changed a verdict, by upload, oldest first."""
        rows = self._rows("SELECT r.upload, r.at, r.before, r.after, r.counts, r.reason FROM rechecks r"
                          " JOIN uploads u ON u.id = r.upload WHERE u.unit = ? ORDER BY r.id", (unit_id,))
        out: dict[int, list[Recheck]] = {}
        for r in rows:
            out.setdefault(r[0], []).append(Recheck(*r))
        return out

    def last_verdicts(self) -> dict[int, str]:
        """The verdict last recorded for each upload judged anew (upload id -> the state's words)."""
        rows = self._rows("SELECT upload, after FROM rechecks WHERE id IN (SELECT max(id) FROM rechecks GROUP BY upload)")
        return {r[0]: r[1] for r in rows}

    def put_file(self, data: bytes, suffix: str) -> tuple[str, str]:
        """Keep ``data`` under its SHA-256 (written once, atomically, synced); its (sha256, relative path)."""
        digest = hashlib.sha256(data).hexdigest()
        suffix = suffix.lower() if suffix.lower() in SUFFIXES else ".bin"
        rel = f"{FILES}/{digest[:2]}/{digest}{suffix}"
        path = self.data / rel
        if path.exists():
            return digest, rel
        path.parent.mkdir(exist_ok=True)
        tmp = temp_beside(path)
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with suppress(FileExistsError):  # the same bytes, uploaded at the same moment
                publish(tmp, path, overwrite=False)
        finally:
            with suppress(FileNotFoundError):
                tmp.unlink()
        return digest, rel

    def path(self, upload: Upload) -> Path:
        return self.data / upload.path

    def consistency(self) -> list[str]:
        """What is wrong with the data directory (empty when all is well): rows without their file,
        files whose content is not their name."""
        problems = []
        for up in self.uploads():
            path = self.path(up)
            if up.pruned:
                continue
            if not path.is_file():
                problems.append(f"上传记录{up.id}的文件不存在：{up.path}")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != up.sha256:
                problems.append(f"上传记录{up.id}的文件内容与登记不符：{up.path}")
        return problems

    def sweep(self) -> int:
        """Remove what a crash left behind: temporary files (never a file under a final name:
        uploads, templates, annotated copies) and the scratch folder where downloads are made."""
        gone = 0
        left = [tmp for pattern in TEMPORARIES for tmp in self.data.rglob(pattern)]
        for tmp in [*left, *(self.data / SCRATCH).glob("*")]:
            if tmp.is_file():
                tmp.unlink()
                gone += 1
        return gone

    # ------------------------------------------------------------ quotas

    def sent_since(self, unit_id: int, seconds: float) -> tuple[int, int]:
        """How many files the unit itself (not the office for it) uploaded in the last ``seconds``,
        and their bytes."""
        rows = self._rows("SELECT count(*), coalesce(sum(size), 0) FROM uploads WHERE unit = ? AND via = 'unit'"
                          " AND at >= ?", (unit_id, now(seconds)))
        return int(rows[0][0]), int(rows[0][1])

    def prune_refused(self, unit_id: int, keep: int) -> int:
        """Remove the files of the unit's refused uploads but the newest ``keep`` (the rows stay,
        marked pruned; an accepted file, the current return and a file another row still needs stay)."""
        with self.transaction() as db:
            latest = db.execute("SELECT max(id) FROM uploads WHERE unit = ?", (unit_id,)).fetchone()[0]
            old = [r for r in db.execute("SELECT id, path FROM uploads WHERE unit = ? AND NOT valid AND NOT pruned"
                                         " ORDER BY id DESC LIMIT -1 OFFSET ?", (unit_id, max(keep, 1)))
                   if r[0] != latest]
            db.executemany("UPDATE uploads SET pruned = 1 WHERE id = ?", [(r[0],) for r in old])
            needed = {r[0] for r in db.execute("SELECT DISTINCT path FROM uploads WHERE NOT pruned")}
            needed.add(self._meta_in(db, "previous") or "")
        gone = 0
        for path in {r[1] for r in old} - needed:
            with suppress(FileNotFoundError):
                (self.data / path).unlink()
                gone += 1
        return gone

    def _meta_in(self, db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    # ------------------------------------------------------------ office sessions

    def add_session(self, session_hash: str, expires: float) -> None:
        """A new office session; on a full disk it is kept in memory (until the site stops), so
        the office can still sign in and see what is wrong."""
        try:
            with self.transaction() as db:
                db.execute("DELETE FROM sessions WHERE expires < ?", (expires - 2 * SESSION_SECONDS,))
                db.execute("INSERT INTO sessions VALUES (?, ?)", (session_hash, expires))
        except (OSError, sqlite3.OperationalError) as exc:
            if not disk_full(exc):
                raise
            with self._lock:
                self._sessions[session_hash] = expires

    def session_alive(self, session_hash: str, at: float) -> bool:
        with self._lock:
            if self._sessions.get(session_hash, 0) > at:
                return True
        return bool(self._rows("SELECT 1 FROM sessions WHERE hash = ? AND expires > ?", (session_hash, at)))

    def drop_session(self, session_hash: str) -> None:
        with self._lock:
            self._sessions.pop(session_hash, None)
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE hash = ?", (session_hash,))

    def end_sessions(self, db: sqlite3.Connection) -> None:
        """Every office session ends (inside the caller's transaction): a password reset."""
        with self._lock:
            self._sessions.clear()
        db.execute("DELETE FROM sessions")

    # ------------------------------------------------------------ audit

    def audit(self, db: sqlite3.Connection, who: str, action: str, detail: str, address: str) -> None:
        db.execute("INSERT INTO audit (at, who, action, detail, address) VALUES (?, ?, ?, ?, ?)",
                   (now(), who, action, detail, address))

    def log(self, who: str, action: str, detail: str, address: str) -> None:
        with self.transaction() as db:
            self.audit(db, who, action, detail, address)

    def log_unless_full(self, who: str, action: str, detail: str, address: str) -> bool:
        """`log`, skipped (False) when the disk is full: for what must work even then (signing in)."""
        try:
            self.log(who, action, detail, address)
        except (OSError, sqlite3.OperationalError) as exc:
            if not disk_full(exc):
                raise
            return False
        return True

    def audit_rows(self, *, limit: int = 100, offset: int = 0, who: str = "", action: str = "", text: str = "",
                   since: str = "", until: str = "", downloads: bool = True) -> AuditPage:
        """The audit log newest first, ``limit`` rows from ``offset``: only rows whose ``who``
        contains ``who``, whose action is ``action``, where ``text`` occurs (in who, action, detail
        or address), made on days ``since``..``until`` (ISO dates), and without downloads unless
        ``downloads``."""
        wanted = [("instr(who, ?) > 0", who), ("action = ?", action),
                  ("instr(who || ' ' || action || ' ' || detail || ' ' || address, ?) > 0", text),
                  ("substr(at, 1, 10) >= ?", since), ("substr(at, 1, 10) <= ?", until)]
        where = ["1", *(clause for clause, value in wanted if value)]
        args: list[Any] = [value for _, value in wanted if value]
        if not downloads:
            where.append("action NOT LIKE '下载%'")
        cond = " AND ".join(where)
        total = int(self._rows(f"SELECT count(*) FROM audit WHERE {cond}", args)[0][0])
        rows = self._rows(f"SELECT at, who, action, detail, address FROM audit WHERE {cond}"
                          " ORDER BY id DESC LIMIT ? OFFSET ?", [*args, limit, max(offset, 0)])
        return AuditPage([(r[0], r[1], r[2], r[3], r[4]) for r in rows], total)

    def audit_actions(self) -> list[str]:
        """Every kind of action the log holds, for the filter's choices."""
        return [r[0] for r in self._rows("SELECT DISTINCT action FROM audit ORDER BY action", [])]


def _unit(r: tuple[Any, ...]) -> UnitRow:
    return UnitRow(id=r[0], code=r[1], name=r[2], token_hash=r[3], exempt=r[4], on_roster=bool(r[5]))


def _upload(r: tuple[Any, ...]) -> Upload:
    return Upload(id=r[0], unit=r[1], at=r[2], name=r[3], size=r[4], sha256=r[5], path=r[6], via=r[7],
                  valid=bool(r[8]), errors=r[9], warnings=r[10], unexplained=r[11], pruned=bool(r[12]))
