"""The report as a document: the same pre-flight as a workbook's (archive, XML prolog, sizes),
plus what a web page can do (entity declarations, nesting, spans)."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from books import rezip
from retyped import sound_values, tables, title, to_docx, to_html
from xxgk.check.checking import check_return
from xxgk.forms.builtin import builtin
from xxgk.read import html as html_book
from xxgk.read.open import read
from xxgk.read.returns import ReadError

GK2021 = builtin("gk2021")


def refused(path: Path, code: str) -> ReadError:
    with pytest.raises(ReadError) as info:
        read(path)
    assert info.value.code == code, (info.value.code, info.value.detail)
    return info.value


def a_docx(tmp_path: Path) -> Path:
    return to_docx(tables(GK2021, sound_values(GK2021)), title(2021), tmp_path / "r.docx")


def test_a_dtd_in_a_word_part_is_refused(tmp_path: Path) -> None:
    good = a_docx(tmp_path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        doc = zf.read("word/document.xml")
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + doc[doc.index(b"<w:document"):]
    (tmp_path / "bomb.docx").write_bytes(rezip(good, {"word/document.xml": bomb}))
    refused(tmp_path / "bomb.docx", "file.unsafe_xml")


def test_a_dtd_in_the_core_properties_is_refused_too(tmp_path: Path) -> None:
    """python-docx parses docProps/core.xml, which a workbook's lazy check leaves alone."""
    good = a_docx(tmp_path).read_bytes()
    core = b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><cp:coreProperties/>'
    (tmp_path / "core.docx").write_bytes(rezip(good, {"docProps/core.xml": core}))
    refused(tmp_path / "core.docx", "file.unsafe_xml")


def test_a_zip_bomb_named_docx_is_refused_before_parsing(tmp_path: Path) -> None:
    good = a_docx(tmp_path).read_bytes()
    huge = b"<w:document>" + b" " * (300 * 1024 * 1024 // 4) * 4
    (tmp_path / "z.docx").write_bytes(rezip(good, {"word/document.xml": huge}))
    refused(tmp_path / "z.docx", "file.too_large")


def test_an_entity_declaration_in_a_page_is_refused(tmp_path: Path) -> None:
    page = b'<!DOCTYPE html [<!ENTITY a "xxxxxxxx">]><html><body><table><tr><td>&a;</td></tr></table></body></html>'
    (tmp_path / "e.html").write_bytes(page)
    refused(tmp_path / "e.html", "file.unsafe_xml")


def test_a_page_nested_past_the_limit_is_refused(tmp_path: Path) -> None:
    depth = html_book.MAX_DEPTH + 50
    page = "<html><body>" + "<div>" * depth + "x" + "</div>" * depth + "</body></html>"
    (tmp_path / "n.html").write_text(page, encoding="utf-8")
    with pytest.raises(ReadError) as info:
        read(tmp_path / "n.html")
    assert info.value.code in ("file.too_large", "file.not_ours")  # refused, or cut by libxml2 and found empty


def test_spans_past_the_table_are_clamped(tmp_path: Path) -> None:
    page = ("<html><body><table><tr><td rowspan=65534 colspan=99999>a</td><td>b</td></tr>"
            "<tr><td>c</td></tr></table></body></html>")
    grid = html_book.read_html(page.encode()).grids["表1"]
    # a rowspan stops at the table's last row, a colspan at 1000 (as browsers do)
    assert len(grid) == 2 and len(grid[0]) == html_book.MAX_SPAN + 1
    assert (grid[0][0], grid[1][0], grid[0][-1], grid[1][-1]) == ("a", "a", "b", "c")


def test_nbsp_cells_are_blank(tmp_path: Path) -> None:
    values: dict[str, Decimal | None] = dict(sound_values(GK2021))
    values["t2_8.1.1"] = None  # 行政事业性收费 left blank on the page (&nbsp;)
    ret = read(to_html(tables(GK2021, values), title(2021), tmp_path / "r.html"))
    assert ret.cells["t2_8.1.1"].value in (None, "")
    assert [f.code for f in check_return(ret).report.findings] == ["value.blank"]
