"""Which roster unit a code, a name or a file name means: the matching a cycle does on every file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from xxgk.cycle.entries import Entry
from xxgk.cycle.roster import Unit

__all__ = ["OffRoster", "RosterIndex", "UnitKey", "norm_name"]

_TEMPLATE_NAME = re.compile(r"([0-9A-Za-z]+)_(.+)_\d{4}年")  # as `names.file_name` names a template


class OffRoster(NamedTuple):
    """The key of a unit not on the roster: by its code, or by its name when it has none."""

    by: Literal["code", "name"]
    text: str


UnitKey = int | OffRoster  # an index into the roster, or a unit not on it


def norm_name(name: str) -> str:
    """A unit name as compared: without whitespace."""
    return re.sub(r"\s+", "", name)


class RosterIndex:
    """A roster (or none) indexed by code and name, made once for a cycle."""

    def __init__(self, roster: Sequence[Unit] | None) -> None:
        self.roster: tuple[Unit, ...] | None = tuple(roster) if roster is not None else None
        self._by_code: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        for i, u in enumerate(self.roster or ()):
            if u.code:
                self._by_code.setdefault(u.code.strip(), i)
            self._by_name.setdefault(norm_name(u.name), i)
        # roster names by their first two characters: a file name is searched in time of its
        # own length, not the roster's (10,000 files against a 10,000-unit roster)
        self._by_start: dict[str, list[str]] = {}
        for n in self._by_name:
            self._by_start.setdefault(n[:2], []).append(n)

    def key(self, code: str, name: str) -> UnitKey:
        """A roster index when the unit is on the roster, else its code (or name)."""
        code = code.strip()
        if code and code in self._by_code:
            return self._by_code[code]
        if name and norm_name(name) in self._by_name:
            return self._by_name[norm_name(name)]
        return OffRoster("code", code) if code else OffRoster("name", norm_name(name))

    def other_unit(self, entry: Entry) -> str:
        """The unit that names the file (its submitter, or a roster unit in its file name)
        when that is not the unit its identity names; "" otherwise."""
        if entry.kind != "return" or not (entry.code or entry.name):
            return ""
        if entry.submitter:
            theirs = self.key(entry.submitter, "")
            if theirs != self.key(entry.code, entry.name):
                return self._unit_text(theirs, entry.submitter)
            return ""
        stem = os.path.splitext(os.path.basename(entry.file))[0]  # per file of a batch: no Path
        if (entry.code and entry.code in stem) or (entry.name and (
                entry.name in stem or norm_name(entry.name) in norm_name(stem))):
            return ""  # it names its own unit (maybe besides another): no telling
        named = self._named_in(stem)
        if named is not None:
            return "" if named == self.key(entry.code, entry.name) else self._unit_text(named, "")
        # no roster to go by: a template's own name, <code>_<name>_<year>年<form>
        m = _TEMPLATE_NAME.match(stem)
        return f"{m[1]} {m[2]}" if m else ""

    def _named_in(self, stem: str) -> int | None:
        """The roster unit a file name names: by a code standing alone, else the longest name."""
        if self.roster is None:
            return None
        for token in re.split(r"[^0-9A-Za-z]+", stem):
            if token and token in self._by_code:
                return self._by_code[token]
        text = norm_name(stem)
        starts = {text[i:i + k] for i in range(len(text)) for k in (1, 2)}
        hits = [(len(n), self._by_name[n]) for start in starts for n in self._by_start.get(start, ())
                if n and n in text]
        return max(hits)[1] if hits else None

    def text(self, code: str) -> str:
        """A unit known by its roster code, in words (code and name), for messages."""
        return self._unit_text(self.key(code, ""), code)

    def _unit_text(self, key: UnitKey, fallback: str) -> str:
        if isinstance(key, int) and self.roster is not None:
            u = self.roster[key]
            return " ".join(x for x in (u.code, u.name) if x)
        return fallback or key.text if isinstance(key, OffRoster) else fallback
