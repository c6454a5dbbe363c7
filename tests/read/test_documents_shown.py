"""Documents read as a person sees them: Word's hidden text, footnote markers, wrappers,
tracked changes and late-starting rows; a browser's hidden elements, markers, line breaks and
span rules; table expansion bounded before anything is expanded."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import docx
import pytest

from books import rezip
from retyped import sound_values, tables, title, to_docx, to_html
from xxgk.check.file import check_file
from xxgk.forms.builtin import builtin
from xxgk.read import html as html_book
from xxgk.read.docx import read_docx
from xxgk.read.returns import ReadError
from xxgk.read.tables import cell_text

GK2021 = builtin("gk2021")
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'


def _blank() -> bytes:
    out = io.BytesIO()
    docx.Document().save(out)
    return out.getvalue()


BLANK = _blank()


def word(body: str, styles: str | None = None) -> bytes:
    """A .docx whose body is ``body`` (WordprocessingML, ``w:`` and ``mc:`` prefixes bound)."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W} {MC}><w:body>{body}</w:body></w:document>'
    replace = {"word/document.xml": xml.encode()}
    if styles is not None:
        replace["word/styles.xml"] = f'<?xml version="1.0"?><w:styles {W}>{styles}</w:styles>'.encode()
    return rezip(BLANK, replace)


def r(text: str, props: str = "") -> str:
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def row(*cells: str, props: str = "") -> str:
    return f"<w:tr><w:trPr>{props}</w:trPr>" + "".join(cells) + "</w:tr>"


def tc(content: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p>{content}</w:p></w:tc>"


def grid_of(body: str, styles: str | None = None) -> list[list[str | int | float]]:
    return read_docx(word(f"<w:tbl>{body}</w:tbl>", styles)).grids["表1"]


def test_hidden_runs_and_hidden_styles_are_not_read() -> None:
    styles = ('<w:style w:type="character" w:styleId="Secret"><w:rPr><w:vanish/></w:rPr></w:style>'
              '<w:style w:type="character" w:styleId="Secret2"><w:basedOn w:val="Secret"/></w:style>')
    got = grid_of(row(tc(r("36") + r("3", "<w:vanish/>")), tc(r("4") + r("5", '<w:rStyle w:val="Secret2"/>')),
                      tc(r("7", '<w:vanish w:val="false"/>'))), styles)
    assert got == [[36, 4, 7]]


def test_superscript_runs_and_note_references_are_markers() -> None:
    got = grid_of(row(tc(r("97") + r("1", '<w:vertAlign w:val="superscript"/>')),
                      tc(r("8") + '<w:r><w:footnoteReference w:id="2"/></w:r>'),
                      tc(r("5") + r("2", '<w:vertAlign w:val="subscript"/>'))))
    assert got == [[97, 8, 5]]


def test_unicode_superscripts_and_circled_numbers_stay_text() -> None:
    assert cell_text("97¹") == "97¹" and cell_text("①") == "①" and cell_text("９７") == "97"
    assert grid_of(row(tc(r("97¹")), tc(r("②"))))[0] == ["97¹", "②"]


def test_grid_before_and_after_put_cells_in_their_columns() -> None:
    got = grid_of(row(tc(r("a")), tc(r("b")), tc(r("c"))) +
                  row(tc(r("5")), props='<w:gridBefore w:val="1"/><w:gridAfter w:val="1"/>'))
    assert got == [["a", "b", "c"], ["", 5, ""]]


@pytest.mark.parametrize("wrap", [
    "<w:ins w:id='1' w:author='x'>{}</w:ins>",
    "<w:moveTo w:id='1' w:author='x'>{}</w:moveTo>",
    "<w:sdt><w:sdtPr/><w:sdtContent>{}</w:sdtContent></w:sdt>",
    "<w:smartTag w:uri='u' w:element='e'>{}</w:smartTag>",
    "<w:customXml w:element='e'>{}</w:customXml>",
    "<w:fldSimple w:instr='=1'>{}</w:fldSimple>",
    "<w:hyperlink>{}</w:hyperlink>",
    "<mc:AlternateContent><mc:Choice Requires='w14'>{}</mc:Choice><mc:Fallback>{}</mc:Fallback></mc:AlternateContent>",
])
def test_text_in_wrappers_is_read_once(wrap: str) -> None:
    assert grid_of(row(tc(r("9") + wrap.format(r("7"), r("7")))))[0] == [97]


def test_fallback_is_read_when_there_is_no_choice() -> None:
    alt = f"<mc:AlternateContent><mc:Fallback>{r('7')}</mc:Fallback></mc:AlternateContent>"
    assert grid_of(row(tc(r("9") + alt)))[0] == [97]


def test_deleted_text_rows_and_cells_are_not_read() -> None:
    deleted = "<w:del w:id='1' w:author='x'><w:r><w:delText>3</w:delText></w:r></w:del>"
    moved = f"<w:moveFrom w:id='2' w:author='x'>{r('4')}</w:moveFrom>"
    got = grid_of(row(tc(r("1") + deleted + moved), tc(r("2"))) +
                  row(tc(r("8")), tc(r("9")), props="<w:del w:id='3' w:author='x'/>") +
                  row(tc(r("5")), tc(r("x"), "<w:cellDel w:id='4' w:author='x'/>"), tc(r("6"))))
    assert got == [[1, 2], [5, 6]]


def test_block_wrappers_around_rows_and_cells_are_opened() -> None:
    sdt_row = f"<w:sdt><w:sdtContent>{row(tc(r('3')), tc(r('4')))}</w:sdtContent></w:sdt>"
    custom_cell = f"<w:customXml w:element='e'>{tc(r('6'))}</w:customXml>"
    assert grid_of(sdt_row + row(tc(r("5")), custom_cell)) == [[3, 4], [5, 6]]


def test_two_paragraphs_or_a_break_in_a_cell_are_two_figures() -> None:
    two = "<w:tc><w:p>" + r("3") + "</w:p><w:p>" + r("5") + "</w:p></w:tc>"
    brk = tc("<w:r><w:t>3</w:t><w:br/><w:t>5</w:t></w:r>")
    assert grid_of(row(two, brk))[0] == ["3 5", "3 5"]


def test_merges_are_expanded_as_before() -> None:
    got = grid_of(row(tc(r("g"), '<w:vMerge w:val="restart"/>'), tc(r("h"), '<w:gridSpan w:val="2"/>')) +
                  row(tc("", "<w:vMerge/>"), tc(r("1")), tc(r("2"))))
    assert got == [["g", "h", ""], ["g", 1, 2]]


def test_a_hidden_title_paragraph_is_not_the_title() -> None:
    doc = word(f"<w:p>{r('某局2021年政府信息公开工作年度报告')}</w:p><w:p>{r('假2020', '<w:vanish/>')}</w:p>"
               f"<w:tbl>{row(tc(r('1')))}</w:tbl>")
    assert "假" not in read_docx(doc).title


@pytest.mark.parametrize("body", [
    row(tc(r("1"), '<w:gridSpan w:val="1000000000"/>')),
    row(tc(r("1")), props='<w:gridBefore w:val="999999999999999"/>'),
    (row(tc(r("1"), '<w:vMerge w:val="restart"/>' + '<w:gridSpan w:val="60"/>'))
     + row(tc("", '<w:vMerge/><w:gridSpan w:val="60"/>')) * 4000),
])
def test_tables_that_expand_without_limit_are_refused_quickly(body: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ReadError) as info:
        grid_of(body)
    assert info.value.code == "file.too_large" and "表格" in info.value.detail
    assert time.perf_counter() - start < 5


def test_thousands_of_vertical_merges_and_empty_paragraphs_are_linear() -> None:
    merges = row(tc(r("a"), '<w:vMerge w:val="restart"/>'), tc(r("1"))) + row(tc("", "<w:vMerge/>"), tc(r("2"))) * 3000
    grid = grid_of(merges)
    assert len(grid) == 3001 and grid[-1] == ["a", 2]
    with pytest.raises(ReadError) as info:
        read_docx(word("<w:p/>" * 200_000 + f"<w:tbl>{row(tc(r('1')))}</w:tbl>"))
    assert info.value.code == "file.too_large" and "段落" in info.value.detail


def test_tables_nested_too_deep_are_refused() -> None:
    body = "1"
    for _ in range(8):
        body = f"<w:tbl><w:tr><w:tc><w:p/>{body}</w:tc></w:tr></w:tbl>" if body != "1" else f"<w:tbl>{row(tc(r('1')))}</w:tbl>"
    with pytest.raises(ReadError) as info:
        read_docx(word(body))
    assert "嵌套" in info.value.detail


def test_a_report_with_hidden_and_marked_figures_reads_as_printed(tmp_path: Path) -> None:
    """End to end: a retyped report whose value cells carry hidden digits, a superscript marker
    and text split across tracked insertions is valid with the figures printed."""
    path = to_docx(tables(GK2021, sound_values(GK2021)), title(2021), tmp_path / "r.docx")
    data = path.read_bytes()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    n = 0
    for number in ("<w:t>3</w:t>", "<w:t>5</w:t>", "<w:t>10</w:t>"):
        if number in xml:
            digit = number[5:-6]
            xml = xml.replace(number, f"<w:t>{digit}</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>9</w:t></w:r>"
                              f"<w:r><w:rPr><w:vertAlign w:val='superscript'/></w:rPr><w:t>1</w:t>", 1)
            n += 1
    assert n
    (tmp_path / "m.docx").write_bytes(rezip(data, {"word/document.xml": xml.encode()}))
    plain, marked = check_file(path), check_file(tmp_path / "m.docx")
    assert plain.valid and marked.valid, [f.message for f in marked.report.findings]
    assert plain.values == marked.values


# ---------------------------------------------------------------- web pages


def page_grid(table: str) -> list[list[str | int | float]]:
    return html_book.read_html(f"<html><body><table>{table}</table></body></html>".encode()).grids["表1"]


def test_hidden_elements_are_not_read() -> None:
    got = page_grid(
        "<tr><td>36<span style='display:none'>3</span></td><td>4<span hidden>1</span></td>"
        "<td>5<span style='visibility:hidden'>2</span></td><td>6<template>9</template><script>1</script></td>"
        "<td><details>8<summary>7</summary></details></td>"
        "<td style='display: none !important'>99</td><td>2</td></tr>"
        "<tr style='display:none'><td>9</td><td>9</td></tr>"
        "<tr><td>1</td><td style='visibility:hidden'>9</td></tr>")
    assert got == [[36, 4, 5, 6, 7, 2], [1, "", "", "", "", ""]]


def test_visibility_can_be_turned_back_on_and_open_details_are_shown() -> None:
    got = page_grid("<tr><td style='visibility:hidden'>1<b style='visibility:visible'>2</b></td>"
                    "<td><details open><summary>a</summary>3</details></td></tr>")
    assert got == [[2, "a 3"]]


def test_sup_and_sub_are_markers_and_breaks_are_lines() -> None:
    got = page_grid("<tr><td>97<sup>1</sup></td><td>5<sub>2</sub></td><td>3<br>5</td><td><p>3</p><p>5</p></td>"
                    "<td>3<div>5</div></td><td>1<span>2</span></td></tr>")
    assert got == [[97, 5, "3 5", "3 5", "3 5", 12]]


@pytest.mark.parametrize(("value", "expected"), [
    ("3px", 3), ("3.0", 3), (" +3", 3), ("-3", None), ("x", None), ("", None), ("0", 0), ("007", 7),
])
def test_spans_are_parsed_by_the_html_rules(value: str, expected: int | None) -> None:
    assert html_book.span(value) == expected


def test_colspan_and_rowspan_as_browsers_lay_them_out() -> None:
    got = page_grid("<tr><td colspan='2px'>a</td><td rowspan='0'>z</td></tr>"
                    "<tr><td colspan=0>b</td><td rowspan='2.0'>c</td></tr><tr><td>d</td></tr>")
    assert got == [["a", "", "z"], ["b", "c", "z"], ["d", "c", "z"]]


def test_rowspan_0_ends_with_its_row_group_and_thead_comes_first() -> None:
    got = page_grid("<tbody><tr><td rowspan=0>a</td><td>1</td></tr><tr><td>2</td></tr></tbody>"
                    "<thead><tr><td>h</td><td>k</td></tr></thead>"
                    "<tbody><tr><td>b</td><td>3</td></tr></tbody>")
    assert got == [["h", "k"], ["a", 1], ["a", 2], ["b", 3]]


def test_a_nested_table_is_its_own_table() -> None:
    page = "<html><body><table><tr><td>x<table><tr><td>1</td><td>2</td></tr></table></td></tr></table></body></html>"
    grids = html_book.read_html(page.encode()).grids
    assert grids == {"表1": [["x"]], "表2": [[1, 2]]}


def test_a_report_with_hidden_rows_and_markers_reads_as_printed(tmp_path: Path) -> None:
    path = to_html(tables(GK2021, sound_values(GK2021)), title(2021), tmp_path / "r.html")
    page = path.read_text(encoding="utf-8")
    marked = page.replace("<td>3</td>", "<td>3<sup>2</sup><span style='display:none'>8</span></td>")
    marked = marked.replace("<tr>", "<tr style='display:none'><td>总计</td><td>99</td></tr><tr>", 3)
    assert marked != page
    (tmp_path / "m.html").write_text(marked, encoding="utf-8")
    plain, got = check_file(path), check_file(tmp_path / "m.html")
    assert plain.valid and got.valid, [f.message for f in got.report.findings]
    assert plain.values == got.values


def test_a_page_with_two_figures_in_a_cell_is_not_valid(tmp_path: Path) -> None:
    path = to_html(tables(GK2021, sound_values(GK2021)), title(2021), tmp_path / "r.html")
    page = path.read_text(encoding="utf-8")
    (tmp_path / "m.html").write_text(page.replace("<td>3</td>", "<td>3<br>5</td>", 1), encoding="utf-8")
    assert not check_file(tmp_path / "m.html").valid
