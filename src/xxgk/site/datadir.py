"""The data directory of a cycle: made at the first start, reopened (and held to its year,
region and roster) at every later one; the units' links, the office password and the cycle's
settings (the address links start with, the deadline, the office's contact).

A unit's current link is kept in clear for the office to hand out (its 发放链接 page and
``单位链接.csv``); the unit's page is found by the token's hash.  The office password is
printed when it is made and stored as an scrypt hash.  The directory is the office's alone
(0700; the database and the links file 0600).
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from xxgk.cycle.previous import Previous, PreviousError
from xxgk.cycle.roster import Unit
from xxgk.files import write_atomically
from xxgk.forms import model as forms
from xxgk.forms.builtin import resolve
from xxgk.forms.model import Form
from xxgk.site import security
from xxgk.site.store import Store, UnitRow, now

LINKS = "单位链接.csv"
LINK_HEADERS = ["代码", "名称", "链接"]
TOKENS = "tokens"  # meta: {unit id: its current token}
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
CONTACT_MAX = 200


class SetupError(Exception):
    """The data directory cannot be used as asked; the message says why and what to do."""


@dataclass
class Opened:
    store: Store
    form: Form
    year: int
    region: str
    password: str | None = None  # made now: shown once
    tokens: dict[int, str] = field(default_factory=dict)  # unit id -> link token made now
    previous: Previous | None = None  # last year's figures, as kept in the data directory


def open_data(data: Path, *, year: int, roster: Sequence[Unit], region: str, change_roster: bool = False,
              reset_password: bool = False, previous: Path | None = None) -> Opened:
    """Create the cycle in ``data``, or reopen it; raises `SetupError` on a different year, region or
    roster (a different roster is taken when ``change_roster``: new units get links, dropped ones
    leave the register, their uploads stay).  ``previous``: last year's summary, validated, then
    kept in the data directory (it replaces one kept before); later starts use the kept copy."""
    data = Path(data)
    if data.exists() and not data.is_dir():
        raise SetupError(f"{data}不是目录 (not a directory)")
    try:
        form = resolve(None, year)
    except forms.FormError as exc:
        raise SetupError(str(exc)) from None
    try:
        last = Previous.load(previous, year=year, region=region, merging=True) if previous is not None else None
    except PreviousError as exc:
        raise SetupError(f"--previous: {exc}") from None
    fresh = not data.exists()
    writable(data)
    try:
        store = Store(data)
    except (OSError, sqlite3.Error) as exc:
        raise SetupError(f"无法打开数据目录{data}：{exc}") from None
    try:
        protect(data, everything=not fresh)
        opened = _open(store, form, year, list(roster), region, change_roster, reset_password)
        store.set_meta({"categories": json.dumps({_key(u): u.category for u in roster if u.category},
                                                 ensure_ascii=False)})
        if previous is not None and last is not None:
            _keep_previous(store, previous)
        opened.previous = _kept_previous(store, year, region)
        recover_tokens(store)
    except BaseException:
        store.close()
        raise
    return opened


def writable(data: Path) -> None:
    """Raise `SetupError` (with what to do) when ``data``, or where it would be made, cannot be written."""
    where = data if data.exists() else next((p for p in data.parents if p.exists()), Path("."))
    try:
        fd, probe = tempfile.mkstemp(prefix=".~", suffix=".tmp", dir=where)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        kind = "只读" if exc.errno == errno.EROFS else "不可写"
        raise SetupError(f"数据目录{where}{kind}（{exc.strerror}），网站无法保存上传的报表。请检查磁盘挂载和目录权限后重新启动"
                         f" (the data directory cannot be written)") from None


def _keep_previous(store: Store, path: Path) -> None:
    data = path.read_bytes()
    digest, rel = store.put_file(data, path.suffix)
    if store.meta("previous") == rel:
        return
    store.set_meta({"previous": rel, "previous_name": path.name})
    store.log("办公室", "登记上年数据", f"{path.name}（SHA-256 {digest[:12]}…）", "")


def _kept_previous(store: Store, year: int, region: str) -> Previous | None:
    rel = store.meta("previous")
    if rel is None:
        return None
    try:
        kept = Previous.load(store.data / rel, year=year, region=region, merging=True)
    except PreviousError as exc:
        raise SetupError(f"数据目录中的上年数据（{store.meta('previous_name')}）无法使用：{exc}") from None
    # named as the office gave it (findings and the 本年与上年 sheets say its name), read from the kept copy
    return replace(kept, path=kept.path.with_name(store.meta("previous_name") or kept.path.name))


def _open(store: Store, form: Form, year: int, roster: list[Unit], region: str, change_roster: bool,
          reset_password: bool) -> Opened:
    opened = Opened(store, form, year, region)
    known_year = store.meta("year")
    if known_year is None:
        opened.password = security.new_password()
        store.set_meta({"year": str(year), "form": form.id, "region": region, "secret": secrets.token_hex(32),
                        "password": security.hash_password(opened.password), "roster": _roster_json(roster)})
        opened.tokens = _add_units(store, roster)
        return opened
    if int(known_year) != year:
        raise SetupError(f"数据目录{store.data}是{known_year}年度的收集，不能用于{year}年度；每个年度请使用单独的数据目录"
                         f" (the directory holds the {known_year} cycle; use another directory for {year})")
    if (store.meta("region") or "") != region:
        raise SetupError(f"数据目录{store.data}的地区是“{store.meta('region')}”，不是“{region}” (region differs)")
    if store.meta("roster") != _roster_json(roster):
        if not change_roster:
            raise SetupError(f"名单与数据目录{store.data}中登记的名单不同；如确需更换名单，请加 --change-roster"
                             " (the roster differs from the one the cycle was made with; use --change-roster)")
        opened.tokens = _change_roster(store, roster)
        store.set_meta({"roster": _roster_json(roster)})
    if reset_password:
        opened.password = security.new_password()
        with store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('password', ?)", (security.hash_password(opened.password),))
            store.end_sessions(db)
            store.audit(db, "办公室", "重置密码", "旧密码失效，所有已登录的会话已退出", "")
    return opened


def _key(unit: Unit) -> str:
    return unit.code or unit.name


def categories(store: Store, units: Sequence[UnitRow] | None = None) -> dict[int, str]:
    """Unit id -> its 类别 from the roster (units without one are left out); ``units``: the
    store's roster units when the caller has them at hand."""
    kinds: dict[str, str] = json.loads(store.meta("categories") or "{}")
    if not kinds:
        return {}
    return {u.id: kinds[u.code or u.name] for u in (units if units is not None else store.units())
            if (u.code or u.name) in kinds}


def _roster_json(roster: Sequence[Unit]) -> str:
    return json.dumps([[u.code, u.name] for u in roster], ensure_ascii=False)


def _add_units(store: Store, units: Sequence[Unit]) -> dict[int, str]:
    tokens = {}
    with store.transaction() as db:
        for unit in units:
            token = security.new_token()
            cur = db.execute("INSERT INTO units (code, name, token_hash) VALUES (?, ?, ?)",
                             (unit.code, unit.name, security.token_hash(token)))
            tokens[int(cur.lastrowid or 0)] = token
    keep_tokens(store, tokens)
    return tokens


def _change_roster(store: Store, roster: Sequence[Unit]) -> dict[int, str]:
    known = {(u.code or u.name): u for u in store.units(roster_only=False)}
    wanted = {(u.code or u.name): u for u in roster}
    with store.transaction() as db:
        for key, row in known.items():
            unit = wanted.get(key)
            db.execute("UPDATE units SET on_roster = ?, name = ? WHERE id = ?",
                       (int(unit is not None), unit.name if unit else row.name, row.id))
        store.audit(db, "办公室", "更换名单", f"名单共{len(roster)}个单位", "")
    return _add_units(store, [u for k, u in wanted.items() if k not in known])


def new_link(store: Store, unit: UnitRow, *, address: str) -> str:
    """A new token for ``unit``: its old link stops working at once."""
    token = security.new_token()
    with store.transaction() as db:
        db.execute("UPDATE units SET token_hash = ? WHERE id = ?", (security.token_hash(token), unit.id))
        store.audit(db, "办公室", "重新生成链接", f"{unit.name}（原链接已失效）", address)
    keep_tokens(store, {unit.id: token})
    return token


def link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/u/{token}"


def keep_tokens(store: Store, tokens: dict[int, str]) -> None:
    """Remember the units' current tokens (a new one replaces the old), for the office's pages."""
    if not tokens:
        return
    kept = current_tokens(store, roster_only=False)
    kept.update(tokens)
    store.set_meta({TOKENS: json.dumps({str(k): v for k, v in kept.items()})})


def current_tokens(store: Store, *, roster_only: bool = True) -> dict[int, str]:
    """Unit id -> the token of its link as it works now (a token that no longer matches its
    unit's hash is left out: that unit needs a new link)."""
    kept = {int(k): v for k, v in json.loads(store.meta(TOKENS) or "{}").items()}
    return {u.id: kept[u.id] for u in store.units(roster_only=roster_only)
            if u.id in kept and security.same(security.token_hash(kept[u.id]), u.token_hash)}


def recover_tokens(store: Store) -> int:
    """A data directory made before the tokens were kept: take them from ``单位链接.csv`` (each
    checked against its unit's hash); the number recovered."""
    path = store.data / LINKS
    if store.meta(TOKENS) is not None or not path.exists():
        return 0
    by_hash = {u.token_hash: u.id for u in store.units(roster_only=False)}
    found = {}
    for row in list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))[1:]:
        token = row[2].rstrip("/").rsplit("/u/", 1)[-1] if len(row) == 3 and "/u/" in row[2] else ""
        unit_id = by_hash.get(security.token_hash(token)) if token else None
        if unit_id is not None:
            found[unit_id] = token
    keep_tokens(store, found)
    return len(found)


def write_links(store: Store, base: str) -> Path:
    """``单位链接.csv``: every roster unit's current link, starting with ``base`` (UTF-8 with BOM, 0600)."""
    path = store.data / LINKS
    tokens = current_tokens(store)
    rows = [[u.code, u.name, link(base, tokens[u.id]) if u.id in tokens else ""] for u in store.units()]

    def render(tmp: Path) -> None:
        os.chmod(tmp, PRIVATE_FILE)  # the links are the units' keys
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(LINK_HEADERS)
            out.writerows(rows)

    return write_atomically(path, render, overwrite=True)


def protect(data: Path, *, everything: bool) -> None:
    """The data directory the office's alone: 0700, its database and links file 0600 (``everything``:
    also what an earlier version left readable by others, every folder and file below)."""
    os.chmod(data, PRIVATE_DIR)
    paths = data.rglob("*") if everything else (p for p in data.iterdir())
    for path in paths:
        if path.is_symlink():
            continue
        os.chmod(path, PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)


# ---------------------------------------------------------------- the cycle's settings

@dataclass(frozen=True)
class CycleSettings:
    """What the office sets for its cycle: kept in the database, changed from the settings page
    or the command line."""

    base_url: str = ""  # the address units open; "" = what the server listens on
    deadline: dt.date | None = None
    contact: str = ""  # the office's name and phone, as the units read it

    def days_left(self, today: dt.date | None = None) -> int | None:
        """Days until the deadline (0 on the day, negative once past), None without one."""
        return None if self.deadline is None else (self.deadline - (today or dt.date.today())).days


def date_text(day: dt.date | None) -> str:
    """A date as the pages and texts write it (2027年1月31日); "" for none."""
    return f"{day.year}年{day.month}月{day.day}日" if day is not None else ""


def time_left(settings: CycleSettings, today: dt.date) -> str:
    """How the deadline stands today, in words (还有4天, 今天截止, 已逾期3天); "" without one."""
    left = settings.days_left(today)
    if left is None:
        return ""
    return f"已逾期{-left}天" if left < 0 else ("今天截止" if left == 0 else f"还有{left}天")


def cycle_settings(store: Store) -> CycleSettings:
    deadline = store.meta("deadline")
    return CycleSettings(base_url=store.meta("base_url") or "",
                         deadline=dt.date.fromisoformat(deadline) if deadline else None,
                         contact=store.meta("contact") or "")


def parse_deadline(text: str, year: int) -> dt.date:
    """A date as YYYY-MM-DD (also with / or .) after the reporting ``year`` (its returns are made
    once it has ended: 2025-01-31 for the 2025 cycle is a slip for 2026-01-31); raises
    `SetupError` saying what is expected."""
    clean = text.strip().replace("/", "-").replace(".", "-")
    try:
        day = dt.date.fromisoformat("-".join(p.zfill(2) for p in clean.split("-")))
    except ValueError:
        raise SetupError(f"截止日期“{text}”无法识别，请写成 年-月-日，例如 {year + 1}-01-31 (expected YYYY-MM-DD)") from None
    if day.year <= year:
        raise SetupError(f"截止日期{date_text(day)}不晚于{year}年12月31日：{year}年度的统计表在{year + 1}年报送，"
                         f"请写{year + 1}年的日期，例如 {year + 1}-01-31 (the deadline must fall after the reporting year)")
    return day


def check_base_url(text: str) -> str:
    """The address links start with, tidied; raises `SetupError` unless it is http(s)://host[:port][/path]."""
    url = text.strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not sep or not rest or any(c in rest for c in " ?#\"\'<>"):
        raise SetupError(f"链接地址“{text}”无效，应为 http://地址:端口 或 https://域名，例如 http://192.168.1.10:8000"
                         " (expected http(s)://host[:port])")
    return url


def save_settings(store: Store, *, base_url: str | None = None, deadline: dt.date | None = None,
                  contact: str | None = None, who: str = "办公室", address: str = "") -> list[str]:
    """Keep the settings given (None: unchanged; an empty base URL or contact clears it); what
    changed, as logged."""
    old = cycle_settings(store)
    pairs: dict[str, str] = {}
    said = []
    if base_url is not None and base_url != old.base_url:
        pairs["base_url"] = check_base_url(base_url) if base_url else ""
        said.append(f"链接地址：{pairs['base_url'] or '（按监听地址）'}")
    if deadline is not None and deadline != old.deadline:
        pairs["deadline"] = deadline.isoformat()
        said.append(f"截止日期：{pairs['deadline']}")
    clean = " ".join(contact.split())[:CONTACT_MAX] if contact is not None else old.contact
    if clean != old.contact:
        pairs["contact"] = clean
        said.append(f"联系方式：{pairs['contact'] or '（无）'}")
    if pairs:
        with store.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", pairs.items())
            store.audit(db, who, "修改设置", "；".join(said), address)
    return said


# ---------------------------------------------------------------- returns sent back

@dataclass(frozen=True)
class SentBack:
    """The office sent a unit's return back (退回) with a note; it holds until the unit uploads again."""

    upload: int
    note: str
    at: str


def send_back(store: Store, unit: UnitRow, upload: int, note: str, *, address: str) -> None:
    """退回 ``upload`` (the unit's current return) with ``note``, which the unit reads on its page."""
    kept = json.loads(store.meta("sent_back") or "{}")
    clean = " ".join(note.split())[:500]
    kept[str(unit.id)] = {"upload": upload, "note": clean, "at": now()}
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("sent_back", json.dumps(kept, ensure_ascii=False)))
        store.audit(db, "办公室", "退回", f"{unit.name}：{clean}", address)


def sent_back(store: Store) -> dict[int, SentBack]:
    """Unit id -> the 退回 that still holds: its return is still the unit's current one."""
    kept = json.loads(store.meta("sent_back") or "{}")
    latest = store.latest()
    out = {}
    for key, value in kept.items():
        up = latest.get(int(key))
        if up is not None and up.id == value["upload"]:
            out[int(key)] = SentBack(value["upload"], value["note"], value["at"])
    return out
