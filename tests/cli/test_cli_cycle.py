"""`check` and `merge` make the same decision about a file: last year's template, a
neighbour's template, --year; last year's file validated; nothing skipped in silence."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from merge_books import district, valid_inputs, write_return
from xxgk.cli.main import main
from xxgk.cycle.batch import merge
from xxgk.forms.builtin import builtin
from xxgk.report.summary.workbook import write_summary
from xxgk.write.names import file_name

FORM = builtin("gk2018")
UNITS = [(f"64050200{i}", f"测试单位{i}") for i in range(1, 5)]


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def codes(doc: dict, name: str) -> list[str]:  # type: ignore[type-arg]
    (ret,) = [r for r in doc["returns"] if Path(r["file"]).name == name]
    return [i["code"] for i in ret["issues"]]


def test_last_years_template_is_flagged_by_check_as_by_merge(tmp_path: Path) -> None:
    district(tmp_path / "in", FORM, UNITS[:2])
    write_return(tmp_path / "in" / "old.xlsx", FORM, valid_inputs(FORM, 9), code=UNITS[2][0], name=UNITS[2][1],
                 year=2017)
    checked = run("check", tmp_path / "in", "--format", "json")
    assert checked.exit_code == 1
    assert codes(json.loads(checked.output), "old.xlsx") == ["file.wrong_year"]
    merged = run("merge", tmp_path / "in", "-o", tmp_path / "s.xlsx", "--format", "json")
    assert codes(json.loads(merged.output), "old.xlsx") == ["file.wrong_year"]
    # one file alone is its own cycle, unless --year says otherwise
    assert run("check", tmp_path / "in" / "old.xlsx").exit_code == 0
    alone = run("check", tmp_path / "in" / "old.xlsx", "--year", "2018", "--format", "json")
    assert alone.exit_code == 1 and codes(json.loads(alone.output), "old.xlsx") == ["file.wrong_year"]
    assert run("merge", tmp_path / "in" / "old.xlsx", "--year", "2018", "-o", tmp_path / "t.xlsx").exit_code == 1


def test_a_neighbours_template_gets_the_same_warning_in_check_and_merge(tmp_path: Path) -> None:
    (a_code, a_name), (b_code, b_name) = UNITS[:2]
    folder = tmp_path / "in"
    write_return(folder / file_name(a_code, a_name, 2018, FORM), FORM, valid_inputs(FORM, 1),
                 code=a_code, name=a_name, date="2019-01-05")
    # 测试单位2 filled 测试单位1's template by mistake and named the file for itself, later
    neighbour = folder / file_name(b_code, b_name, 2018, FORM)
    write_return(neighbour, FORM, valid_inputs(FORM, 2), code=a_code, name=a_name, date="2019-01-20")
    checked = run("check", folder, "--format", "json")
    assert checked.exit_code == 1
    doc = json.loads(checked.output)
    assert codes(doc, neighbour.name) == ["file.other_unit"]
    (message,) = [i["message"] for r in doc["returns"] for i in r["issues"]]
    assert b_name in message and a_name in message
    for prefer in ("strict", "latest"):
        merged = run("merge", folder, "-o", tmp_path / f"{prefer}.xlsx", "--format", "json", "--prefer", prefer)
        doc = json.loads(merged.output)
        assert codes(doc, neighbour.name) == ["file.other_unit"]
        units = [(u["name"], u["status"], [Path(f).name for f in u["files"]]) for u in doc["units"]]
        # the unit's own return counts; the neighbour's file never replaces it
        assert units == [(a_name, "valid", [file_name(a_code, a_name, 2018, FORM)]),
                         (a_name, "invalid", [neighbour.name])]


def test_merge_previous_is_validated(tmp_path: Path) -> None:
    district(tmp_path / "2018", FORM, UNITS[:2])
    this_year = write_summary(merge([tmp_path / "2018"], region="甲区", jobs=1), tmp_path / "2018.xlsx")
    district(tmp_path / "2017", FORM, UNITS[:2], year=2017)
    other_region = write_summary(merge([tmp_path / "2017"], region="乙区", jobs=1), tmp_path / "乙区2017.xlsx")
    single = next((tmp_path / "2017").iterdir())
    csv = tmp_path / "2017.csv"
    csv.write_text("代码,名称\n", encoding="utf-8")
    cases = [
        (this_year, "是2018年度的汇总表，与本次相同，应为2017年度的汇总表"),
        (other_region, "是乙区的汇总表，而本次汇总的是甲区"),
        (single, "是单位报表"),
        (csv, "不是电子表格（.csv）"),
    ]
    for previous, said in cases:
        result = run("merge", tmp_path / "2018", "--region", "甲区", "-o", tmp_path / "s.xlsx", "--previous", previous)
        assert result.exit_code == 2, result.output
        assert said in result.output and "Traceback" not in result.output


def test_a_form_without_year_over_year_rules_says_so(tmp_path: Path) -> None:
    district(tmp_path / "2018", FORM, UNITS[:2])
    district(tmp_path / "2017", FORM, UNITS[:2], year=2017)
    last = write_summary(merge([tmp_path / "2017"], region="甲区", jobs=1), tmp_path / "2017.xlsx")
    merged = run("merge", tmp_path / "2018", "--region", "甲区", "-o", tmp_path / "s.xlsx", "--previous", last)
    assert "没有与上年比对的规则" in merged.output
    checked = run("check", tmp_path / "2018", "--previous", last)
    assert "没有与上年比对的规则" in checked.output


def test_every_file_found_is_read_or_listed_with_why(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    district(folder, FORM, UNITS[:2])
    for name in ("附件.zip", "报告.doc", "报告.pdf", "~$测试单位1.xlsx", ".hidden.xlsx", "说明.txt"):
        (folder / name).write_bytes(b"x")
    (folder / "wps.et").write_bytes(b"not really a spreadsheet")
    result = run("merge", folder, "--roster", roster_file(tmp_path, UNITS[:2]), "-o", tmp_path / "s.xlsx",
                 "--region", "区")
    out = result.output
    for name, why in [("附件.zip", "压缩包"), ("报告.doc", "旧版Word文档"),
                      ("~$测试单位1.xlsx", "Office锁定文件"), (".hidden.xlsx", "隐藏文件"), ("说明.txt", "不是电子表格")]:
        assert any(name in line and why in line for line in out.splitlines()), (name, out)
    # tried as the spreadsheet it claims to be, and said why it failed
    assert any("wps.et" in line for line in out.splitlines())
    assert "已按WPS表格（.et）尝试读取" in out
    assert "共读取4个文件" in out and "另有5个文件未读取" in out


def roster_file(tmp_path: Path, units: list[tuple[str, str]]) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("代码,名称\n" + "".join(f"{c},{n}\n" for c, n in units), encoding="utf-8")
    return path


def test_an_incomplete_summary_never_passes_silently_one_level_up(tmp_path: Path) -> None:
    units = [(f"6405{i:05d}", f"单位{i}") for i in range(29)]
    district(tmp_path / "甲区", FORM, units[:6])
    roster = roster_file(tmp_path, units)
    assert run("merge", tmp_path / "甲区", "--roster", roster, "--region", "甲区", "-o", tmp_path / "甲区.xlsx").exit_code == 1
    district(tmp_path / "乙区", FORM, [("7", "乙单位")])
    # written without --region: still rolls up, known by its file name, and says so
    no_region = run("merge", tmp_path / "乙区", "-o", tmp_path / "乙区汇总.xlsx")
    assert no_region.exit_code == 0 and "未指定汇总地区" in no_region.output
    checked = run("check", tmp_path / "甲区.xlsx")
    assert checked.exit_code == 1 and "该汇总表不完整（29个单位中汇总6个）" in checked.output
    city = run("merge", tmp_path / "甲区.xlsx", tmp_path / "乙区汇总.xlsx", "--region", "市", "-o", tmp_path / "市.xlsx",
               "--format", "json")
    doc = json.loads(city.output)
    assert city.exit_code == 1
    seen = {u["name"]: (u["status"], u.get("detail", "")) for u in doc["units"]}
    assert seen.keys() == {"甲区", "乙区汇总"} and seen["乙区汇总"][0] == "valid"
    assert seen["甲区"][0] == "invalid" and "该汇总表不完整（29个单位中汇总6个）" in seen["甲区"][1]


def test_a_refused_return_that_carries_its_unit_code_is_that_units(tmp_path: Path) -> None:
    import openpyxl

    district(tmp_path / "in", FORM, UNITS[:2])
    path = tmp_path / "in" / f"{UNITS[0][0]}.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    ws.insert_rows(10)  # a row with a number and no label inserted into the table: the form cannot be read
    ws.cell(10, 4, 5)
    wb.save(path)
    merged = run("merge", tmp_path / "in", "--roster", roster_file(tmp_path, UNITS[:2]), "-o", tmp_path / "s.xlsx",
                 "--region", "区", "--format", "json")
    units = [(u["name"], u["status"], [Path(f).name for f in u["files"]]) for u in json.loads(merged.output)["units"]]
    assert units == [(UNITS[0][1], "invalid", [path.name]), (UNITS[1][1], "valid", [f"{UNITS[1][0]}.xlsx"])]
    checked = run("check", path)
    assert f"单位名称：{UNITS[0][1]}（{UNITS[0][0]}）" in checked.output and "表中多出的行" in checked.output
