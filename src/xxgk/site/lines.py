"""What the site's pages show of a unit: its register line, an upload held for its confirmation
and its history (each upload with the verdict it has now)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xxgk.cycle.entries import Entry
from xxgk.cycle.state import STATES, UnitState
from xxgk.site.store import SUFFIXES, Recheck, UnitRow, Upload


@dataclass(frozen=True)
class Line:
    """One unit's line of the register as the office reads it: the unit, its state
    (`xxgk.cycle.state.unit_state`, the one place its words come from) and its current upload."""

    unit: UnitRow
    status: UnitState
    upload: Upload | None

    @property
    def state(self) -> str:
        return self.status.key

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def detail(self) -> str:
        return self.status.detail

    def to_json(self) -> dict[str, Any]:
        up, st = self.upload, self.status
        return {
            "id": self.unit.id, "code": self.unit.code, "name": self.unit.name,
            "state": self.state, "label": self.label, "detail": self.detail,
            "at": up.at if up else "", "errors": st.errors if up else 0,
            "warnings": st.warnings if up else 0, "file": up.name if up else "",
        }


@dataclass(frozen=True)
class Held:
    """An upload kept and checked but not yet the unit's return: it would replace a return that
    passed with one that does not, and waits for the unit to confirm."""

    unit: int
    digest: str
    path: str  # relative to the data directory
    name: str
    size: int
    entry: Entry  # as the cycle would judge it
    replaces: str  # the file name of the return that passed
    read: Entry  # as read and checked, before the cycle judged it (what `release` adds)


@dataclass(frozen=True)
class Sent:
    """One upload in a unit's history, with the verdict it has now: the current return's as
    judged now (`Line`), an earlier one's as judged when it was uploaded; and its rechecks."""

    upload: Upload
    state: str  # key of `STATES`
    errors: int
    warnings: int
    current: bool
    rechecks: tuple[Recheck, ...] = ()

    @property
    def label(self) -> str:
        return STATES[self.state]

    @property
    def markable(self) -> bool:
        """Whether a marked copy can be made: a spreadsheet, kept as one (not the report as a
        document, an archive, a picture) — as the office's page decides it."""
        return markable(self.upload)


def markable(up: Upload) -> bool:
    return up.path.lower().endswith(SUFFIXES)
