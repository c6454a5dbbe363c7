"""Who counts for each unit of a cycle: its entries resolved into the register and the accepted blocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from xxgk.cycle.entries import Entry, Number
from xxgk.cycle.rosterindex import OffRoster, RosterIndex, UnitKey, norm_name
from xxgk.cycle.summary import UNKNOWN_UNIT, Prefer, Status, UnitBlock, UnitStatus

__all__ = ["Resolution"]


class Resolution:
    """Worked out once from a cycle's entries, in three phases: within each unit (duplicates,
    conflicts, files naming another unit), across blocks (a unit counted twice), then the
    register line of every unit in roster order."""

    def __init__(self, entries: Sequence[Entry], index: RosterIndex, exempt: Mapping[str, str],
                 prefer: Prefer) -> None:
        self.index, self.roster, self.exempt, self.prefer = index, index.roster, exempt, prefer
        self.groups: dict[UnitKey, list[Entry]] = {}
        self.unknown: list[Entry] = []
        for e in entries:
            if e.submitter:
                self.groups.setdefault(index.key(e.submitter, ""), []).append(e)
            elif not e.code and not e.name:
                self.unknown.append(e)
            else:
                self.groups.setdefault(index.key(e.code, e.name), []).append(e)
        chosen, lines, extra = self._within_units()
        refused = self._counted_twice(chosen)
        in_summary = self._in_summaries(chosen, refused)
        self.register, self.blocks = self._statuses(chosen, lines, extra, refused, in_summary)

    def covers(self, e: Entry) -> list[UnitKey]:
        """Units an accepted entry accounts for: itself, or a summary's units."""
        if e.kind == "summary":
            return [self.index.key(code, name.strip()) for code, name in e.units]
        return [self.index.key(e.submitter or e.code, e.name)]

    def off_roster(self, key: UnitKey, entries: Sequence[Entry]) -> bool:
        """Not on the roster, and (for summaries) holding no unit of the roster either."""
        if self.roster is None or isinstance(key, int):
            return False
        return not any(e.kind == "summary" and any(isinstance(u, int) for u in self.covers(e)) for e in entries)

    def naming(self, key: UnitKey, entries: Sequence[Entry]) -> tuple[str, str]:
        if isinstance(key, int) and self.roster is not None:
            return self.roster[key].code, self.roster[key].name
        first = entries[0] if entries else None
        return (first.code, first.name) if first else ("", "")

    @staticmethod
    def _status(key: UnitKey, code: str, name: str, status: Status, entries: tuple[Entry, ...] = (),
                detail: str = "") -> UnitStatus:
        return UnitStatus(code, name, status, entries, detail, on_roster=isinstance(key, int))

    def _within_units(
        self,
    ) -> tuple[dict[UnitKey, Entry], dict[UnitKey, UnitStatus], dict[UnitKey, list[UnitStatus]]]:
        """Phase 1, within a unit: files naming another unit set aside; duplicates, conflicts,
        the latest.  The entry chosen per unit, the conflict lines, the lines set aside."""
        chosen: dict[UnitKey, Entry] = {}
        lines: dict[UnitKey, UnitStatus] = {}
        extra: dict[UnitKey, list[UnitStatus]] = {}
        for key, group in self.groups.items():
            code, name = self.naming(key, group)
            aside = [e for e in group if e.other_unit] if len(group) > 1 else []
            if len(aside) == len(group):
                aside = aside[1:]  # all of them name another unit: the first stands for the unit
            extra[key] = [
                self._status(key, code, name, "invalid", (e,), f"文件名或报送单位为{e.other_unit}，"
                           f"与文件内的单位（{e.identity_text}）不符，未计入汇总")
                for e in aside
            ]
            group = [e for e in group if e not in aside]
            pick, others, conflict = self._choose(group)
            if conflict:
                names = "、".join(Path(e.file).name for e in group)
                detail = f"同一单位报送了{len(group)}份数据不同的文件（{names}），均未计入汇总，请确认以哪一份为准"
                if self.off_roster(key, group):
                    lines[key] = self._status(key, code, name, "unexpected", tuple(group), f"不在报送单位名单中；{detail}")
                else:
                    lines[key] = self._status(key, code, name, "conflict", tuple(group), detail)
                continue
            assert pick is not None
            chosen[key] = pick
            extra[key] += [self._status(key, code, name, "duplicate", (o,), reason) for o, reason in others]
        return chosen, lines, extra

    def _counted_twice(self, chosen: Mapping[UnitKey, Entry]) -> dict[UnitKey, str]:
        """Phase 2, across blocks: a unit counted twice (directly and in a summary, or in two
        summaries) refuses every block that counts it; why, by block."""
        counted: dict[UnitKey, list[UnitKey]] = {}
        for key, e in chosen.items():
            if e.valid:
                for unit in dict.fromkeys(self.covers(e)):
                    counted.setdefault(unit, []).append(key)
        refused: dict[UnitKey, str] = {}
        for unit, keys in counted.items():
            if len(keys) > 1:
                places = "、".join(
                    f"{Path(chosen[k].file).name}（{'汇总表' if chosen[k].kind == 'summary' else '单位报表'}）"
                    for k in keys
                )
                who = self._unit_label(unit, keys, chosen)
                for k in keys:
                    refused[k] = refused.get(k, "") + f"{who}被重复计入：{places}，均未计入汇总。"
        return refused

    def _in_summaries(self, chosen: Mapping[UnitKey, Entry], refused: Mapping[UnitKey, str]) -> dict[UnitKey, Entry]:
        """The units an accepted summary holds (besides its own), by the summary."""
        in_summary: dict[UnitKey, Entry] = {}
        for key, e in chosen.items():
            if e.valid and key not in refused and e.kind == "summary":
                for unit in self.covers(e):
                    if unit != key:
                        in_summary.setdefault(unit, e)
        return in_summary

    def _statuses(
        self,
        chosen: Mapping[UnitKey, Entry],
        lines: Mapping[UnitKey, UnitStatus],
        extra: Mapping[UnitKey, list[UnitStatus]],
        refused: Mapping[UnitKey, str],
        in_summary: Mapping[UnitKey, Entry],
    ) -> tuple[list[UnitStatus], list[UnitBlock]]:
        """Phase 3: every unit's register line, roster order first, and the blocks accepted."""
        register: list[UnitStatus] = []
        blocks: list[UnitBlock] = []
        order: list[UnitKey] = list(range(len(self.roster))) if self.roster is not None else []
        listed = set(order)
        order += [k for k in self.groups if k not in listed]
        exempt = self.exempt
        for key in order:
            on_roster = isinstance(key, int)
            group = self.groups.get(key, [])
            code, name = self.naming(key, group)
            before: list[UnitStatus] = []
            if key in lines:
                line = lines[key]
            elif key in chosen and key in in_summary and not chosen[key].valid:
                # counted inside a summary; its own file failed and is not counted: no double count
                line = self._status(key, code, name, "valid", (in_summary[key],), f"已计入{in_summary[key].label}汇总表")
                before = [self._status(key, code, name, "duplicate", (chosen[key],),
                                       f"该单位已计入{in_summary[key].label}汇总表；本文件未通过校验，未计入")]
            elif key in chosen:
                e = chosen[key]
                line = self._line(key, code, name, e, refused)
                if line.status == "valid":
                    blocks.append(UnitBlock(code, name, e))
            elif key in in_summary:
                line = self._status(key, code, name, "valid", (in_summary[key],), f"已计入{in_summary[key].label}汇总表")
            elif code in exempt and on_roster:
                line = self._status(key, code, name, "exempt", (), exempt[code] or "免报")
            else:
                line = self._status(key, code, name, "missing")
            if code in exempt and on_roster and line.status != "exempt":
                line = replace(line, detail="；".join(x for x in (line.detail, f"已登记免报（{exempt[code]}），但报送了文件") if x))
            register.append(line)
            register.extend((*before, *extra.get(key, [])))
        for e in self.unknown:
            register.append(UnitStatus("", UNKNOWN_UNIT, "invalid", (e,), "无法识别报送单位"))
        return register, blocks

    def _line(self, key: UnitKey, code: str, name: str, e: Entry, refused: Mapping[UnitKey, str]) -> UnitStatus:
        if self.off_roster(key, [e]):
            return self._status(key, code, name, "unexpected", (e,), "不在报送单位名单中，未计入汇总")
        if key in refused:
            return self._status(key, code, name, "conflict", (e,), refused[key])
        if not e.valid:
            r = e.report
            detail = f"错误{r.errors}项，未说明的提醒{r.unexplained}项"
            if e.kind == "summary" and e.complete is not None and e.complete[0] < e.complete[1]:
                detail = f"该汇总表不完整（{e.complete[1]}个单位中汇总{e.complete[0]}个）；{detail}"
            return self._status(key, code, name, "invalid", (e,), detail)
        detail = f"汇总表，包含{len(e.units)}个单位" if e.kind == "summary" else ""
        if e.kind == "summary" and e.complete is not None and e.complete[0] < e.complete[1]:
            detail += f"（不完整：{e.complete[1]}个单位中汇总{e.complete[0]}个，已说明）"
        return self._status(key, code, name, "valid", (e,), detail)

    def _unit_label(self, unit: UnitKey, keys: list[UnitKey], chosen: Mapping[UnitKey, Entry]) -> str:
        if isinstance(unit, int) and self.roster is not None:
            return f"单位“{self.roster[unit].name}”"
        assert isinstance(unit, OffRoster)
        for k in keys:
            e = chosen[k]
            for c, n in ([(e.code, e.name)] if e.kind != "summary" else list(e.units)):
                if (unit.by == "code" and c.strip() == unit.text) or (unit.by == "name" and norm_name(n) == unit.text):
                    return f"单位“{n or c}”"
        return f"单位“{unit.text}”"

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
