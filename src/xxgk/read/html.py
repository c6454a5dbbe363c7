"""A saved web page of a published report (.html/.htm) → `book.Tables`: every
``<table>`` element, parsed by lxml's HTML parser (libxml2), spans expanded as a browser
lays them out (`book.Tables`: a span's text repeated down, given once across); ``&nbsp;``
cells are blank.

Pre-flight before and while parsing: the size (`safety.MAX_FILE`, checked by the
caller), no entity declarations, nesting depth (`MAX_DEPTH`) and the size of each table
(`book.MAX_TABLE_CELLS`).  The encoding is the byte-order mark's, else UTF-8 if the bytes
are valid UTF-8, else GB18030 (a superset of the GBK/GB2312 that older government sites
still serve).
"""

from __future__ import annotations

import codecs

import lxml.html
from lxml import etree

from xxgk.read.returns import ReadError
from xxgk.read.tables import MAX_TABLE_CELLS, Tables, cell_text

MAX_DEPTH = 200  # element nesting; real report pages stay below 40
MAX_SPAN = 1000  # a colspan/rowspan beyond this is clamped (browsers clamp colspan at 1000)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def encoding_of(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def read_html(data: bytes) -> Tables:
    """The page's tables and its title text.  Raises `ReadError` when it cannot be read safely."""
    if b"<!entity" in data[:65536].lower():
        raise ReadError("file.unsafe_xml", "网页中含有ENTITY声明")
    encoding = encoding_of(data)
    parser = lxml.html.HTMLParser(encoding=encoding, no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ReadError("file.unreadable", f"网页无法解析（{exc}）") from None
    _check_depth(root)
    out = Tables("html", {}, "")
    title: list[str] = []
    for el in root.iter("title", "h1", "h2", "h3", "p", "div", "table"):
        if el.tag == "table":
            out.add(_grid(el))
        elif not out.grids and el.tag in ("title", "h1", "h2", "h3") and len(title) < 6:
            title.append(cell_text(el.text_content()))
    out.title = " ".join(t for t in title if t)
    return out


def _check_depth(root: etree._Element) -> None:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise ReadError("file.too_large", f"网页元素嵌套超过{MAX_DEPTH}层")


def _rows(table: etree._Element) -> list[etree._Element]:
    """The table's own rows (not those of a table nested in one of its cells)."""
    out = []
    for child in table:
        if child.tag == "tr":
            out.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            out.extend(c for c in child if c.tag == "tr")
    return out


def _span(cell: etree._Element, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, "1").strip() or 1), MAX_SPAN))
    except ValueError:
        return 1


def _grid(table: etree._Element) -> list[list[str]]:
    """The table as a grid, a spanning cell's text in every row it covers, in its first column."""
    trs = _rows(table)
    filled: dict[tuple[int, int], str] = {}
    width = 0
    for r, tr in enumerate(trs):
        c = 0
        for cell in tr:
            if cell.tag not in ("td", "th"):
                continue
            while (r, c) in filled:
                c += 1
            text = cell_text(cell.text_content())
            rows, cols = min(_span(cell, "rowspan"), len(trs) - r), _span(cell, "colspan")
            if (r + rows) * max(width, c + cols) > MAX_TABLE_CELLS:
                raise ReadError("file.too_large", f"网页中的表格过大（{r + rows}行×{c + cols}列）")
            for dr in range(rows):
                for dc in range(cols):
                    filled[(r + dr, c + dc)] = "" if dc else text
            c += cols
            width = max(width, c)
    return [[filled.get((r, c), "") for c in range(width)] for r in range(len(trs))]
