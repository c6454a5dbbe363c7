"""Files that are small and valid and still cost a reader dearly, built from raw XML: a Word
table whose cells below the first row are all vertical-merge continuations (python-docx takes
minutes to hours over 600×30 of them) and a return with a huge extra sheet."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def vmerge_bomb(rows: int = 600, cols: int = 30) -> bytes:
    """A .docx whose one table has ``rows`` × ``cols`` cells, every cell below row 1 a
    vertical-merge continuation (``<w:vMerge/>``)."""
    grid = '<w:gridCol w:w="300"/>' * cols
    first = "<w:tr>" + "".join(f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>{i}</w:t></w:r>'
                               f"</w:p></w:tc>" for i in range(cols)) + "</w:tr>"
    rest = "<w:tr>" + "<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>" * cols + "</w:tr>"
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'
           f"<w:p><w:r><w:t>2025年政府信息公开工作年度报告</w:t></w:r></w:p><w:tbl><w:tblGrid>{grid}</w:tblGrid>"
           f"{first}{rest * (rows - 1)}</w:tbl><w:sectPr/></w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", RELS)
        zf.writestr("word/document.xml", doc)
    return buf.getvalue()


def column(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def with_big_sheet(xlsx: bytes, rows: int = 2000, cols: int = 1000) -> bytes:
    """``xlsx`` with one more worksheet, 附表, of ``rows`` × ``cols`` numbers."""
    letters = [column(c) for c in range(cols)]
    body = io.StringIO()
    body.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.'
               f'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:{letters[-1]}{rows}"/><sheetData>')
    for r in range(1, rows + 1):
        body.write(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>1</v></c>' for c in letters) + "</row>")
    body.write("</sheetData></worksheet>")
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/xl/worksheets/big.xml" '
                                                 f'ContentType="{SHEET_TYPE}"/></Types>'.encode())
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdBig" Type="{SHEET_REL}" '
                                                         f'Target="worksheets/big.xml"/></Relationships>'.encode())
            elif info.filename == "xl/workbook.xml":
                ids = [int(x) for x in re.findall(rb'sheetId="(\d+)"', data)]
                rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
                data = data.replace(b"</sheets>", f'<sheet name="附表" sheetId="{max(ids) + 1}" '
                                                  f'r:id="rIdBig" xmlns:r="{rel}"/></sheets>'.encode())
            zf.writestr(info, data)
        zf.writestr("xl/worksheets/big.xml", body.getvalue())
    return out.getvalue()


# tasks for worker processes (importable there by name, unlike a test module's functions)

def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _hog(size: int) -> int:
    return len(bytearray(size))


def _fail() -> None:
    raise ValueError("坏")


def _die() -> None:
    os._exit(3)
