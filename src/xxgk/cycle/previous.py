"""Last year's figures: a summary or a unit's return, validated once, applied to each entry.

`Previous.load` reads the file and refuses, with a `PreviousError` that says what was given
and what is expected, anything that cannot be last year's data for this cycle: a CSV, a
file that cannot be read, a file of the same (or any other than the previous) year, a
single return given to a merge, another region's summary.  Then:

* `compare_entry`: one unit's return against its own row of last year's 分单位明细
  (or against last year's return of the same unit) — the same in `check` and `merge`;
* `compare_summary`: the district totals against last year's, only when the collection
  is complete (otherwise one ``previous.skipped`` finding says why);
* `unused_reason`: why nothing will be compared at all (a form without year-over-year rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from xxgk.check.file import check_file
from xxgk.check.years import compare_years, previous_values
from xxgk.cycle.entries import Entry
from xxgk.forms.findings import Finding, make
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.forms.rules import LAST
from xxgk.read.returns import ReadError
from xxgk.read.summary_figures import unit_figures

__all__ = ["Previous", "PreviousError"]

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


class PreviousError(ValueError):
    """Last year's file cannot be used: the message says what was given and what is expected."""


@dataclass(frozen=True)
class LastYear:
    """Last year's summary as this year's summary shows it: totals on this form's cell keys and,
    when it follows the same form, each unit's own figures (by unit code)."""

    file: str
    totals: dict[str, Decimal]
    units: dict[str, dict[str, Decimal]]


@dataclass(frozen=True)
class Previous:
    path: Path
    form: Form  # the form last year's file follows (maybe another edition)
    kind: str  # "return" | "summary"
    year: int | None
    code: str  # a return's unit code
    name: str  # a return's unit, or a summary's region
    values: Mapping[str, Decimal]
    by_unit: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)  # a summary's units

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        year: int | None = None,
        region: str = "",
        merging: bool = False,
        forms: Sequence[Form] | None = None,
    ) -> Previous:
        """Read and validate last year's file for a cycle of ``year`` (``region`` and
        ``merging``: for a merge, which needs a summary, of the same region)."""
        path = Path(path)
        wanted = f"{year - 1}年度" if year is not None else "上一年度"
        expected = f"应为{wanted}的汇总表" + ("" if merging else "或本单位的报表")
        if path.suffix.lower() not in SPREADSHEETS:
            raise PreviousError(f"上年数据{path.name}不是电子表格（{path.suffix or '无扩展名'}）；{expected}（.xlsx/.xls/.ods）")
        result = check_file(path, forms)
        ret = result.ret
        if ret is None or result.unknown:
            problems = "；".join(f.message for f in result.report.findings if f.severity == "error")
            raise PreviousError(f"上年数据无法使用（{path.name}）：{problems or '没有可比对的数据'}；{expected}")
        ident = ret.identity
        kind = "summary" if ident.kind == "summary" else "return"
        what = f"{ident.year}年度的{'汇总表' if kind == 'summary' else '报表'}" if ident.year else "该文件"
        if year is not None and ident.year is not None and ident.year != year - 1:
            same = "与本次相同，" if ident.year == year else ""
            raise PreviousError(f"上年数据{path.name}是{what}，{same}{expected}")
        if merging and kind == "return":
            who = " ".join(x for x in (ident.agency_code, ident.agency_name) if x)
            raise PreviousError(f"上年数据{path.name}是单位报表（{who}），汇总时{expected}")
        if merging and kind == "summary" and region and ident.region and ident.region != region:
            raise PreviousError(f"上年数据{path.name}是{ident.region}的汇总表，而本次汇总的是{region}；{expected}（{region}）")
        by_unit: dict[str, dict[str, Decimal]] = {}
        if kind == "summary":
            try:
                by_unit = unit_figures(path, ret.form)
            except ReadError as exc:
                raise PreviousError(f"上年数据无法使用（{path.name}）：{exc.detail}") from None
        return cls(
            path=path, form=ret.form, kind=kind, year=ident.year, code=ident.agency_code.strip(),
            name=(ident.agency_name or ident.region).strip(), values=result.values, by_unit=by_unit,
        )

    def last_year(self, form: Form) -> LastYear:
        """These figures for the 本年与上年 sheets of a summary of ``form``: the totals on its
        cells, and each unit's row when last year followed the same form."""
        totals = previous_values(form, self.form, self.values)
        units = {code: dict(row) for code, row in self.by_unit.items()} if self.form.id == form.id else {}
        return LastYear(self.path.name, totals, units)

    def unused_reason(self, form: Form) -> str:
        """Why last year's data will not be compared with returns of ``form`` at all ("" if it will)."""
        if not form.previous_checks:
            return f"表式{form.name}（{form.id}）没有与上年比对的规则，上年数据未作比对"
        return ""

    def compare_entry(self, form: Form, entry: Entry) -> tuple[list[Finding], str]:
        """A unit's return against its own figures of last year: the findings, or why none."""
        if not form.previous_checks or entry.values is None or entry.kind != "return":
            return [], ""
        if self.kind == "summary":
            figures = self.by_unit.get(entry.code)
            if figures is None:
                return [], f"上年汇总表{self.path.name}的分单位明细中没有{entry.label}，未作上年比对"
        else:
            if entry.code and self.code and entry.code != self.code:
                return [], f"上年数据{self.path.name}与{Path(entry.file).name}不是同一单位，未作上年比对"
            figures = self.values
        values = {k: Decimal(v) for k, v in entry.values.items()}
        return compare_years(form, values, self.form, figures, notes=entry.notes), ""

    def carried(self, form: Form, code: str) -> dict[str, Decimal]:
        """What a unit's template may hold from its row of last year's summary, so that typing
        the year's figures does not trip the year-over-year checks: each check's anchor cell
        (上年结转, 现行有效件数 …) set from the one last-year cell it compares with, when
        that makes the check hold with the other cells still blank; empty without the unit."""
        figures = self.by_unit.get(code) if self.kind == "summary" and code else None
        if not figures or not form.previous_checks:
            return {}
        last = previous_values(form, self.form, figures)
        blank = {c.key: Decimal(0) for c in form.inputs}
        out: dict[str, Decimal] = {}
        for check in form.previous_checks:
            before = [k for n, k in check.bind.items() if n.startswith(LAST)]
            anchor = form.cells[check.anchor]
            if len(before) != 1 or before[0] not in last or anchor.kind != "input":
                continue
            trial = {**blank, **form.compute({**blank, **out, check.anchor: last[before[0]]})}
            if check.evaluate(trial, last):
                out[check.anchor] = last[before[0]]
        return out

    def compare_summary(self, form: Form, totals: Mapping[str, Decimal], notes: Mapping[str, str], *,
                        failing: int) -> list[Finding]:
        """A summary's totals against last year's, only when every unit is in (``failing``: the
        register lines keeping it incomplete; else why not)."""
        if not form.previous_checks:
            return [make("previous.skipped", detail=self.unused_reason(form))]
        if failing:
            n = failing
            return [make("previous.skipped", detail=f"本次汇总不完整（{n}个单位未报送或未通过校验），"
                                                  "汇总数待全部单位通过后再与上年比对；各单位已分别与上年比对")]
        found = compare_years(form, totals, self.form, self.values, notes=notes)
        places = layout_of(form, summary=True).places
        return [
            replace(f, sheet=places[f.indicator].sheet, cell=places[f.indicator].a1) if f.indicator in places else f
            for f in found
        ]
