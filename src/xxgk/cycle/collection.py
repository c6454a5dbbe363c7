"""One reporting cycle: the returns of one form and year, by unit → the register and the summary.

A `Collection` is made for a form, a year, a region and (optionally) a roster, fixed for
its life.  Returns are added one at a time (`add`: read and checked in this process, as a
server does on each upload) or as entries read elsewhere (`add_entry`: the process pool
of `pool` for a batch).  Every decision about one file that depends on the cycle is
made when it is added, and made into a *new* entry — the entry given is never changed:

* a file of another form or year than the cycle's gets ``file.wrong_form`` /
  ``file.wrong_year`` and no values (it is not summed);
* a file whose name names another roster unit than its identity (a unit filled a
  neighbour's template) gets ``file.other_unit`` naming both (a warning); one whose identity
  names another unit than its submitter (a unit link) is not the submitter's return:
  ``file.not_own``, an error; it never replaces the named unit's own return;
* a summary handed in by a unit (``submitter``) is refused (``file.summary_on_link``, no
  values): a unit link takes that unit's own return, and no other unit's figures change;
* a summary that says it is incomplete gets ``summary.incomplete`` (a warning that needs an
  explanation one level up);
* with last year's data (`previous.Previous`), each unit's year-over-year checks.

`register()` and `summary()` are computed afresh from the entries on every call and change
nothing.  Who counts for a unit:

* units are identified by agency code, falling back to the name;
* a roster unit with no file is 未报送 (``missing``), or 免报 (``exempt``) when excused;
  a file from a unit not on the roster is 名单外单位 (``unexpected``) and is not summed;
* two files of the same unit with the same values: one counts, the other is a
  ``duplicate``; with different values both are refused as a ``conflict`` naming both
  files, unless ``prefer="latest"`` takes the later one (填报日期, then mtime);
* a summary counts as one block; a unit counted twice — directly and inside a summary,
  or inside two summaries — refuses both blocks as a ``conflict`` naming both places.

Totals are exact `Decimal` sums of the input cells of the accepted blocks; formula cells
are recomputed from them.  The library never prints; see `xxgk.cli` for that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import get_args

from xxgk.cycle.entries import Entry, check_source
from xxgk.cycle.previous import Previous
from xxgk.cycle.resolution import Resolution
from xxgk.cycle.roster import Unit
from xxgk.cycle.rosterindex import RosterIndex
from xxgk.cycle.summary import FAILING, Prefer, Summary, UnitStatus
from xxgk.cycle.totals import aggregate_checks, block_totals, flatten
from xxgk.forms.builtin import for_year, form_by_id
from xxgk.forms.findings import Finding, make
from xxgk.forms.model import Form

__all__ = ["Collection", "CollectionError", "cycle_of"]

PREFER: tuple[Prefer, ...] = get_args(Prefer)


class CollectionError(Exception):
    """The cycle cannot be formed (no readable return to tell its form and year, or a tie)."""


def cycle_of(entries: Sequence[Entry], *, year: int | None = None,
             forms: Sequence[Form] | None = None) -> tuple[Form, int]:
    """The form and year of a batch: the one place where they are inferred from the files.

    ``year`` given (``--year``): that year, and the form of most files of that year (the
    year's form when none is).  Not given: the form and year of most files.  Raises
    `CollectionError` when no file tells its form and year, or when two tie (there is then
    no telling which files are the odd ones out)."""
    counts = Counter((e.form, e.year) for e in entries
                     if e.form and e.year is not None and (year is None or e.year == year))
    if not counts:
        if year is not None:
            return for_year(year), year
        raise CollectionError("没有可以读取并识别年度的统计表，无法确定表式和年度，无法汇总。")
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = "、".join(f"{f} {y}年度 {n}份" for (f, y), n in ranked if n == ranked[0][1])
        raise CollectionError(
            f"报送文件的表式或年度不一致，且无法判断以哪一种为准（{tied}）。请分开处理，或指定年度 (--year)。"
        )
    (form_id, found), _ = ranked[0]
    assert found is not None
    return form_by_id(form_id, forms), found


class Collection:
    """One reporting cycle (see the module doc)."""

    def __init__(
        self,
        form: Form,
        year: int,
        *,
        region: str = "",
        roster: Sequence[Unit] | None = None,
        previous: Previous | None = None,
        prefer: Prefer = "strict",
        forms: Sequence[Form] | None = None,
    ) -> None:
        if prefer not in PREFER:
            raise ValueError(f"prefer must be one of {', '.join(PREFER)}, not {prefer!r}")
        self._form, self._year, self._region = form, year, region
        self._index = RosterIndex(roster)
        self.previous, self.prefer, self.forms = previous, prefer, forms
        self._entries: list[Entry] = []
        self._exempt: dict[str, str] = {}

    @property
    def form(self) -> Form:
        return self._form

    @property
    def year(self) -> int:
        return self._year

    @property
    def region(self) -> str:
        return self._region

    @property
    def roster(self) -> tuple[Unit, ...] | None:
        return self._index.roster

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    # ------------------------------------------------------------ adding

    def add(self, source: Path | str | bytes, *, name: str | None = None, submitter: str | None = None) -> Entry:
        """Read and check one return in this process and add it; its entry as added.

        ``bytes``: ``name`` is the file name to show only.  ``submitter``: the roster code
        of the unit that handed it in; the entry replaces that unit's earlier one."""
        return self.add_entry(check_source(source, name, self.forms), submitter=submitter)

    def add_entry(self, entry: Entry, *, submitter: str | None = None) -> Entry:
        """Add an entry read elsewhere (e.g. by `xxgk.pool`); returns the entry as judged
        for this cycle (a new one when the cycle adds findings; ``entry`` is not changed)."""
        if submitter:
            entry = replace(entry, submitter=submitter.strip())
        judged = self.judge(entry)
        if judged.submitter:
            self._entries = [e for e in self._entries if e.submitter != judged.submitter]
        self._entries.append(judged)
        return judged

    def exempt(self, code: str, reason: str) -> None:
        """Excuse a roster unit (免报): the register shows it as ``exempt`` with the reason."""
        self._exempt[code.strip()] = reason.strip()

    def judge(self, entry: Entry) -> Entry:
        """The entry as this cycle sees it: the decisions that depend on the cycle (form,
        year, roster, last year) added as findings, in a new entry."""
        if entry.submitter and entry.kind == "summary":  # a unit's link takes the unit's own return only
            return entry.with_findings([make("file.summary_on_link", found=f"{entry.label}的汇总表",
                                             count=len(entry.units), expected=self._index.text(entry.submitter))],
                                       values=None)
        if entry.submitter and any(f.code == "file.no_unit" for f in entry.report.findings):
            # its unit is the one that handed it in
            kept = [f for f in entry.report.findings if f.code != "file.no_unit"]
            entry = replace(entry, report=replace(entry.report, findings=kept))
        if entry.form and entry.year is not None:
            # a report of another year is told its year, not another year's form (a 2019
            # report in its own 2019 tables is no wrong template)
            if entry.form != self._form.id and entry.year == self._year:
                return entry.with_findings(
                    [make("file.wrong_form", found=entry.form, expected=f"{self._form.name}（{self._form.id}）")],
                    values=None)
            if entry.year != self._year:
                return entry.with_findings([make("file.wrong_year", found=entry.year, expected=self._year)],
                                           values=None)
        found: list[Finding] = []
        other = self._index.other_unit(entry)
        if other and entry.submitter:  # handed in by one unit, filled in for another: not its return
            found.append(make("file.not_own", found=entry.name or entry.identity_text, expected=other))
        elif other:
            found.append(make("file.other_unit", found=other, expected=entry.identity_text,
                              detail=Path(entry.file).name))
        if entry.kind == "summary" and entry.complete is not None and entry.complete[0] < entry.complete[1]:
            found.append(make("summary.incomplete", found=entry.complete[0], expected=entry.complete[1]))
        notices: tuple[str, ...] = ()
        if self.previous is not None and entry.values is not None:
            more, why = self.previous.compare_entry(self._form, entry)
            found.extend(more)
            notices = (why,) if why else ()
        if not found and not notices and not other:
            return entry
        return entry.with_findings(found, other_unit=other, notices=entry.notices + notices)

    # ------------------------------------------------------------ the register and the summary

    def _resolution(self) -> Resolution:
        return Resolution(self._entries, self._index, self._exempt, self.prefer)

    def register(self) -> list[UnitStatus]:
        """The status register, computed afresh."""
        return self._resolution().register

    def summary(self) -> Summary:
        """The summary of what has been added so far, computed afresh (valid when empty)."""
        done = self._resolution()
        form = self._form
        totals = block_totals(form, done.blocks)
        notes, findings = aggregate_checks(form, totals, done.blocks)
        units = flatten(done.blocks)
        expected = len(self.roster) if self.roster is not None else len(
            {*units, *((u.code, u.name) for u in done.register if u.status in FAILING)})
        summary = Summary(
            form=form, year=self._year, region=self._region, totals=totals, blocks=done.blocks,
            register=done.register, entries=list(self._entries), units=units, notes=notes,
            findings=findings, roster=list(self.roster) if self.roster is not None else None,
            prefer=self.prefer, expected=expected,
            last=self.previous.last_year(form) if self.previous is not None else None,
        )
        if self.previous is not None:
            summary.findings = [*summary.findings, *self.previous.compare_summary(
                form, totals, notes, failing=len(summary.failing))]
        return summary
