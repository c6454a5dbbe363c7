"""The signature block (单位负责人 … 填报日期) below a form's last table."""

from __future__ import annotations

import re

from xxgk.forms.layout import SIGNATURE
from xxgk.forms.model import Form
from xxgk.read.grid import Book, Grid, cell_text, norm
from xxgk.read.matches import TRAILING, TableMatch

SIGNATURE_NORMS = tuple(norm(n) for n in SIGNATURE)


def signature_label(grid: Grid, r: int, value_col: int) -> str | None:
    """The signature name row ``r`` begins with, left of ``value_col``: where the template wrote it."""
    for c in range(value_col):
        text = grid.text(r, c)
        if text:
            for name in SIGNATURE:
                if text.startswith(name):
                    return name
    return None


_SIG_RE = re.compile(
    "(" + "|".join(SIGNATURE) + r")\s*[:：]?\s*(.*?)\s*(?=(?:" + "|".join(SIGNATURE) + r")|$)", re.S
)


def find_signature(book: Book, form: Form, tables: dict[str, TableMatch]) -> dict[str, str]:
    """单位负责人 … 填报日期 below the last table: label then value, in cells or as ``名：值`` text."""
    last = tables[form.tables[-1].id]
    grid = book.grid(last.sheet)
    out: dict[str, str] = {}
    for r in range(last.end + 1, min(last.end + 1 + TRAILING, grid.height)):
        cells = [cell_text(v) for v in grid.rows[r]]
        line = "\t".join(cells)
        if not any(n in line for n in SIGNATURE):
            continue
        for m in _SIG_RE.finditer(line):
            value = next((t for t in m.group(2).split("\t") if t.strip()), "").strip()
            out.setdefault(m.group(1), value)
    return {n: out[n] for n in SIGNATURE if n in out}
