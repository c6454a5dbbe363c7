"""Pre-flight: a sheet's used area measured before python-calamine allocates it — cells far
apart refused however they are written, small sheets let through, every sheet calamine would
parse measured wherever its part is stored."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

import lo
from books import rezip
from refusals import good_return, refused
from xxgk.read.returns import ReadError
from xxgk.read.safety import extent, ole, zipcheck
from xxgk.read.safety import preflight as safety


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return good_return(tmp_path_factory)


# ---------------------------------------------------------------- sparse sheets

FAR_CORNER = """
import sys, xlsxwriter
from xxgk.read.open import read
from xxgk.read.returns import ReadError
wb = xlsxwriter.Workbook(sys.argv[1])
ws = wb.add_worksheet("统计表")
ws.write(0, 0, "一、主动公开情况")
ws.write(int(sys.argv[2]), int(sys.argv[3]), 1)
wb.close()
try:
    read(sys.argv[1])
except ReadError as err:
    print(err.code, err.detail)
"""


@pytest.mark.parametrize(("row", "col"), [(1048575, 16383), (1048575, 5), (3000, 1000)])
def test_far_apart_cells_are_refused_not_allocated(tmp_path: Path, row: int, col: int) -> None:
    """python-calamine allocates the whole used area of a sheet at once; two cells at far
    corners would abort the process.  Run in a child so a regression cannot kill pytest."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FAR_CORNER, str(tmp_path / "far.xlsx"), str(row), str(col)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.startswith("file.too_large"), out.stdout
    assert f"{row + 1}行" in out.stdout


@pytest.mark.parametrize(
    "cells",
    [
        '<c r="A1"><v>1</v></c><c r="XFD1048576"><v>1</v></c>',  # far reference
        '<c r="A1"><v>1</v></c><c s="1" r="XFD1048576"><v>1</v></c>',  # reference not first
        '<x:c r="A1"><x:v>1</x:v></x:c><x:c r="XFD1048576"><x:v>1</x:v></x:c>',  # prefixed cells
        '<c r="A1"><v>1</v></c><c r="A99999"><v>1</v></c><c r="ZZ1"><v>1</v></c>',  # far apart
    ],
)
def test_far_cells_are_found_however_they_are_written(cells: str) -> None:
    xml = f'<worksheet><sheetData><row r="1">{cells}</row></sheetData></worksheet>'.encode()
    with pytest.raises(ReadError) as info:
        extent.check_sheet_extent("sheet1.xml", xml)
    assert info.value.code == "file.too_large"


@pytest.mark.parametrize(
    "cells",
    [
        '<c r="A1" s="1" t="s"><v>0</v></c><c r="Z9999"><v>1</v></c>',  # the fast path
        '<c r="A1"><v>1</v></c><c r="XFD1048576" s="3"/>',  # a far styled cell holds nothing
        "<c><v>1</v></c><c><v>2</v></c>",  # no references at all
        '<x:c r="B2"><x:v>1</x:v></x:c>',
    ],
)
def test_small_sheets_pass_however_they_are_written(cells: str) -> None:
    xml = f'<worksheet><sheetData><row r="1">{cells}</row></sheetData></worksheet>'.encode()
    extent.check_sheet_extent("sheet1.xml", xml)


def test_wide_but_small_sheet_is_fine(tmp_path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(tmp_path / "w.xlsx")
    ws = wb.add_worksheet("S")
    ws.write(0, 0, "x")
    ws.write(40000, 40, 1)  # column AO, row 40001: 1.6 million cells in all, within the limit
    wb.close()
    safety.preflight((tmp_path / "w.xlsx").read_bytes())


def test_ods_with_a_value_repeated_across_the_sheet(tmp_path: Path) -> None:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="o" xmlns:table="t" '
        'xmlns:text="x"><office:body><office:spreadsheet><table:table table:name="统计表">'
        '<table:table-row table:number-rows-repeated="5000"><table:table-cell office:value-type="float" '
        'office:value="1" table:number-columns-repeated="1000"><text:p>1</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    assert "5000行×1000列" in refused(tmp_path, buf.getvalue(), "file.too_large", "r.ods").detail


def test_biff_cells_far_apart_are_refused() -> None:
    def record(typ: int, body: bytes) -> bytes:
        return struct.pack("<HH", typ, len(body)) + body

    bof = record(0x0809, b"\x00\x06\x10\x00" + b"\x00" * 12)
    near = bof + record(0x0203, struct.pack("<HHHd", 0, 0, 15, 1.0)) + record(0x000A, b"")
    far = near + bof + record(0x0203, struct.pack("<HHHd", 0, 0, 15, 1.0)) + \
        record(0x027E, struct.pack("<HHHI", 65535, 255, 15, 2)) + record(0x000A, b"")
    extent.check_biff_extent(near)
    with pytest.raises(ReadError) as info:
        extent.check_biff_extent(far)
    assert info.value.code == "file.too_large" and "65536行×256列" in info.value.detail


@pytest.mark.libreoffice
@pytest.mark.skipif(lo.soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_xls_sheets_are_measured(tmp_path: Path) -> None:
    """Two values at the corners of an .xls sheet cost python-calamine over 1 GB: refused.
    A tiny .xls keeps its workbook stream in the compound file's mini stream: still read."""
    import xlsxwriter

    for name, far in (("far", True), ("tiny", False)):
        wb = xlsxwriter.Workbook(tmp_path / f"{name}.xlsx")
        ws = wb.add_worksheet("S")
        ws.write(0, 0, "x")
        if far:
            ws.write(65535, 255, 7)
        wb.close()
    far_xls, tiny_xls = lo.convert([tmp_path / "far.xlsx", tmp_path / "tiny.xlsx"], "xls", tmp_path / "xls",
                                   lo.make_profile(tmp_path / "profile"))
    assert "65536行×256列" in refused(tmp_path, far_xls.read_bytes(), "file.too_large", "far.xls").detail
    cfb = ole.Compound(tiny_xls.read_bytes())
    assert cfb.entries["Workbook"][2] < cfb.cutoff  # in the mini stream
    assert cfb.stream("Workbook")[:2] == b"\x09\x08"  # a BIFF BOF record
    assert safety.preflight(tiny_xls.read_bytes()).kind == "xls"
    refused(tmp_path, tiny_xls.read_bytes(), "file.not_ours", "tiny.xls")


FAR_IN_UNREAD_SHEET = """
import sys, xlsxwriter
from xxgk.read.safety import preflight as safety
from xxgk.read.open import read
from xxgk.read.returns import ReadError
from xxgk.forms.builtin import builtin
from xxgk.write.template import write_template
path = sys.argv[1]
write_template(builtin("gk2018"), path, year=2018, agency="甲单位", code="1")
import openpyxl
wb = openpyxl.load_workbook(path)
ws = wb.create_sheet("附表", int(sys.argv[2]))
ws["A1"] = "x"
ws.cell(row=1048576, column=16384, value=1)
wb.save(path)
ret = read(path)  # the form sheet is vetted and parsed; 附表 is never parsed, so never vetted
print("read", ret.identity.agency_name)
data = open(path, "rb").read()
pre = safety.preflight(data, lazy=True)
try:
    pre.vet_sheet("附表")
except ReadError as err:
    print("lazy", err.code)
try:
    safety.preflight(data)
except ReadError as err:
    print("full", err.code)
"""


@pytest.mark.parametrize("position", [0, 4])  # before the form's sheet, and last
def test_lazy_vetting_covers_exactly_the_sheets_parsed(tmp_path: Path, position: int) -> None:
    """`read` vets only the sheets it parses; asking for another sheet, or a full check (as
    annotate does before openpyxl loads every sheet), still refuses the far corner."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FAR_IN_UNREAD_SHEET, str(tmp_path / "f.xlsx"), str(position)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["read", "甲单位", "lazy", "file.too_large", "full", "file.too_large"]


def test_a_sheet_whose_part_is_unknown_is_vetted_with_every_pending_part(good: bytes) -> None:
    pre = safety.preflight(good, lazy=True)
    assert pre.pending
    pre.vet_sheet("no such sheet")
    assert pre.pending == {}


# ---------------------------------------------------------------- cells written every way calamine reads them
# (found by review: each of these once reached python-calamine and aborted the process)

FAR = "XFD1048576"


@pytest.mark.parametrize(
    "cells",
    [
        f'<c\tr="{FAR}"><v>1</v></c>',  # a tab after the tag name
        f'<c\nr="{FAR}"><v>1</v></c>',  # a newline
        f"<c r='{FAR}'><v>1</v></c>",  # single quotes
        f'<c r = "{FAR}"><v>1</v></c>',  # spaces around =
        f'<c r="{FAR.lower()}"><v>1</v></c>',  # lower case
        '<c r="XFD0001048576"><v>1</v></c>',  # leading zeros
        f'<c r="{FAR}" x="/"><v>1</v></c>',  # a slash in a later attribute
        f'<c x=">" r="{FAR}"><v>1</v></c>',  # a ">" in an earlier attribute
        f'<x:c\tr="{FAR}"><x:v>1</x:v></x:c>',  # prefixed, with a tab
        f'<c foo=" r=\'A1\'" r="{FAR}"><v>1</v></c>',  # a decoy reference inside another attribute
        '</row><row r="1048576"><c r="XFC1048576"/><c><v>1</v></c>',  # an empty cell moves the next one along
    ],
)
def test_far_cells_are_found_however_the_tag_is_written(cells: str) -> None:
    xml = f'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c>{cells}</row></sheetData></worksheet>'
    with pytest.raises(ReadError) as info:
        extent.check_sheet_extent("sheet1.xml", xml.encode())
    assert info.value.code == "file.too_large"


def test_cells_without_references_follow_their_rows_as_calamine_places_them() -> None:
    far_row = ('<worksheet><sheetData><row r="1"><c r="XFD1"><v>1</v></c></row>'
               '<row r="1048576"><c><v>1</v></c></row></sheetData></worksheet>')
    with pytest.raises(ReadError) as info:
        extent.check_sheet_extent("sheet1.xml", far_row.encode())
    assert "1048576行×16384列" in info.value.detail
    empty_rows = "<sheetData><row/><row/><row><c/><c/><c><v>1</v></c></row></sheetData>"
    assert extent.used_area(empty_rows.encode(), 0, 10**6) == (3, 3)  # as calamine places it
    rows = "".join(f"<row>{'<c><v>1</v></c>' * 10}</row>" for _ in range(1000))
    assert extent.used_area(f"<sheetData>{rows}</sheetData>".encode(), 0, 10**6) == (1000, 10)


def _relocated(good: bytes, target: str, part: str, sheet: bytes) -> bytes:
    """``good`` with its first sheet moved to ``part`` (named ``target`` in the relationships)."""
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rels = rels.replace('Target="/xl/worksheets/sheet1.xml"', f'Target="{target}"', 1)
    assert target in rels
    data = rezip(good, {"xl/_rels/workbook.xml.rels": rels.encode()}, {part: sheet})
    return data


FAR_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">'
             b'<c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')


@pytest.mark.parametrize(("target", "part"), [("sheet1.xml", "xl/sheet1.xml"),
                                              ("worksheets/sheet1.dat", "xl/worksheets/sheet1.dat"),
                                              ("/xl/worksheets/far.xml", "xl/worksheets/far.xml"),
                                              ("xl/worksheets/far.xml", "xl/worksheets/far.xml"),
                                              # as calamine finds them (measured): ASCII case ignored,
                                              # the last of the names that match
                                              ("worksheets/sheet1.xml", "xl/Worksheets/sheet1.xml"),
                                              ("Worksheets/Far.XML", "xl/worksheets/far.xml"),
                                              ("/XL/worksheets/far.xml", "xl/worksheets/far.xml"),
                                              # "/" is the archive's root; "xl/…" is under xl/ again
                                              ("/sheet1.xml", "sheet1.xml"),
                                              ("xl/worksheets/far.xml", "xl/xl/worksheets/far.xml")])
@pytest.mark.parametrize("lazy", [True, False])
def test_a_sheet_stored_anywhere_is_measured(good: bytes, target: str, part: str, lazy: bool) -> None:
    data = _relocated(good, target, part, FAR_SHEET)
    with pytest.raises(ReadError) as info:
        if lazy:
            safety.preflight(data, lazy=True).vet_sheet("统计表")
        else:
            safety.preflight(data)
    assert info.value.code == "file.too_large" and part in info.value.detail


def test_the_sheet_map_reads_workbook_xml_as_calamine_does() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", (
            '<workbook xmlns:r="r" xmlns:x="x"><sheets>'
            '<sheet name="甲" x:id="rId9" r:id="rId1"/>'  # r:id, not the first *:id
            '<sheet name="甲" r:id="rId2"/>'  # a second sheet of the same name: calamine opens the first
            '<sheet name="&#x80;&amp;" r:id="rId3"/>'  # XML escapes, not HTML's
            "</sheets></workbook>"))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            "<Relationships><Relationship Id = 'rId1' Target='worksheets/a.xml'/>"  # quotes, spaces
            '<!-- <Relationship Id="rId1" Target="worksheets/decoy.xml"/> -->'  # not markup
            '<Relationship Id="rId2" Target="worksheets/b.xml"/><Relationship Id="rId3" Target="/xl/c.xml"/>'
            '<Relationship Id="rId9" Target="worksheets/z.xml"/></Relationships>'))
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        parts = zipcheck.sheet_parts(zf)
    assert parts == {"甲": "xl/worksheets/a.xml", "\x80&": "xl/c.xml"}


def test_xlsb_is_refused_with_a_way_out(tmp_path: Path, good: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/workbook.xml":
                zout.writestr(info, zin.read(info))
        zout.writestr("xl/workbook.bin", b"\x83\x01\x00")
    err = refused(tmp_path, buf.getvalue(), "file.unreadable")
    assert "xlsb" in err.detail and "另存为.xlsx" in err.detail
