"""The generated workbook, opened with openpyxl as any client would see it."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from xxgk import __version__
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin, builtin_forms
from xxgk.forms.layout import SIGNATURE, layout_of
from xxgk.forms.xlref import ranges
from xxgk.write.guide import SHEET as GUIDE_SHEET
from xxgk.write.livecheck import hint_text, note_places, status_text
from xxgk.write.styles import BODY_FONT, TITLE_FONT
from xxgk.write.template import write_template

# The 65 indicators of gk2018, verbatim from the seed's table (domain reference), in order.
GK2018_LABELS = [
    "一、主动公开情况",
    "（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）",
    "其中：主动公开规范性文件数",
    "制发规范性文件总数",
    "（二）通过不同渠道和方式公开政府信息的情况",
    "1. 政府公报公开政府信息数",
    "2. 政府网站公开政府信息数",
    "3. 政务微博公开政府信息数",
    "4. 政务微信公开政府信息数",
    "5. 其他方式公开政府信息数",
    "二、回应解读情况",
    "（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）",
    "（二）通过不同渠道和方式回应解读的情况",
    "1. 参加或举办新闻发布会总次数",
    "其中：主要负责同志参加新闻发布会次数",
    "2. 政府网站在线访谈次数",
    "其中：主要负责同志参加政府网站在线访谈次数",
    "3. 政策解读稿件发布数",
    "4. 微博微信回应事件数",
    "5. 其他方式回应事件数",
    "三、依申请公开情况",
    "（一）收到申请数",
    "1. 当面申请数",
    "2. 传真申请数",
    "3. 网络申请数",
    "4. 信函申请数",
    "（二）申请办结数",
    "1. 按时办结数",
    "2. 延期办结数",
    "（三）申请答复数",
    "1. 属于已主动公开范围数",
    "2. 同意公开答复数",
    "3. 同意部分公开答复数",
    "4. 不同意公开答复数",
    "其中：涉及国家秘密",
    "涉及商业秘密",
    "涉及个人隐私",
    "危及国家安全、公共安全、经济安全和社会稳定",
    "不是《条例》所指政府信息",
    "法律法规规定的其他情形",
    "5. 不属于本行政机关公开数",
    "6. 申请信息不存在数",
    "7. 告知作出更改补充数",
    "8. 告知通过其他途径办理数",
    "四、行政复议数量",
    "（一）维持具体行政行为数",
    "（二）被依法纠错数",
    "（三）其他情形数",
    "五、行政诉讼数量",
    "（一）维持具体行政行为或者驳回原告诉讼请求数",
    "（二）被依法纠错数",
    "（三）其他情形数",
    "六、举报投诉数量",
    "七、依申请公开信息收取的费用",
    "八、机构建设和保障经费情况",
    "（一）政府信息公开工作专门机构数",
    "（二）设置政府信息公开查阅点数",
    "（三）从事政府信息公开工作人员数",
    "1. 专职人员数（不包括政府公报及政府网站工作人员数）",
    "2. 兼职人员数",
    "（四）政府信息公开专项经费（不包括用于政府公报编辑管理及政府网站建设维护等方面的经费）",
    "九、政府信息公开会议和培训情况",
    "（一）召开政府信息公开工作会议或专题会议数",
    "（二）举办各类培训班数",
    "（三）接受培训人员数",
]
HEADER_ROWS = {1, 5, 11, 13, 21, 55, 62}
# 行次 of each total → 行次 of its parts (the seed table's own structure).
FORMULA_ROWS = {
    22: [23, 24, 25, 26],
    27: [28, 29],
    30: [31, 32, 33, 34, 41, 42, 43, 44],
    34: [35, 36, 37, 38, 39, 40],
    45: [46, 47, 48],
    49: [50, 51, 52],
    58: [59, 60],
}
AMOUNT_ROWS = {54, 61}
AGENCY = "沙坡头区机关事务局"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("tpl") / "gk2018.xlsx"
    write_template(builtin("gk2018"), path, year=2018, agency=AGENCY, code="640502001",
                   template_id="0123456789abcdef0123456789abcdef")
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def sheet(book: openpyxl.Workbook) -> Worksheet:
    return book["统计表"]


def _excel_row(code: int) -> int:
    """1-based worksheet row of 行次 ``code`` in the layout (row 1 of the table after its header)."""
    return layout_of(builtin("gk2018")).tables["t1"].first_row + code


def test_labels_units_and_codes_verbatim_in_order(sheet: Worksheet) -> None:
    assert sheet["A3"].value == "统计指标"
    assert [sheet.cell(3, c).value for c in range(1, 7)] == ["统计指标", "行次", "单位", "统计数", "校验提示", "情况说明"]
    labels = [sheet.cell(_excel_row(i), 1).value for i in range(1, 66)]
    assert labels == GK2018_LABELS
    codes = [sheet.cell(_excel_row(i), 2).value for i in range(1, 66)]
    assert codes == [str(i) for i in range(1, 66)]
    assert sheet.cell(_excel_row(58), 3).value == "人"
    assert sheet.cell(_excel_row(54), 3).value == "万元"
    assert sheet.cell(_excel_row(66), 1).value is None  # nothing after row 65 but the signature


def test_title_and_info(sheet: Worksheet) -> None:
    assert sheet["A1"].value == "沙坡头区机关事务局政府信息公开情况统计表（2018年度）"
    assert "A1:F1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A2"].value == f"填报单位：{AGENCY}"
    assert sheet["B2"].value == "统计年度：2018年"
    assert sheet["A2"].protection.locked and sheet["B2"].protection.locked


def test_formula_rows_are_locked_sums(sheet: Worksheet) -> None:
    for total, parts in FORMULA_ROWS.items():
        cell = sheet.cell(_excel_row(total), 4)
        rows = [_excel_row(p) for p in parts]
        runs: list[list[int]] = []
        for r in rows:
            if runs and runs[-1][-1] == r - 1:
                runs[-1].append(r)
            else:
                runs.append([r])
        expected = ",".join(f"D{run[0]}" if len(run) == 1 else f"D{run[0]}:D{run[-1]}" for run in runs)
        assert cell.value == f"=SUM({expected})", total
        assert cell.protection.locked


def test_header_rows_show_a_dash_and_are_locked(sheet: Worksheet) -> None:
    for code in HEADER_ROWS:
        cell = sheet.cell(_excel_row(code), 4)
        assert cell.value == "——"
        assert cell.protection.locked
        assert sheet.cell(_excel_row(code), 6).protection.locked  # no 情况说明 on a header


def _validations(ws: Worksheet) -> dict[str, tuple[str, str | None, str | None]]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws[rng.coord] if ":" in rng.coord else [[ws[rng.coord]]]:
                for cell in row:
                    out[cell.coordinate] = (dv.type, dv.operator, dv.formula1)
    return out


def test_every_input_is_open_validated_and_shaded(sheet: Worksheet) -> None:
    validations = _validations(sheet)
    inputs = [i for i in range(1, 66) if i not in HEADER_ROWS and i not in FORMULA_ROWS]
    assert len(inputs) == 51
    for code in inputs:
        cell = sheet.cell(_excel_row(code), 4)
        assert cell.value is None
        assert not cell.protection.locked, code
        assert cell.fill.fgColor.rgb.endswith("FFF2CC"), code
        kind = "decimal" if code in AMOUNT_ROWS else "whole"
        assert validations[cell.coordinate] == (kind, "greaterThanOrEqual", "0"), code
    assert set(validations) == {sheet.cell(_excel_row(c), 4).coordinate for c in inputs}
    dv = sheet.data_validations.dataValidation[0]
    assert dv.showErrorMessage and dv.error and dv.prompt and re.search("[\u4e00-\u9fff]", dv.error)


def test_labels_and_formulas_are_locked_and_sheet_protected(sheet: Worksheet) -> None:
    assert sheet.protection.sheet
    for code in range(1, 66):
        r = _excel_row(code)
        assert all(sheet.cell(r, c).protection.locked for c in (1, 2, 3, 5))
    grey = sheet.cell(_excel_row(58), 4).fill.fgColor.rgb
    assert grey.endswith("E7E6E6")


def test_notes_and_signature_are_open(sheet: Worksheet) -> None:
    form = builtin("gk2018")
    layout = layout_of(form)
    for cell in form.cells.values():
        note = layout.note(cell)
        assert sheet.cell(note.row + 1, note.col + 1).protection.locked == (cell.kind == "header")
    for name in SIGNATURE:
        place = layout.signature[name]
        assert not sheet.cell(place.row + 1, place.col + 1).protection.locked
        assert sheet.cell(place.row + 1, 1).value == f"{name}："


def test_status_and_hints_are_formulas_over_the_check_sheet(sheet: Worksheet) -> None:
    form = builtin("gk2018")
    layout = layout_of(form)
    status = layout.status(layout.sheets[0])
    formula = sheet.cell(status.row + 1, status.col + 1).value
    assert formula.startswith("=IF(") and "校验通过" in formula and "'_校验'!" in formula
    hint = layout.hint(form.cells["12"])
    assert sheet.cell(hint.row + 1, hint.col + 1).value.startswith("=MID('_校验'!")
    assert sheet.cell(hint.row + 1, hint.col + 1).protection.locked


def test_highlights_follow_the_rules(sheet: Worksheet) -> None:
    rules = {str(rng): [r.formula[0] for r in cf.rules] for cf in sheet.conditional_formatting for rng in [cf.sqref]}
    assert any("N($D$6)<=N($D$5)" in f for f in rules["D6"])  # E_r3_le_r2 on row 3
    text = next(str(rng) for rng, formulas in rules.items() if formulas == ["ISTEXT(D5)"])
    assert text.startswith("D5") and "D6" in text  # text in a number cell: one rule over every input
    assert any("N($D$15)>0" in f for f in rules["D22"])  # W_responses_need_r12 colours row 19


def test_check_sheet_has_a_row_per_check(book: openpyxl.Workbook) -> None:
    form = builtin("gk2018")
    ws = book[ids.CHECK_SHEET]
    assert ws.sheet_state == "veryHidden"
    assert [ws.cell(r, 1).value for r in range(2, len(form.checks) + 2)] == [c.id for c in form.checks]
    assert ws.cell(2, 3).value == "=IF(N('统计表'!D6)<=N('统计表'!D5),0,1)"


def test_metadata_sheet_and_properties(book: openpyxl.Workbook) -> None:
    ws = book[ids.META_SHEET]
    assert ws.sheet_state == "veryHidden"
    meta = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert meta[ids.KIND] == "return"
    assert meta[ids.FORM] == "gk2018"
    assert meta[ids.FORM_VERSION] == "1"
    assert meta[ids.FINGERPRINT] == builtin("gk2018").fingerprint
    assert meta[ids.YEAR] == "2018"
    assert meta[ids.AGENCY_CODE] == "640502001"
    assert meta[ids.AGENCY_NAME] == AGENCY
    assert meta[ids.TEMPLATE_ID] == "0123456789abcdef0123456789abcdef"
    assert meta[ids.TOOL_VERSION] == __version__
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", meta[ids.GENERATED_AT])
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props[ids.FORM] == "gk2018" and props[ids.AGENCY_NAME] == AGENCY
    assert book.properties.title == "沙坡头区机关事务局政府信息公开情况统计表（2018年度）"
    assert [s.title for s in book.worksheets][:2] == ["统计表", GUIDE_SHEET]


def test_every_text_cell_has_a_chinese_font(book: openpyxl.Workbook) -> None:
    # A cell left in the default Calibri (no CJK glyphs) gets a fallback font for its Chinese,
    # and LibreOffice then saves each text mixing Chinese and digits as rich-text runs.
    fonts = {
        (ws.title, c.coordinate): c.font.name
        for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    }
    assert {ws.title for ws in book.worksheets} == {sheet for sheet, _ in fonts}
    assert set(fonts.values()) == {BODY_FONT, TITLE_FONT}


def test_guide_lists_formulas_rules_and_deadline(book: openpyxl.Workbook) -> None:
    texts = [c.value for c in book[GUIDE_SHEET]["A"] if c.value]
    joined = "\n".join(texts)
    assert "第58行“（三）从事政府信息公开工作人员数”＝第59+60行" in joined
    assert "第30行“（三）申请答复数”＝第31+32+33+34+41+42+43+44行" in joined
    form = builtin("gk2018")
    for check in form.checks:  # each rule listed in the very words the in-sheet check shows
        assert hint_text(check, note_places(form, layout_of(form), check)) in texts
    assert "次年1月31日前报送" in joined
    assert any(t.startswith("校验规则——错误") for t in texts)
    assert any(t.startswith("校验规则——提醒") for t in texts)
    for heading, _ in builtin("gk2018").guide:
        assert heading in texts
    assert book[GUIDE_SHEET].protection.sheet


def test_page_setup(sheet: Worksheet) -> None:
    assert sheet.freeze_panes == "A4"
    assert sheet.page_setup.paperSize == 9
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToHeight in (None, 1)  # one page tall (1 is the default, left out)
    assert sheet.print_title_rows == "$3:$3"


def test_cached_status_of_a_blank_template(sheet: Worksheet, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(builtin("gk2018"), path, year=2018, agency=AGENCY)
    cached = openpyxl.load_workbook(path, data_only=True)["统计表"]
    assert cached["E2"].value == status_text(0, 51) == "尚有51格未填写"
    assert cached.cell(_excel_row(58), 4).value == 0


def test_never_overwrites_unless_asked(tmp_path: Path) -> None:
    form = builtin("gk2018")
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        write_template(form, path, year=2018, agency=AGENCY)
    assert path.read_bytes() == b"mine"
    write_template(form, path, year=2018, agency=AGENCY, overwrite=True)
    assert openpyxl.load_workbook(path)["统计表"]["A2"].value == f"填报单位：{AGENCY}"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]  # no temporary file left behind


def test_generated_template_ids_differ(tmp_path: Path) -> None:
    form = builtin("gk2018")
    ids_seen = set()
    for name in ("a.xlsx", "b.xlsx"):
        write_template(form, tmp_path / name, year=2018, agency=AGENCY)
        ws = openpyxl.load_workbook(tmp_path / name)[ids.META_SHEET]
        meta = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
        assert re.fullmatch(r"[0-9a-f]{32}", meta[ids.TEMPLATE_ID])
        ids_seen.add(meta[ids.TEMPLATE_ID])
    assert len(ids_seen) == 2


def test_hostile_agency_name_stays_text(tmp_path: Path) -> None:
    name = '=HYPERLINK("http://x","点我")'
    path = write_template(builtin("gk2018"), tmp_path / "t.xlsx", year=2018, agency=name)
    ws = openpyxl.load_workbook(path)["统计表"]
    assert ws["A2"].value == f"填报单位：{name}"
    assert ws["A1"].data_type == "s" and ws["A1"].value.startswith("=HYPERLINK")


# ---------------------------------------------------------------- grid forms


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("grid") / "gk2021.xlsx"
    write_template(builtin("gk2021"), path, year=2021, agency=AGENCY)
    return openpyxl.load_workbook(path)


def test_grid_labels_sit_where_the_layout_says(grid: openpyxl.Workbook) -> None:
    form = builtin("gk2021")
    layout = layout_of(form)
    for cell in form.cells.values():
        label = layout.label(cell)
        assert grid[label.sheet].cell(label.row + 1, label.col + 1).value == cell.row.label
        code = layout.code(cell)
        assert grid[code.sheet].cell(code.row + 1, code.col + 1).value == cell.row.code


def test_grid_headers_groups_and_code_row(grid: openpyxl.Workbook) -> None:
    form = builtin("gk2021")
    layout = layout_of(form)
    tl = layout.tables["t3"]
    sl = layout.sheet_of(tl.table)
    ws = grid[sl.name]
    merged = {str(r) for r in ws.merged_cells.ranges}
    top = tl.header_top + 1
    first, last = sl.value_col0 + 1, sl.value_col0 + 7
    letter = openpyxl.utils.get_column_letter
    assert ws.cell(top, first).value == "申请人情况"
    assert f"{letter(first)}{top}:{letter(last)}{top}" in merged
    assert ws.cell(top + 1, first + 1).value == "法人或其他组织"
    assert f"{letter(first + 1)}{top + 1}:{letter(first + 5)}{top + 1}" in merged
    assert ws.cell(top + 1, first).value == "自然人"  # label merged down over the lower header rows
    assert f"{letter(first)}{top + 1}:{letter(first)}{top + 2}" in merged
    assert tl.code_row is not None
    assert [ws.cell(tl.code_row + 1, first + j).value for j in range(7)] == [str(i) for i in range(1, 8)]
    r3 = form.cells["t3.3.1"]
    group = layout.places[r3.key]
    assert ws.cell(group.row + 1, 1).value == "三、本年度办理结果"
    r5 = layout.places["t3.5.1"]
    assert ws.cell(r5.row + 1, 2).value == "（三）不予公开"
    assert f"B{r5.row + 1}:B{r5.row + 8}" in merged


def test_grid_total_column_and_total_row_are_sums(grid: openpyxl.Workbook) -> None:
    form = builtin("gk2021")
    layout = layout_of(form)
    for cell in form.formulas:
        place = layout.places[cell.key]
        ws = grid[place.sheet]
        parts = ranges((layout.places[p] for p in cell.parts), place.sheet)
        assert ws.cell(place.row + 1, place.col + 1).value == f"=SUM({','.join(parts)})"
    total = layout.places["t3.1.7"]
    first = layout.places["t3.1.1"]
    letter = openpyxl.utils.get_column_letter
    expected = f"=SUM({letter(first.col + 1)}{first.row + 1}:{letter(first.col + 6)}{first.row + 1})"
    assert grid[total.sheet].cell(total.row + 1, total.col + 1).value == expected
    for cell in form.inputs:
        place = layout.places[cell.key]
        assert not grid[place.sheet].cell(place.row + 1, place.col + 1).protection.locked


def test_every_builtin_form_renders(tmp_path: Path) -> None:
    for form in builtin_forms():
        path = write_template(form, tmp_path / f"{form.id}.xlsx", year=2022, agency=AGENCY)
        wb = openpyxl.load_workbook(path)
        assert [s for s in form.sheets if s not in wb.sheetnames] == []
        assert all(wb[s].protection.sheet for s in form.sheets)


def test_ranges_compress_runs_and_blocks() -> None:
    from xxgk.forms.layout import Place

    here = "S"
    cells = [Place("S", r, 3) for r in (3, 4, 5, 9)] + [Place("S", r, c) for r in (20, 21) for c in (1, 2)]
    assert ranges(cells, here) == ["D4:D6", "D10", "B21:C22"]
    assert ranges([Place("T", 0, 0)], here) == ["'T'!A1"]
    assert ranges([Place("it's", 0, 0), Place("it's", 1, 0)], None) == ["'it''s'!A1:A2"]
