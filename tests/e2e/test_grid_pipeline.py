"""The grid forms through the whole cycle, as gk2018 goes: annotate, roll-up, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from books import fill_template
from merge_books import district, valid_inputs
from xxgk.check.file import check_file
from xxgk.cycle.batch import merge
from xxgk.forms.builtin import builtin
from xxgk.forms.model import Form
from xxgk.report.annotate import annotate
from xxgk.report.summary.csvout import write_csv
from xxgk.report.summary.workbook import write_summary

GRIDS = [builtin("gk2021"), builtin("gk2019")]


@pytest.mark.parametrize("form", GRIDS, ids=lambda f: f.id)
def test_annotated_grid_return_reads_back_with_the_same_findings(tmp_path: Path, form: Form) -> None:
    inputs = valid_inputs(form, 11)
    inputs["t3.1.2"] += 3  # 商业企业 breaks 一 + 二 = （七）总计 + 四
    year = 2025 if form.id == "gk2021" else 2020
    path = fill_template(tmp_path / "r.xlsx", form, form.compute(inputs), year=year)
    result = check_file(path)
    assert result.ret is not None and not result.valid
    copy = annotate(result.ret, result.report.findings, tmp_path / "out")
    again = check_file(copy)
    assert [(f.code, f.rule, f.cell) for f in again.report.findings] == [
        (f.code, f.rule, f.cell) for f in result.report.findings
    ]
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == "校验结果"
    flagged = [f for f in result.report.findings if f.rule == "E_t3_balance.2"][0]
    assert book[flagged.sheet][flagged.cell].comment is not None


@pytest.mark.parametrize("form", GRIDS, ids=lambda f: f.id)
def test_grid_rollup_equals_direct_merge_and_csv_is_long(tmp_path: Path, form: Form) -> None:
    year = 2025 if form.id == "gk2021" else 2020
    regions = {"甲区": [("101", "甲1"), ("102", "甲2")], "乙区": [("201", "乙1"), ("202", "乙2"), ("203", "乙3")]}
    summaries = []
    for i, (region, units) in enumerate(regions.items()):
        district(tmp_path / "returns" / region, form, units, seed=10 * i, year=year)
        s = merge([tmp_path / "returns" / region], region=region, jobs=1)
        assert s.complete and s.form.id == form.id
        summaries.append(write_summary(s, tmp_path / f"{region}.xlsx"))
    direct = merge([tmp_path / "returns"], region="市", jobs=2)
    city = merge(summaries, region="市", jobs=1)
    assert city.totals == direct.totals and len(direct.blocks) == 5
    out = write_csv(direct, tmp_path / "long.csv")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + 5 * len([c for c in form.cells.values() if c.kind != "header"])
