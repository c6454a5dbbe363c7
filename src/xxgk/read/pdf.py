"""A published annual report as a PDF with a text layer → `tables.Tables`, read with pdfplumber.

Each ruled table of each page is a grid (pdfplumber finds its cells from the lines drawn);
a merged cell's text is repeated down the rows it covers and given once across, as in
`tables.Tables`.  A table that runs on over a page break (it ends the page, the next page
begins with a table of the same columns) is one table: a header the next page repeats is
dropped, and a merged label cell cut by the break carries its text on.  Footnote markers
(characters smaller than the cell's text and raised or lowered off its line) are left out.
The unit and year come from the first lines of the first page (the title), else from the
document's metadata.

Pre-flight (`safety.pdfcheck` on the bytes first): objects, inflated stream bytes; then
here, before and while pages are read: `MAX_PAGES`, the bytes of each page's content before
pdfminer interprets it (`MAX_CONTENT`), characters and drawn lines per page, and
`MAX_SECONDS` in all.  pdfminer's warnings about damaged files are not printed: what cannot
be read is a finding.  A PDF without a text layer (a scan) is refused with what to send.
"""

from __future__ import annotations

import io
import logging
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xxgk.read.returns import ReadError
from xxgk.read.safety.pdfcheck import check_pdf
from xxgk.read.tables import Tables, cell_text

MAX_PAGES = 200  # a report is 5–20 pages
MAX_CONTENT = 512 * 1024  # bytes of one page's content streams, inflated (a page of a report: 5–50 KB)
MAX_CHARS = 20_000  # characters on one page (a page of a report: about 1,000)
MAX_GRAPHICS = 20_000  # lines, rectangles and curves on one page (the table finder works on them)
MAX_SECONDS = 30.0  # reading all pages (checked between pages; pdfminer reads about 2,000 characters a second)
TITLE_LINES = 12
EDGE = 0.08  # header/footer band of a page (page numbers): not content between tables
SCANNED = "该PDF为扫描图片，无法读取文字，请报送Word或Excel版本"

Box = tuple[float, float, float, float]


@dataclass
class _Piece:
    """One table found on one page: its grid, which cells continue the one above, its box."""

    rows: list[list[str]]
    down: list[list[bool]]
    columns: list[float]
    top: float
    bottom: float
    first: bool = False  # nothing above it on its page (but the header band)
    last: bool = False  # nothing below it on its page (but the footer band)
    page: int = 0
    parts: list[int] = field(default_factory=list)


def read_pdf(data: bytes) -> Tables:
    """The PDF's tables and its title text.  Raises `ReadError` when it cannot be read."""
    check_pdf(data)
    import pdfplumber  # imported when a PDF comes: pdfminer takes a while to load

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    start = time.monotonic()
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
        raise ReadError("file.unreadable", f"PDF文件已损坏或已加密（{type(exc).__name__}）") from None
    with pdf:
        try:
            pages = pdf.pages
            if len(pages) > MAX_PAGES:
                raise ReadError("file.too_large", f"PDF共{len(pages)}页，超过{MAX_PAGES}页")
            pieces: list[_Piece] = []
            title: list[str] = []
            chars = 0
            for n, page in enumerate(pages):
                if time.monotonic() - start > MAX_SECONDS:
                    raise ReadError("file.too_large", f"PDF读取超过{MAX_SECONDS:.0f}秒（已读{n}页）")
                found, text = _page(page, n)
                chars += text
                pieces.extend(found)
                if not pieces and len(title) < TITLE_LINES:
                    title.extend(_title_lines(page, found))
            if not chars:
                raise ReadError("file.unreadable", SCANNED)
            meta = pdf.metadata.get("Title") if isinstance(pdf.metadata, dict) else None
        except ReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed page
            raise ReadError("file.unreadable", f"PDF文件中的内容无法读取（{type(exc).__name__}）") from None
    out = Tables("pdf", {}, "")
    for rows in _joined(pieces):
        out.add(rows)
    if isinstance(meta, bytes):
        meta = meta.decode("utf-16" if meta.startswith(b"\xfe\xff") else "latin-1", "replace")
    out.title = " ".join([*title[:TITLE_LINES], cell_text(meta) if isinstance(meta, str) else ""])
    return out


def _page(page: Any, n: int) -> tuple[list[_Piece], int]:
    """The tables of one page and how many characters it has."""
    from pdfminer.pdftypes import resolve1

    content = 0
    for stream in page.page_obj.contents:  # inflated here: `pdfcheck` bounded what all streams inflate to
        data = getattr(resolve1(stream), "get_data", None)
        content += len(data()) if data is not None else 0
        if content > MAX_CONTENT:
            raise ReadError("file.too_large", f"PDF第{n + 1}页的内容超过{MAX_CONTENT // 1024}KB")
    chars = page.chars
    if len(chars) > MAX_CHARS:
        raise ReadError("file.too_large", f"PDF第{n + 1}页有{len(chars)}个字符")
    graphics = len(page.lines) + len(page.rects) + len(page.curves)
    if graphics > MAX_GRAPHICS:
        raise ReadError("file.too_large", f"PDF第{n + 1}页有{graphics}个图形")
    if not chars:
        return [], 0
    tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
    pieces = [_piece(t, chars, n) for t in tables]
    pieces = [p for p in pieces if p.rows]
    height = float(page.height)
    shown = [c for c in chars if c["text"].strip() and height * EDGE < c["top"] < height * (1 - EDGE)]
    for p in pieces:
        p.first = not any(c["bottom"] <= p.top + 1 for c in shown)
        p.last = not any(c["top"] >= p.bottom - 1 for c in shown)
    return pieces, len(chars)


def _title_lines(page: Any, tables: list[_Piece]) -> list[str]:
    """The page's lines above its first table (all of it when it has none)."""
    area = page if not tables else page.crop((0, 0, page.width, max(tables[0].top, 1)))
    return [t for t in (cell_text(line) for line in (area.extract_text() or "").splitlines()) if t]


def _inside(char: dict[str, Any], box: Box) -> bool:
    x, y = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    return bool(box[0] <= x <= box[2] and box[1] <= y <= box[3])


def _text(chars: list[dict[str, Any]]) -> str:
    """A cell's text as shown: footnote markers left out (smaller than the cell's text and
    off its line), lines kept apart."""
    from pdfplumber.utils.text import extract_text

    if not chars:
        return ""
    size = max(c["size"] for c in chars)
    base = statistics.median(c["bottom"] for c in chars if c["size"] >= size * 0.9)
    kept = [c for c in chars if not (c["size"] < size * 0.8 and abs(c["bottom"] - base) > c["size"] * 0.25
                                     and _on_line(c, chars, size))]
    lines = extract_text(kept).splitlines() if kept else []
    out = lines[:1]
    for line in lines[1:]:  # a label wrapped in its cell is one label; two figures stay two
        wrapped = out[-1] and line and not out[-1][-1].isascii() and not line[0].isascii()
        out[-1:] = [out[-1] + line] if wrapped else [out[-1], line]
    return "\n".join(out)


def _on_line(char: dict[str, Any], chars: list[dict[str, Any]], size: float) -> bool:
    """Whether a small character sits beside full-size characters of the same line (a marker),
    not on a line of its own."""
    return any(bool(abs(c["top"] - char["top"]) < size and c["size"] >= size * 0.9) for c in chars)


def _piece(table: Any, chars: list[dict[str, Any]], page: int) -> _Piece:
    """One table's grid: each position's text, a merged cell's repeated down and blank across."""
    rows = table.rows
    columns = sorted({round(c[0], 1) for c in table.cells})
    box = table.bbox
    mine = [c for c in chars if _inside(c, box)]
    grid: list[list[str]] = []
    down: list[list[bool]] = []
    for r, row in enumerate(rows):
        texts: list[str] = []
        flags: list[bool] = []
        for c, cell in enumerate(row.cells):
            if cell is not None:
                texts.append(cell_text(_text([ch for ch in mine if _inside(ch, cell)])))
                flags.append(False)
                continue
            left = next((row.cells[k] for k in range(c - 1, -1, -1) if row.cells[k] is not None), None)
            if left is not None and c < len(columns) and left[2] > columns[c] + 1:
                texts.append("")  # covered by the cell to its left
                flags.append(False)
            else:  # covered by a cell from above
                texts.append(grid[r - 1][c] if r and c < len(grid[r - 1]) else "")
                flags.append(bool(r))
        grid.append(texts)
        down.append(flags)
    return _Piece(grid, down, columns, box[1], box[3], page=page)


def _joined(pieces: list[_Piece]) -> Iterable[list[list[str]]]:
    """The tables, each continued across page breaks joined to the part before it."""
    current: _Piece | None = None
    for piece in pieces:
        if current is not None and _continues(current, piece):
            _append(current, piece)
            continue
        if current is not None:
            yield current.rows
        current = piece
    if current is not None:
        yield current.rows


def _continues(before: _Piece, after: _Piece) -> bool:
    return (after.page == before.page + 1 and before.last and after.first
            and len(after.columns) == len(before.columns)
            and all(abs(a - b) < 3 for a, b in zip(after.columns, before.columns, strict=True)))


def _append(before: _Piece, after: _Piece) -> None:
    rows, down = after.rows, after.down
    repeated = next((k for k in range(min(len(before.rows), len(rows) - 1), 0, -1)
                     if rows[:k] == before.rows[:k]), 0)  # a header printed again on the new page
    rows, down = rows[repeated:], down[repeated:]
    last = before.rows[-1]
    for c in range(min(len(last), len(rows[0]) if rows else 0)):
        # a merged label cut by the break: blank at the top of the new page, its text above
        if rows[0][c] == "" and last[c] and any(d[c] for d in before.down[-1:]):
            for r in range(len(rows)):
                if r and not down[r][c]:
                    break
                rows[r][c] = last[c]
    before.rows.extend(rows)
    before.down.extend(down)
    before.page = after.page
    before.last = after.last
