"""File names that are not UTF-8 (GBK names from a zip made on Chinese Windows and unpacked on
Linux) are shown with replacement characters: `merge` writes its summary, `check` prints
under a strict UTF-8 stdout, `--annotate` writes its copy — never a crash."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from merge_books import valid_inputs, write_return
from xxgk.cli.main import main
from xxgk.files import display_name
from xxgk.forms.builtin import builtin

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="names are bytes only on Linux")

FORM = builtin("gk2018")
GBK_NAME = "教育局统计表".encode("gbk") + b".xlsx"


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A valid return under a GBK name and one under a UTF-8 name."""
    folder = tmp_path / "in"
    good = write_return(folder / "正常.xlsx", FORM, valid_inputs(FORM, 1), code="640502001", name="甲单位")
    gbk = write_return(folder / "gbk.xlsx", FORM, valid_inputs(FORM, 2), code="640502002", name="乙单位")
    os.rename(gbk.path, os.path.join(os.fsencode(folder), GBK_NAME))
    assert good.path.exists()
    return folder


def strict(*args: str | Path) -> tuple[int, str, str]:
    """The command's exit code and its output, which must be UTF-8 (a strict stream)."""
    result = CliRunner().invoke(main, list(map(str, args)))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout_bytes.decode("utf-8"), result.stderr_bytes.decode("utf-8")


def test_shown_replaces_what_is_not_utf8() -> None:
    raw = os.fsdecode(GBK_NAME)
    assert "\ufffd" in display_name(raw) and display_name(raw).endswith(".xlsx")
    assert display_name("正常.xlsx") == "正常.xlsx" and display_name(Path("a/正常.xlsx")) == "a/正常.xlsx"
    assert display_name("\ud800x") == "?x"  # a surrogate that never was a byte


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_prints_such_names_with_replacement_characters(batch: Path, fmt: str) -> None:
    code, out, _ = strict("check", batch, "--format", fmt)
    assert code == 0
    if fmt == "json":
        files = [r["file"] for r in json.loads(out)["returns"]]
    else:
        files = [line.removeprefix("文件名：") for line in out.splitlines() if line.startswith("文件名：")]
    assert sorted(Path(f).name for f in files) == sorted(["正常.xlsx", display_name(os.fsdecode(GBK_NAME))])


def test_merge_writes_the_summary_and_annotate_its_copy(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "汇总.xlsx"
    code, text, _ = strict("merge", batch, "-o", out, "--format", "json")
    assert code == 0 and json.loads(text)["summary"]["checked"] == 2
    wb = openpyxl.load_workbook(out)
    listed = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value]
    assert any(display_name(os.fsdecode(GBK_NAME)) in v for v in listed)
    # a warning, so that there is something to annotate
    bad = write_return(tmp_path / "bad" / "x.xlsx", FORM, {**valid_inputs(FORM, 3), "3": Decimal(5), "4": Decimal(0)},
                       code="640502003", name="丙单位")
    os.rename(bad.path, os.path.join(os.fsencode(bad.path.parent), GBK_NAME))
    code, _, err = strict("check", bad.path.parent, "--annotate", tmp_path / "ann")
    assert code == 1 and "已生成批注文件" in err
    assert os.listdir(os.fsencode(tmp_path / "ann")) == [GBK_NAME.removesuffix(b".xlsx") + "_校验结果.xlsx".encode()]
