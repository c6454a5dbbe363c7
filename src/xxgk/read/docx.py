"""A Word annual report (.docx) → `tables.Tables`: every table of the body (python-docx)
and the paragraphs before the first table.

The package was vetted by `safety.preflight` first (archive bombs, DTDs in any part);
python-docx's XML parser resolves no entities and keeps lxml's depth limit.
"""

from __future__ import annotations

import io

import docx
from docx.table import Table as DocxTable
from docx.table import _Cell

from xxgk.read.returns import ReadError
from xxgk.read.tables import Tables, cell_text

TITLE_PARAGRAPHS = 12  # paragraphs before the first table searched for the title


def read_docx(data: bytes) -> Tables:
    """The document's tables and title text.  Raises `ReadError` when it cannot be parsed."""
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad file
        raise ReadError("file.unreadable", f"Word文档已损坏（{type(exc).__name__}）") from None
    title: list[str] = []
    out = Tables("docx", {}, "")
    try:
        for item in document.iter_inner_content():
            if isinstance(item, DocxTable):
                out.add([_row(row.cells) for row in item.rows])
            elif not out.grids and len(title) < TITLE_PARAGRAPHS and item.text.strip():
                title.append(cell_text(item.text))
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed table (spans past the grid…)
        raise ReadError("file.unreadable", f"Word文档中的表格无法读取（{type(exc).__name__}）") from None
    core = (document.core_properties.title or "").strip()
    out.title = " ".join([*title, core])
    return out


def _row(cells: list[_Cell]) -> list[str]:
    """A row's texts: python-docx gives a merged cell at every grid position it covers;
    across columns only its first keeps the text (see `tables.Tables`)."""
    return [
        "" if i and cell._tc is cells[i - 1]._tc else cell_text(cell.text)
        for i, cell in enumerate(cells)
    ]
