"""`xxgk merge`: exit codes, text and JSON output, --csv, --force, --prefer, bad usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from merge_books import add, district, valid_inputs, write_return
from xxgk.check.file import check_file
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin

FORM = builtin("gk2018")
UNITS = [(f"64050200{i}", f"测试单位{i}") for i in range(1, 5)]


def write_roster(path: Path, units: list[tuple[str, str]]) -> Path:
    lines = ["代码,名称", *(f"{c},{n}" for c, n in units)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["merge", *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_complete_batch_exits_0(tmp_path: Path) -> None:
    filed = district(tmp_path / "in", FORM, UNITS)
    roster = write_roster(tmp_path / "roster.csv", UNITS)
    out = tmp_path / "汇总.xlsx"
    code, stdout, _ = run(tmp_path / "in", "-o", out, "--roster", roster, "--region", "测试区", "--jobs", "2")
    assert code == 0, stdout
    assert f"汇总表已生成：{out}" in stdout and "结论：完整" in stdout
    assert check_file(out).values == FORM.compute(add(*(f.inputs for f in filed)))


def test_missing_invalid_and_offroster_exit_1_and_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    district(folder, FORM, UNITS[:2])
    bad = dict(valid_inputs(FORM, 30))
    bad["17"] = bad["16"] + 3
    write_return(folder / "bad.xlsx", FORM, bad, code=UNITS[2][0], name=UNITS[2][1])
    write_return(folder / "x.xlsx", FORM, valid_inputs(FORM, 31), code="99", name="外单位")
    roster = write_roster(tmp_path / "roster.csv", UNITS)
    out = tmp_path / "s.xlsx"
    code, stdout, _ = run(folder, "-o", out, "--roster", roster, "--region", "测试区")
    assert code == 1 and out.is_file()  # the summary is still written
    assert "不完整：2个单位未报送或未通过校验" in stdout
    missing = stdout.split("未报送（1）：")[1]
    assert missing.splitlines()[1].strip() == f"{UNITS[3][0]} {UNITS[3][1]}"
    assert f"未通过校验（1）：\n  {UNITS[2][0]} {UNITS[2][1]} — bad.xlsx：错误1项" in stdout
    assert "第17行" in stdout  # the finding, ready to forward
    assert "名单外单位（1）：\n  99 外单位 — x.xlsx" in stdout


def test_json_document(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    filed = district(folder, FORM, UNITS[:2])
    (folder / "dup.xlsx").write_bytes(filed[0].path.read_bytes())
    roster = write_roster(tmp_path / "roster.csv", UNITS[:3])
    out = tmp_path / "s.xlsx"
    code, stdout, _ = run(folder, "-o", out, "--roster", roster, "--format", "json")
    assert code == 1
    doc = json.loads(stdout)
    assert doc["output"] == str(out)
    assert doc["summary"] == {"checked": 3, "valid": 3, "errors": 0, "warnings": 0}
    assert {r["file"] for r in doc["returns"]} == {str(folder / n) for n in ("dup.xlsx", f"{UNITS[0][0]}.xlsx",
                                                                           f"{UNITS[1][0]}.xlsx")}
    units = [(u["code"], u["status"], len(u["files"])) for u in doc["units"]]
    assert units == [(UNITS[0][0], "valid", 1), (UNITS[0][0], "duplicate", 1), (UNITS[1][0], "valid", 1),
                     (UNITS[2][0], "missing", 0)]
    assert all(set(u) >= {"code", "name", "status", "files"} for u in doc["units"])


def test_conflict_and_prefer_latest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    code_, name = UNITS[0]
    write_return(folder / "a.xlsx", FORM, valid_inputs(FORM, 1), code=code_, name=name, date="2019-01-05")
    newer = write_return(folder / "b.xlsx", FORM, valid_inputs(FORM, 2), code=code_, name=name,
                         date="2019-01-25")
    code, stdout, _ = run(folder, "-o", tmp_path / "s.xlsx", "--format", "json")
    assert code == 1
    (unit,) = json.loads(stdout)["units"]
    assert unit["status"] == "conflict" and len(unit["files"]) == 2
    code, stdout, _ = run(folder, "-o", tmp_path / "s.xlsx", "--prefer", "latest", "--force")
    assert code == 0 and "重复报送（1）：" in stdout and "a.xlsx" in stdout
    assert check_file(tmp_path / "s.xlsx").values == FORM.compute(newer.inputs)


def test_csv_and_force(tmp_path: Path) -> None:
    district(tmp_path / "in", FORM, UNITS[:2])
    out, long = tmp_path / "s.xlsx", tmp_path / "long.csv"
    code, stdout, _ = run(tmp_path / "in", "-o", out, "--csv", long)
    assert code == 0 and long.read_bytes().startswith(b"\xef\xbb\xbf") and "明细CSV已生成" in stdout
    assert len(long.read_text(encoding="utf-8-sig").splitlines()) == 1 + 2 * sum(
        c.kind != "header" for c in FORM.cells.values())
    before = out.stat().st_mtime_ns
    code, _, stderr = run(tmp_path / "in", "-o", out)
    assert code == 2 and "--force" in stderr and out.stat().st_mtime_ns == before
    code, _, _ = run(tmp_path / "in", "-o", out, "--csv", long, "--force")
    assert code == 0


def test_the_output_inside_an_input_folder_is_not_an_input(tmp_path: Path) -> None:
    district(tmp_path, FORM, UNITS[:2])
    out = tmp_path / "汇总.xlsx"
    assert run(tmp_path, "-o", out)[0] == 0
    code, stdout, _ = run(tmp_path, "-o", out, "--force")
    assert code == 0 and "共读取2个文件" in stdout


@pytest.mark.parametrize("args, message", [
    (["-o", "s.xlsx"], "Missing argument"),
    (["IN"], "Missing option '-o'"),
    (["IN", "-o", "s.xlsx", "--prefer", "newest"], "Invalid value for '--prefer'"),
    (["IN", "-o", "s.xlsx", "--jobs", "0"], "Invalid value for '--jobs'"),
    (["nowhere", "-o", "s.xlsx"], "does not exist"),
    (["IN", "-o", "s.xlsx", "--roster", "nowhere.csv"], "does not exist"),
    (["EMPTY", "-o", "s.xlsx"], "没有找到报表文件"),
    (["IN", "-o", "s.xlsx", "--roster", "BADROSTER"], "错误"),
])
def test_bad_usage_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    district(tmp_path / "IN", FORM, UNITS[:1])
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "BADROSTER").write_text("代码\n1\n", encoding="utf-8")
    code, stdout, stderr = run(*args)
    assert code == 2 and message in stderr, stderr
    assert not (tmp_path / "s.xlsx").exists()


def test_mixed_years_without_a_majority_exit_2(tmp_path: Path) -> None:
    write_return(tmp_path / "a.xlsx", FORM, valid_inputs(FORM, 1), code="A", name="甲", year=2017)
    write_return(tmp_path / "b.xlsx", FORM, valid_inputs(FORM, 2), code="B", name="乙", year=2018)
    code, _, stderr = run(tmp_path, "-o", tmp_path / "s.xlsx")
    assert code == 2 and "表式或年度不一致" in stderr
