"""What the site's worker processes make (`xxgk.cycle.worker`): the files a page offers for
download, each made outside the server process within the workers' time and memory limits
(the writers publish a file whole: a worker killed half-way leaves no half-written file under
the final name)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from xxgk.cycle.collection import Collection
from xxgk.cycle.entries import Entry
from xxgk.cycle.previous import Previous
from xxgk.cycle.roster import Unit
from xxgk.cycle.stored import report_from_json
from xxgk.forms.builtin import form_by_id

__all__ = ["Made", "make_annotated", "make_summary"]


def make_annotated(source: str, report_text: str, out_dir: str, name: str = "") -> str:
    """The marked copy of ``source`` with the findings of ``report_text``, in ``out_dir`` (named
    after ``name``, the file's name as its sender knows it)."""
    from xxgk.read.open import read
    from xxgk.report.annotate import annotate

    report = report_from_json(report_text)
    return str(annotate(read(Path(source)), report.findings, Path(out_dir), overwrite=True, name=name))


def make_summary(made_of: Made, kind: str, target: str) -> str:
    """The summary workbook (``xlsx``) or CSV (``csv``) of the collection ``made_of`` describes, as
    `xxgk merge` writes them (both written atomically)."""
    from xxgk.report.summary.csvout import write_csv
    from xxgk.report.summary.workbook import write_summary

    summary = made_of.collection().summary()
    if kind == "csv":
        return str(write_csv(summary, target, overwrite=True))
    return str(write_summary(summary, target, overwrite=True))


@dataclass(frozen=True)
class Made:
    """A collection as plain data (forms hold compiled rules and do not travel between processes):
    the form by id, the roster, the 免报 marks, last year's file and each unit's entry as read."""

    form: str
    year: int
    region: str
    roster: tuple[Unit, ...]
    exempt: tuple[tuple[str, str], ...]
    previous: tuple[str, str] | None  # last year's file as kept, and the name it is shown by
    entries: tuple[tuple[Entry, str], ...]  # (entry as read, submitter)

    def collection(self) -> Collection:
        form = form_by_id(self.form)
        last = None
        if self.previous is not None:
            kept, shown = self.previous
            last = Previous.load(kept, year=self.year, region=self.region, merging=True)
            last = replace(last, path=last.path.with_name(shown))
        collection = Collection(form, self.year, region=self.region, roster=self.roster, previous=last)
        for code, reason in self.exempt:
            collection.exempt(code, reason)
        for entry, submitter in self.entries:
            collection.add_entry(entry, submitter=submitter)
        return collection
