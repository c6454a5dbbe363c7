"""Files on disk → a `Collection`: what `xxgk check` and `xxgk merge` do.

Both find the files (`discover.find`: read, or skipped with a reason), read and check
them, settle the form and year (``year`` given, or inferred from the files in one place:
`collection.cycle_of`), validate last year's file (`previous.Previous`) and add every
entry to one collection, so the decisions about a file that depend on the cycle (wrong
year or form, a neighbour's template, an incomplete summary, last year's figures) are the
same in both.  Both read in worker processes, each file within the same limits as the site
(`pool`, `worker`): `merge` returns the summary, `check` what each file shows (its entry, the
figures read, its form); a marked copy reads its file again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from xxgk.cycle.collection import Collection, CollectionError, cycle_of
from xxgk.cycle.discover import Found, find
from xxgk.cycle.entries import Entry
from xxgk.cycle.pool import Probed, probe_files, read_entries
from xxgk.cycle.previous import Previous
from xxgk.cycle.roster import Unit
from xxgk.cycle.summary import Prefer, Summary
from xxgk.forms.model import Form

__all__ = ["Checked", "check_paths", "collect", "merge"]


def collect(paths: Iterable[Path | str], exclude: Iterable[Path | str] = ()) -> Found:
    """The files under ``paths`` (read or skipped with why); ``exclude``: what this run writes.
    Raises `CollectionError` naming a path that does not exist, as it was typed."""
    paths = list(paths)
    try:
        return find(paths, exclude=exclude, must_exist=True)
    except (FileNotFoundError, NotADirectoryError) as exc:
        named = next((p for p in paths if Path(p) == Path(exc.filename)), exc.filename)
        raise CollectionError(f"找不到文件或目录：{named}") from None


def merge(
    paths: Iterable[Path | str] | Found,
    *,
    roster: Sequence[Unit] | None = None,
    region: str = "",
    year: int | None = None,
    prefer: Prefer = "strict",
    jobs: int | None = None,
    previous: Path | str | None = None,
    forms: Sequence[Form] | None = None,
    exclude: Iterable[Path | str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Summary:
    """Read, check and merge the returns under ``paths`` (files or directories, or what
`collect` found).

    ``year``: the cycle's year (default: that of most files); ``previous``: last year's
    summary, validated (raises `previous.PreviousError`).  Raises `CollectionError` only
    when the batch as a whole cannot be merged.
    """
    found = paths if isinstance(paths, Found) else collect(paths, exclude)
    entries = read_entries(found.files, jobs=jobs, forms=forms, progress=progress)
    form, cycle_year = cycle_of(entries, year=year, forms=forms)
    last = None
    if previous is not None:
        last = Previous.load(previous, year=cycle_year, region=region, merging=True, forms=forms)
    collection = Collection(form, cycle_year, region=region, roster=roster, previous=last,
                            prefer=prefer, forms=forms)
    for entry in entries:
        collection.add_entry(entry)
    return replace(collection.summary(), skipped=[(str(f), why) for f, why in found.skipped])


@dataclass
class Checked:
    """`check`'s outcome: each file as read in a worker, the form it was read against, and its
    entry as its cycle judged it."""

    probed: list[Probed]
    read_as: list[Form | None]  # the form each file was read against (None: not read)
    entries: list[Entry]  # judged: the report to show is ``entries[i].report``
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # said once about the whole batch
    cycles: list[tuple[Form, int]] = field(default_factory=list)  # the forms and years judged by

    @property
    def valid(self) -> bool:
        return all(e.report.valid for e in self.entries)


def check_paths(
    paths: Iterable[Path | str],
    *,
    year: int | None = None,
    roster: Sequence[Unit] | None = None,
    previous: Path | str | None = None,
    forms: Sequence[Form] | None = None,
    exclude: Iterable[Path | str] = (),
) -> Checked:
    """Check the returns under ``paths`` with the decisions `merge` makes about each file.

    With ``year``, one cycle: files of another year or form are flagged as merge flags
    them.  Without, the files of each form are one cycle, of the year of most of them
    (a return from last year's template is flagged; returns of several forms checked
    together are not); when a form's years tie, its files are checked each on its own
    and a notice says so.  Raises `previous.PreviousError` for an unusable ``previous``."""
    found = find(paths, exclude=exclude)
    probed = probe_files(found.files, forms=forms)
    read_as = [p.form_in(forms) for p in probed]
    entries = [p.entry for p in probed]
    notices: list[str] = []
    groups: dict[str, list[Entry]] = {"": entries} if year is not None else {}
    if year is None:
        for e in entries:
            if e.form:
                groups.setdefault(e.form, []).append(e)
    cycles: dict[str, tuple[Form, int]] = {}
    for form_id, group in groups.items():
        try:
            cycles[form_id] = cycle_of(group, year=year, forms=forms)
        except CollectionError as exc:
            notices.append(f"{exc} 未按年度核对这些文件。")
    last = None
    if previous is not None:
        single = next(iter(cycles.values())) if len(cycles) == 1 else None
        last = Previous.load(previous, year=single[1] if single else None, forms=forms)
        notices += [r for r in dict.fromkeys(last.unused_reason(f) for f, _ in cycles.values()) if r]
    collections = {k: Collection(f, y, roster=roster, previous=last, forms=forms) for k, (f, y) in cycles.items()}
    judged = []
    for form, entry in zip(read_as, entries, strict=True):
        collection = collections.get("" if year is not None else entry.form)
        if collection is not None:
            judged.append(collection.add_entry(entry))
        elif last is not None:
            judged.append(_compared(last, form, entry))
        else:
            judged.append(entry)
    return Checked(probed, read_as, judged, found.skipped, notices, list(cycles.values()))


def _compared(last: Previous, form: Form | None, entry: Entry) -> Entry:
    """Last year's checks on a file checked on its own (no cycle to judge it in)."""
    if form is None:
        return entry
    found, why = last.compare_entry(form, entry)
    return entry.with_findings(found, notices=entry.notices + ((why,) if why else ()))
