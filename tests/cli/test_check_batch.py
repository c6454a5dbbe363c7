"""`check` on what departments really send: the seed's table typed without our template, and a
100-file directory with a few bad files, checked in one run."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from books import plain_sheet
from merge_books import valid_inputs, write_return
from xxgk.check.file import check_file
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of


def test_plain_seed_sheet_reports_its_real_mistakes(tmp_path: Path) -> None:
    result = check_file(plain_sheet(tmp_path / "seed.xlsx"))
    assert not result.valid
    found = [(f.code, f.indicator) for f in result.report.findings]
    assert found == [
        ("value.in_header", "1"), ("value.in_header", "5"), ("value.in_header", "13"),
        ("value.in_header", "21"), ("value.in_header", "55"),
        ("formula.mismatch", "58"),
        ("rule.warning", "12"),
    ]
    mismatch = result.report.findings[5]
    assert (mismatch.found, mismatch.expected, mismatch.cell) == ("0", "2", "C60")
    assert result.report.findings[6].rule == "W_responses_need_r12"


def test_hundred_files_with_a_few_bad_ones_in_one_run(tmp_path: Path) -> None:
    form = builtin("gk2018")
    good = valid_inputs(form, 7)
    for i in range(96):
        write_return(tmp_path / f"r{i:03d}.xlsx", form, good, code=f"{i:03d}", name=f"单位{i}")
    (tmp_path / "r096.xlsx").write_bytes((tmp_path / "r000.xlsx").read_bytes()[:3000])  # truncated
    (tmp_path / "r097.xlsx").write_bytes(b"%PDF-1.7 a scanned return")  # a PDF, read as one: broken
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(
        "xl/workbook.xml", "w", force_zip64=True
    ) as fh:
        for _ in range(300):
            fh.write(b"\0" * (1 << 20))
    (tmp_path / "r098.xlsx").write_bytes(bomb.getvalue())  # 300 MB of zeros
    write_return(tmp_path / "r099.xlsx", form, good, code="099", name="单位99")
    book = load_workbook(tmp_path / "r099.xlsx")
    place = layout_of(form).places["63"]
    book[place.sheet][place.a1] = "约10"  # text in a number cell
    book.save(tmp_path / "r099.xlsx")

    result = CliRunner().invoke(main, ["check", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["summary"]["checked"] == 100 and doc["summary"]["valid"] == 96
    codes = {Path(r["file"]).name: [i["code"] for i in r["issues"]] for r in doc["returns"] if not r["valid"]}
    assert codes == {
        "r096.xlsx": ["file.unreadable"],
        "r097.xlsx": ["file.unreadable"],
        "r098.xlsx": ["file.too_large"],
        "r099.xlsx": ["value.not_number"],
    }
