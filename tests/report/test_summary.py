"""The summary workbook: totals readable without recalculation (calamine, LibreOffice),
per-unit detail, register, issues, charts, metadata, read back as an input; the CSV."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from lo import Book, convert, make_profile, soffice
from merge_books import add, district, valid_inputs, write_return
from xxgk.check.file import check_file
from xxgk.check.years import compare_years
from xxgk.cycle.batch import merge
from xxgk.cycle.roster import Unit
from xxgk.cycle.summary import Summary
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin
from xxgk.forms.detail_layout import DETAIL_SHEET, DetailLayout
from xxgk.forms.layout import INFO_ROW, layout_of
from xxgk.forms.model import Form
from xxgk.read.summary_figures import unit_figures
from xxgk.report.summary.charts import CHART_SHEET
from xxgk.report.summary.csvout import csv_lines, csv_rows, write_csv
from xxgk.report.summary.issues import ISSUES_SHEET
from xxgk.report.summary.register import REGISTER_SHEET
from xxgk.report.summary.workbook import write_summary
from xxgk.report.summary.years import YEARS_SHEET, YEARS_UNIT_SHEET

GK2018 = builtin("gk2018")
GK2021 = builtin("gk2021")
UNITS = [(f"64050200{i}", f"测试单位{i}") for i in range(1, 6)]


def number(value: object) -> Decimal:
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    return Decimal(str(value))


def assert_totals(book: Book, form: Form, summary: Summary) -> None:
    """Every value cell of the 汇总表 shows the exact total, as a number."""
    places = layout_of(form, summary=True).places
    for cell in form.cells.values():
        if cell.kind == "header":
            continue
        p = places[cell.key]
        assert number(book.get(p.sheet, p.row, p.col)) == summary.totals[cell.key], cell.key


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Summary, Path]:
    """Three valid units, one invalid, one missing, one off the roster."""
    folder = tmp_path / "in"
    district(folder, GK2018, UNITS[:3])
    bad = dict(valid_inputs(GK2018, 40))
    bad["15"] = bad["14"] + 2
    write_return(folder / "bad.xlsx", GK2018, bad, code=UNITS[3][0], name=UNITS[3][1])
    write_return(folder / "other.xlsx", GK2018, valid_inputs(GK2018, 41), code="7", name="外单位")
    summary = merge([folder], roster=[Unit(c, n) for c, n in UNITS], region="测试区", jobs=1)
    return summary, write_summary(summary, tmp_path / "汇总.xlsx")


def test_totals_show_without_recalculation(mixed: tuple[Summary, Path]) -> None:
    summary, path = mixed
    book = Book(path)  # python-calamine: cached results only
    assert_totals(book, GK2018, summary)
    sheet = layout_of(GK2018, summary=True).sheets[0]
    assert sheet.name == "汇总表（含校验）"
    for name in ("汇总表", sheet.name):
        assert book.get(name, 0, 0) == "测试区政府信息公开情况统计表（2018年度）汇总"
    texts = [book.get(sheet.name, INFO_ROW, c) for c in range(sheet.last_col + 1)]
    assert "不完整：2个单位未报送或未通过校验" in texts
    assert "汇总地区：测试区" in texts
    # the copy sent up: one header line with region, units, year and completeness
    assert book.get("汇总表", INFO_ROW, 0) == "汇总地区：测试区　汇总单位数：3　统计年度：2018年　不完整：2个单位未报送或未通过校验"


def test_input_totals_are_formulas_over_the_detail(mixed: tuple[Summary, Path]) -> None:
    summary, path = mixed
    places = layout_of(GK2018, summary=True).places
    with zipfile.ZipFile(path) as zf:
        sheet1 = zf.read("xl/worksheets/sheet1.xml").decode()
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 5  # two totals by unit, three by their parts (none all zero here)
    with zipfile.ZipFile(path) as zf:
        working = zf.read("xl/worksheets/sheet3.xml").decode().replace("&apos;", "'")
    p = places["2"]
    detail = DetailLayout(GK2018, len(summary.blocks))
    assert f'<c r="{p.a1}"' in working and f"SUM({detail.range('2')})" in working
    # every figure of the clean copy refers to the working copy
    assert f"'汇总表（含校验）'!{p.a1}" in sheet1.replace("&apos;", "'")


def test_detail_register_and_issues(mixed: tuple[Summary, Path]) -> None:
    summary, path = mixed
    book = Book(path)
    detail = DetailLayout(GK2018, len(summary.blocks))
    assert [len(b.blocks) for b in detail.bands] == [29, 29]  # 58 rows with figures, evened out
    first = detail.bands[0]
    assert book.get(DETAIL_SHEET, first.first - 1, first.blocks[0].col) == "2"  # 行次
    assert book.get(DETAIL_SHEET, first.top, first.blocks[0].col) == "（一）主动公开政府信息数"
    for band in detail.bands:
        for i, block in enumerate(summary.blocks):
            r = band.first + i
            assert (book.get(DETAIL_SHEET, r, 0), book.get(DETAIL_SHEET, r, 1)) == (block.code, block.name)
        assert book.get(DETAIL_SHEET, band.total_row, 0) == "合计"
    for cell in GK2018.value_cells:
        band, col = detail.band_of[cell.key], detail.col[cell.key]
        for i, block in enumerate(summary.blocks):
            assert number(book.get(DETAIL_SHEET, band.first + i, col)) == block.values.get(cell.key, 0)
        assert number(book.get(DETAIL_SHEET, band.total_row, col)) == summary.totals[cell.key]
    assert unit_figures(path, GK2018) == {b.code: {k: Decimal(v) for k, v in b.values.items()
                                                   if k in detail.col} for b in summary.blocks}

    register = [row for row in book.grids[REGISTER_SHEET][2:] if any(row)]
    got = {(row[2], row[3]) for row in register}
    assert got == {(UNITS[0][1], "已通过"), (UNITS[1][1], "已通过"), (UNITS[2][1], "已通过"),
                   (UNITS[3][1], "未通过"), (UNITS[4][1], "未报送"), ("外单位", "名单外单位")}
    bad = next(row for row in register if row[3] == "未通过")  # the words of `cycle.state`, as on the site
    assert bad[4] == "bad.xlsx" and bad[8] == 1  # 文件名, 错误数 (the SHA-256 is on 说明)
    assert bad[5] == f"{UNITS[3][1]}填报人" and bad[7] == "2019-01-20"

    issues = [row for row in book.grids[ISSUES_SHEET][2:] if any(row)]
    expected = sum(len(e.report.findings) for e in summary.entries)
    assert len(issues) == expected >= 1
    row = next(r for r in issues if r[1] == "bad.xlsx")
    assert row[0] == UNITS[3][1] and row[2] == "第15行" and row[5] == "错误" and "第15行" in row[6]


def test_metadata_and_read_back_as_an_input(mixed: tuple[Summary, Path]) -> None:
    summary, path = mixed
    book = Book(path)
    assert book.visible[ids.META_SHEET] != "Visible"
    meta = {r[0]: r[1] for r in book.grids[ids.META_SHEET] if r and r[0]}
    assert meta[ids.KIND] == "summary" and meta[ids.REGION] == meta[ids.AGENCY_NAME] == "测试区"
    assert meta[ids.FORM] == "gk2018" and meta[ids.FINGERPRINT] == GK2018.fingerprint
    assert meta[ids.YEAR] == "2018"
    assert meta[ids.UNITS].splitlines() == [f"{c}\t{n}" for c, n in UNITS[:3]]
    result = check_file(path)
    assert result.ret is not None and result.ret.identity.kind == "summary"
    assert result.ret.identity.units == UNITS[:3]
    assert result.report.valid, result.report.findings
    assert result.values == summary.totals


def test_charts_chart_headline_totals_by_unit_and_by_part(mixed: tuple[Summary, Path]) -> None:
    summary, path = mixed
    book = Book(path)
    rows = [r for r in book.grids[CHART_SHEET] if any(r)]
    heads = [i for i, r in enumerate(rows) if str(r[0]).endswith("）") and "（按" in str(r[0])]
    assert [rows[i][0] for i in heads][:3] == ["（一）主动公开政府信息数（按单位）", "（一）收到申请数（按单位）",
                                              "（一）收到申请数（按构成）"]
    by_unit = {r[0]: number(r[1]) for r in rows[heads[0] + 2:heads[1]]}
    assert by_unit == {b.name: Decimal(b.values["2"]) for b in summary.blocks}
    parts = {r[0]: number(r[1]) for r in rows[heads[2] + 2:heads[3]]}
    assert parts == {"1. 当面申请数": summary.totals["23"], "2. 传真申请数": summary.totals["24"],
                     "3. 网络申请数": summary.totals["25"], "4. 信函申请数": summary.totals["26"]}


def test_complete_summary_says_so_and_is_not_overwritten(tmp_path: Path) -> None:
    district(tmp_path / "in", GK2018, UNITS[:2])
    summary = merge([tmp_path / "in"], roster=[Unit(c, n) for c, n in UNITS[:2]], region="测试区", jobs=1)
    path = write_summary(summary, tmp_path / "s.xlsx")
    book = Book(path)
    texts = [v for v in book.grids["汇总表（含校验）"][INFO_ROW] if v]
    assert not any("不完整" in str(t) for t in texts) and "校验通过" in texts
    assert book.get("汇总表", INFO_ROW, 0).endswith("完整：2个单位均已报送并通过校验")
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_summary(summary, path)
    assert path.read_bytes() == before
    write_summary(summary, path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")] == []


def test_explained_warnings_explain_the_summary(tmp_path: Path) -> None:
    """A warning the totals trip carries the units' explanations, so the summary is accepted."""
    figures = []
    for i in range(2):
        f = dict(valid_inputs(GK2018, 70 + i))
        f["2"] += 5
        f["10"] += 5  # every item still published through a channel
        f["3"], f["4"] = Decimal(5), Decimal(0)  # 主动公开规范性文件 > 制发规范性文件: a warning
        figures.append(f)
    for i, f in enumerate(figures):
        write_return(tmp_path / "in" / f"{i}.xlsx", GK2018, f, code=f"U{i}", name=f"单位{i}",
                     notes={"t1.r3": f"公开了以前年度的文件{i}"})
    summary = merge([tmp_path / "in"], region="区", jobs=1)
    assert summary.complete and summary.totals["3"] > summary.totals["4"]
    assert summary.notes["t1.r3"] == "单位0：公开了以前年度的文件0；单位1：公开了以前年度的文件1"
    path = write_summary(summary, tmp_path / "s.xlsx")
    result = check_file(path)
    warnings = [f for f in result.report.findings if f.severity == "warning"]
    assert result.report.valid and warnings and all(f.explained for f in warnings)


def test_grid_form_summary(tmp_path: Path) -> None:
    district(tmp_path / "in", GK2021, UNITS[:3], year=2022)
    summary = merge([tmp_path / "in"], region="区", jobs=1)
    path = write_summary(summary, tmp_path / "s.xlsx")
    book = Book(path)
    assert_totals(book, GK2021, summary)
    assert {s.name for s in layout_of(GK2021, summary=True).sheets} <= set(book.grids)
    detail = DetailLayout(GK2021, 3)
    texts = {t for band in detail.bands for t, *_ in detail.header_texts(band)}
    assert {"第二十条第（一）项", "第1行 一、本年新收政府信息公开申请数量", "自然人", "法人或其他组织", "复议后起诉",
            "行政许可"} <= texts
    assert sorted(detail.col) == sorted(c.key for c in GK2021.value_cells)  # every figure once
    grid = book.grids[DETAIL_SHEET]
    for band in detail.bands:  # official headers where the layout says
        for text, r, c, *_ in detail.header_texts(band):
            assert grid[r][c] == text
    assert unit_figures(path, GK2021) == {b.code: {k: Decimal(v) for k, v in b.values.items() if k in detail.col}
                                          for b in summary.blocks}
    result = check_file(path)
    assert result.report.valid and result.values == summary.totals


def test_year_over_year_per_unit_then_totals_only_when_complete(tmp_path: Path) -> None:
    district(tmp_path / "2021", GK2021, UNITS[:2], year=2021, seed=5)
    last = write_summary(merge([tmp_path / "2021"], jobs=1), tmp_path / "2021.xlsx")
    district(tmp_path / "2022", GK2021, UNITS[:2], year=2022, seed=9)
    now = merge([tmp_path / "2022"], jobs=1, previous=last)
    # each unit against its own row of last year's 分单位明细, as `check --previous` does
    for line in now.register:
        (entry,) = line.entries
        mine = check_file(entry.file)
        expected = compare_years(GK2021, mine.values, GK2021, unit_figures(last, GK2021)[line.code])
        assert expected and [f for f in entry.report.findings if f.code == "previous.mismatch"] == expected
        assert line.status == "invalid"
    # the totals are not compared while units are outstanding, and the summary says why
    assert [f.code for f in now.findings] == ["previous.skipped"]
    assert "不完整" in now.findings[0].message
    # other units (not in last year's detail): each passes, the totals are compared
    district(tmp_path / "new", GK2021, UNITS[2:4], year=2022, seed=9)
    now = merge([tmp_path / "new"], jobs=1, previous=last)
    assert now.complete
    before = merge([tmp_path / "2021"], jobs=1).totals
    differ = [c.code for c in GK2021.tables[-2].columns
              if now.totals[f"t3.2.{c.code}"] != before[f"t3.25.{c.code}"]]
    carried = [f for f in now.findings if f.rule.startswith("Y_t3_carried_in")]
    assert differ and len(carried) == len(differ)
    assert all(f.code == "previous.mismatch" and f.sheet.startswith("汇总表") for f in carried)
    assert all("分单位明细中没有" in e.notices[0] for e in now.entries)
    # the 本年与上年 sheet: each figure beside last year's, the change, the finding
    assert now.last is not None and now.last.file == "2021.xlsx"
    path = write_summary(now, tmp_path / "2022.xlsx")
    book = Book(path)
    rows = book.grids[YEARS_SHEET]
    shown = next(r for r in rows if r[0] == GK2021.cells["t3.2.7"].place)
    this, last_total = now.totals["t3.2.7"], merge([tmp_path / "2021"], jobs=1).totals["t3.2.7"]
    assert [number(x) for x in shown[2:5]] == [this, last_total, this - last_total]
    assert any("上年" in str(r[6]) for r in rows if r[0] == GK2021.cells["t3.2.1"].place) == (
        "1" in differ)
    by_unit = [r for r in book.grids[YEARS_UNIT_SHEET] if r[0] in {c for c, _ in UNITS[2:4]}]
    assert len(by_unit) == 2 and all(r[3] == "—" for r in by_unit)  # not in last year's 分单位明细
    heads = book.grids[YEARS_UNIT_SHEET][2]
    assert heads[2] == "一、本年新收政府信息公开申请数量·总计" and "（七）总计·总计" in heads


def test_nothing_accepted_still_writes_a_readable_summary(tmp_path: Path) -> None:
    bad = dict(valid_inputs(GK2018, 3))
    bad["15"] = bad["14"] + 1
    write_return(tmp_path / "in" / "bad.xlsx", GK2018, bad, code="1", name="甲")
    summary = merge([tmp_path / "in"], region="区", jobs=1)
    assert summary.blocks == [] and all(v == 0 for v in summary.totals.values())
    path = write_summary(summary, tmp_path / "s.xlsx")
    assert_totals(Book(path), GK2018, summary)
    assert check_file(path).values == summary.totals


def test_the_workbook_and_the_csv_written_side_by_side_are_those_written_one_by_one(
        mixed: tuple[Summary, Path], tmp_path: Path) -> None:
    """`write_outputs` writes the CSV in a forked child while it writes the workbook: the same
    files as one after the other, and what the child raised is raised here."""
    from xxgk.report.summary.outputs import write_outputs

    summary, alone = mixed
    write_outputs(summary, tmp_path / "both.xlsx", tmp_path / "both.csv")
    assert (tmp_path / "both.csv").read_bytes() == write_csv(summary, tmp_path / "alone.csv").read_bytes()
    assert _sheet_xml(tmp_path / "both.xlsx") == _sheet_xml(alone)
    (tmp_path / "taken.csv").write_text("x")
    with pytest.raises(FileExistsError, match="taken.csv"):
        write_outputs(summary, tmp_path / "new.xlsx", tmp_path / "taken.csv")
    assert (tmp_path / "taken.csv").read_text() == "x" and (tmp_path / "new.xlsx").is_file()


def _sheet_xml(path: Path) -> dict[str, bytes]:
    """A workbook's parts but its document properties (the time it was written), its own id
    (new for every file written) masked."""
    with zipfile.ZipFile(path) as zf:
        return {n: re.sub(rb"\b[0-9a-f]{32}\b", b"(id)", zf.read(n)) for n in zf.namelist()
                if not n.startswith("docProps/")}


def test_csv_has_every_value_of_every_accepted_return(mixed: tuple[Summary, Path], tmp_path: Path) -> None:
    summary, _ = mixed
    out = write_csv(summary, tmp_path / "long.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    cells = [c for c in GK2018.cells.values() if c.kind != "header"]
    assert len(rows) == len(summary.blocks) * len(cells)
    assert set(rows[0]) == {"年度", "表式", "单位代码", "单位名称", "表", "行次", "指标", "栏次", "栏目", "数值", "指标编码"}
    by_unit: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        assert r["年度"] == "2018" and r["表式"] == "gk2018"
        by_unit.setdefault(r["单位名称"], {})[r["指标编码"]] = Decimal(r["数值"])
    assert set(by_unit) == {n for _, n in UNITS[:3]}
    assert add(*by_unit.values()) == summary.totals
    first = next(r for r in rows if r["指标编码"] == "61")
    assert first["行次"] == "61" and first["指标"].startswith("（四）政府信息公开专项经费")


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_shows_the_same_totals(mixed: tuple[Summary, Path], tmp_path: Path) -> None:
    summary, path = mixed
    # as a person opens it (cached results trusted) and fully recalculated: both show the totals
    trusted = convert([path], "ods", tmp_path / "trusted", tmp_path / "profile-default")
    recalculated = convert([path], "xlsx", tmp_path / "recalc", make_profile(tmp_path / "profile-recalc"))
    for out in (*trusted, *recalculated):
        assert_totals(Book(out), GK2018, summary)
    # saved by LibreOffice, the summary is still an input one level up
    city = merge(recalculated, region="市", jobs=1)
    (entry,) = city.entries
    assert entry.values is not None and {k: Decimal(v) for k, v in entry.values.items()} == summary.totals
    assert entry.units == tuple(summary.units)
    # an incomplete summary never passes silently one level up
    assert [f.message for f in entry.report.findings] == [
        f"该汇总表不完整（{len(UNITS)}个单位中汇总3个）。请补齐后重新汇总，或说明原因。"]
    assert [u.status for u in city.register] == ["invalid"]



def test_csv_lines_are_the_csv_modules(mixed: tuple[Summary, Path]) -> None:
    """The streamed CSV quotes as the csv module does: names with commas, quotes, line breaks."""
    summary, _ = mixed
    names = ['甲,乙', '"引号"单位', "两\n行", " 空格 ", "", "普通单位"]
    block = summary.blocks[0]
    summary = replace(summary, blocks=[replace(block, code=f'c{i},"', name=n) for i, n in enumerate(names)])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(summary))
    assert "".join(csv_lines(summary)) == buffer.getvalue()
