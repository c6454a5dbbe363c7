"""xxgk report: tables 二、三、四 in Word, in the official layout, read back to the same figures."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from docx.text.run import Run

import lo
from books import fill_template
from retyped import sound_values
from xxgk.check.checking import check_return
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin
from xxgk.read.open import read

FORMS = {"gk2018": 2018, "gk2019": 2020, "gk2021": 2023}


def a_return(tmp_path: Path, form_id: str, **changes: Decimal) -> tuple[Path, dict[str, Decimal]]:
    form = builtin(form_id)
    values = sound_values(form)
    for key, v in changes.items():
        values[key.replace("_", ".", 2) if "." not in key else key] = v
    path = fill_template(tmp_path / f"{form_id}.xlsx", form, values, year=FORMS[form_id], agency="平潭综合实验区公安局")
    return path, values


def east_asian_font(run: Run) -> str | None:
    """The run's East Asian font (w:eastAsia), as Word shows it for Chinese text."""
    rpr = run._element.rPr
    assert rpr is not None and rpr.rFonts is not None
    font: str | None = rpr.rFonts.get(qn("w:eastAsia"))
    return font


def report(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("form_id", list(FORMS))
def test_report_reads_back_to_the_same_figures(tmp_path: Path, form_id: str) -> None:
    path, values = a_return(tmp_path, form_id)
    code, out = report(str(path), "-o", str(tmp_path / "r.docx"))
    assert code == 0, out
    ret = read(tmp_path / "r.docx")
    assert (ret.form.id, ret.kind, ret.identity.year, ret.identity.agency_name) == (
        form_id, "docx", FORMS[form_id], "平潭综合实验区公安局")
    assert ret.findings == []
    result = check_return(ret)
    assert result.report.errors == 0 and result.values == values


def test_report_layout_merged_headers_fonts_and_a4(tmp_path: Path) -> None:
    path, _ = a_return(tmp_path, "gk2021")
    report(str(path), "-o", str(tmp_path / "r.docx"))
    doc = docx.Document(str(tmp_path / "r.docx"))
    section = doc.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert section.left_margin is not None and section.right_margin is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    usable = section.page_width - section.left_margin - section.right_margin
    assert [len(t.columns) for t in doc.tables] == [4, 10, 15]
    for t in doc.tables:  # every table fits the line (Word stores widths in twips: 635 EMU)
        assert sum(c.width for c in t.columns) <= usable + 635 * len(t.columns)
    t3 = doc.tables[1]
    assert t3.cell(0, 3).text == "申请人情况" and t3.cell(0, 9).text == "申请人情况"  # merged across
    assert t3.cell(1, 9)._tc is t3.cell(2, 9)._tc  # 总计 spans two header rows
    fonts = {east_asian_font(r) for p in doc.paragraphs for r in p.runs}
    assert fonts == {"黑体"}
    cell_fonts = {east_asian_font(r)
                  for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs}
    assert cell_fonts == {"宋体"}


def test_a_return_with_errors_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path, values = a_return(tmp_path, "gk2021")
    form = builtin("gk2021")
    values["t3.1.1"] += 1  # 勾稽关系 broken
    bad = fill_template(tmp_path / "bad.xlsx", form, values, year=2023)
    code, out = report(str(bad), "-o", str(tmp_path / "r.docx"))
    assert code == 2 and "未通过校验" in out and not (tmp_path / "r.docx").exists()


def test_an_existing_output_needs_force_and_the_output_must_be_docx(tmp_path: Path) -> None:
    path, _ = a_return(tmp_path, "gk2021")
    (tmp_path / "r.docx").write_bytes(b"old")
    code, out = report(str(path), "-o", str(tmp_path / "r.docx"))
    assert code == 2 and "--force" in out and (tmp_path / "r.docx").read_bytes() == b"old"
    assert report(str(path), "-o", str(tmp_path / "r.docx"), "--force")[0] == 0
    assert report(str(path), "-o", str(tmp_path / "r.pdf"))[0] == 2


def test_report_from_a_summary(tmp_path: Path) -> None:
    form = builtin("gk2021")
    (tmp_path / "a").mkdir()
    a, va = a_return(tmp_path / "a", "gk2021")
    values_b = sound_values(form, seed=6)
    (tmp_path / "b").mkdir()
    fill_template(tmp_path / "b" / "b.xlsx", form, values_b, year=2023, agency="乙单位", code="B")
    summary = tmp_path / "summary.xlsx"
    merged = CliRunner().invoke(main, ["merge", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(summary),
                                       "--region", "平潭综合实验区"])
    assert merged.exit_code == 0, merged.output
    assert report(str(summary), "-o", str(tmp_path / "s.docx"))[0] == 0
    ret = read(tmp_path / "s.docx")
    assert ret.identity.agency_name == "平潭综合实验区" and ret.identity.year == 2023
    assert check_return(ret).values == {k: va[k] + values_b[k] for k in va}


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_prints_it_on_a4_pages(tmp_path: Path) -> None:
    path, _ = a_return(tmp_path, "gk2021")
    report(str(path), "-o", str(tmp_path / "r.docx"))
    pdf = lo.convert([tmp_path / "r.docx"], "pdf", tmp_path / "pdf", lo.make_profile(tmp_path / "profile"),
                     export="pdf:writer_pdf_Export")[0]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    assert 1 <= pages <= 3 and "595" in size and "841" in size  # A4 portrait, in points
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for label in ("平潭综合实验区公安局2023年政府信息公开工作年度报告", "第二十条第（一）项", "行政规范性文件",
                  "申请人情况", "未经复议直接起诉", "复议后起诉"):
        assert label in text.replace(" ", "")  # whole on one line: nothing cut off or wrapped
