"""Files that are small and valid and still cost a reader dearly, built from raw PDF or XML: a
PDF whose pages each hold nearly as many characters as a page may (pdfminer interprets a few
thousand a second) and a return with a huge extra sheet."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def a_pdf(*contents: bytes, extra: bytes = b"") -> bytes:
    """A minimal PDF, one page per content stream (``extra`` after each object)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(contents))).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(len(contents)).encode() + b" >>")
    for i, content in enumerate(contents):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents "
                       + str(4 + 2 * i).encode() + b" 0 R >>")
        objects.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n" + extra
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def slow_pdf(pages: int = 12, chars: int = 19_000, mark: str = "1") -> bytes:
    """A PDF of ``pages`` pages, each one line of ``chars`` characters ``mark`` (below the
    reader's limit per page; read whole, a few seconds a page: far past 20 s in all)."""
    page = b"BT /F1 12 Tf 10 10 Td (" + mark.encode() * chars + b") Tj ET\n"
    return a_pdf(*[page] * pages)


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


def _act(what: str, arg: float = 0) -> int | None:
    """One of the tasks above by name: a batch of different tasks for `Workers.map`."""
    if what == "sleep":
        return _sleep(arg)
    if what == "hog":
        return _hog(int(arg))
    if what == "fail":
        _fail()
    _die()
    return None
