"""One unit's state in a cycle, and the words for it: the one place every page and text reads it from.

The register line a `Collection` gives for a unit (`UnitStatus`) says who counts; what a
clerk or the office reads is its state here — 未报送, 未通过, 提醒待说明, 已通过, 免报 or
退回 — with the counts of the return that counts *as checked now* (after a restart with
last year's data a return may be judged anew), the sentence the unit reads, and the line
of the 催报 text.  The unit's page, the office's register and unit page, the 催报 text and
the summary's 报送情况 sheet all take their words from `unit_state`, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from xxgk.cycle.summary import STATUS_LABELS, UnitStatus

__all__ = ["STATES", "StateKey", "UnitState", "open_counts", "report_state", "unit_state"]

StateKey = Literal["missing", "failing", "explain", "passed", "exempt", "other"]

# the states of a roster unit, in the register's order; (key, label)
STATES: dict[str, str] = {
    "missing": "未报送",
    "failing": "未通过",
    "explain": "提醒待说明",
    "passed": "已通过",
    "exempt": "免报",
}
RETURNED = "退回"  # the office sent the return back: not through (counted with 未通过), in its own words
PASSED_WORDS = "已报送成功，区政务公开办已收到；如需修改可重新上传，以最后一次为准。"


@dataclass(frozen=True)
class UnitState:
    """A unit's state and its words, from the return that counts as checked now."""

    key: StateKey
    label: str
    detail: str  # the register's detail (why, what)
    errors: int = 0
    warnings: int = 0
    unexplained: int = 0
    note: str = ""  # 免报 reason or 退回 note

    @property
    def returned(self) -> bool:
        """Sent back by the office (退回): 未通过 with the office's note."""
        return self.label == RETURNED

    @property
    def counts(self) -> str:
        """错误2项，提醒1项待说明 — what is still open ("" when nothing is)."""
        return open_counts(self.errors, self.unexplained)

    @property
    def verdict(self) -> str:
        """The sentence the unit reads beside its state: what happened and what to do next."""
        if self.returned:
            return f"区政务公开办已退回本单位的报表：{self.note}。请修改后重新上传，以最后一次上传为准。"
        if self.key == "passed":
            explained = self.warnings - self.unexplained
            return PASSED_WORDS + ("提醒事项均已在情况说明中解释。" if explained else "")
        if self.key == "explain":
            return (f"已收到，但有{self.unexplained}项提醒待说明，尚未通过：如数据有误请改正；如情况属实，"
                    "请在所列单元格填写情况说明，然后重新上传。以最后一次上传为准。")
        if self.key == "failing":
            what = self.counts or self.detail or "校验未通过"
            return f"未通过（{what}）：请按下列问题修改后重新上传。以最后一次上传为准。"
        if self.key == "exempt":
            return f"本单位已由区政务公开办标记为免报：{self.note or '免报'}。"
        if self.key == "missing":
            return "本单位尚未报送。"
        return self.detail or self.label

    @property
    def reminder(self) -> str:
        """The 催报 text's words for the unit: what is open ("" for a unit that owes nothing)."""
        if self.returned:
            return f"已退回：{self.note}"
        if self.key in ("failing", "explain"):
            return self.counts or self.detail or self.label
        return ""


def open_counts(errors: int, unexplained: int) -> str:
    """错误2项，提醒1项待说明 ("" when nothing is open)."""
    parts = [f"错误{errors}项" if errors else "", f"提醒{unexplained}项待说明" if unexplained else ""]
    return "，".join(p for p in parts if p)


def report_state(valid: bool, errors: int, unexplained: int) -> Literal["passed", "explain", "failing"]:
    """The state one checked return gives its unit on its own: 已通过, 提醒待说明 (warnings only,
    unexplained) or 未通过 — e.g. for a return kept from an earlier check."""
    if valid:
        return "passed"
    return "explain" if not errors and unexplained else "failing"


def unit_state(line: UnitStatus | None, *, exempt: str | None = None, returned: str | None = None) -> UnitState:
    """The state of a unit from its register line (None: nothing received).

    ``exempt``: the 免报 reason when the unit is excused; ``returned``: the office's note when
    it sent the current return back (退回) — both the office's decisions, not the checks'."""
    if exempt is None and line is not None and line.status == "exempt":
        exempt = line.detail
    if exempt is not None:
        return UnitState("exempt", STATES["exempt"], exempt or "免报", note=exempt)
    entries = line.entries if line is not None else ()
    if line is None or line.status == "missing" or not entries:
        return UnitState("missing", STATES["missing"], "")
    reports = [e.report for e in entries]
    errors, unexplained = sum(r.errors for r in reports), sum(r.unexplained for r in reports)

    def made(key: StateKey, label: str, detail: str, note: str = "") -> UnitState:
        return UnitState(key, label, detail, errors, sum(r.warnings for r in reports), unexplained, note)

    if returned is not None:
        return made("failing", RETURNED, f"已退回：{returned}", returned)
    if line.status == "valid":
        return made("passed", STATES["passed"], line.detail)
    if line.status in ("invalid", "conflict"):
        readable = all(e.values is not None for e in entries)
        key = report_state(False, errors, unexplained) if line.status == "invalid" and readable else "failing"
        return made(key, STATES[key], line.detail)
    return made("other", STATUS_LABELS[line.status], line.detail)
