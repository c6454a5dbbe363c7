"""Every workbook xxgk writes, printed by LibreOffice (PDF) and read back page by page:
page counts, what sits on which page, nothing cut at the page's edge or under a row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lo import convert, make_profile, pdf_pages, soffice
from printed import build
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import SIGNATURE

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed"),
]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Name → the text of each printed page (one soffice run for all PDFs)."""
    work = tmp_path_factory.mktemp("printed")
    profile = make_profile(work / "profile")
    made = build(work / "out", profile)
    pdfs = convert(list(made.values()), "pdf", work / "pdf", profile)
    return {name: pdf_pages(pdf) for name, pdf in zip(made, pdfs, strict=True)}


def test_the_2018_template_prints_its_table_on_one_page(pages: dict[str, list[str]]) -> None:
    first, second = pages["模板2018"][0], pages["模板2018"][1]
    assert "沙坡头区机关事务局政府信息公开情况统计表（2018年度）" in first
    assert "（三）接受培训人员数" in first and all(name in first for name in SIGNATURE)  # row 65, signature
    assert "填报说明" in second and "统计年度" not in second


@pytest.mark.parametrize(("name", "form"), [("模板2018", "gk2018"), ("模板2020", "gk2019"), ("模板2025", "gk2021")])
def test_each_form_sheet_on_one_page_and_the_guide_whole(pages: dict[str, list[str]], name: str, form: str) -> None:
    definition = builtin(form)
    table_pages = [p for p in pages[name] if "统计年度" in p]
    assert len(table_pages) == len(definition.sheets)  # each sheet of the form on one page
    assert all("第 " in p for p in table_pages)
    printed = squash("".join(pages[name]))
    for _, text in definition.guide:  # 填报说明 not wider than the page: no line loses its end
        assert squash(text) in printed


def test_gk2021_table_two_has_its_code_rows(pages: dict[str, list[str]]) -> None:
    two = next(p for p in pages["模板2025"] if "第二十条第（五）项" in p)
    assert two.count("栏次") == 4  # every block of 表二, one-column blocks too


@pytest.mark.parametrize("name", ["标注xlsx", "标注xls"])
def test_annotated_copies(pages: dict[str, list[str]], name: str) -> None:
    result = pages[name][0]
    assert "校验结果" in result and "严重程度" in result and "情况说明" in result  # one page wide
    table = next(p for p in pages[name] if "统计年度" in p)
    assert "另有" in table or "发现" in table  # the sheet's status agrees with 校验结果
    assert "校验通过" not in table.replace("“校验通过”", "")


def test_the_xls_copy_is_drawn_in_the_template(pages: dict[str, list[str]]) -> None:
    table = next(p for p in pages["标注xls"] if "统计年度" in p)
    assert "校验提示" in table and "情况说明" in table and "李明" in table  # layout, working columns, signature


def test_the_district_summaries_print_in_few_pages(pages: dict[str, list[str]]) -> None:
    # before: 20 pages (2018) and 90 (2025 with last year's summary), 49 without it; then 14, 29 and 26
    assert len(pages["汇总2018"]) <= 9
    assert len(pages["汇总2025"]) <= 18
    assert len(pages["汇总2025无上年"]) <= 15
    official = pages["汇总2025"][0]
    # 东园镇 fails its own year-over-year checks against last year's 分单位明细: 28 of 29 summed
    assert "汇总地区：沙坡头区" in official and "汇总单位数：28" in official
    assert "不完整：1个单位未报送或未通过校验" in squash(official)  # wrapped under the title, not cut
    assert "校验提示" not in official and "情况说明" not in official
    last = next(p for p in pages["汇总2025"] if "四、政府信息公开行政复议" in p)
    assert "制表人" in last


def test_summary_sheets_show_their_wrapped_text_whole(pages: dict[str, list[str]]) -> None:
    summary = pages["汇总2025"]
    printed = squash("".join(summary))
    first = next(i for i, p in enumerate(summary) if "报送情况（" in p)
    end = next(i for i, p in enumerate(summary) if "校验问题（" in p)
    register = squash("".join(summary[first:end]))
    files = list((Path(__file__).resolve().parents[2] / "samples" / "returns" / "2025").iterdir())
    assert register.count(".xlsx") == len(files) == 29  # each wrapped file name's last line shows
    assert "本年与上年（2025年与2024年）" in printed
    assert "二、上年结转政府信息公开申请数量”应等于上年" in printed  # the year-over-year finding beside


def _detail_pages(summary: list[str]) -> list[str]:
    first = next(i for i, p in enumerate(summary) if "分单位明细（" in p)
    end = next(i for i, p in enumerate(summary) if i > first and "汇总地区：" in p)  # the working copy
    return summary[first:end]


UNIT_NAMES = [line.split(",")[1] for line in
              (Path(__file__).resolve().parents[2] / "samples" / "roster.csv").read_text(encoding="utf-8-sig").splitlines()[1:]]


@pytest.mark.parametrize("name", ["汇总2018", "汇总2025", "汇总2025无上年"])
def test_every_page_of_the_detail_opens_with_its_header_and_names_every_unit(
        pages: dict[str, list[str]], name: str) -> None:
    detail = _detail_pages(pages[name])
    assert 1 <= len(detail) <= 4
    for page in detail:  # a page break before a band only: its header on top of every page
        assert "代码" in page and "单位" in page and ("栏次" in page or "行次" in page)
        assert squash(page).count("合计") >= 1
    if name == "汇总2025无上年":  # all 29 of the roster: every unit's whole name, shrunk into its cell, on every page
        for page in detail:
            assert all(unit in squash(page) for unit in UNIT_NAMES)
        three = [p for p in detail if "三、收到和处理政府信息公开申请情况" in p]
        assert len(three) <= 3  # table 三's 25 rows by 7 columns: two bands a page, no half-empty pages


def test_the_charts_name_every_unit_and_none_is_cut(pages: dict[str, list[str]]) -> None:
    summary = pages["汇总2025无上年"]
    charts = [p for p in summary if "年度图表" in p]
    assert len(charts) == 1 and squash(charts[0]).count("（按单位）") == 4  # both by-unit charts, whole, on one page
    for unit in UNIT_NAMES:  # each chart's table and each bar's label: nothing thinned out
        assert squash(charts[0]).count(unit) >= 4, unit
    parts = [p for p in summary if "（按构成）" in p and "年度图表" not in p]
    assert len(parts) == 1  # the charts by part on the next page
