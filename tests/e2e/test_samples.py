"""The shipped samples, end to end: what the README's main command shows a district office.

Totals are recomputed independently of xxgk's reader: every accepted file's input cells
are read with python-calamine at the template's positions and added up here.
"""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from books import rezip
from xxgk.check.file import check_file
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read.returns import ReadError
from xxgk.read.safety import zipcheck

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ROSTER = SAMPLES / "roster.csv"
PREVIOUS = SAMPLES / "previous" / "沙坡头区2024年汇总.xlsx"


def raw_inputs(path: Path, form: Form, *, summary: bool = False) -> dict[str, Decimal]:
    """Input cells read straight from the grid (no xxgk reader), blanks as 0."""
    book = CalamineWorkbook.from_path(str(path))
    # a summary of an earlier version (the 2024 sample) has its working copy under the clean name
    grids = {name: book.get_sheet_by_name(name if name in book.sheet_names else name.replace("（含校验）", ""))
             .to_python(skip_empty_area=False)
             for name in {p.sheet for p in layout_of(form, summary).places.values()}}
    out = {}
    for cell in form.inputs:
        place = layout_of(form, summary).places[cell.key]
        row = grids[place.sheet][place.row] if place.row < len(grids[place.sheet]) else []
        value = row[place.col] if place.col < len(row) else ""
        number = Decimal(str(value)) if value != "" else Decimal(0)
        out[cell.key] = number.to_integral_value() if number == number.to_integral_value() else number
    return out


def merged(tmp_path: Path, year: int, *extra: str) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path / f"{year}.xlsx"
    result = CliRunner().invoke(main, ["merge", str(SAMPLES / "returns" / str(year)), "--roster", str(ROSTER),
                                       "--region", "沙坡头区", "-o", str(out), "--format", "json", *extra])
    return result.exit_code, json.loads(result.stdout), out


def statuses(doc: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for unit in doc["units"]:
        out.setdefault(unit["status"], set()).add(unit["name"])
    return out


def test_2018_register_names_every_kind_of_problem(tmp_path: Path) -> None:
    code, doc, out = merged(tmp_path, 2018)
    assert code == 1 and out.is_file()  # incomplete, but the summary is written
    found = statuses(doc)
    assert found["missing"] == {"兴仁镇", "香山乡"}
    assert found["invalid"] == {"沙坡头区教育局", "沙坡头区财政局", "柔远镇"}
    assert found["duplicate"] == {"永康镇"}
    assert found["unexpected"] == {"沙坡头区税务局"}
    assert len(found["valid"]) == 24  # .xls, .ods and the renamed file among them
    assert {"镇罗镇", "宣和镇", "文昌镇", "沙坡头区机关事务局"} <= found["valid"]


def test_2018_summary_equals_the_independent_sum_of_accepted_returns(tmp_path: Path) -> None:
    form = builtin("gk2018")
    _, doc, out = merged(tmp_path, 2018)
    accepted = {u["files"][0] for u in doc["units"] if u["status"] == "valid"}
    folder = SAMPLES / "returns" / "2018"
    expected = {c.key: Decimal(0) for c in form.inputs}
    for name in accepted:
        for key, value in raw_inputs(folder / Path(name).name, form).items():
            expected[key] += value
    assert raw_inputs(out, form, summary=True) == expected
    assert check_file(out).values == form.compute(expected)


def test_seed_return_passes_with_its_explanation() -> None:
    path = next((SAMPLES / "returns" / "2018").glob("640502001_*"))
    result = check_file(path)
    assert result.valid
    (warning,) = result.report.findings
    assert warning.rule == "W_responses_need_r12" and warning.explained
    assert result.values["58"] == 2  # 专职 1 + 兼职 1, not the published 0


@pytest.mark.parametrize(
    ("unit", "code", "cell", "found"),
    [
        ("财政局", "formula.mismatch", "D61", "0"),
        ("柔远镇", "value.not_number", "D10", "约10"),
        ("教育局", "rule.warning", "D6", ""),
    ],
)
def test_2018_faulty_returns_say_what_to_fix(unit: str, code: str, cell: str, found: str) -> None:
    path = next(p for p in (SAMPLES / "returns" / "2018").iterdir() if unit in p.name)
    result = check_file(path)
    assert not result.valid
    (finding,) = [f for f in result.report.findings if f.blocking]
    assert (finding.code, finding.cell) == (code, cell)
    assert finding.found == found or not found


def test_2025_merge_compares_each_unit_with_its_own_row_of_2024(tmp_path: Path) -> None:
    form = builtin("gk2021")
    code, doc, out = merged(tmp_path, 2025, "--previous", str(PREVIOUS))
    # 东园镇 typed its 上年结转 (自然人) 2 higher than its 2024 结转下年度: it fails as in `check --previous`
    assert code == 1 and statuses(doc)["invalid"] == {"东园镇"} and statuses(doc).keys() == {"valid", "invalid"}
    (dongyuan,) = [r for r in doc["returns"] if "东园镇" in r["file"]]
    assert [(i["code"], i["rule"]) for i in dongyuan["issues"]] == [
        ("previous.mismatch", "Y_t3_carried_in.1"), ("previous.mismatch", "Y_t3_carried_in.7")]
    expected = {c.key: Decimal(0) for c in form.inputs}
    for path in (SAMPLES / "returns" / "2025").iterdir():
        if "东园镇" not in path.name:
            for key, value in raw_inputs(path, form).items():
                expected[key] += value
    assert raw_inputs(out, form, summary=True) == expected
    text = CliRunner().invoke(main, ["merge", str(SAMPLES / "returns" / "2025"), "--roster", str(ROSTER),
                                     "-o", str(tmp_path / "t.xlsx"), "--previous", str(PREVIOUS)]).stdout
    # the district totals are compared only when every unit is in: the summary says why not
    assert "未与上年汇总数比对：本次汇总不完整（1个单位未报送或未通过校验）" in text


def test_a_2025_return_is_compared_with_its_own_row_of_the_2024_summary() -> None:
    folder = SAMPLES / "returns" / "2025"
    off = next(folder.glob("*东园镇*"))
    result = CliRunner().invoke(main, ["check", str(off), "--previous", str(PREVIOUS), "--format", "json"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)["returns"][0]["issues"]
    assert [(i["code"], i["rule"]) for i in issues] == [
        ("previous.mismatch", "Y_t3_carried_in.1"), ("previous.mismatch", "Y_t3_carried_in.7"),
    ]
    last = raw_inputs(PREVIOUS, builtin("gk2021"), summary=True)  # district totals: not what is compared
    assert f"上年第25行第1栏={last['t3.25.1']}" not in issues[0]["message"]
    assert "第2行第1栏=4、上年第25行第1栏=2" in issues[0]["message"]  # 东园镇's own 2024 row
    same = next(folder.glob("*滨河镇*"))
    ok = CliRunner().invoke(main, ["check", str(same), "--previous", str(PREVIOUS)])
    assert ok.exit_code == 0, ok.output


def test_last_years_unit_figures_are_vetted_like_a_return(tmp_path: Path) -> None:
    # a summary whose 分单位明细 claims the whole sheet: python-calamine would allocate it all
    from xxgk.forms.detail_layout import DETAIL_SHEET
    from xxgk.read.summary_figures import unit_figures

    data = PREVIOUS.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        part = zipcheck.sheet_parts(zf)[DETAIL_SHEET]
    far = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
           b"</sheetData></worksheet>")
    bad = tmp_path / "上年汇总.xlsx"
    bad.write_bytes(rezip(data, {part: far}))
    with pytest.raises(ReadError) as info:
        unit_figures(bad, builtin("gk2021"))
    assert info.value.code == "file.too_large"
    ret = next((SAMPLES / "returns" / "2025").glob("*东园镇*"))
    result = CliRunner().invoke(main, ["check", str(ret), "--previous", str(bad)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a usage error, no traceback
    assert "上年数据无法使用" in result.output and "1048576行×16384列" in result.output


def test_unit_figures_of_a_summary() -> None:
    from xxgk.read.summary_figures import unit_figures

    form = builtin("gk2021")
    units = unit_figures(PREVIOUS, form)
    assert sorted(units) == sorted(line.split(",")[0] for line in
                                   ROSTER.read_text(encoding="utf-8-sig").splitlines()[1:])  # no 合计 row
    assert unit_figures(PREVIOUS, builtin("gk2019")) == {}  # another form's layout
    assert set(units["640502103"]) == {c.key for c in form.cells.values() if c.kind != "header"}
