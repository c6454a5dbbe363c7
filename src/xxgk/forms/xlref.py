"""Excel references to layout places, as formulas on a given sheet need them.

A formula names a cell of its own sheet by address and any other cell with
the quoted sheet name; runs of neighbouring cells collapse to ``A1:B9`` ranges
so formulas stay short and readable.
"""

from __future__ import annotations

from collections.abc import Iterable

from xxgk.forms.layout import Place, a1


def address(row: int, col: int, *, absolute: bool = False) -> str:
    """A1 address, with ``$`` on both parts when ``absolute``."""
    text = a1(row, col)
    if not absolute:
        return text
    digits = next(i for i, ch in enumerate(text) if ch.isdigit())
    return f"${text[:digits]}${text[digits:]}"


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def ref(place: Place, here: str | None, *, absolute: bool = False) -> str:
    """Reference to ``place`` from a formula on sheet ``here`` (None: from another sheet)."""
    text = address(place.row, place.col, absolute=absolute)
    return text if place.sheet == here else f"{quote(place.sheet)}!{text}"


def ranges(places: Iterable[Place], here: str | None) -> list[str]:
    """The places as few rectangular references as possible (order does not matter to SUM)."""
    runs: list[tuple[str, int, int, int, int]] = []  # sheet, top, left, bottom, right
    for p in sorted(set(places), key=lambda p: (p.sheet, p.col, p.row)):
        if runs and runs[-1][0] == p.sheet and runs[-1][2] == p.col and runs[-1][3] == p.row - 1:
            sheet, top, left, _, right = runs[-1]
            runs[-1] = (sheet, top, left, p.row, right)
        else:
            runs.append((p.sheet, p.row, p.col, p.row, p.col))
    blocks: list[tuple[str, int, int, int, int]] = []
    for run in sorted(runs, key=lambda r: (r[0], r[1], r[3], r[2])):
        last = blocks[-1] if blocks else None
        if last and last[0:2] == run[0:2] and last[3] == run[3] and last[4] == run[2] - 1:
            blocks[-1] = (*last[:4], run[4])
        else:
            blocks.append(run)
    out = []
    for sheet, top, left, bottom, right in blocks:
        text = a1(top, left) if (top, left) == (bottom, right) else f"{a1(top, left)}:{a1(bottom, right)}"
        out.append(text if sheet == here else f"{quote(sheet)}!{text}")
    return out
