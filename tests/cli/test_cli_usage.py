"""One behaviour across commands: output folders made, nothing overwritten without --force,
usage errors in Chinese with click's English in brackets."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from merge_books import district
from xxgk.cli.main import main
from xxgk.cli.usage import translate
from xxgk.forms.builtin import builtin


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize(
    ("args", "chinese", "english"),
    [
        (("check",), "缺少参数 'PATHS...'", "Missing argument"),
        (("check", "/nonexistent/x.xlsx"), "'/nonexistent/x.xlsx' 不存在", "does not exist"),
        (("check", ".", "--format", "xml"), "'xml' 不是可选的值（可选：'text', 'json'）", "is not one of"),
        (("merge", "."), "缺少选项 '-o' / '--output'", "Missing option"),
        (("merge", ".", "-o", "s.xlsx", "--jobs", "0"), "0 不在允许的范围（x>=1）内", "is not in the range"),
        (("check", "--bogus", "."), "没有选项 '--bogus'", "No such option"),
    ],
)
def test_click_usage_errors_are_chinese_with_the_english_in_brackets(
    args: tuple[str, ...], chinese: str, english: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("错误 (error): ")]
    assert chinese in line and f"({english}" in line or english in line.split("(", 1)[1]


def test_translate_keeps_chinese_messages() -> None:
    assert translate("Invalid value for '--previous': 上年数据无法使用") == (
        "--previous：上年数据无法使用 (invalid value for --previous)")
    assert translate("Something new.") == "用法错误 (Something new.)"


def test_every_command_makes_a_missing_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "t.xlsx"
    assert run("template", "--year", "2018", "--agency", "甲局", "-o", out).exit_code == 0 and out.is_file()
    district(tmp_path / "in", builtin("gk2018"), [("1", "甲局")])
    merged = tmp_path / "m" / "n" / "s.xlsx"
    csv = tmp_path / "c" / "d" / "s.csv"
    assert run("merge", tmp_path / "in", "-o", merged, "--csv", csv, "--region", "区").exit_code == 0
    assert merged.is_file() and csv.is_file()


def test_annotate_dir_that_cannot_be_made_is_a_usage_error_before_any_work(tmp_path: Path) -> None:
    district(tmp_path / "in", builtin("gk2018"), [("1", "甲局")])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("check", tmp_path / "in", "--annotate", blocker / "sub")
    assert result.exit_code == 2
    assert "--annotate" in result.output and "无法创建目录" in result.output
    assert "单位名称" not in result.output  # nothing was checked


def test_template_warns_when_the_form_is_not_that_years(tmp_path: Path) -> None:
    result = run("template", "--year", "2025", "--form", "gk2018", "--agency", "甲局", "-o", tmp_path / "t.xlsx")
    assert result.exit_code == 0
    assert "gk2018" in result.output and "不是2025年度的表式" in result.output and "gk2021" in result.output
    quiet = run("template", "--year", "2018", "--form", "gk2018", "--agency", "甲局", "-o", tmp_path / "u.xlsx")
    assert "不是" not in quiet.output
