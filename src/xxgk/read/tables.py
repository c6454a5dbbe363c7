"""A return that is not a workbook — the annual report as a Word document, a web page or a PDF —
as the reader sees a workbook: named grids of cells, one per table of the document.

`read.docx`, `read.html` and `read.pdf` build a `Tables`; the reader matches the form in it exactly as
in a workbook's sheets.  A merged cell's text is repeated down every row it spans (each
row carries its group label) and given once across the columns it spans, in the first, as
a workbook's merged cell (a value cell spanning three columns is one value, not three).
A document carries no metadata: who and which year come from its title
(``平潭综合实验区公安局2021年政府信息公开工作年度报告``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from xxgk.read.returns import ReadError

KINDS = {"xlsx": "工作簿", "xls": "工作簿", "ods": "工作簿", "docx": "Word文档", "html": "网页", "pdf": "PDF文件"}
DOCUMENT_KINDS = ("docx", "html", "pdf")  # the annual report itself, not a workbook
MAX_TABLE_CELLS = 200_000  # grid positions of one document table (rows × columns)
MAX_TABLES = 500

# the annual report's own title, unit first or year first: 某单位2021年(度)政府信息公开工作年度报告,
# 某单位关于2021年度政府信息公开工作的年度报告, 2019年某单位政府信息公开工作年度报告
_TAIL = r"(?:的)?政府信息公开(?:工作)?(?:的)?年度?报告"
_REPORT_TITLES = (
    re.compile(r"(?P<who>[^\s，,。；;：:]{2,60}?)(?:关于)?(?P<year>(?:19|20)\d\d)年度?" + _TAIL),
    re.compile(r"(?P<year>(?:19|20)\d\d)年度?(?P<who>[^\s，,。；;：:\d]{2,60}?)" + _TAIL),
)


@dataclass
class Tables:
    """A document's tables: ``grids`` by name (表1, 表2 …, in document order) and the text
    before the first table (``title``), where the report names its unit and year."""

    kind: str  # docx | html | pdf
    grids: dict[str, list[list[str | int | float]]]
    title: str

    def add(self, rows: list[list[str]]) -> None:
        """Append one table, its rows padded to one width; refused past `MAX_TABLE_CELLS`."""
        width = max((len(r) for r in rows), default=0)
        if len(rows) * width > MAX_TABLE_CELLS or len(self.grids) >= MAX_TABLES:
            raise ReadError("file.too_large", f"文档中的表格过大或过多（第{len(self.grids) + 1}个表格{len(rows)}行×{width}列）")
        if rows and width:
            self.grids[f"表{len(self.grids) + 1}"] = [[*map(_value, r), *[""] * (width - len(r))] for r in rows]


_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


def _value(text: str) -> str | int | float:
    """A cell as a spreadsheet holds it: a plain number printed in a document is a number (not
    text a workbook's totals would skip); anything else stays text for the checks to judge."""
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text


def _markers() -> re.Pattern[str]:
    """Characters NFKC would make digits or letters that are marks on a page: superscripts
    and subscripts (footnote markers: ``97¹``) and circled numbers (``①``)."""
    ranges = (range(0x80, 0x3400), range(0xFF00, 0xFFF0), range(0x1F100, 0x1F300))
    chars = [chr(i) for r in ranges for i in r
             if unicodedata.decomposition(chr(i)).startswith(("<super>", "<sub>", "<circle>"))]
    return re.compile("[" + "".join(map(re.escape, chars)) + "]")


_MARKERS = _markers()


def cell_text(text: str) -> str:
    """A document cell's text as the reader compares it: NFKC (except for superscripts,
    subscripts and circled numbers: ``97¹`` is not 971, ``①`` not 1 — such a cell stays text
    for the checks to judge), lines and runs of spaces (incl. &nbsp;) made one space, trimmed."""
    if not text.isascii():
        kept = _MARKERS.findall(text)
        parts = _MARKERS.split(text)
        text = "".join(unicodedata.normalize("NFKC", part) + (kept[i] if i < len(kept) else "")
                       for i, part in enumerate(parts))
    return " ".join(text.split())


def report_title(text: str) -> tuple[str, int | None]:
    """The unit and year the report's title names ("", None when it names none)."""
    flat = "".join(unicodedata.normalize("NFKC", text).split())
    for pattern in _REPORT_TITLES:
        m = pattern.search(flat)
        if m is not None:
            return m.group("who"), int(m.group("year"))
    return "", None
