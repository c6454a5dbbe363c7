"""merge: totals are exact sums of accepted returns; the status register; duplicates,
conflicts, off-roster units, other forms/years; roll-up of summaries without double counting."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from merge_books import add, district, read_inputs, valid_inputs, write_return
from xxgk.cycle.batch import merge
from xxgk.cycle.collection import CollectionError as MergeError
from xxgk.cycle.entries import parse_date
from xxgk.cycle.roster import Unit
from xxgk.forms.builtin import builtin
from xxgk.report.summary.workbook import write_summary

FORM = builtin("gk2018")
UNITS = [(f"64050200{i}", f"测试单位{i}") for i in range(1, 7)]


def roster(units: list[tuple[str, str]] = UNITS) -> list[Unit]:
    return [Unit(code, name) for code, name in units]


def statuses(summary) -> dict[tuple[str, str], list[str]]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, str], list[str]] = {}
    for line in summary.register:
        out.setdefault((line.name, line.status), []).extend(Path(f).name for f in line.files)
    return out


def test_totals_are_the_exact_sum_of_the_returns(tmp_path: Path) -> None:
    filed = district(tmp_path / "in", FORM, UNITS[:4])
    summary = merge([tmp_path / "in"], roster=roster(UNITS[:4]), region="测试区", jobs=1)
    # independently: the figures written, and the files read back with openpyxl
    expected = FORM.compute(add(*(f.inputs for f in filed)))
    from_files = FORM.compute(add(*(read_inputs(f.path, FORM) for f in filed)))
    assert expected == from_files
    assert summary.totals == expected
    assert all(isinstance(v, Decimal) for v in summary.totals.values())
    assert summary.complete and [u.status for u in summary.register] == ["valid"] * 4
    assert [b.name for b in summary.blocks] == [n for _, n in UNITS[:4]]


def test_amounts_sum_exactly(tmp_path: Path) -> None:
    inputs = [dict(valid_inputs(FORM, 7)), dict(valid_inputs(FORM, 8)), dict(valid_inputs(FORM, 9))]
    cents = [Decimal("0.1"), Decimal("0.2"), Decimal("24252.311082")]
    for figures, amount in zip(inputs, cents, strict=True):
        figures["54"] = Decimal(0)
        figures["61"] = amount
    for i, figures in enumerate(inputs):
        write_return(tmp_path / f"{i}.xlsx", FORM, figures, code=f"A{i}", name=f"单位{i}")
    summary = merge([tmp_path], jobs=1)
    assert summary.totals["61"] == Decimal("24252.611082")  # not 24252.611081999998 as floats give


def test_parallel_and_serial_agree(tmp_path: Path) -> None:
    district(tmp_path, FORM, [(f"P{i:03d}", f"并行单位{i}") for i in range(40)])
    serial = merge([tmp_path], jobs=1)
    parallel = merge([tmp_path], jobs=2)
    assert serial.totals == parallel.totals
    assert [e.file for e in serial.entries] == [e.file for e in parallel.entries]
    assert [u.to_json() for u in serial.register] == [u.to_json() for u in parallel.register]


def test_register_missing_invalid_duplicate_offroster(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    filed = district(folder, FORM, UNITS[:3])
    bad = dict(valid_inputs(FORM, 50))
    bad["3"] = bad["2"] + 1  # 其中 > 总数: an error
    write_return(folder / "bad.xlsx", FORM, bad, code=UNITS[3][0], name=UNITS[3][1])
    (folder / "copy.xlsx").write_bytes(filed[0].path.read_bytes())
    write_return(folder / "stranger.xlsx", FORM, valid_inputs(FORM, 60), code="999", name="外单位")
    summary = merge([folder], roster=roster(), region="测试区", jobs=1)
    got = statuses(summary)
    assert got[(UNITS[0][1], "valid")] in (["copy.xlsx"], [f"{UNITS[0][0]}.xlsx"])
    assert len(got[(UNITS[0][1], "duplicate")]) == 1
    assert got[(UNITS[3][1], "invalid")] == ["bad.xlsx"]
    assert got[(UNITS[4][1], "missing")] == [] and got[(UNITS[5][1], "missing")] == []
    assert got[("外单位", "unexpected")] == ["stranger.xlsx"]
    # only the three valid units are summed: not the invalid, the duplicate or the stranger
    assert summary.totals == FORM.compute(add(*(f.inputs for f in filed)))
    assert not summary.complete and len(summary.failing) == 3
    invalid = next(u for u in summary.register if u.status == "invalid")
    assert "错误1项" in invalid.detail
    data = json.loads(json.dumps(summary.to_json("out.xlsx"), ensure_ascii=False))
    assert {(u["name"], u["status"]) for u in data["units"]} >= {
        (UNITS[0][1], "valid"), (UNITS[0][1], "duplicate"), (UNITS[3][1], "invalid"),
        (UNITS[4][1], "missing"), ("外单位", "unexpected"),
    }
    assert data["output"] == "out.xlsx" and data["summary"]["checked"] == 6
    assert next(u for u in data["units"] if u["status"] == "invalid")["files"][0].endswith("bad.xlsx")


def test_units_match_by_code_then_name(tmp_path: Path) -> None:
    write_return(tmp_path / "a.xlsx", FORM, valid_inputs(FORM, 1), code=UNITS[0][0], name="改过的名称")
    write_return(tmp_path / "b.xlsx", FORM, valid_inputs(FORM, 2), code="", name=f" {UNITS[1][1]} ")
    summary = merge([tmp_path], roster=roster(UNITS[:2]), jobs=1)
    assert [(u.code, u.name, u.status) for u in summary.register] == [
        (*UNITS[0], "valid"), (*UNITS[1], "valid")]


def test_two_different_files_of_a_unit_conflict_unless_latest(tmp_path: Path) -> None:
    code, name = UNITS[0]
    old = write_return(tmp_path / "old.xlsx", FORM, valid_inputs(FORM, 1), code=code, name=name,
                       date="2019-01-10")
    new = write_return(tmp_path / "new.xlsx", FORM, valid_inputs(FORM, 2), code=code, name=name,
                       date="2019年1月25日")
    os.utime(new.path, (1, 1))  # older mtime: 填报日期 decides first
    strict = merge([tmp_path], roster=roster(UNITS[:1]), jobs=1)
    (line,) = strict.register
    assert line.status == "conflict" and sorted(Path(f).name for f in line.files) == ["new.xlsx", "old.xlsx"]
    assert "new.xlsx" in line.detail and "old.xlsx" in line.detail
    assert strict.blocks == [] and strict.totals == FORM.compute({c.key: Decimal(0) for c in FORM.inputs})
    latest = merge([tmp_path], roster=roster(UNITS[:1]), prefer="latest", jobs=1)
    assert [(u.status, Path(u.files[0]).name) for u in latest.register] == [
        ("valid", "new.xlsx"), ("duplicate", "old.xlsx")]
    assert latest.totals == FORM.compute(new.inputs) != FORM.compute(old.inputs)


def test_latest_falls_back_to_mtime(tmp_path: Path) -> None:
    code, name = UNITS[0]
    a = write_return(tmp_path / "a.xlsx", FORM, valid_inputs(FORM, 1), code=code, name=name, date="")
    b = write_return(tmp_path / "b.xlsx", FORM, valid_inputs(FORM, 2), code=code, name=name, date="")
    os.utime(a.path, (2_000_000_000, 2_000_000_000))
    os.utime(b.path, (1_000_000_000, 1_000_000_000))
    summary = merge([tmp_path], prefer="latest", jobs=1)
    assert summary.totals == FORM.compute(a.inputs)


def test_other_year_or_form_is_refused_not_summed(tmp_path: Path) -> None:
    filed = district(tmp_path, FORM, UNITS[:3])
    write_return(tmp_path / "y2017.xlsx", FORM, valid_inputs(FORM, 9), code=UNITS[3][0], name=UNITS[3][1],
                 year=2017)
    summary = merge([tmp_path], roster=roster(UNITS[:4]), jobs=1)
    line = next(u for u in summary.register if u.code == UNITS[3][0])
    assert line.status == "invalid"
    entry = line.entries[0]
    assert [f.code for f in entry.report.findings] == ["file.wrong_year"]
    assert "2017" in entry.report.findings[0].message and "2018" in entry.report.findings[0].message
    assert summary.totals == FORM.compute(add(*(f.inputs for f in filed)))


def test_no_clear_majority_of_years_stops_the_batch(tmp_path: Path) -> None:
    write_return(tmp_path / "a.xlsx", FORM, valid_inputs(FORM, 1), code="A", name="甲", year=2017)
    write_return(tmp_path / "b.xlsx", FORM, valid_inputs(FORM, 2), code="B", name="乙", year=2018)
    with pytest.raises(MergeError, match="2017年度 1份"):
        merge([tmp_path], jobs=1)


def test_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    filed = district(tmp_path, FORM, UNITS[:2])
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "~$lock.xlsx").write_bytes(b"owner")  # an Office lock file is not a return
    summary = merge([tmp_path], roster=roster(UNITS[:2]), jobs=1)
    assert summary.totals == FORM.compute(add(*(f.inputs for f in filed)))
    (line,) = [u for u in summary.register if u.status == "invalid"]
    assert line.name == "（无法识别）" and line.files[0].endswith("broken.xlsx")
    assert len(summary.entries) == 3


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"nothing")
    with pytest.raises(MergeError, match="没有可以读取"):
        merge([tmp_path], jobs=1)
    with pytest.raises(MergeError, match="找不到"):
        merge([tmp_path / "nowhere"], jobs=1)


def test_parse_date() -> None:
    assert str(parse_date("2019-01-20")) == "2019-01-20"
    assert str(parse_date("2019年1月5日")) == "2019-01-05"
    assert str(parse_date("2019/1/5")) == "2019-01-05"
    assert str(parse_date("20190105")) == "2019-01-05"
    assert str(parse_date("43485")) == "2019-01-20"
    assert parse_date("") is None and parse_date("一月") is None and parse_date("2019-13-40") is None


# ---------------------------------------------------------------- roll-up


DISTRICTS = {
    "甲区": [(f"11{i}", f"甲区单位{i}") for i in range(3)],
    "乙区": [(f"22{i}", f"乙区单位{i}") for i in range(4)],
    "丙区": [(f"33{i}", f"丙区单位{i}") for i in range(2)],
}


def districts(tmp_path: Path) -> tuple[dict[str, Path], Path]:
    """Returns in one folder per district, a summary per district; (summaries, all returns)."""
    out = {}
    seed = 0
    for region, units in DISTRICTS.items():
        district(tmp_path / "returns" / region, FORM, units, seed=seed)
        seed += 100
        summary = merge([tmp_path / "returns" / region], roster=roster(units), region=region, jobs=1)
        assert summary.complete
        out[region] = write_summary(summary, tmp_path / "summaries" / f"{region}.xlsx")
    return out, tmp_path / "returns"


def test_rollup_of_district_summaries_equals_the_direct_merge(tmp_path: Path) -> None:
    summaries, returns = districts(tmp_path)
    direct = merge([returns], region="市", jobs=1)
    city = merge(list(summaries.values()), region="市", jobs=2)
    assert city.totals == direct.totals
    assert sorted((u.name, u.status) for u in city.register) == sorted((r, "valid") for r in DISTRICTS)
    assert sorted(city.units) == sorted(u for units in DISTRICTS.values() for u in units)
    # one level further up: a province merging the city summary sees every unit
    write_summary(city, tmp_path / "city.xlsx")
    province = merge([tmp_path / "city.xlsx"], region="省", jobs=1)
    assert province.totals == direct.totals and sorted(province.units) == sorted(city.units)


def test_rollup_against_a_roster_of_districts(tmp_path: Path) -> None:
    summaries, _ = districts(tmp_path)
    city_roster = [Unit("", r) for r in DISTRICTS] + [Unit("900", "丁区")]
    city = merge([summaries["甲区"], summaries["乙区"]], roster=city_roster, region="市", jobs=1)
    assert [(u.name, u.status) for u in city.register] == [
        ("甲区", "valid"), ("乙区", "valid"), ("丙区", "missing"), ("丁区", "missing")]


def test_rollup_against_a_roster_of_units(tmp_path: Path) -> None:
    summaries, _ = districts(tmp_path)
    everyone = [Unit(c, n) for units in DISTRICTS.values() for c, n in units]
    city = merge([summaries["甲区"], summaries["丙区"]], roster=everyone, region="市", jobs=1)
    got = {u.name: u.status for u in city.register if u.on_roster}
    assert {n for n, s in got.items() if s == "valid"} == {n for c, n in DISTRICTS["甲区"] + DISTRICTS["丙区"]}
    assert {n for n, s in got.items() if s == "missing"} == {n for c, n in DISTRICTS["乙区"]}


def test_a_unit_in_two_summaries_is_refused(tmp_path: Path) -> None:
    summaries, returns = districts(tmp_path)
    # 乙区 wrongly includes 甲区单位0 too
    units = DISTRICTS["乙区"] + [DISTRICTS["甲区"][0]]
    again = merge([returns / "乙区", returns / "甲区" / f"{DISTRICTS['甲区'][0][0]}.xlsx"], roster=roster(units),
                  region="乙区", jobs=1)
    write_summary(again, summaries["乙区"], overwrite=True)
    city = merge(list(summaries.values()), region="市", jobs=1)
    got = {u.name: u for u in city.register}
    assert got["甲区"].status == got["乙区"].status == "conflict"
    for line in (got["甲区"], got["乙区"]):
        assert "甲区单位0" in line.detail and "甲区.xlsx" in line.detail and "乙区.xlsx" in line.detail
    assert got["丙区"].status == "valid"
    丙 = merge([returns / "丙区"], jobs=1)
    assert city.totals == 丙.totals


def test_a_unit_directly_and_in_a_summary_is_refused(tmp_path: Path) -> None:
    summaries, returns = districts(tmp_path)
    code, name = DISTRICTS["甲区"][1]
    direct = returns / "甲区" / f"{code}.xlsx"
    city = merge([summaries["甲区"], summaries["丙区"], direct], region="市", jobs=1)
    got = {u.name: u for u in city.register}
    assert got["甲区"].status == "conflict" and got[name].status == "conflict"
    assert f"{code}.xlsx" in got[name].detail and "甲区.xlsx" in got[name].detail
    assert city.totals == merge([returns / "丙区"], jobs=1).totals


def test_off_roster_conflict_is_just_unexpected(tmp_path: Path) -> None:
    district(tmp_path, FORM, UNITS[:1])
    write_return(tmp_path / "x1.xlsx", FORM, valid_inputs(FORM, 1), code="99", name="外单位")
    write_return(tmp_path / "x2.xlsx", FORM, valid_inputs(FORM, 2), code="99", name="外单位")
    summary = merge([tmp_path], roster=roster(UNITS[:1]), jobs=1)
    assert [(u.name, u.status, len(u.files)) for u in summary.register] == [
        (UNITS[0][1], "valid", 1), ("外单位", "unexpected", 2)]
    assert summary.complete


def test_a_failed_direct_file_of_a_unit_inside_a_summary(tmp_path: Path) -> None:
    """Counted once, inside the summary; its own failed file is listed, not a conflict."""
    summaries, returns = districts(tmp_path)
    code, name = DISTRICTS["甲区"][0]
    bad = dict(valid_inputs(FORM, 5))
    bad["15"] = bad["14"] + 1
    write_return(tmp_path / "direct" / "bad.xlsx", FORM, bad, code=code, name=name)
    everyone = [Unit(c, n) for units in DISTRICTS.values() for c, n in units]
    city = merge([*summaries.values(), tmp_path / "direct"], roster=everyone, region="市", jobs=1)
    lines = [(u.status, [Path(f).name for f in u.files]) for u in city.register if u.name == name]
    assert lines == [("valid", ["甲区.xlsx"]), ("duplicate", ["bad.xlsx"])]
    assert city.complete and city.totals == merge([returns], jobs=1).totals


@pytest.mark.parametrize("missing", ["./nope/", "{file}/inside"])
def test_a_path_that_does_not_exist_is_named_as_typed(tmp_path: Path, missing: str) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"")
    typed = missing.format(file=tmp_path / "a.xlsx")
    with pytest.raises(MergeError) as info:
        merge([typed])
    assert str(info.value) == f"找不到文件或目录：{typed}"
