"""The 图表 sheet: per form table, its headline total by unit and its composition, charted."""

from __future__ import annotations

from decimal import Decimal

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.summary import Summary
from xxgk.forms.detail_layout import short_label
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Cell, Form
from xxgk.forms.xlref import quote
from xxgk.report.summary.formats import Formats, fit_rows
from xxgk.report.summary.headlines import cell_name, headlines
from xxgk.write.formsheet import cell_number

CHART_SHEET = "图表"
CHART_TOP = 30  # units shown in the by-unit chart

CHARTS_BY_UNIT, CHARTS_BY_PART = 2, 3
CHART_LABEL_WIDTH = 32


def chart_cells(form: Form) -> tuple[list[Cell], list[Cell]]:
    """Totals charted by unit and totals charted by their parts, from the form's structure:
    its headline totals (`headlines`), the form's first input first among those by unit."""
    tops = headlines(form)
    by_unit = list(dict.fromkeys([*form.inputs[:1], *tops]))
    return by_unit, [c for c in tops if len(c.parts) > 1]


def part_name(form: Form, total: Cell, key: str) -> str:
    """A part as its chart category: the column name when the parts share a row (自然人 …),
    else the row's."""
    part = form.cells[key]
    same_row = all(form.cells[p].row is part.row and form.cells[p].table is part.table for p in total.parts)
    return part.column.label if same_row else short_label(part.row.label)


ChartRow = tuple[str, str | None, int | float]  # label, formula (or None), value


def chart_sheet(wb: Workbook, ws: Worksheet, fx: Formats, summary: Summary) -> None:
    """Small tables in A:B, each with its chart beside it (charts read the tables); a chart
    whose figures are all zero is left out, and said so."""
    form = summary.form
    places = layout_of(form, summary=True).places
    by_unit, by_part = chart_cells(form)
    ws.set_column(0, 0, CHART_LABEL_WIDTH)
    ws.set_column(1, 1, 14)
    top, skipped = 2, []
    ws.write_string(0, 0, f"{summary.region}{summary.year}年度图表", fx.title)
    drawn = 0
    for cell in by_unit:
        if drawn == CHARTS_BY_UNIT:
            break
        label = cell_name(cell)
        ranked = sorted(summary.blocks, key=lambda b: -Decimal(b.values.get(cell.key, 0)))[:CHART_TOP]
        if not any(b.values.get(cell.key, 0) for b in ranked):
            skipped.append(label)
            continue
        more = len(summary.blocks) > CHART_TOP
        heading = f"{label}（按单位{f'，前{CHART_TOP}名' if more else ''}）"
        rows: list[ChartRow] = [(b.name, None, cell_number(b.values.get(cell.key, 0))) for b in ranked]
        height = _chart_table(ws, fx, top, heading, "单位", rows)
        chart_rows = max(16, len(rows) + 4)
        chart = _chart(wb, ws, top, len(rows), "bar", label, heading, "#4472C4", 20 * chart_rows)
        chart.set_y_axis({"reverse": True})
        top += max(height, chart_rows + 1) + 2
        drawn += 1
    drawn = 0
    for total in by_part:
        if drawn == CHARTS_BY_PART:
            break
        label = cell_name(total)
        if not any(summary.totals.get(k) for k in total.parts):
            skipped.append(f"{label}（按构成）")
            continue
        heading = f"{label}（按构成）"
        parts: list[ChartRow] = []
        for key in total.parts:
            place = places[key]
            parts.append((part_name(form, total, key), f"={quote(place.sheet)}!{place.a1}",
                         cell_number(summary.totals[key])))
        height = _chart_table(ws, fx, top, heading, "项目", parts)
        if len(parts) > 8:  # many parts: bars, one line each, readable labels
            chart_rows = len(parts) + 4
            chart = _chart(wb, ws, top, len(parts), "bar", label, heading, "#ED7D31", 20 * chart_rows)
            chart.set_y_axis({"reverse": True})
        else:
            chart_rows = 16
            _chart(wb, ws, top, len(parts), "column", label, heading, "#ED7D31", 320)
        top += max(height, chart_rows + 1) + 2
        drawn += 1
    if skipped:
        ws.write_string(1, 0, "全部为0、未作图：" + "、".join(skipped), fx.note)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _chart(wb: Workbook, ws: Worksheet, top: int, n: int, kind: str, label: str, heading: str,
           color: str, height: int) -> Chart:
    """A one-series chart of the ``n``-row table at ``top`` (labels in A, values in B), beside it."""
    name = quote(CHART_SHEET)
    chart = wb.add_chart({"type": kind})
    assert chart is not None
    chart.add_series({
        "name": label,
        "categories": f"={name}!$A${top + 3}:$A${top + 2 + n}",
        "values": f"={name}!$B${top + 3}:$B${top + 2 + n}",
        "data_labels": {"value": True},
        "fill": {"color": color},
    })
    chart.set_x_axis({"interval_unit": 1, "num_font": {"size": 8}})  # every category named, none skipped
    chart.set_title({"name": heading, "name_font": {"size": 12}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 680, "height": height})
    ws.insert_chart(top, 3, chart)
    return chart


def _chart_table(ws: Worksheet, fx: Formats, top: int, heading: str, what: str,
                 rows: list[ChartRow]) -> int:
    """Heading, header and (label, formula or None, value) rows from ``top``; rows used."""
    ws.write_string(top, 0, heading, fx.title)
    ws.write_string(top + 1, 0, what, fx.head)
    ws.write_string(top + 1, 1, "数值", fx.head)
    fit_rows(ws, [[label] for label, _, _ in rows], (CHART_LABEL_WIDTH,), top + 2)
    for i, (label, formula, value) in enumerate(rows):
        ws.write_string(top + 2 + i, 0, label, fx.text)
        if formula:
            ws.write_formula(top + 2 + i, 1, formula, fx.number, value)
        else:
            ws.write_number(top + 2 + i, 1, value, fx.number)
    return 2 + len(rows)
