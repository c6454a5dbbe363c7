"""The data directory of a cycle: made at the first start, reopened (and held to its year,
region and roster) at every later one; the units' links and the office password.

A unit's link is shown in clear only in ``单位链接.csv`` (for the office to hand out) and
the moment it is made; the database keeps its hash.  The office password likewise: printed
when it is made, stored as an scrypt hash.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xxgk.cycle.previous import Previous, PreviousError
from xxgk.cycle.roster import Unit
from xxgk.files import write_atomically
from xxgk.forms import model as forms
from xxgk.forms.builtin import resolve
from xxgk.forms.model import Form
from xxgk.site import security
from xxgk.site.store import Store, UnitRow

LINKS = "单位链接.csv"
LINK_HEADERS = ["代码", "名称", "链接"]


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
    writable(data)
    try:
        store = Store(data)
    except (OSError, sqlite3.Error) as exc:
        raise SetupError(f"无法打开数据目录{data}：{exc}") from None
    try:
        opened = _open(store, form, year, list(roster), region, change_roster, reset_password)
        if previous is not None and last is not None:
            _keep_previous(store, previous)
        opened.previous = _kept_previous(store, year, region)
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
        return Previous.load(store.data / rel, year=year, region=region, merging=True)
    except PreviousError as exc:
        raise SetupError(f"数据目录中的上年数据（{store.meta('previous_name')}）无法使用：{exc}") from None


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
    return token


def link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/u/{token}"


def write_links(store: Store, base: str, tokens: dict[int, str]) -> Path:
    """``单位链接.csv``: the links made now replace those rows, the others are kept (UTF-8 with BOM)."""
    path = store.data / LINKS
    rows: dict[str, list[str]] = {}
    if path.exists():
        for row in list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))[1:]:
            if len(row) == 3:
                rows[row[0] + "\t" + row[1]] = row
    units = store.units()
    for unit in units:
        if unit.id in tokens:
            rows[unit.code + "\t" + unit.name] = [unit.code, unit.name, link(base, tokens[unit.id])]
    order = [u.code + "\t" + u.name for u in units]

    def render(tmp: Path) -> None:
        os.chmod(tmp, 0o600)  # the links are the units' keys
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(LINK_HEADERS)
            out.writerows(rows[key] for key in order if key in rows)

    return write_atomically(path, render, overwrite=True)
