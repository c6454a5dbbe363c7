"""A saved web page of a published report (.html/.htm) → `tables.Tables`: every
``<table>`` element, parsed by lxml's HTML parser (libxml2), spans expanded as a browser
lays them out (`tables.Tables`: a span's text repeated down, given once across); ``&nbsp;``
cells are blank.

Read as a browser shows it: elements it hides (``hidden``, inline ``display:none`` or
``visibility:hidden``, ``<template>``, ``<script>``, ``<style>``, ``<noscript>``, a closed
``<details>`` but for its ``<summary>``, rows and cells so hidden) are left out, as are
``<sup>``/``<sub>`` (footnote markers: ``97<sup>1</sup>`` is 97); ``<br>`` and block
boundaries are line breaks (``3<br>5`` is two figures, not 35); ``rowspan``/``colspan`` are
parsed by the HTML standard's rules (``"3px"`` is 3, ``"3.0"`` 3; colspan 0 is 1, rowspan 0
reaches the end of its row group; colspan at most 1000, rowspan 65534); a table nested in a
cell is a table of its own, its text not part of the cell's.

Pre-flight before and while parsing: the size (`safety.MAX_FILE`, checked by the
caller), no entity declarations, nesting depth (`MAX_DEPTH`) and the size of each table
(`book.MAX_TABLE_CELLS`).  The encoding is the byte-order mark's, else UTF-8 if the bytes
are valid UTF-8, else GB18030 (a superset of the GBK/GB2312 that older government sites
still serve).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

import lxml.html
from lxml import etree

from xxgk.read.returns import ReadError
from xxgk.read.tables import MAX_TABLE_CELLS, Tables, cell_text

MAX_DEPTH = 200  # element nesting; real report pages stay below 40
MAX_SPAN = 1000  # a colspan beyond this is clamped (as the HTML standard says)
MAX_ROWSPAN = 65534
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
    for el in _shown(root):
        if el.tag == "table":
            todo = [el]
            while todo:  # a table, then the tables nested in its cells
                grid, nested = _grid(todo.pop(0))
                out.add(grid)
                todo[:0] = nested
        elif not out.grids and el.tag in ("title", "h1", "h2", "h3") and len(title) < 6:
            title.append(cell_text(shown_text(el)))
    out.title = " ".join(t for t in title if t)
    return out


def _check_depth(root: etree._Element) -> None:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise ReadError("file.too_large", f"网页元素嵌套超过{MAX_DEPTH}层")


# ---------------------------------------------------------------- what a browser shows

_NEVER_SHOWN = frozenset({"template", "script", "style", "noscript", "meta", "link", "object", "iframe"})
_MARKS = frozenset({"sup", "sub"})
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "td", "th", "ul", "caption",
})
_DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;]*)")


def _style(el: etree._Element) -> dict[str, str]:
    style = el.get("style")
    if not style:
        return {}
    return {k: v.strip().lower().replace("!important", "").strip()
            for k, v in _DECLARATION.findall(style.lower())}


def _removed(el: etree._Element) -> bool:
    """Whether a browser lays the element out not at all (no box, no space)."""
    tag = el.tag
    if not isinstance(tag, str) or tag in _NEVER_SHOWN or el.get("hidden") is not None:
        return True
    return _style(el).get("display") == "none"


def _visibility(el: etree._Element, visible: bool) -> bool:
    value = _style(el).get("visibility")
    if value in ("hidden", "collapse"):
        return False
    return True if value == "visible" else visible


def _shown(root: etree._Element) -> Iterator[etree._Element]:
    """Tables and title elements a browser lays out, in document order (not inside a table:
    a nested table is given by `_grid`)."""
    stack = [iter(root)]
    while stack:
        el = next(stack[-1], None)
        if el is None:
            stack.pop()
            continue
        if _removed(el):
            continue
        if el.tag in ("table", "title", "h1", "h2", "h3"):
            yield el
        elif el.tag == "details" and el.get("open") is None:
            stack.append(iter([c for c in el if c.tag == "summary"]))
        else:
            stack.append(iter(el))


def shown_text(el: etree._Element, nested: list[etree._Element] | None = None, visible: bool = True) -> str:
    """The text a browser shows of ``el``: hidden parts and footnote markers left out, line
    breaks at ``<br>`` and block boundaries; tables inside it are put in ``nested``."""
    parts: list[str] = []
    _walk(el, _visibility(el, visible), parts, nested)
    return "".join(parts)


def _walk(el: etree._Element, visible: bool, parts: list[str], nested: list[etree._Element] | None) -> None:
    closed = el.tag == "details" and el.get("open") is None  # shows its <summary> only
    if visible and el.text and not closed:
        parts.append(el.text)
    for child in el:
        if _removed(child) or child.tag in _MARKS or (closed and child.tag != "summary"):
            pass
        elif child.tag == "table" and nested is not None:
            nested.append(child)
            parts.append("\n")
        elif child.tag == "br":
            parts.append("\n")
        else:
            block = child.tag in _BLOCKS
            if block:
                parts.append("\n")
            _walk(child, _visibility(child, visible), parts, nested)
            if block:
                parts.append("\n")
        if visible and child.tail and not closed:
            parts.append(child.tail)


# ---------------------------------------------------------------- the grid


def _groups(table: etree._Element) -> list[list[etree._Element]]:
    """The table's own row groups as a browser lays them out (the first ``<thead>`` on top,
    the first ``<tfoot>`` at the bottom; rows directly in the table form a group), each the
    rows shown (not those of a table nested in one of its cells)."""
    head: list[list[etree._Element]] = []
    foot: list[list[etree._Element]] = []
    body: list[list[etree._Element]] = []
    loose: list[etree._Element] | None = None
    for child in table:
        if _removed(child):
            continue
        if child.tag == "tr":
            if loose is None:
                loose = []
                body.append(loose)
            loose.append(child)
            continue
        loose = None
        if child.tag in ("thead", "tbody", "tfoot"):
            rows = [c for c in child if c.tag == "tr" and not _removed(c)]
            into = head if child.tag == "thead" and not head else foot if child.tag == "tfoot" and not foot else body
            into.append(rows)
    return [g for g in (*head, *body, *foot) if g]


def span(value: str | None) -> int | None:
    """An attribute parsed by the HTML standard's rules for non-negative integers: leading
    white space, an optional "+", digits up to the first non-digit; None when there are none."""
    m = re.match(r"[ \t\n\f\r]*\+?([0-9]+)", value or "")
    if m is None:
        return None
    digits = m.group(1).lstrip("0") or "0"
    return int(digits) if len(digits) <= 9 else 10**9


def _grid(table: etree._Element) -> tuple[list[list[str]], list[etree._Element]]:
    """The table as a grid, a spanning cell's text in every row it covers, in its first
    column; and the tables nested in its cells."""
    filled: dict[tuple[int, int], str] = {}
    nested: list[etree._Element] = []
    width = r = 0
    visible = _visibility(table, True)
    for group in _groups(table):
        end = r + len(group)
        for tr in group:
            c = 0
            row_visible = _visibility(tr, visible)
            for cell in tr:
                if cell.tag not in ("td", "th") or _removed(cell):
                    continue
                while (r, c) in filled:
                    c += 1
                text = cell_text(shown_text(cell, nested, row_visible))
                cols = min(max(span(cell.get("colspan")) or 1, 1), MAX_SPAN)
                rows = span(cell.get("rowspan"))
                rows = end - r if rows == 0 else min(rows or 1, MAX_ROWSPAN, end - r)
                if (r + rows) * max(width, c + cols) > MAX_TABLE_CELLS:
                    raise ReadError("file.too_large", f"网页中的表格过大（{r + rows}行×{c + cols}列）")
                for dr in range(rows):
                    for dc in range(cols):
                        filled[(r + dr, c + dc)] = "" if dc else text
                c += cols
                width = max(width, c)
            r += 1
    return [[filled.get((i, c), "") for c in range(width)] for i in range(r)], nested
