"""Matching a form's tables by their row labels in order: rows found elsewhere, older printings, misprints."""

from __future__ import annotations

from typing import Any

from xxgk.forms.findings import Finding, make
from xxgk.forms.labels import align_near
from xxgk.forms.layout import Layout, TableLayout, a1
from xxgk.forms.model import Form, Older, Row, Table
from xxgk.read.columns import code_column, match_columns
from xxgk.read.grid import Book, Grid, cell_text, is_number, norm, row_text
from xxgk.read.matches import (
    HEADER_BAND,
    SMALL_TABLE,
    TRAILING,
    FormMatch,
    Problems,
    TableMatch,
    align,
    col_name,
    labelled,
    standard_label,
)
from xxgk.read.returns import ReadError
from xxgk.read.signature import SIGNATURE_NORMS, find_signature


def search(book: Book, form: Form, lay: Layout | None) -> FormMatch:
    """Match ``form`` by labels; with a layout, rows/columns found elsewhere become
    ``structure.moved`` warnings.  Raises ``file.variant`` when anything does not match."""
    result = match_form(book, form, lay)
    if isinstance(result, Problems):
        raise ReadError("file.variant", result.detail())
    return result


def match_form(book: Book, form: Form, lay: Layout | None) -> FormMatch | Problems:
    tables: dict[str, TableMatch] = {}
    problems = Problems()
    findings: list[Finding] = []
    cursor: dict[str, int] = {}
    prev_sheet: str | None = None
    for table in form.tables:
        sheets = book.data_sheets()
        if lay is not None:
            want = lay.sheet_of(table).name
            if want in book.names:
                sheets = [want]
        elif prev_sheet is not None and table.sheet == form.tables[form.tables.index(table) - 1].sheet:
            sheets = [prev_sheet, *(s for s in sheets if s != prev_sheet)]
        best: tuple[int, TableMatch | Problems] | None = None
        for name in sheets:
            grid = book.grid(name)
            found = match_table(grid, table, cursor.get(name, 0), other_labels(form, table))
            score = _score(found, table)
            if best is None or score > best[0]:
                best = (score, found)
            if isinstance(found, TableMatch) and not found.headed_only:
                break
        assert best is not None
        found = best[1]
        if isinstance(found, Problems):
            problems.extend(found)
            continue
        tables[table.id] = found
        findings += found.findings
        cursor[found.sheet] = found.end + 1
        prev_sheet = found.sheet
        if lay is not None:
            findings += _moves(found, lay.tables[table.id], lay)
    if problems:
        return problems
    match = FormMatch(tables, findings)
    match.signature = find_signature(book, form, tables)
    return match


def _score(found: TableMatch | Problems, table: Table) -> int:
    if isinstance(found, TableMatch):
        return 10**6 - found.headed_only  # a table with rows before a heading without them
    return len(table.rows) - len(found.missing) - len(found.codes)


def _moves(tm: TableMatch, tl: TableLayout, lay: Layout) -> list[Finding]:
    sl = lay.sheet_of(tm.table)
    out = []
    single = len(tm.table.columns) == 1
    for row in tm.table.rows:
        if row.id not in tm.rows:
            continue  # read as blank: the match said so
        want, got = tl.row_of[row.id], tm.rows[row.id]
        if want != got:
            col = tm.cols[tm.table.columns[0].id]
            out.append(
                make(
                    "structure.moved",
                    label=row.label,
                    indicator=row.code if single else f"{tm.table.id}.{row.code}",
                    sheet=tm.sheet,
                    cell=a1(got, col),
                    detail=f"模板中在第{want + 1}行，现在第{got + 1}行",
                )
            )
    for i, column in enumerate(tm.table.columns):
        if column.id not in tm.cols:
            continue
        want, got = sl.value_col0 + i, tm.cols[column.id]
        if want != got:
            out.append(
                make(
                    "structure.moved",
                    label=f"“{column.label}”列",
                    sheet=tm.sheet,
                    cell=a1(min(tm.rows.values()), got),
                    detail=f"模板中在{col_name(want)}列，现在{col_name(got)}列",
                )
            )
    return out



_OTHERS: dict[tuple[str, str, str], frozenset[str]] = {}


def other_labels(form: Form, table: Table) -> frozenset[str]:
    """Normalised captions, stubs and labels of the form's other tables: where a table
    stacked below this one begins."""
    key = (form.id, form.fingerprint, table.id)
    if key not in _OTHERS:
        out: set[str] = set()
        for t in form.tables:
            if t.id != table.id:
                out.update(norm(x) for x in (t.title, t.stub, *(r.label for r in t.rows), *(c.label for c in t.columns)))
        _OTHERS[key] = frozenset(out - {""})
    return _OTHERS[key]


def match_table(grid: Grid, table: Table, lo: int, stop: frozenset[str] = frozenset()) -> TableMatch | Problems:
    """Find ``table`` in ``grid`` at or below row ``lo`` by its labels in order.

    Besides exact labels: a known older printing of the table (`Older`), a misprint that is
    the unique close match at its position (`labels.align_near`), a few value rows left out
    (read as blank, with a warning) and rows added (ignored, with a notice) — each said in a
    finding on the match.  Anything less certain is a problem: the return is refused."""
    labels = [norm(r.label) for r in table.rows]
    codes = [norm(r.code) for r in table.rows]
    label_set = set(labels)
    group_set = {norm(g) for r in table.rows for g in r.groups}
    older_set = {norm(label) for o in table.older for label, _ in o.rows}
    norms = grid.norms
    hits: dict[int, int] = {}
    for r in range(lo, len(norms)):
        for c, text in enumerate(norms[r]):
            if text in label_set:
                hits[c] = hits.get(c, 0) + 1
    if not hits:
        if len(table.rows) == 1:
            found = _match_unlabelled(grid, table, lo)
            return found if isinstance(found, TableMatch) else (_headed_only(grid, table, lo, stop) or found)
        return _headed_only(grid, table, lo, stop) or Problems(missing=[_row_name(r) for r in table.rows])
    main = max(sorted(hits), key=lambda c: hits[c])
    lab_lo = lab_hi = main
    while lab_lo - 1 in hits:
        lab_lo -= 1
    while lab_hi + 1 in hits:
        lab_hi += 1
    # Rows with label text, each reduced to its leaf label.
    seq: list[tuple[int, str]] = []
    named = label_set | group_set
    for r in range(lo, len(norms)):
        texts = row_text(grid, r, lab_lo, lab_hi)
        if not texts:
            continue
        leaf = next((t for t in reversed(texts) if t in label_set), None)
        if leaf is not None and texts[-1] != leaf and texts[-1] not in named:
            # a label of the form printed as a group over rows of other names (2021's
            # （六）其他处理 over its three rows, read as the 2019 form): those rows are not it
            leaf = texts[-1]
        if leaf is None and texts[-1] in older_set:  # a row of an older printing (its last label)
            leaf = texts[-1]
        if leaf is None:
            rest = [t for t in texts if t not in group_set]
            if not rest:
                continue  # a row that only carries group labels
            leaf = rest[-1]
        seq.append((r, leaf))
    leaves = [t for _, t in seq]
    exact = align(labels, leaves)
    first_guess = seq[min(exact.values())][0] if exact else lo
    band = {t for r in range(max(lo, first_guess - HEADER_BAND), first_guess) for t in grid.norm_row(r) if t}
    olds = _older(table, exact, set(leaves), band, labels)
    findings: list[Finding] = []
    problems = Problems()
    blank: set[str] = {x for o in olds for x in o.replaces}
    for old in olds:
        alias = {norm(label): row_id for label, row_id in old.rows}
        used = []
        for j, leaf in enumerate(leaves):
            row_id = alias.get(leaf)
            i = next((k for k, r in enumerate(table.rows) if r.id == row_id), None)
            if i is not None and i not in exact and j not in exact.values():
                exact[i] = j
                blank.discard(table.rows[i].id)
                used.append(f"第{seq[j][0] + 1}行“{_original(grid, seq[j][0], lab_lo, lab_hi)}”读作“{table.rows[i].label}”")
        if not _in_order(exact):
            return Problems(missing=[f"{old.name}的行次序与标准表式不同"])
        findings.append(_older_finding(grid, table, old, used, seq[min(exact.values())][0], lab_lo))
    aligned = align_near(labels, leaves, exact)
    for j, tied in aligned.ambiguous:
        r = seq[j][0]
        problems.unsure.append(
            f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”与" + "、".join(f"“{standard_label(table, t)}”" for t in tied) + "同样接近"
        )
    for i, j in aligned.near:
        r = seq[j][0]
        findings.append(make(
            "structure.near", sheet=grid.name, cell=a1(r, lab_hi), label=table.rows[i].label,
            detail=f"第{r + 1}行“{_leaf_text(grid, r, lab_lo, lab_hi, seq[j][1])}”按“{table.rows[i].label}”读取",
        ))
    matched = aligned.pairs
    rows: dict[str, int] = {}
    absent: list[Row] = []
    for i, row in enumerate(table.rows):
        at = matched.get(i)
        if at is not None:
            rows[row.id] = seq[at][0]
        elif row.id not in blank and row.kind != "header":
            absent.append(row)
    if not rows:
        return _headed_only(grid, table, lo, stop) or Problems(missing=[_row_name(r) for r in table.rows])
    taken_j = set(matched.values())
    for j, (r, leaf) in enumerate(seq):  # a standard label left over: rows swapped or repeated
        if j not in taken_j and leaf in label_set and min(rows.values()) <= r <= max(rows.values()):
            problems.extra_rows.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”（次序与标准表式不同或重复）")
    value_rows = sum(r.kind != "header" for r in table.rows)
    if value_rows > SMALL_TABLE and len(absent) > max(1, value_rows // 10):
        problems.missing += [_row_name(r) for r in absent]
    else:  # a row left out, not one printed under another name at its place: that is refused
        for row in absent:
            instead = _instead(grid, table, row, matched, seq, group_set | (stop - label_set), lab_lo, lab_hi)
            if instead:
                problems.missing.append(f"{_row_name(row)}（该处为{instead}）")
    first, last = min(rows.values()), max(rows.values())
    for row in absent:
        findings.append(make(
            "structure.absent", sheet=grid.name, label=_row_name(row), indicator=f"{table.id}.{row.id}",
            detail=f"{table.title or table.sheet}在第{first + 1}至{last + 1}行，其中没有“{row.label}”",
        ))
    taken = set(rows.values())
    # 行次: the column (outside the labels) where most matched rows carry their code
    code_col = code_column(grid, table, rows, codes, lab_lo, lab_hi)
    if code_col is not None:
        for i, row in enumerate(table.rows):
            at = rows.get(row.id)
            if at is None:
                continue
            got = grid.text(at, code_col)
            if got and got != codes[i]:
                shown = cell_text(grid.get(at, code_col))
                problems.codes.append(f"第{at + 1}行“{row.label}”标为第{shown}行，应为第{row.code}行")
    # Columns
    header_lo = max(lo, first - HEADER_BAND)
    cols, note_col, col_problems, col_findings = match_columns(grid, table, rows, header_lo, first, lab_hi, code_col, olds)
    problems.extend(col_problems)
    findings += col_findings
    value_cols = list(cols.values())
    # Added rows: labelled rows inside the table and labelled rows with numbers straight after
    # it are ignored (with a notice); an unlabelled row with numbers inside it is refused.
    ignored: list[str] = []
    for r, leaf in seq:
        if first < r < last and r not in taken and (
            leaf not in group_set or any(is_number(grid.get(r, c)) for c in value_cols)
        ):
            ignored.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”")
    for r in range(first + 1, last):
        if r not in taken and not row_text(grid, r, lab_lo, lab_hi) and any(
            is_number(grid.get(r, c)) for c in value_cols
        ):
            problems.extra_rows.append(f"第{r + 1}行（无指标名称却填有数值）")
    end = last
    # the next table begins where a label of another table is printed (not one this table
    # shares with it, as a stub: 信息内容 heads a 2019 block the later form has not)
    own = {norm(table.title), norm(table.stub), *(norm(c.label) for c in table.columns)}
    foreign = stop - label_set - group_set - own
    for r in range(last + 1, min(last + 1 + TRAILING, grid.height)):
        texts = row_text(grid, r, lab_lo, lab_hi)
        # a table read through an older printing may have no value column of its own left:
        # then any figure right of the labels is a row the report adds
        values = [grid.get(r, c) for c in value_cols or range(lab_hi + 1, grid.width(r)) if c != code_col]
        if not texts and all(v is None for v in values):
            break
        if any(t.startswith(SIGNATURE_NORMS) for t in texts) or not foreign.isdisjoint(grid.norm_row(r)):
            break  # the signature block, or the next table of the form
        if not stop.isdisjoint(grid.norm_row(r)):  # a header this table shares: the next block
            ignored += _unknown_block(grid, r + 1, lab_lo, lab_hi, code_col, stop | named)
            break
        if texts and all(t in group_set for t in texts):
            continue
        if any(is_number(v) for v in values):
            if not texts:
                problems.extra_rows.append(f"第{r + 1}行“无指标名称”")
            else:
                ignored.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”")
            end = r
    if ignored:
        findings.append(make("structure.ignored", sheet=grid.name, detail="表中多出的" + "、".join(ignored)))
    if problems:
        return problems
    return TableMatch(table, grid.name, rows, cols, note_col, end, findings)


def _unknown_block(grid: Grid, lo: int, lab_lo: int, lab_hi: int, code_col: int | None,
                   known: frozenset[str] | set[str]) -> list[str]:
    """Rows with figures under a block header no table of the form has (2019's （九）政府集中采购
    after the 2021 form's last block), down to a blank row, a label of the form or the
    signature: named, so that no row is dropped silently."""
    out = []
    for r in range(lo, min(lo + TRAILING, grid.height)):
        texts = row_text(grid, r, lab_lo, lab_hi)
        numbers = any(is_number(v) for c, v in enumerate(grid.rows[r]) if c > lab_hi and c != code_col)
        if not texts and not numbers or not known.isdisjoint(grid.norm_row(r)):
            break
        if any(t.startswith(SIGNATURE_NORMS) for t in texts):
            break
        if texts and numbers:
            out.append(f"第{r + 1}行“{_original(grid, r, lab_lo, lab_hi)}”")
    return out


def _headed_only(grid: Grid, table: Table, lo: int, stop: frozenset[str]) -> TableMatch | Problems | None:
    """A block printed with its heading and no rows (a unit without rule-making power deletes
    the rows 规章 and 行政规范性文件 and keeps the block's header): every row read as blank, each
    with a warning.  The heading is the table's caption or, when no caption is printed, a
    header row with most of its own column labels; nothing down to the next table may hold
    a number (rows under other names: refused, naming them)."""
    own = {norm(x) for x in (table.title, table.stub, *(r.label for r in table.rows),
                             *(g for r in table.rows for g in r.groups))}
    own |= {norm(x) for c in table.columns for x in (c.label, *c.groups)}
    foreign = stop - own
    title, mine = norm(table.title), {norm(c.label) for c in table.columns} - stop
    start = None
    for r in range(lo, grid.height):
        texts = [t for t in grid.norm_row(r) if t]
        if not texts:
            continue
        if title and title in texts or mine and sum(t in mine for t in texts) * 5 >= len(table.columns) * 3:
            start = r
            break
        if not foreign.isdisjoint(texts) or any(is_number(v) for v in grid.rows[r]):
            return None  # another table, or figures, before this one's heading
    if start is None:
        return None
    end, instead = start, []
    for r in range(start + 1, grid.height):
        texts = grid.norm_row(r)
        if not foreign.isdisjoint(texts):
            break
        if any(is_number(v) for v in grid.rows[r]):
            label = next((cell_text(v) for v in grid.rows[r] if isinstance(v, str) and v.strip()), "无指标名称")
            instead.append(f"第{r + 1}行“{label[:60]}”")
        end = r if any(texts) else end
    if instead:
        return Problems(missing=[f"{_row_name(row)}（该处为{'、'.join(instead)}）" for row in table.rows[:1]]
                        + [_row_name(row) for row in table.rows[1:]])
    where = f"{table.title or table.sheet}只有表头（第{start + 1}至{end + 1}行）"
    findings = [make("structure.absent", sheet=grid.name, cell=a1(start, 0), label=_row_name(row), detail=where,
                     indicator=f"{table.id}.{row.id}")
                for row in table.rows if row.kind != "header"]
    return TableMatch(table, grid.name, {}, {}, None, end, findings, headed_only=True)


def _leaf_text(grid: Grid, r: int, lo: int, hi: int, leaf: str) -> str:
    """The label cell of row ``r`` whose folded text is ``leaf``, as printed."""
    return next((cell_text(grid.get(r, c)) for c in range(lo, hi + 1) if grid.text(r, c) == leaf), leaf)


def _instead(
    grid: Grid, table: Table, row: Any, matched: dict[int, int], seq: list[tuple[int, str]],
    known: frozenset[str] | set[str], lab_lo: int, lab_hi: int,
) -> str:
    """The unmatched labelled rows printed where the absent ``row`` belongs, if any, up to
    the next table of the form (``known``: group labels and the other tables' labels)."""
    i = table.rows.index(row)
    table_groups = {norm(g) for r in table.rows for g in r.groups}
    below = [j for k, j in matched.items() if k < i]
    above = [j for k, j in matched.items() if k > i]
    lo_j, hi_j = max(below, default=-1), min(above, default=len(seq))
    taken = set(matched.values())
    out = []
    for j in range(lo_j + 1, hi_j):
        if j in taken or seq[j][1] in known:
            if j not in taken and seq[j][1] not in table_groups:
                break  # the next table of the form
            continue
        if any(
            is_number(v) for c, v in enumerate(grid.rows[seq[j][0]]) if c > lab_hi
        ):
            out.append(f"第{seq[j][0] + 1}行“{_original(grid, seq[j][0], lab_lo, lab_hi)}”")
    return "、".join(out)


def _older(table: Table, exact: dict[int, int], leaves: set[str], band: set[str], labels: list[str]) -> list[Older]:
    """The known older printings of ``table`` this one is: every mark printed (as a row label
    or a header above the rows), none of the labels of what they replace."""
    out = []
    for old in table.older:
        if not all(norm(m) in leaves or norm(m) in band for m in old.marks):
            continue
        replaced_rows = any(i in exact for i, r in enumerate(table.rows) if r.id in old.replaces)
        replaced_cols = any(norm(c.label) in band for c in table.columns if c.id in old.replaces)
        if not (replaced_rows or replaced_cols):
            out.append(old)
    return out


def _older_finding(grid: Grid, table: Table, old: Older, used: list[str], r: int, c: int) -> Finding:
    mapped = {i for _, i in (*old.rows, *old.columns)}
    blanks = [f"“{label}”" for x_id, label in labelled(table) if x_id in old.replaces and x_id not in mapped]
    detail = "；".join(
        [*used, *([f"{'、'.join(blanks)}没有对应的数，按空白读取"] if blanks else [])]
    )
    return make("structure.older", sheet=grid.name, cell=a1(r, max(c, 0)),
                label=f"{table.title or table.sheet}按{old.name}", detail=detail or "含义相同")


def _in_order(pairs: dict[int, int]) -> bool:
    js = [j for _, j in sorted(pairs.items())]
    return all(a < b for a, b in zip(js, js[1:], strict=False))


def _match_unlabelled(grid: Grid, table: Table, lo: int) -> TableMatch | Problems:
    """A one-row table printed without a row label (table 四: header rows, then one row of
    numbers): the first row holding numbers under a header row that carries most of the
    column labels."""
    want = {norm(c.label) for c in table.columns}
    for h in range(lo, grid.height):
        row = grid.norm_row(h)
        at = [c for c, t in enumerate(row) if t in want]
        if len(at) * 5 < len(table.columns) * 3:
            continue
        for r in range(h + 1, min(h + 1 + HEADER_BAND, grid.height)):
            if any(t in want for t in grid.norm_row(r)):
                continue  # still the header band
            if not any(is_number(v) for v in grid.rows[r]):
                break
            rows = {table.rows[0].id: r}
            top = max(lo, h - HEADER_BAND)
            # the first labelled column of the header band (a label merged down shows in its top row only)
            left = min(c for rr in range(top, h + 1) for c, t in enumerate(grid.norm_row(rr)) if t in want)
            cols, note_col, problems, findings = match_columns(grid, table, rows, top, r, left - 1, None, [])
            if problems:
                return problems
            return TableMatch(table, grid.name, rows, cols, note_col, r, findings)
        break
    return Problems(missing=[_row_name(r) for r in table.rows])


def _row_name(row: Any) -> str:
    return f"第{row.code}行“{row.label}”"


def _original(grid: Grid, r: int, lo: int, hi: int) -> str:
    texts = [cell_text(grid.get(r, c)) for c in range(lo, hi + 1)]
    return " ".join(t for t in texts if t)[:60]
