"""`Summary` → the district summary workbook; the sheets of its own are drawn by the modules beside this one.

Sheets, in order:

* 汇总表 (or 汇总表-<sheet> per form sheet): the official table as it is sent up — the
  form's layout without fills or working columns; 汇总地区, 单位数 and completeness in
  its header, a 制表 signature block.  Each figure refers to the working copy;
* 分单位明细: every unit's figures, table by table in the official orientation
  (`forms.detail_layout.DetailLayout`), a 合计 row per band;
* 汇总表（含校验）…: the working copy, drawn by the template's renderer
  (`write.formsheet.FormSheet`) at `layout_of(form, summary=True)` positions so the reader reads a
  summary exactly like a return one level up: live checks, 情况说明.  Input cells are
  ``=SUM('分单位明细'!X5:X33)``, formula cells the form's own sums;
* 报送情况: the status register; 校验问题: every finding of every file;
* 本年与上年, 本年与上年（按单位） (with last year's summary): 本年, 上年, 增减, 增减% of the
  totals, and of each unit's headline totals, the year-over-year findings beside them;
* 图表: per form table, a chart of its headline total by unit and one of its composition;
* 说明: tool, form, fingerprint, time, region and the inputs with their SHA-256;
* ``_xxgk`` (very hidden): kind=summary, form, year, region and the units included.

Every formula carries its cached result, so any client shows the numbers without
recalculating.
"""

from __future__ import annotations

from pathlib import Path

from xxgk.cycle.summary import Summary
from xxgk.files import write_atomically
from xxgk.forms import identity as ids
from xxgk.forms.detail_layout import DETAIL_SHEET, DetailLayout
from xxgk.forms.layout import layout_of, official_sheet_name
from xxgk.forms.xlref import quote
from xxgk.report.detail import write_detail
from xxgk.report.summary.about import ABOUT_SHEET, about_sheet
from xxgk.report.summary.charts import CHART_SHEET, chart_sheet
from xxgk.report.summary.formats import Formats
from xxgk.report.summary.issues import ISSUES_SHEET, issues_sheet
from xxgk.report.summary.register import REGISTER_SHEET, register_sheet
from xxgk.report.summary.texts import completeness_text, incomplete_text
from xxgk.report.summary.years import YEARS_SHEET, YEARS_UNIT_SHEET, years_by_unit_sheet, years_sheet
from xxgk.write.formsheet import Content, Fields, FormSheet, Look, metadata, new_workbook, write_identity
from xxgk.write.livecheck import LiveChecks
from xxgk.write.rowstream import StreamedSheet
from xxgk.write.styles import Styles


def write_summary(summary: Summary, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write the summary workbook atomically (with last year's figures in the summary: the
    本年与上年 sheets); raises FileExistsError unless ``overwrite``."""
    return write_atomically(path, lambda tmp: _render(summary, tmp), overwrite=overwrite)


def summary_meta(summary: Summary) -> dict[str, str]:
    """The identity pairs of a summary workbook (see `xxgk.identity`)."""
    meta = metadata(summary.form, year=summary.year, agency=summary.region)
    meta[ids.KIND] = "summary"
    meta[ids.REGION] = summary.region
    meta[ids.UNITS] = "\n".join(f"{code}\t{name}" for code, name in summary.units)
    # units summed / units expected: an incomplete summary is flagged one level up
    meta[ids.COMPLETE] = f"{len(summary.units)}/{max(summary.expected, len(summary.units))}"
    return meta


OFFICIAL_SIGNATURE = ("单位负责人", "审核人", "制表人", "联系电话", "制表日期")
OFFICIAL = Look(official=True, signature=OFFICIAL_SIGNATURE)  # the 汇总表 sent up


def _render(summary: Summary, target: Path) -> None:
    last = summary.last
    wb = new_workbook(target)
    styles = Styles(wb)
    fx = Formats(wb)
    form = summary.form
    layout = layout_of(form, summary=True)
    places = layout.places
    meta = summary_meta(summary)
    detail = DetailLayout(form, len(summary.blocks))
    title = form.summary_title.format_map(Fields(region=summary.region, year=str(summary.year)))
    live = LiveChecks(form, layout, values=summary.totals, notes=summary.notes)
    region = f"汇总地区：{summary.region}"
    for i, sheet in enumerate(layout.sheets):
        refs: dict[str, str | None] = {
            c.key: f"={quote(sheet.name)}!{places[c.key].a1}" for c in form.value_cells
            if places[c.key].sheet == sheet.name
        }
        content = Content(title, meta, values=summary.totals, formulas=refs, status=completeness_text(summary),
                          info=f"{region}　汇总单位数：{len(summary.blocks)}")
        FormSheet(
            wb.add_worksheet(official_sheet_name(form.sheets[i], len(form.sheets))), styles, form, layout, sheet,
            live, content, OFFICIAL,
        ).write(i == 0)
    units = [(b.code, f"{b.name}（汇总）" if b.is_summary else b.name, b.values) for b in summary.blocks]
    detail_title = f"{summary.region}{summary.year}年度分单位明细（{form.name}）"
    write_detail(wb, wb.add_worksheet(DETAIL_SHEET, StreamedSheet), detail, detail_title, units, summary.totals)
    fill = {cell.key: f"=SUM({detail.range(cell.key)})" if detail.units else None for cell in form.inputs}
    working = Content(title, meta, values=summary.totals, formulas=fill, notes=summary.notes,
                      status=incomplete_text(summary) or None, info=region)
    for sheet in layout.sheets:
        FormSheet(wb.add_worksheet(sheet.name), styles, form, layout, sheet, live, working).write(False)
    register_sheet(wb.add_worksheet(REGISTER_SHEET, StreamedSheet), fx, summary)
    issues_sheet(wb.add_worksheet(ISSUES_SHEET), fx, summary)
    if last is not None:
        years_sheet(wb.add_worksheet(YEARS_SHEET), fx, summary, last)
        if last.units:
            years_by_unit_sheet(wb.add_worksheet(YEARS_UNIT_SHEET), fx, summary, last)
    chart_sheet(wb, wb.add_worksheet(CHART_SHEET), fx, summary)
    about_sheet(wb.add_worksheet(ABOUT_SHEET), fx, summary, last)
    live.write_sheet(wb, styles)
    write_identity(wb, meta, {
        "title": title, "subject": form.name, "company": summary.region,
        "keywords": f"{form.id},{summary.year},summary",
        "comments": "由xxgk汇总生成。汇总表的数字由分单位明细自动求和。",
    }, styles.plain)
    wb.close()
