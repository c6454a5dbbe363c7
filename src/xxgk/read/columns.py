"""A table's 行次 column and value columns, found by their headers."""

from __future__ import annotations

from xxgk.forms.findings import Finding, make
from xxgk.forms.labels import align_near, nearest
from xxgk.forms.layout import a1
from xxgk.forms.model import HEADER_MARK, Older, Table
from xxgk.read.grid import Grid, cell_text, header_at, is_number, norm
from xxgk.read.matches import (
    AUX_HEADERS,
    HEADER_BAND,
    NOTE_HEADERS,
    Problems,
    align,
    col_name,
    standard_label,
)


def code_column(
    grid: Grid, table: Table, rows: dict[str, int], codes: list[str], lab_lo: int, lab_hi: int
) -> int | None:
    counts: dict[int, int] = {}
    for i, row in enumerate(table.rows):
        r = rows.get(row.id)
        if r is None:
            continue
        width = grid.width(r)
        for c in range(width):
            if lab_lo <= c <= lab_hi:
                continue
            v = grid.get(r, c)
            if v is not None and norm(v) == codes[i]:
                counts[c] = counts.get(c, 0) + 1
    if not counts:
        return None
    best = max(sorted(counts), key=lambda c: counts[c])
    need = max(2, (len(rows) * 6 + 9) // 10) if len(rows) > 2 else len(rows)
    if counts[best] < need:
        return None
    # a column headed by one of the table's column labels holds values that happen to equal
    # the 行次 (行政许可 1 in a one-row table), never the 行次 themselves
    top = min(rows.values())
    labels = {norm(c.label) for c in table.columns}
    above = next((t for r in range(top - 1, max(top - HEADER_BAND, 0) - 1, -1) if (t := grid.text(r, best))), "")
    return None if above in labels else best


def match_columns(
    grid: Grid,
    table: Table,
    rows: dict[str, int],
    header_lo: int,
    first: int,
    lab_hi: int,
    code_col: int | None,
    olds: list[Older],
) -> tuple[dict[str, int], int | None, Problems, list[Finding]]:
    """The value columns by their headers: exact, renamed by a known older printing (whose
    other columns are then ignored), or a unique close misprint at its position."""
    problems = Problems()
    findings: list[Finding] = []
    alias = {norm(label): norm(table.column(col_id).label) for o in olds for label, col_id in o.columns}
    blank = {x for o in olds for x in o.replaces} - {col_id for o in olds for _, col_id in o.columns}
    data_rows = [rows[r.id] for r in table.rows if r.id in rows]
    value_rows = [rows[r.id] for r in table.rows if r.id in rows and r.kind != "header"]
    units = {norm(r.unit) for r in table.rows if r.unit and r.unit != HEADER_MARK}
    width = max([grid.width(r) for r in range(header_lo, first)] + [grid.width(r) for r in data_rows] + [0])
    col_labels = [norm(c.label) for c in table.columns]
    # a header that heads several columns (结果维持 under 未经复议直接起诉 and under 复议后起诉)
    # is told apart by its whole path of group headers
    repeated = {h for h in col_labels if col_labels.count(h) > 1}
    group_set = {norm(g) for c in table.columns for g in c.groups}
    groups, misprints = sorted(group_set), dict[str, str]()
    col_keys = [_path_key([norm(g) for g in c.groups], h) if h in repeated else h
                for c, h in zip(table.columns, col_labels, strict=True)]
    note_col: int | None = None
    cands: list[tuple[int, str, str]] = []  # (column, normalised header (path), header as written)
    for c in range(lab_hi + 1, width):
        if c == code_col:
            continue
        header, shown, at = "", "", first
        for r in range(first - 1, header_lo - 1, -1):
            v = grid.get(r, c)
            t = grid.text(r, c)
            if t and isinstance(v, str) and not t.isdigit():
                header, shown, at = t, cell_text(v), r
                break
        if header in AUX_HEADERS:
            if header in NOTE_HEADERS and note_col is None:
                note_col = c
            continue
        if header in alias:
            findings.append(make("structure.older", sheet=grid.name, cell=a1(first, c), label=f"{col_name(c)}列“{shown}”",
                                 detail=f"读作“{table.columns[col_labels.index(alias[header])].label}”"))
            header = alias[header]
        if header in repeated:
            path = [g for r in range(header_lo, at) if (g := _group(header_at(grid, r, c, lab_hi + 1), groups, misprints))]
            cands.append((c, _path_key(list(dict.fromkeys(path)), header), shown))
            continue
        if header in col_labels:
            cands.append((c, header, shown))
            continue
        values = [grid.get(r, c) for r in data_rows]
        if units and not header:
            texts = [norm(v) for v in values if isinstance(v, str)]
            if texts and sum(t in units or t == norm(HEADER_MARK) for t in texts) * 2 >= len(values):
                continue  # a unit column without a header
        numeric = any(is_number(grid.get(r, c)) for r in value_rows)
        if numeric or header:
            cands.append((c, header, shown))
    cols: dict[str, int] = {}
    for printed, standard in misprints.items():
        findings.append(make("structure.near", sheet=grid.name, label=standard,
                             detail=f"表头“{printed}”按“{_group_label(table, standard)}”读取"))
    headers = [x[1] for x in cands]
    aligned = align_near(col_keys, headers, align(col_keys, headers))
    for j, tied in aligned.ambiguous:
        problems.unsure.append(f"{_col_desc(cands[j])}与" + "、".join(f"“{standard_label(table, t)}”" for t in tied) + "同样接近")
    for i, j in aligned.near:
        findings.append(make(
            "structure.near", sheet=grid.name, cell=a1(first, cands[j][0]), label=table.columns[i].label,
            detail=f"{_col_desc(cands[j])}按“{table.columns[i].label}”读取",
        ))
    matched = aligned.pairs
    used = set(matched.values())
    extra = [_col_desc(x) for j, x in enumerate(cands) if j not in used]
    if len(table.columns) == 1 and not matched and len(cands) == 1:
        matched, extra = {0: 0}, []  # the one value column, whatever its header says
    for i, col in enumerate(table.columns):
        hit = matched.get(i)
        if hit is not None:
            cols[col.id] = cands[hit][0]
        elif col.id not in blank:
            if len(table.columns) == 1 and cands:  # several value columns, none of them the form's
                problems.missing_cols.append(f"“{col.label}”（表中的数值列为{'、'.join(_col_desc(x) for x in cands)}）")
                return cols, note_col, problems, findings
            problems.missing_cols.append(f"“{'/'.join((*col.groups, col.label))}”")
    if extra and olds:  # the older printing's columns that have no counterpart
        findings.append(make("structure.ignored", sheet=grid.name, detail="表中多出的" + "、".join(extra)))
    elif extra:
        problems.extra_cols += extra
    return cols, note_col, problems, findings


def _group(text: str, groups: list[str], misprints: dict[str, str]) -> str:
    """A column group header as the form names it: exact, or the unique close misprint of one
    (行政法复议 for 行政复议, noted in ``misprints``); "" for anything else."""
    if not text or text in groups:
        return text
    hit = nearest(text, groups)
    if not hit.indices:
        return ""
    misprints[text] = groups[hit.indices[0]]
    return groups[hit.indices[0]]


def _group_label(table: Table, folded: str) -> str:
    return next((g for c in table.columns for g in c.groups if norm(g) == folded), folded)


def _path_key(groups: list[str], header: str) -> str:
    return "/".join((*groups, header))


def _col_desc(x: tuple[int, str, str]) -> str:
    c, _, shown = x
    return f"{col_name(c)}列“{shown}”" if shown else f"{col_name(c)}列（无列名）"
