"""annotate: a marked copy of the department's own workbook; the input is never touched."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

import lo
from books import fill_template, sample_values, signature_values
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import Finding, make
from xxgk.forms.layout import layout_of
from xxgk.read.open import read
from xxgk.read.returns import Return
from xxgk.report import annotate as A
from xxgk.write.styles import INPUT_FILL

GK2018 = builtin("gk2018")


def findings() -> list[Finding]:
    return [
        make("formula.mismatch", place="第58行", label="（三）从事政府信息公开工作人员数", cell="D61",
             sheet="统计表", indicator="58", found="0", expected="2", detail="各分项：D62=1、D63=1",
             fix="把分项D62、D63减少2，使其之和为0"),
        make("rule.warning", message="第14、16、18—20行填报了回应解读，但第12行为0", detail="第12行=0",
             sheet="统计表", cell="D15", indicator="12", label="（一）回应公众关注热点或重大舆情数"),
        make("value.not_number", place="第12行", label="（一）回应公众关注热点或重大舆情数", cell="D15",
             sheet="统计表", indicator="12", found="约10", expected="非负整数"),
        make("value.in_header", place="第1行", label="一、主动公开情况", cell="D4", sheet="统计表",
             indicator="1", found="83"),
        make("file.form_changed", found="gk2018 第0版", expected="gk2018 第1版"),
    ]


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, Return]:
    (tmp_path / "in").mkdir()
    path = fill_template(tmp_path / "in" / "沙坡头区机关事务局.xlsx", GK2018, sample_values(GK2018),
                         notes={"t1.r12": "本年无热点"}, signature=signature_values())
    return path, read(path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_copy_marks_cells_and_lists_findings(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    path, ret = filled
    before, mtime = digest(path), path.stat().st_mtime_ns
    out = A.annotate(ret, findings(), tmp_path / "out")
    assert out == tmp_path / "out" / "沙坡头区机关事务局_校验结果.xlsx"
    assert digest(path) == before and path.stat().st_mtime_ns == mtime
    assert sorted(os.listdir(tmp_path / "out")) == [out.name]  # no temporary files left
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == A.RESULT_SHEET and wb.active is wb[A.RESULT_SHEET]
    ws = wb["统计表"]
    assert ws["D61"].fill.fgColor.rgb.endswith(A.ERROR_FILL)
    assert ws["D15"].fill.fgColor.rgb.endswith(A.ERROR_FILL)  # an error and a warning: red
    assert ws["D4"].fill.fgColor.rgb.endswith(A.ERROR_FILL)
    assert "应为各分项之和2，表中却是0" in ws["D61"].comment.text
    assert "【提醒】" in ws["D15"].comment.text and "【错误】" in ws["D15"].comment.text
    assert ws["D5"].comment is None and ws["D5"].fill.fgColor.rgb != "00" + A.ERROR_FILL
    rows = list(wb[A.RESULT_SHEET].iter_rows(values_only=True))
    head = rows.index(A.HEADERS)
    body = rows[head + 1 :]
    assert len(body) == 5
    assert body[0][:3] == ("错误", "第58行（统计表!D61）", "（三）从事政府信息公开工作人员数")
    assert (body[0][4], body[0][5]) == ("0", "2")
    warning = next(r for r in body if r[0] == "提醒" and r[1] != "全表")
    assert warning[1] == "第12行（统计表!D15）" and warning[6] == "本年无热点"
    assert any(r[1] == "全表" and "模板版本" in r[3] for r in body)
    assert "未通过" in str(rows[2][0]) and "错误3项" in str(rows[2][0])
    assert wb[A.RESULT_SHEET]["B" + str(head + 2)].hyperlink.location == "'统计表'!D61"


def test_copy_keeps_protection_validation_formulas_and_identity(tmp_path: Path,
                                                              filled: tuple[Path, Return]) -> None:
    path, ret = filled
    out = A.annotate(ret, findings(), tmp_path / "out")
    src, dst = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    for name in src.sheetnames:
        a, b = src[name], dst[name]
        assert b.sheet_state == a.sheet_state, name
        assert b.protection.sheet == a.protection.sheet, name
        assert [str(v.sqref) for v in b.data_validations.dataValidation] == [
            str(v.sqref) for v in a.data_validations.dataValidation], name
        assert len(b.conditional_formatting) == len(a.conditional_formatting), name
    assert dst["统计表"].protection.sheet and dst[ids.META_SHEET].sheet_state == "veryHidden"
    assert dst["统计表"]["D61"].value == src["统计表"]["D61"].value == "=SUM(D62:D63)"
    back = read(out)
    assert back.cells == ret.cells  # formula results included: cached values were written back
    assert back.identity == ret.identity
    assert back.notes == ret.notes and back.signature == ret.signature
    assert back.findings == []


def test_no_overwrite_unless_asked(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    _, ret = filled
    out = A.annotate(ret, findings()[:1], tmp_path / "out")
    with pytest.raises(FileExistsError):
        A.annotate(ret, findings(), tmp_path / "out")
    assert "D15" not in str([c.comment for c in openpyxl.load_workbook(out)["统计表"]["D"]])
    A.annotate(ret, findings(), tmp_path / "out", overwrite=True)
    assert openpyxl.load_workbook(out)["统计表"]["D15"].comment is not None


def test_never_writes_over_the_input(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    path, ret = filled
    before = digest(path)
    (tmp_path / "out").mkdir()
    A.target_path(ret, tmp_path / "out").symlink_to(path)  # the target name leads to the input
    with pytest.raises(A.AnnotateError):
        A.annotate(ret, findings(), tmp_path / "out", overwrite=True)
    assert digest(path) == before


def test_input_changed_since_read(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    path, ret = filled
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(A.AnnotateError):
        A.annotate(ret, findings(), tmp_path / "out")
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def test_department_comment_is_kept(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    path, _ = filled
    wb = openpyxl.load_workbook(path)
    wb["统计表"]["D61"].comment = Comment("含借调人员", "填报人")
    wb.save(path)
    out = A.annotate(read(path), findings(), tmp_path / "out")
    text = openpyxl.load_workbook(out)["统计表"]["D61"].comment.text
    assert text.startswith("含借调人员") and "【错误】" in text


def test_finding_in_merged_cell_marks_its_anchor(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    _, ret = filled
    sig = make("rule.warning", message="填报人未填写", sheet="统计表", cell="E72")  # inside D72:F72
    out = A.annotate(ret, [sig], tmp_path / "out")
    ws = openpyxl.load_workbook(out)["统计表"]
    assert any("E72" in r for r in ws.merged_cells.ranges)
    anchor = next(r for r in ws.merged_cells.ranges if "E72" in r)
    assert ws.cell(anchor.min_row, anchor.min_col).comment is not None


def convert(path: Path, fmt: str, out_dir: Path) -> Path:
    return lo.convert([path], fmt, out_dir, lo.make_profile(out_dir / "profile"))[0]


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_xls_and_ods_get_an_xlsx_copy(tmp_path: Path, filled: tuple[Path, Return], fmt: str) -> None:
    path, ret = filled
    other = convert(path, fmt, tmp_path / fmt)
    before = digest(other)
    theirs = read(other)
    out = A.annotate(theirs, findings(), tmp_path / "out")
    assert out.suffix == ".xlsx" and digest(other) == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == A.RESULT_SHEET
    assert f"原文件为.{fmt}格式" in str(wb[A.RESULT_SHEET]["A4"].value)
    assert "按本表式模板重新生成" in str(wb[A.RESULT_SHEET]["A4"].value)
    assert wb["统计表"]["D61"].fill.fgColor.rgb.endswith(A.ERROR_FILL)
    # drawn again in the template: status and hints live, inputs yellow, borders, the marks on top
    sheet, layout = wb["统计表"], layout_of(GK2018)
    status = sheet[layout.status(layout.sheets[0]).a1].value
    assert "校验通过" in status and "另有3项问题见“校验结果”" in status  # what its checks cannot see (not value.*)
    assert str(sheet[layout.hint(GK2018.cells["2"]).a1].value).startswith("=MID(")
    two = sheet[layout.places["2"].a1]
    assert two.fill.fgColor.rgb.endswith(INPUT_FILL.lstrip("#")) and two.border.left.style == "thin"
    assert not A.WARNING_FILL.endswith(INPUT_FILL.lstrip("#"))
    assert wb[ids.META_SHEET].sheet_state != "visible"
    back = read(out)
    assert back.identity == theirs.identity
    assert {k: c.value for k, c in back.cells.items()} == {k: c.value for k, c in theirs.cells.items()}
    assert back.notes == theirs.notes and back.signature == theirs.signature


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_annotated_copy_opens_in_libreoffice(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    _, ret = filled
    out = A.annotate(ret, findings(), tmp_path / "out")
    again = read(convert(out, "ods", tmp_path / "lo"))
    assert {k: c.value for k, c in again.cells.items()} == {k: c.value for k, c in ret.cells.items()}


def test_xlsm_stays_xlsm(tmp_path: Path, filled: tuple[Path, Return]) -> None:
    path, _ = filled
    macro = path.with_suffix(".xlsm")
    shutil.copy(path, macro)
    ret = read(macro)
    out = A.annotate(ret, findings(), tmp_path / "out")
    assert out.name == "沙坡头区机关事务局_校验结果.xlsm"
    assert read(out).cells == ret.cells


def test_workbook_openpyxl_cannot_load_gets_a_content_copy(tmp_path: Path, filled: tuple[Path, Return],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _, ret = filled

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("There is no item named 'xl/pivotCache/pivotCacheDefinition1.xml' in the archive")

    monkeypatch.setattr(openpyxl, "load_workbook", broken)
    out = A.annotate(ret, findings(), tmp_path / "out")
    monkeypatch.undo()
    wb = openpyxl.load_workbook(out)
    assert "原文件无法直接编辑（KeyError）" in str(wb[A.RESULT_SHEET]["A4"].value)
    assert wb["统计表"]["D61"].comment is not None
    assert {k: c.value for k, c in read(out).cells.items()} == {k: c.value for k, c in ret.cells.items()}
