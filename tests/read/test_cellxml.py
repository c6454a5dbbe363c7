"""Input cells whose stored value is not what the spreadsheet shows (issue 11, items 3–5):
formulas with a stale cached result, TRUE typed in LibreOffice (``=TRUE()``), error values,
and numbers shown through date formats python-calamine does not recognise."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import lo
from books import fill_template, rezip
from xxgk.check.file import check_file
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of
from xxgk.read import cellxml
from xxgk.read.open import read_bytes
from xxgk.read.returns import RawCell

GK2018 = builtin("gk2018")
LAY = layout_of(GK2018)


def a1(key: str) -> str:
    return LAY.places[key].a1


def codes(result: Any) -> dict[str, str]:
    """Finding code by indicator, for value findings."""
    return {f.indicator: f.code for f in result.report.findings if f.code.startswith("value.")}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fill_template(tmp_path_factory.mktemp("cellxml") / "base.xlsx", GK2018)


def sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


def with_cell(data: bytes, address: str, cell_xml: str) -> bytes:
    """The workbook with sheet1's cell ``address`` replaced by ``cell_xml``."""
    xml = sheet_xml(data)
    pattern = re.compile(rb'<c r="' + address.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    assert pattern.search(xml), address
    return rezip(data, {"xl/worksheets/sheet1.xml": pattern.sub(cell_xml.encode(), xml, count=1)})


# ---------------------------------------------------------------- stale cached results (item 4)


@pytest.mark.parametrize(
    ("formula", "cached", "shown"),
    [("23+1000", "23", 1023), ("SUM(1,2,3)", "0", 6), ("(1+2)*4-6/3", "1", 10), ("-(-5)", "", 5)],
)
def test_a_formula_of_numbers_is_read_as_the_spreadsheet_shows_it(
    base: Path, formula: str, cached: str, shown: int
) -> None:
    data = with_cell(base.read_bytes(), a1("23"), f'<c r="{a1("23")}"><f>{formula}</f><v>{cached}</v></c>')
    ret = read_bytes(data)
    assert ret.cells["23"].value == Decimal(shown)
    path = base.with_name("stale.xlsx")
    path.write_bytes(data)
    result = check_file(path)
    assert result.values["23"] == shown
    assert result.values["22"] == sum(result.values[k] for k in ("23", "24", "25", "26"))


@pytest.mark.parametrize(
    ("formula", "found"),
    [("C5+1000", "=C5+1000"), ("1/3", "=1/3"), ("NOW()", "=NOW()"), ("1/0", "=1/0"), ("'统计表'!D5", "='统计表'!D5")],
)
def test_any_other_formula_in_an_input_cell_is_refused(base: Path, formula: str, found: str) -> None:
    data = with_cell(base.read_bytes(), a1("23"), f'<c r="{a1("23")}"><f>{formula}</f><v>23</v></c>')
    path = base.with_name("formula.xlsx")
    path.write_bytes(data)
    result = check_file(path)
    bad = [f for f in result.report.findings if f.code == "value.formula"]
    assert [(f.indicator, f.found, f.cell) for f in bad] == [("23", found, a1("23"))]
    assert "删除公式" in bad[0].message
    assert "23" not in result.values and "22" not in result.values  # never the cached 23
    assert not result.valid


def test_shared_formulas_and_cells_placed_without_references(base: Path) -> None:
    data = base.read_bytes()
    # a shared formula of numbers: its master elsewhere on the sheet, the input cell a child
    data = with_cell(data, a1("24"), f'<c r="{a1("24")}"><f t="shared" ref="{a1("24")}:{a1("25")}" si="0">2*3</f><v>1</v></c>')
    data = with_cell(data, a1("25"), f'<c r="{a1("25")}"><f t="shared" si="0"/><v>1</v></c>')
    ret = read_bytes(data)
    assert (ret.cells["24"].value, ret.cells["25"].value) == (6, 6)
    # the same sheet with no cell references at all: every cell placed by counting
    xml = sheet_xml(data)
    stripped = re.sub(rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", xml)
    stripped = re.sub(rb'<c(?=[ >/])', b"<c", stripped)
    ret = read_bytes(rezip(data, {"xl/worksheets/sheet1.xml": stripped}))
    assert (ret.cells["24"].value, ret.cells["25"].value) == (6, 6)


def test_error_values_are_not_blanks(base: Path) -> None:
    data = with_cell(base.read_bytes(), a1("23"), f'<c r="{a1("23")}" t="e"><v>#N/A</v></c>')
    path = base.with_name("error.xlsx")
    path.write_bytes(data)
    result = check_file(path)
    assert codes(result)["23"] == "value.not_number"
    assert next(f.found for f in result.report.findings if f.indicator == "23") == "#N/A"


# ---------------------------------------------------------------- number formats (item 5)


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("[$-804]aaaa", True), ("aaa", True), ('"星期"aaa', True), ("yyyy\"年\"m\"月\"d\"日\"", True),
        ("[h]:mm", True), ("[$-F800]dddd, mmmm dd, yyyy", True), ("ggge\"年\"", True), ("hh:mm AM/PM", True),
        ("General", False), ("0", False), ("#,##0.00", False), ("0.000000", False), ("0.00E+00", False),
        ('0"件"', False), ("[Red]0;[Blue]-0", False), ("_-* #,##0_-", False), ('"aaaa"0', False), ("[$¥-804]#,##0", False),
    ],
)
def test_date_formats(code: str, is_date: bool) -> None:
    assert cellxml.is_date_format(code) is is_date


def test_styles_name_the_dated_cell_formats() -> None:
    styles = (
        b'<styleSheet><numFmts count="2"><numFmt numFmtId="164" formatCode="[$-804]aaaa"/>'
        b'<numFmt numFmtId="165" formatCode="0.000000"/></numFmts>'
        b'<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
        b'<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/>'
        b'<xf numFmtId="31"/><xf numFmtId="3"/></cellXfs></styleSheet>'
    )
    assert cellxml.date_styles(styles) == {1, 3}


# ---------------------------------------------------------------- through LibreOffice (items 3–5)


@pytest.fixture(scope="module")
def saved(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The filled template with odd input cells typed (openpyxl), saved by LibreOffice."""
    if lo.soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path_factory.mktemp("cellxml_lo")
    wb = openpyxl.load_workbook(base)
    ws = wb[LAY.places["2"].sheet]
    ws[a1("2")] = "=23+1000"
    ws[a1("3")] = True
    ws[a1("4")] = 45000
    ws[a1("4")].number_format = "[$-804]aaaa"
    ws[a1("6")] = 45000
    ws[a1("6")].number_format = 'yyyy"年"m"月"d"日"'
    ws[a1("7")] = "=SUM(1,2,3)"
    ws[a1("8")] = "=C5+1"
    typed = out / "typed.xlsx"
    wb.save(typed)
    profile = lo.make_profile(out / "profile")
    saves = lo.recalc([typed], out, profile, ("xlsx", "ods", "xls"))
    return {"openpyxl": typed, **{fmt: paths[0] for fmt, paths in saves.items()}}


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["openpyxl", "xlsx", "ods", "xls"])
def test_odd_input_cells_saved_by_libreoffice(saved: dict[str, Path], fmt: str) -> None:
    result = check_file(saved[fmt])
    got = codes(result)
    assert got["3"] == "value.not_number"  # TRUE, in .ods stored as =TRUE()
    assert got["4"] == "value.not_number"  # 星期三: a date
    assert got["6"] == "value.not_number"  # 2023年3月15日
    assert got["8"] == "value.formula"  # a reference: its result is not ours to trust
    assert "2" not in got and "7" not in got
    assert result.values["2"] == 1023 and result.values["7"] == 6
    found = {f.indicator: f.found for f in result.report.findings}
    assert found["3"] == "TRUE"
    assert found["4"] == found["6"] == dt.date(2023, 3, 15).isoformat()


def test_ods_true_stored_as_a_number(saved: dict[str, Path], tmp_path: Path) -> None:
    """=TRUE() with the value 1 and no boolean type is still TRUE, not 1."""
    data = saved["ods"].read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        content = zf.read("content.xml")
    mutated = re.sub(
        rb'(table:formula="of:=TRUE\(\)") office:value-type="boolean" office:boolean-value="true" calcext:value-type="boolean"',
        rb'\1 office:value-type="float" office:value="1" calcext:value-type="float"', content)
    assert mutated != content
    path = tmp_path / "true.ods"
    path.write_bytes(rezip(data, {"content.xml": mutated}))
    assert codes(check_file(path))["3"] == "value.not_number"


def test_xls_formula_with_a_stale_cached_result(saved: dict[str, Path], tmp_path: Path) -> None:
    """.xls: the FORMULA record of =23+1000 made to store 23 is still read as 1023."""
    data = bytearray(saved["xls"].read_bytes())
    row, col = LAY.places["2"].row, LAY.places["2"].col
    at = 0
    while True:
        at = data.find(b"\x06\x00", at + 1)
        assert at > 0, "no FORMULA record for the cell"
        if struct.unpack_from("<HH", data, at + 4) == (row, col):
            break
    assert struct.unpack_from("<d", data, at + 10)[0] == 1023
    struct.pack_into("<d", data, at + 10, 23.0)
    path = tmp_path / "stale.xls"
    path.write_bytes(bytes(data))
    result = check_file(path)
    assert result.values["2"] == 1023


@pytest.mark.timeout(120)
def test_damaged_xml_is_scanned_in_one_pass() -> None:
    """Marks with no tag end after them (a few hundred thousand): every scan moves on, never
    back over what it has seen (a quadratic scan would take hours here)."""
    n = 100_000
    wanted = {f"D{r}": RawCell(str(r), "统计表", f"D{r}", None) for r in range(1, 60)}
    for xml in (b'<sheetData><c r="D5"><f' * n, b'<sheetData><c r="D5" t="e"' * n, b"<sheetData><row><c><f" * n,
                b'<f t="shared" si="1">' * n):
        cellxml._xlsx(xml, wanted, frozenset({1}))
    cellxml.date_styles(b'<styleSheet><cellXfs><xf numFmtId="14" ' * n)
    content = b'<table:table table:name="s">' + b'<table:table-row><table:table-cell table:formula="of:=1"' * n
    assert set(cellxml._ods_formulas(content, "s", {(0, 0): RawCell("k", "s", "A1", None)})) <= {(0, 0)}


def test_a_cell_in_a_comment_is_no_cell(base: Path) -> None:
    """A formula inside an XML comment names no cell: the real one is read."""
    data = with_cell(base.read_bytes(), a1("23"), f'<c r="{a1("23")}"><f>2+3</f><v>1</v></c>')
    xml = sheet_xml(data).replace(b"</sheetData>", f'<!-- <c r="{a1("23")}"><f>900</f></c> --></sheetData>'.encode())
    ret = read_bytes(rezip(data, {"xl/worksheets/sheet1.xml": xml}))
    assert ret.cells["23"].value == 5


def test_input_cells_are_found_by_reference_or_by_marks() -> None:
    """Input cells found by their reference (the usual sheet) give what the marks give; a sheet
    where one is not so found (no reference, rows out of order) falls back to the marks."""
    row = (b'<row r="2"><c r="A2" s="3"><v>1</v></c><c r="B2" s="5"><f>1+2</f><v>3</v></c>'
           b'<c r="C2" t="e"><v>#DIV/0!</v></c><c r="D2" s="7"><v>43466</v></c></row>')
    xml = b'<worksheet><sheetData>' + row + b'<row r="3"><c r="A3"><v>5</v></c></row></sheetData></worksheet>'
    wanted = {a: RawCell(a, "表", a, v) for a, v in (("A2", 1), ("B2", 3), ("C2", None), ("D2", 43466), ("A3", 5))}
    direct = cellxml._direct_spans(xml, wanted, frozenset({7}), True)
    assert direct is not None and set(direct) == {"B2", "C2", "D2"}
    got = cellxml._xlsx(xml, wanted, frozenset({7}))
    assert got["B2"] == 3 and got["C2"] == "#DIV/0!" and got["D2"] == dt.date(2019, 1, 1) and "A2" not in got
    assert cellxml._direct_spans(xml.replace(b' r="C2"', b""), wanted, frozenset({7}), True) is None
    out_of_order = b'<worksheet><sheetData><row r="3"><c r="A3"><v>5</v></c></row>' + row + b'</sheetData></worksheet>'
    assert cellxml._direct_spans(out_of_order, wanted, frozenset({7}), True) is None
    assert cellxml._xlsx(out_of_order, wanted, frozenset({7})) == got


def test_a_formula_after_its_value_is_still_a_formula() -> None:
    """The quick look at a cell (its first child a formula, or nothing but a value) hands any
    other order to the full look: a formula written after its value is still found."""
    xml = (b'<worksheet><sheetData><row r="2"><c r="A2"><v>3</v><f>1+2</f></c><c r="B2"><v>4</v></c>'
           b'<c r="C2"><is><t>x</t></is><f>2+2</f></c><c r="D2"/></row></sheetData></worksheet>')
    wanted = {a: RawCell(a, "表", a, v) for a, v in (("A2", 3), ("B2", 4), ("C2", "x"), ("D2", None))}
    assert set(cellxml._direct_spans(xml, wanted, frozenset(), True) or {}) == {"A2", "C2"}
    assert cellxml._xlsx(xml, wanted, frozenset()) == {"A2": 3, "C2": 4}
