"""The 图表 sheet: per form table, its headline total by unit and its composition, charted."""

from __future__ import annotations

from decimal import Decimal

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xxgk.cycle.summary import Summary
from xxgk.forms.detail_layout import PAGE_HEIGHT, PAGE_WIDTH, drawn, short_label
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Cell, Form
from xxgk.forms.xlref import quote
from xxgk.report.summary.formats import DEFAULT_ROW, TITLE_ROW, Formats, fit_rows
from xxgk.report.summary.headlines import cell_name, headlines
from xxgk.write.formsheet import cell_number

CHART_SHEET = "图表"
CHART_TOP = 30  # units shown in the by-unit chart

CHARTS_BY_UNIT, CHARTS_BY_PART = 2, 3
CHART_LABEL_WIDTH, CHART_VALUE_WIDTH = 40, 12
CHART_WIDTH = 1000  # pixels: LibreOffice draws the columns under it as wide in points
CHART_ROW = 12  # points of a table row beside a chart
COLUMN_CHART = 200  # points of a column chart (a few parts)
BLOCK_GAP = 2  # blank rows after a table and its chart


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
    ws.set_column(1, 1, CHART_VALUE_WIDTH)
    top, skipped = 2, []
    blocks: list[tuple[int, float]] = []  # each table and its chart: first row, points
    ws.write_string(0, 0, f"{summary.region}{summary.year}年度图表", fx.title)
    charted = 0
    for cell in by_unit:
        if charted == CHARTS_BY_UNIT:
            break
        label = cell_name(cell)
        ranked = sorted(summary.blocks, key=lambda b: -Decimal(b.values.get(cell.key, 0)))[:CHART_TOP]
        if not any(b.values.get(cell.key, 0) for b in ranked):
            skipped.append(label)
            continue
        more = len(summary.blocks) > CHART_TOP
        heading = f"{label}（按单位{f'，前{CHART_TOP}名' if more else ''}）"
        rows: list[ChartRow] = [(b.name, None, cell_number(b.values.get(cell.key, 0))) for b in ranked]
        points = _chart_table(ws, fx, top, heading, "单位", rows)
        _bar(_chart(wb, ws, top, len(rows), "bar", label, heading, "#4472C4", points))
        blocks.append((top, points + CHART_ROW * BLOCK_GAP))
        top = _gap(ws, top + len(rows) + 2)
        charted += 1
    charted = 0
    for total in by_part:
        if charted == CHARTS_BY_PART:
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
        points = _chart_table(ws, fx, top, heading, "项目", parts)
        rows_used = len(parts) + 2
        if len(parts) > 8:  # many parts: bars, one line each, readable labels
            _bar(_chart(wb, ws, top, len(parts), "bar", label, heading, "#ED7D31", points))
        else:
            _chart(wb, ws, top, len(parts), "column", label, heading, "#ED7D31", max(points, COLUMN_CHART))
            while points < COLUMN_CHART:  # rows under the short table, as tall as the chart
                ws.set_row(top + rows_used, DEFAULT_ROW)
                points += DEFAULT_ROW
                rows_used += 1
        blocks.append((top, points + CHART_ROW * BLOCK_GAP))
        top = _gap(ws, top + rows_used)
        charted += 1
    if skipped:
        ws.write_string(1, 0, "全部为0、未作图：" + "、".join(skipped), fx.note)
    _print(ws, blocks)


def _print(ws: Worksheet, blocks: list[tuple[int, float]]) -> None:
    """Landscape A4 at the scale that fits a table and its chart across (LibreOffice draws the
    chart as wide in points as it is in pixels), a page break before a chart that would not
    fit under the ones above it: no chart cut in two."""
    width = drawn(CHART_LABEL_WIDTH) + drawn(CHART_VALUE_WIDTH) + drawn(8.43) + CHART_WIDTH
    scale = min(100, int(100 * PAGE_WIDTH / width))
    room, used, breaks = PAGE_HEIGHT * 100 / scale, 2.0 * TITLE_ROW, []
    for top, points in blocks:
        if used + points > room and used > 2 * TITLE_ROW:
            breaks.append(top)
            used = 0
        used += points
    ws.set_h_pagebreaks(breaks)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_print_scale(scale)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _gap(ws: Worksheet, row: int) -> int:
    """The blank rows after a table and its chart, from ``row``, as high as `_print` counts them;
    the row after them."""
    for r in range(row, row + BLOCK_GAP):
        ws.set_row(r, CHART_ROW)
    return row + BLOCK_GAP


def _bar(chart: Chart) -> None:
    """A bar chart's categories top-down, every one named (its category axis is the vertical one)."""
    chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 7}})  # 7 points: no label skipped


def _chart(wb: Workbook, ws: Worksheet, top: int, n: int, kind: str, label: str, heading: str,
           color: str, height: float) -> Chart:
    """A one-series chart of the ``n``-row table at ``top`` (labels in A, values in B), beside it,
    ``height`` points tall."""
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
    chart.set_size({"width": CHART_WIDTH, "height": round(height * 4 / 3)})
    ws.insert_chart(top, 3, chart)
    return chart


def _chart_table(ws: Worksheet, fx: Formats, top: int, heading: str, what: str,
                 rows: list[ChartRow]) -> float:
    """Heading, header and (label, formula or None, value) rows from ``top``; the points they take."""
    ws.write_string(top, 0, heading, fx.title)
    ws.set_row(top, TITLE_ROW)
    ws.write_string(top + 1, 0, what, fx.head)
    ws.write_string(top + 1, 1, "数值", fx.head)
    ws.set_row(top + 1, CHART_ROW + 2)
    body = fit_rows(ws, [[label] for label, _, _ in rows], (CHART_LABEL_WIDTH,), top + 2, single=CHART_ROW)
    for i, (label, formula, value) in enumerate(rows):
        ws.write_string(top + 2 + i, 0, label, fx.text)
        if formula:
            ws.write_formula(top + 2 + i, 1, formula, fx.number, value)
        else:
            ws.write_number(top + 2 + i, 1, value, fx.number)
    return TITLE_ROW + CHART_ROW + 2 + body
