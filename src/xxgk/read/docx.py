"""A Word annual report (.docx) → `tables.Tables`: every table of the body, as Word shows
it, and the paragraphs before the first table.

The package was vetted by `safety.preflight` first (archive bombs, DTDs in any part).  The
body (``word/document.xml``) is read here with lxml, not python-docx: python-docx expands a
table's merges without bounds (a ``gridSpan`` of 10⁹, thousands of vertical merges: cubic),
and reads text Word does not show.  Read as a person sees the document:

* text of runs Word hides (``w:vanish`` on the run, its character style or its paragraph's
  style) and of superscript/subscript runs (footnote markers: ``97¹`` is 97) is left out,
  as are field instructions, deleted text (``w:del``, ``w:moveFrom``) and deleted rows
  (``w:trPr/w:del``) and cells (``w:cellDel``);
* text inside wrappers (``w:ins``, ``w:moveTo``, ``w:sdt``, ``w:smartTag``, ``w:customXml``,
  ``w:fldSimple``, ``w:hyperlink``) is text; of ``mc:AlternateContent`` its first Choice is
  read (what Word shows), else its Fallback, never both;
* a row starting late (``w:gridBefore``) starts in that grid column; paragraphs and line
  breaks in a cell are line breaks (two figures in a cell are not one);
* a table nested in a cell is a table of its own, after the one holding it.

Limits, checked while walking, before anything is expanded: `MAX_NESTING` tables in tables,
`tables.MAX_TABLE_CELLS` grid positions per table after expanding merges (spans summed
as they come), `MAX_CELLS` in all tables, `MAX_PARAGRAPHS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from xxgk.read.returns import ReadError
from xxgk.read.safety.archive import MAX_PART, Zip, open_zip, read_capped
from xxgk.read.safety.extent import MAX_CELLS
from xxgk.read.tables import MAX_TABLE_CELLS, Tables, cell_text

TITLE_PARAGRAPHS = 12  # paragraphs before the first table searched for the title
MAX_NESTING = 5  # a table in a cell of a table …: real reports nest at most once
MAX_PARAGRAPHS = 100_000  # paragraphs of the whole body (a 50-page report has a few thousand)

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_w = f"{{{W}}}".__add__
# elements whose content Word does not show as text of the document
_SKIP = frozenset(map(_w, (
    "del", "moveFrom", "delText", "instrText", "rPr", "pPr", "sdtPr", "sdtEndPr", "tblPr", "tblGrid",
    "trPr", "tcPr", "customXmlPr", "smartTagPr", "fldData", "footnoteReference", "endnoteReference",
    "commentReference", "annotationRef", "footnoteRef", "endnoteRef", "ffData", "sectPr", "bookmarkStart",
))) | {f"{{{MC}}}Fallback"}
_BREAKS = frozenset(map(_w, ("br", "cr")))
_SPACES = frozenset(map(_w, ("tab", "ptab")))
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)


@dataclass
class _Styles:
    """What a run's style says about showing it: hidden, raised/lowered (by style id)."""

    hidden: dict[str, bool] = field(default_factory=dict)
    marker: dict[str, bool] = field(default_factory=dict)
    based: dict[str, str] = field(default_factory=dict)
    default_hidden: bool = False

    def says(self, table: dict[str, bool], style: str | None) -> bool | None:
        seen: set[str] = set()
        while style is not None and style not in seen:
            seen.add(style)
            if style in table:
                return table[style]
            style = self.based.get(style)
        return None


def _on(el: etree._Element | None) -> bool | None:
    """A toggle property's value (``<w:vanish/>``, ``w:val="false"``…); None when absent."""
    if el is None:
        return None
    return el.get(_w("val"), "true").lower() not in ("false", "0", "off", "none", "baseline")


def _props(rpr: etree._Element | None) -> tuple[bool | None, bool | None]:
    if rpr is None:
        return None, None
    hidden = _on(rpr.find(_w("vanish")))
    if hidden is None:
        hidden = _on(rpr.find(_w("specVanish")))
    return hidden, _on(rpr.find(_w("vertAlign")))


def _styles(xml: bytes | None) -> _Styles:
    out = _Styles()
    if not xml:
        return out
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        return out
    out.default_hidden = bool(_props(root.find(f"{_w('docDefaults')}/{_w('rPrDefault')}/{_w('rPr')}"))[0])
    for style in root.iter(_w("style")):
        sid = style.get(_w("styleId"))
        if sid is None:
            continue
        based = style.find(_w("basedOn"))
        if based is not None and based.get(_w("val")):
            out.based[sid] = based.get(_w("val"), "")
        hidden, marker = _props(style.find(_w("rPr")))
        if hidden is not None:
            out.hidden[sid] = hidden
        if marker is not None:
            out.marker[sid] = marker
    return out


class _Reader:
    def __init__(self, styles: _Styles) -> None:
        self.styles = styles
        self.out = Tables("docx", {}, "")
        self.cells = 0  # grid positions of every table so far
        self.paragraphs = 0
        self.title: list[str] = []

    # ------------------------------------------------------------ text

    def _shown(self, run: etree._Element, para_style: str | None) -> bool:
        """Whether Word shows the run's text as body text (not hidden, not a raised marker)."""
        rpr = run.find(_w("rPr"))
        hidden, marker = _props(rpr)
        style = _val(rpr, "rStyle")
        for sid in (style, para_style):
            if hidden is None:
                hidden = self.styles.says(self.styles.hidden, sid)
            if marker is None:
                marker = self.styles.says(self.styles.marker, sid)
        if hidden is None:
            hidden = self.styles.default_hidden
        return not hidden and not marker

    def paragraph_text(self, p: etree._Element) -> str:
        pstyle = _val(p.find(_w("pPr")), "pStyle")
        parts: list[str] = []
        self._text(p, pstyle, parts)
        return "".join(parts)

    def _text(self, el: etree._Element, pstyle: str | None, parts: list[str]) -> None:
        for child in _content(el):
            tag = child.tag
            if tag == _w("r"):
                if self._shown(child, pstyle):
                    self._run(child, pstyle, parts)
            elif tag == _w("tbl"):
                continue  # a table in a text box: not read
            else:
                self._text(child, pstyle, parts)

    def _run(self, run: etree._Element, pstyle: str | None, parts: list[str]) -> None:
        for child in _content(run):
            tag = child.tag
            if tag == _w("t"):
                parts.append(child.text or "")
            elif tag in _BREAKS:
                parts.append("\n")
            elif tag in _SPACES:
                parts.append(" ")
            elif tag == _w("noBreakHyphen"):
                parts.append("-")
            elif tag == _w("p"):  # a text box's paragraphs (in a drawing or VML shape)
                parts.append("\n" + self.paragraph_text(child) + "\n")
            else:
                self._run(child, pstyle, parts)

    # ------------------------------------------------------------ body and tables

    def body(self, body: etree._Element) -> None:
        for el in _content(body):
            if el.tag == _w("p"):
                self._count_paragraph()
                if not self.out.grids and len(self.title) < TITLE_PARAGRAPHS:
                    text = cell_text(self.paragraph_text(el))
                    if text:
                        self.title.append(text)
            elif el.tag == _w("tbl"):
                self.table(el, 1)

    def _count_paragraph(self) -> None:
        self.paragraphs += 1
        if self.paragraphs > MAX_PARAGRAPHS:
            raise ReadError("file.too_large", f"Word文档的段落超过{MAX_PARAGRAPHS}个")

    def table(self, tbl: etree._Element, depth: int) -> None:
        if depth > MAX_NESTING:
            raise ReadError("file.too_large", f"Word文档中的表格嵌套超过{MAX_NESTING}层")
        rows: list[list[str]] = []
        nested: list[etree._Element] = []
        above: dict[int, str] = {}  # column → text of the cell a vertical merge continues
        width = 0
        for tr in _children(tbl, "tr"):
            trpr = tr.find(_w("trPr"))
            if trpr is not None and (trpr.find(_w("del")) is not None or trpr.find(_w("moveFrom")) is not None):
                continue  # a row deleted with track changes
            row: list[str] = []
            col = _int(trpr, "gridBefore")
            self._budget(len(rows) + 1, col)
            row.extend([""] * col)
            for tc in _children(tr, "tc"):
                tcpr = tc.find(_w("tcPr"))
                if tcpr is not None and tcpr.find(_w("cellDel")) is not None:
                    continue
                span = max(1, _int(tcpr, "gridSpan"))
                self._budget(len(rows) + 1, col + span)
                merge = tcpr.find(_w("vMerge")) if tcpr is not None else None
                if merge is not None and merge.get(_w("val"), "continue") != "restart" and col in above:
                    text = above[col]
                else:
                    text = self._cell(tc, nested)
                above[col] = text
                row.append(text)
                row.extend([""] * (span - 1))
                for c in range(col + 1, col + span):
                    above.pop(c, None)
                col += span
            col += _int(trpr, "gridAfter")
            self._budget(len(rows) + 1, col)
            row.extend([""] * (col - len(row)))
            width = max(width, col)
            self.cells += width
            if self.cells > MAX_CELLS:
                raise ReadError("file.too_large", f"Word文档中的表格共超过{MAX_CELLS}格")
            rows.append(row)
        self.out.add(rows)
        for inner in nested:
            self.table(inner, depth + 1)

    def _budget(self, rows: int, width: int) -> None:
        if rows * width > MAX_TABLE_CELLS or width > MAX_TABLE_CELLS:
            raise ReadError("file.too_large", f"Word文档中的第{len(self.out.grids) + 1}个表格过大（{rows}行×{width}列）")

    def _cell(self, tc: etree._Element, nested: list[etree._Element]) -> str:
        lines = []
        for el in _content(tc):
            if el.tag == _w("p"):
                self._count_paragraph()
                lines.append(self.paragraph_text(el))
            elif el.tag == _w("tbl"):
                nested.append(el)
        return cell_text("\n".join(lines))


def _content(el: etree._Element) -> Iterator[etree._Element]:
    """The children Word shows, wrappers opened: skipped parts left out, of an
    ``mc:AlternateContent`` its first Choice (else its Fallback)."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == f"{{{MC}}}AlternateContent":
            choice = child.find(f"{{{MC}}}Choice")
            chosen = choice if choice is not None else child.find(f"{{{MC}}}Fallback")
            if chosen is not None:
                yield from _content(chosen)
        elif tag in _WRAPPERS:
            yield from _content(child)
        else:
            yield child


# block- and row-level wrappers whose content is the document's own
_WRAPPERS = frozenset(map(_w, ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag")))


def _children(el: etree._Element, local: str) -> Iterator[etree._Element]:
    return (c for c in _content(el) if c.tag == _w(local))


def _val(props: etree._Element | None, name: str) -> str | None:
    el = props.find(_w(name)) if props is not None else None
    return el.get(_w("val")) if el is not None else None


def _int(props: etree._Element | None, name: str) -> int:
    """A ``w:val`` number of a property (0 when absent or unreadable); as large as written:
    the budget refuses what is too large."""
    digits = (_val(props, name) or "").strip()
    if not digits.isascii() or not digits.isdigit():
        return 0
    return int(digits) if len(digits) <= 12 else 10**12


def _part(zf: Zip, name: str) -> bytes | None:
    info = zf.NameToInfo.get(name)
    return None if info is None else read_capped(zf, info, MAX_PART)


def read_docx(data: bytes) -> Tables:
    """The document's tables and title text.  Raises `ReadError` when it cannot be parsed
    or its tables are too large to expand."""
    try:
        zf = open_zip(data)
        xml = _part(zf, "word/document.xml")
        if xml is None:
            raise ReadError("file.unreadable", "Word文档已损坏（缺少正文部件word/document.xml）")
        root = etree.fromstring(xml, _PARSER)
        styles = _styles(_part(zf, "word/styles.xml"))
        core = _part(zf, "docProps/core.xml")
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
        raise ReadError("file.unreadable", f"Word文档已损坏（{type(exc).__name__}）") from None
    body = root.find(_w("body"))
    reader = _Reader(styles)
    if body is not None:
        reader.body(body)
    out = reader.out
    out.title = " ".join([*reader.title, _core_title(core)])
    return out


def _core_title(xml: bytes | None) -> str:
    if not xml:
        return ""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        return ""
    el = root.find("{http://purl.org/dc/elements/1.1/}title")
    return cell_text(el.text or "") if el is not None else ""
