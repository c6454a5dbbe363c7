"""`Collection`: one reporting cycle, one return at a time or a batch; register and summary
computed afresh with no side effects; the same verdicts as `merge` and `check`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from merge_books import add, district, valid_inputs, write_return
from xxgk.cycle.batch import merge
from xxgk.cycle.collection import Collection
from xxgk.cycle.entries import Entry
from xxgk.cycle.pool import read_entries
from xxgk.cycle.roster import Unit
from xxgk.cycle.summary import UnitStatus
from xxgk.cycle.totals import aggregate_checks
from xxgk.forms.builtin import builtin
from xxgk.report.summary.csvout import write_csv
from xxgk.report.summary.workbook import write_summary

FORM = builtin("gk2018")
UNITS = [(f"6405{i:05d}", f"第{i}单位") for i in range(1, 30)]  # 29 units


def roster(units: list[tuple[str, str]] = UNITS) -> list[Unit]:
    return [Unit(code, name) for code, name in units]


def lines(register: list[UnitStatus]) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    return [(u.code, u.name, u.status, tuple(Path(f).name for f in u.files), u.detail) for u in register]


def test_an_empty_collection_is_valid(tmp_path: Path) -> None:
    c = Collection(FORM, 2018, region="测试区", roster=roster(UNITS[:3]))
    assert [(u.name, u.status, u.label) for u in c.register()] == [(n, "missing", "未报送") for _, n in UNITS[:3]]
    summary = c.summary()
    assert summary.blocks == [] and all(v == 0 for v in summary.totals.values())
    assert not summary.complete and summary.entries == []
    write_summary(summary, tmp_path / "empty.xlsx")  # a register with nobody reported yet
    assert Collection(FORM, 2018).summary().complete  # no roster, nothing in: nothing outstanding


def test_29_units_one_at_a_time_equal_the_batch(tmp_path: Path) -> None:
    filed = district(tmp_path / "in", FORM, UNITS)
    bad = dict(valid_inputs(FORM, 99))
    bad["15"] = bad["14"] + 2
    write_return(tmp_path / "in" / "bad.xlsx", FORM, bad, code=UNITS[3][0], name=UNITS[3][1])
    files = sorted((tmp_path / "in").iterdir())
    c = Collection(FORM, 2018, region="测试区", roster=roster())
    for i, path in enumerate(files, 1):
        c.add(path)
        batch = merge(files[:i], roster=roster(), region="测试区", jobs=1)
        assert lines(c.register()) == lines(batch.register)
        assert c.summary().totals == batch.totals
    summary = c.summary()
    assert summary.totals == merge([tmp_path / "in"], roster=roster(), region="测试区", jobs=2).totals
    assert [u.status for u in summary.register].count("conflict") == 1  # 第4单位: two different files
    assert summary.totals == FORM.compute(add(*(f.inputs for f in filed if f.code != UNITS[3][0])))


def test_register_and_summary_have_no_side_effects(tmp_path: Path) -> None:
    write_return(tmp_path / "a.xlsx", FORM, valid_inputs(FORM, 1), code="A", name="甲", year=2018)
    write_return(tmp_path / "b.xlsx", FORM, valid_inputs(FORM, 2), code="B", name="乙", year=2017)
    given = read_entries([tmp_path / "a.xlsx", tmp_path / "b.xlsx"], jobs=1)
    before = [replace(e) for e in given]
    c = Collection(FORM, 2018)
    judged = [c.add_entry(e) for e in given]
    assert given == before  # the entries given are not changed
    assert [f.code for f in judged[1].report.findings] == ["file.wrong_year"] and judged[1].values is None
    first, second = c.summary(), c.summary()
    assert lines(first.register) == lines(second.register) and first.totals == second.totals
    assert [f.code for f in c.entries[1].report.findings] == ["file.wrong_year"]  # not appended twice
    assert given[1].values is not None and given[1].report.findings == []


def test_add_bytes_submitter_replaces_and_exempt(tmp_path: Path) -> None:
    units = UNITS[:3]
    first = write_return(tmp_path / "1.xlsx", FORM, valid_inputs(FORM, 1), code=units[0][0], name=units[0][1])
    second = write_return(tmp_path / "2.xlsx", FORM, valid_inputs(FORM, 2), code=units[0][0], name=units[0][1])
    c = Collection(FORM, 2018, roster=roster(units))
    entry = c.add(first.path.read_bytes(), name="第一次.xlsx", submitter=units[0][0])
    assert isinstance(entry, Entry) and entry.file == "第一次.xlsx" and entry.valid
    c.add(second.path.read_bytes(), name="第二次.xlsx", submitter=units[0][0])
    assert [e.file for e in c.entries] == ["第二次.xlsx"]  # the upload replaced the earlier one
    c.exempt(units[1][0], "本年度未设立")
    assert [(u.status, u.detail) for u in c.register()] == [
        ("valid", ""), ("exempt", "本年度未设立"), ("missing", "")]
    assert c.summary().totals == FORM.compute(dict(second.inputs))
    assert [u.label for u in c.register()][1] == "免报"


def test_a_neighbours_template_is_flagged_and_never_replaces_the_units_own(tmp_path: Path) -> None:
    (a_code, a_name), (b_code, b_name) = UNITS[:2]
    own = write_return(tmp_path / f"{a_code}_{a_name}.xlsx", FORM, valid_inputs(FORM, 1), code=a_code, name=a_name,
                       date="2019-01-10")
    # 第2单位 filled 第1单位's template (its identity) and named the file after itself, later
    write_return(tmp_path / f"{b_name}.xlsx", FORM, valid_inputs(FORM, 2), code=a_code, name=a_name,
                 date="2019-01-20")
    for prefer in ("strict", "latest"):
        summary = merge([tmp_path], roster=roster(UNITS[:2]), prefer=prefer, jobs=1)
        got = [(u.name, u.status, [Path(f).name for f in u.files]) for u in summary.register]
        assert got == [(a_name, "valid", [own.path.name]), (a_name, "invalid", [f"{b_name}.xlsx"]),
                       (b_name, "missing", [])]
        assert summary.totals == FORM.compute(dict(own.inputs))
        (flag,) = [f for e in summary.entries for f in e.report.findings]
        assert flag.code == "file.other_unit" and b_name in flag.message and a_name in flag.message


@pytest.mark.parametrize("year", [2017, 2019])
def test_wrong_year_is_decided_once_for_the_cycle(tmp_path: Path, year: int) -> None:
    write_return(tmp_path / "x.xlsx", FORM, valid_inputs(FORM, 1), code="A", name="甲", year=year)
    c = Collection(FORM, 2018)
    entry = c.add(tmp_path / "x.xlsx")
    assert not entry.valid and [f.code for f in entry.report.findings] == ["file.wrong_year"]
    assert c.summary().blocks == [] and all(v == 0 for v in c.summary().totals.values())


def test_another_form_is_refused_for_the_cycle(tmp_path: Path) -> None:
    g21 = builtin("gk2021")
    write_return(tmp_path / "x.xlsx", g21, valid_inputs(g21, 1), code="A", name="甲", year=2018)
    c = Collection(FORM, 2018)
    entry = c.add(tmp_path / "x.xlsx")
    (wrong,) = entry.report.findings
    assert wrong.code == "file.wrong_form" and wrong.severity == "error" and entry.values is None
    assert "gk2021" in wrong.message and f"{FORM.name}（gk2018）" in wrong.message
    assert c.summary().blocks == [] and all(v == 0 for v in c.summary().totals.values())
    assert [(u.name, u.status) for u in c.register()] == [("甲", "invalid")]


def test_totals_that_break_an_error_rule_are_a_finding() -> None:
    bad = dict(valid_inputs(FORM, 1))
    bad["15"] = bad["14"] + 2  # more pending than received: an error rule
    totals = FORM.compute(bad)
    notes, findings = aggregate_checks(FORM, totals, [])
    (f,) = findings
    assert notes == {} and (f.code, f.severity, f.rule, f.indicator) == ("rule.error", "error", "E_r15_le_r14", "15")
    assert f.message.endswith("（汇总数据）") and f.found == format(totals["15"], "f")
    assert aggregate_checks(FORM, FORM.compute(dict(valid_inputs(FORM, 1))), []) == ({}, [])

def test_writes_what_merge_writes(tmp_path: Path) -> None:
    district(tmp_path / "in", FORM, UNITS[:3])
    c = Collection(FORM, 2018, region="区", roster=roster(UNITS[:4]))
    for path in sorted((tmp_path / "in").iterdir()):
        c.add(path)
    batch = merge([tmp_path / "in"], roster=roster(UNITS[:4]), region="区", jobs=1)
    from xxgk.report.summary.csvout import csv_rows

    assert csv_rows(c.summary()) == csv_rows(batch)
    write_csv(c.summary(), tmp_path / "a.csv")
    write_csv(batch, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_previous_is_validated_and_applied_per_unit(tmp_path: Path) -> None:
    from xxgk.cycle.previous import Previous, PreviousError

    g21 = builtin("gk2021")
    district(tmp_path / "2021", g21, UNITS[:2], year=2021, seed=5)
    last = write_summary(merge([tmp_path / "2021"], region="区", jobs=1), tmp_path / "2021.xlsx")
    with pytest.raises(PreviousError, match="是2021年度的汇总表，与本次相同"):
        Previous.load(last, year=2021, region="区", merging=True)
    with pytest.raises(PreviousError, match="是区的汇总表，而本次汇总的是市"):
        Previous.load(last, year=2022, region="市", merging=True)
    previous = Previous.load(last, year=2022, region="区", merging=True)
    assert set(previous.by_unit) == {c for c, _ in UNITS[:2]}
    district(tmp_path / "2022", g21, UNITS[:3], year=2022, seed=9)
    c = Collection(g21, 2022, region="区", previous=previous)
    entries = [c.add(p) for p in sorted((tmp_path / "2022").iterdir())]
    assert all(any(f.code == "previous.mismatch" for f in e.report.findings) for e in entries[:2])
    assert entries[2].notices and "分单位明细中没有" in entries[2].notices[0]  # a new unit: said, not silent
    assert [f.code for f in c.summary().findings] == ["previous.skipped"]  # not complete: totals not compared


def test_a_summary_is_an_input_one_level_up(tmp_path: Path) -> None:
    district(tmp_path / "甲", FORM, UNITS[:2])
    incomplete = merge([tmp_path / "甲"], roster=roster(UNITS[:5]), region="甲区", jobs=1)
    write_summary(incomplete, tmp_path / "甲区.xlsx")
    district(tmp_path / "乙", FORM, UNITS[5:7])
    write_summary(merge([tmp_path / "乙"], jobs=1), tmp_path / "乙区上报.xlsx")  # no --region
    city = Collection(FORM, 2018, region="市")
    a = city.add(tmp_path / "甲区.xlsx")
    b = city.add(tmp_path / "乙区上报.xlsx")
    assert [f.message for f in a.report.findings] == ["该汇总表不完整（5个单位中汇总2个）。请补齐后重新汇总，或说明原因。"]
    assert b.valid and b.name == "乙区上报" and b.units == tuple(UNITS[5:7])
    assert [(u.name, u.status) for u in city.register()] == [("甲区", "invalid"), ("乙区上报", "valid")]


def test_every_file_found_is_read_or_skipped_with_a_reason(tmp_path: Path) -> None:
    from xxgk.cycle.discover import SKIPPED, find

    for name in ("a.xlsx", "b.et", "c.zip", "d.docx", "d.doc", "e.pdf", "~$a.xlsx", ".f.xlsx", ".git/g.xlsx",
                 "h.txt", "out/s.xlsx"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = find([tmp_path], exclude=[tmp_path / "out"])
    assert [p.name for p in found.files] == ["a.xlsx", "b.et", "d.docx", "e.pdf"]  # the annual report is read
    reasons = {p.name: why for p, why in found.skipped}
    assert reasons["c.zip"] == SKIPPED[".zip"] and reasons["d.doc"] == SKIPPED[".doc"]
    assert ".pdf" not in SKIPPED and "锁定文件" in reasons["~$a.xlsx"]
    assert reasons[".f.xlsx"] == reasons["g.xlsx"] == "隐藏文件" and "不是电子表格" in reasons["h.txt"]
    assert reasons["s.xlsx"] == "本次要写入的输出文件"
    assert len(found.files) + len(found.skipped) == 11  # nothing in silence


def test_a_report_naming_no_unit_is_the_submitters_when_handed_in_by_one(tmp_path: Path) -> None:
    from retyped import WRITERS, sound_values, tables

    form = builtin("gk2021")
    path = WRITERS["docx"](tables(form, sound_values(form)), "", tmp_path / "r.docx")
    c = Collection(form, 2021, roster=roster(UNITS[:1]))
    alone = c.add(path)
    assert [f.code for f in alone.report.findings] == ["file.no_unit"] and not alone.valid
    handed_in = c.add(path.read_bytes(), name="报告.docx", submitter=UNITS[0][0])
    assert handed_in.report.findings == [] and handed_in.valid


def test_carried_figures_keep_the_year_over_year_checks_quiet() -> None:
    """A template pre-filled with `Previous.carried` (上年结转, 现行有效件数 from the unit's row of
    last year's summary) passes the year-over-year checks when the year brought no change."""
    from decimal import Decimal

    from xxgk.check.years import compare_years, previous_values
    from xxgk.cycle.previous import Previous
    from xxgk.forms.builtin import for_year

    root = Path(__file__).resolve().parents[2]
    previous = Previous.load(root / "samples" / "previous" / "沙坡头区2024年汇总.xlsx", year=2025, region="沙坡头区",
                             merging=True)
    form = for_year(2025)
    code = next(iter(previous.by_unit))
    carried = previous.carried(form, code)
    assert {c.anchor for c in form.previous_checks if form.cells[c.anchor].kind == "input"} <= set(carried)
    blank = {c.key: Decimal(0) for c in form.inputs}
    values = {**blank, **form.compute({**blank, **carried})}
    assert compare_years(form, values, previous.form, previous.by_unit[code]) == []
    typed = {**blank, **form.compute(blank)}  # the same figures left blank: the checks speak
    assert compare_years(form, typed, previous.form, previous.by_unit[code])
    assert previous_values(form, previous.form, previous.by_unit[code])  # the unit's row was read
    assert previous.carried(form, "no-such-unit") == {}


def test_what_this_run_writes_is_skipped_however_it_is_reached(tmp_path: Path) -> None:
    """An output named through a link, a folder beside it with a longer name, a link to it:
    the output and only the output is skipped (each folder resolved once, not each file)."""
    from xxgk.cycle.discover import OUTPUT, find

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(b"x")
    (tmp_path / "in" / "s.xlsx").write_bytes(b"x")
    (tmp_path / "in" / "link.xlsx").symlink_to(tmp_path / "in" / "s.xlsx")
    (tmp_path / "outx").mkdir()
    (tmp_path / "outx" / "b.xlsx").write_bytes(b"x")
    (tmp_path / "via").symlink_to(tmp_path / "in")
    found = find([tmp_path / "via", tmp_path / "outx"], exclude=[tmp_path / "in" / "s.xlsx", tmp_path / "out"])
    assert sorted(p.name for p in found.files) == ["a.xlsx", "b.xlsx"]
    assert sorted((p.name, why) for p, why in found.skipped) == [("link.xlsx", OUTPUT), ("s.xlsx", OUTPUT)]
