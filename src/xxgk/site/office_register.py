"""The register as the office reads and prints it: each unit's line with 填报人, 联系电话 and
where it stands against the deadline (剩余/逾期 days), the progress line (已通过 x/N, 逾期 y)
and the groups of the roster's 类别 column (部门, 乡镇 …)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from xxgk.cycle.entries import Entry
from xxgk.site.datadir import CycleSettings
from xxgk.site.service import Line

UNGROUPED = "未分类"


@dataclass(frozen=True)
class Due:
    text: str  # 剩余3天, 今天截止, 逾期2天, 按时报送, 逾期2天报送, or ""
    late: bool


NO_DUE = Due("", False)


def due(line: Line, settings: CycleSettings, today: dt.date) -> Due:
    """Where ``line`` stands against the deadline (nothing without a deadline, or for a 免报 unit)."""
    deadline = settings.deadline
    if deadline is None or line.state == "exempt":
        return Due("", False)
    if line.state == "passed" and line.upload is not None:
        day = dt.date.fromisoformat(line.upload.at[:10])
        return Due("按时报送", False) if day <= deadline else Due(f"逾期{(day - deadline).days}天报送", True)
    left = (deadline - today).days
    if left > 0:
        return Due(f"剩余{left}天", False)
    return Due("今天截止", False) if left == 0 else Due(f"逾期{-left}天", True)


@dataclass(frozen=True)
class Progress:
    passed: int
    total: int  # units that must report (免报 ones left out)
    overdue: int  # not passed once the deadline is past
    deadline: str
    left: int | None

    @property
    def text(self) -> str:
        out = f"已通过 {self.passed}/{self.total}"
        if self.deadline:
            out += f" · 逾期 {self.overdue}" + f" · 截止 {self.deadline}"
            if self.left is not None and self.left >= 0:
                out += f"（剩余{self.left}天）" if self.left else "（今天截止）"
        return out


def progress(lines: list[Line], settings: CycleSettings, today: dt.date) -> Progress:
    total = sum(1 for x in lines if x.state != "exempt")
    passed = sum(1 for x in lines if x.state == "passed")
    left = settings.days_left(today)
    overdue = sum(1 for x in lines if x.state not in ("passed", "exempt")) if left is not None and left < 0 else 0
    return Progress(passed, total, overdue, settings.deadline.isoformat() if settings.deadline else "", left)


def signer(entry: Entry | None) -> tuple[str, str]:
    """填报人 and 联系电话 as the return gives them."""
    if entry is None:
        return "", ""
    return entry.signature.get("填报人", "").strip(), entry.signature.get("联系电话", "").strip()


def groups(lines: list[Line], kinds: Mapping[int, str]) -> list[tuple[str, list[Line]]]:
    """The lines by 类别 in the roster's order of first appearance (one group, named "", without any)."""
    if not kinds:
        return [("", lines)]
    out: dict[str, list[Line]] = {}
    for x in lines:
        out.setdefault(kinds.get(x.unit.id) or UNGROUPED, []).append(x)
    if UNGROUPED in out:
        out[UNGROUPED] = out.pop(UNGROUPED)
    return list(out.items())


COLUMNS = ("#", "代码", "单位", "状态", "最后上传", "错误", "提醒", "填报人", "联系电话", "截止/逾期", "文件")


def rows(lines: list[Line], entries: Mapping[int, Entry | None], kinds: Mapping[int, str],
         settings: CycleSettings, today: dt.date) -> Markup:
    """The register's table rows: written here rather than in the template, since the page
    must stay fast with thousands of units (3,000 rows: Jinja took 300 ms)."""
    def esc(text: str) -> str:
        return html.escape(text) if text else ""

    out = []
    i = 0
    for name, members in groups(lines, kinds):
        if name:
            passed = sum(1 for x in members if x.state == "passed")
            total = sum(1 for x in members if x.state != "exempt")
            out.append(f'<tr class="group"><th colspan="{len(COLUMNS)}">{esc(name)}'
                       f' <span class="muted">已通过 {passed}/{total}</span></th></tr>')
        for x in members:
            i += 1
            u, up = x.unit, x.upload
            at, errors, warnings, file = (up.at, str(up.errors), str(up.warnings), up.name) if up else ("", "", "", "")
            filler, phone = signer(entries.get(u.id))
            when = due(x, settings, today) if settings.deadline is not None else NO_DUE
            out.append(
                f'<tr data-id="{u.id}" data-state="{x.state}">'
                f'<td class="muted">{i}</td><td class="mono">{esc(u.code)}</td>'
                f'<td><a href="/office/unit/{u.id}">{esc(u.name)}</a></td>'
                f'<td><span class="badge {x.state}">{x.label}</span></td><td class="at">{at}</td>'
                f'<td class="errors">{errors}</td><td class="warnings">{warnings}</td>'
                f'<td class="filler">{esc(filler)}</td><td class="phone mono">{esc(phone)}</td>'
                f'<td class="due{" late" if when.late else ""}">{when.text}</td>'
                f'<td class="file">{esc(file)}</td></tr>')
    return Markup("\n".join(out))


def line_json(line: Line, entry: Entry | None, settings: CycleSettings, today: dt.date) -> dict[str, Any]:
    """A line of ``register.json``: the service's, with what this page adds."""
    filler, phone = signer(entry)
    when = due(line, settings, today)
    return {**line.to_json(), "filler": filler, "phone": phone, "due": when.text, "late": when.late}
