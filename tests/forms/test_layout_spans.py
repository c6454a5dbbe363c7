"""Header and row-group spans: computed once in `layout`, for the workbook and a Word writer."""

from __future__ import annotations

from xxgk.forms import model as forms
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import group_spans, header_depth, header_spans

GK2021 = builtin("gk2021")


def _table(table_id: str) -> forms.Table:
    return next(t for t in GK2021.tables if t.id == table_id)


def test_nested_column_groups_span_their_runs() -> None:
    spans = {(s.text, s.first_row, s.first_col, s.last_row, s.last_col) for s in header_spans(_table("t4"))}
    assert ("行政复议", 0, 0, 0, 4) in spans
    assert ("行政诉讼", 0, 5, 0, 14) in spans
    assert ("未经复议直接起诉", 1, 5, 1, 9) in spans
    assert ("结果维持", 1, 0, 2, 0) in spans  # a column with one group level reaches the last header row
    assert ("结果维持", 2, 10, 2, 10) in spans


def test_header_spans_tile_the_header_block() -> None:
    """Every (row, column) of a table's header is covered exactly once."""
    for table in GK2021.tables:
        covered: list[tuple[int, int]] = []
        for s in header_spans(table):
            covered += [(r, c) for r in range(s.first_row, s.last_row + 1) for c in range(s.first_col, s.last_col + 1)]
        depth = header_depth(table)
        assert sorted(covered) == [(r, c) for r in range(depth) for c in range(len(table.columns))], table.id


def test_row_groups_span_their_rows() -> None:
    table = _table("t3")
    spans = {s.text: (s.first_row, s.first_col, s.last_row, s.last_col) for s in group_spans(table)}
    labels = [r.label for r in table.rows]
    assert spans["三、本年度办理结果"][1::2] == (0, 0)
    first, _, last, _ = spans["（三）不予公开"]
    assert labels[first].startswith("1.属于国家秘密") and labels[last].startswith("8.")
    assert spans["（三）不予公开"][1] == 1
