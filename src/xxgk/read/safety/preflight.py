"""Pre-flight checks on a file's bytes before any spreadsheet library parses it.

Every return passes through here first, so it has to be cheap: the bytes are
already in memory, the zip central directory is read once, and of each XML
part only its prolog (normally a few dozen bytes) is decompressed.  What is
refused here never reaches python-calamine:

* not a spreadsheet nor a report at all (image, text…)        → ``file.not_spreadsheet``
* a PDF: its objects and inflated streams (`pdfcheck`, by the reader) → kind ``pdf``
* an old Word document (.doc)                                 → ``file.old_word``
* Excel 2003 XML saved with an .xls name                      → ``file.unreadable``
* a truncated or corrupt archive / compound file               → ``file.unreadable``
* a password-encrypted workbook (OOXML inside OLE2, ODS)       → ``file.encrypted``
* a zip bomb: too many parts, too much declared content,
  an extreme compression ratio                                 → ``file.too_large``
* a DOCTYPE / ENTITY declaration in an XML part that is parsed (entity bombs,
  external entities)                                           → ``file.unsafe_xml``
* a sheet whose cells span more than `extent.MAX_CELLS` (python-calamine
  would allocate the whole area at once and abort)             → ``file.too_large``
* a binary workbook (.xlsb), whose sheets cannot be measured   → ``file.unreadable``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xxgk.read.returns import ReadError
from xxgk.read.safety.archive import MAX_PART, Part, Zip, content_key, read_capped
from xxgk.read.safety.ole import check_ole
from xxgk.read.safety.zipcheck import check_worksheet, check_zip

MAX_FILE = 64 * 1024 * 1024  # bytes on disk
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
WEB_PAGE = "网页（HTML）"  # what the text sniff calls a web page: read as a published report
BIFF_STREAM = "Workbook"  # where `Preflight.xml` keeps an .xls workbook's stream, read while vetting


@dataclass
class Preflight:
    """What the bytes turned out to be: ``xlsx`` (incl. xlsm), ``ods``, ``xls``, or the
    annual report as ``docx`` (every XML part vetted), ``html`` (vetted by `read.html`) or
    ``pdf`` (vetted by `read.pdf`);
    with ``preflight(lazy=True)``, also the worksheet parts still to vet before parsing."""

    kind: str
    zf: Zip | None = None
    pending: dict[str, Part] = field(default_factory=dict)  # worksheet part -> info
    parts: dict[str, str] = field(default_factory=dict)  # sheet name -> worksheet part, as calamine resolves it
    vetted: set[str] = field(default_factory=set)  # worksheet parts vetted so far
    xml: dict[str, bytes] = field(default_factory=dict)  # worksheet parts inflated while vetted (xls: its stream)

    def read_part(self, name: str, cap: int = MAX_PART) -> bytes | None:
        """Up to ``cap`` bytes of package part ``name`` inflated; None if there is no such part."""
        info = self.zf.NameToInfo.get(name) if self.zf is not None else None
        return None if info is None or self.zf is None else read_capped(self.zf, info, cap)

    def vet_sheet(self, name: str) -> None:
        """Vet the worksheet part of sheet ``name`` (prolog, used area) before it is parsed.

        A sheet whose part cannot be found is vetted with every pending part: never parsed unseen.
        """
        part = self.parts.get(name)
        if not self.pending or self.zf is None or part in self.vetted:
            return
        for todo in [part] if part in self.pending else list(self.pending):
            self.xml[todo] = check_worksheet(self.zf, self.pending.pop(todo))
            self.vetted.add(todo)

    def part_key(self, name: str) -> tuple[Any, ...] | None:
        """Part ``name`` exactly as stored (see `archive.content_key`): equal keys, equal contents;
        None when there is no such part or it is too large to key."""
        info = self.zf.NameToInfo.get(name) if self.zf is not None else None
        return None if info is None or self.zf is None else content_key(self.zf, info)

    def sheet_xml(self, part: str) -> bytes | None:
        """A worksheet part's XML: as inflated while vetting it, else inflated now."""
        xml = self.xml.get(part)
        return xml if xml is not None else self.read_part(part)


def preflight(data: bytes, *, lazy: bool = False) -> Preflight:
    """Classify ``data`` and refuse anything unsafe or unreadable (raises `ReadError`).

    ``lazy``: vet only what python-calamine will parse: the worksheets of an xlsx are left
    to `Preflight.vet_sheet`, so that a batch reader inflates only the sheets it parses
    (calamine parses sheets on demand), and the `zipcheck.UNPARSED` package parts are skipped.
    """
    if not data:
        raise ReadError("file.not_spreadsheet", "空文件，0字节")
    if len(data) > MAX_FILE:
        raise ReadError("file.too_large", f"文件大小{len(data) // (1024 * 1024)}MB")
    head = data[:8]
    if head == OLE_MAGIC:
        kind, stream = check_ole(data)
        return Preflight(kind, xml={BIFF_STREAM: stream})
    if head[:4] in ZIP_MAGICS:
        return Preflight(*check_zip(data, lazy))
    if OLE_MAGIC.startswith(data) or (data[:2] == b"PK" and len(data) < 22):
        raise ReadError("file.unreadable", "文件不完整（只有文件头）")
    if b"%PDF-" in data[:1024]:  # a published report (readers accept a header within the first 1 KB)
        return Preflight("pdf")
    error = _not_spreadsheet(data)
    if error.detail == WEB_PAGE:
        return Preflight("html")
    raise error


# ---------------------------------------------------------------- not a spreadsheet


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF文件"),
    (b"\x89PNG", "PNG图片"),
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"GIF8", "GIF图片"),
    (b"BM", "BMP图片"),
    (b"Rar!", "RAR压缩包"),
    (b"7z\xbc\xaf", "7z压缩包"),
    (b"\x1f\x8b", "gzip压缩包"),
    (b"{\\rtf", "RTF文档"),
    (b"MZ", "可执行程序"),
)


def _not_spreadsheet(data: bytes) -> ReadError:
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return ReadError("file.not_spreadsheet", what)
    text = _sniff_text(data[:4096])
    if text is not None:
        low = text.lstrip().lower()
        if "urn:schemas-microsoft-com:office:spreadsheet" in low:
            return ReadError("file.unreadable", "该文件是Excel 2003 XML表格格式，本工具不支持")
        if low.startswith(("<html", "<!doctype html", "<table", "<meta", "<head")) or "<html" in low[:512]:
            return ReadError("file.not_spreadsheet", WEB_PAGE)
        if low.startswith("<?xml"):
            return ReadError("file.not_spreadsheet", "XML文本文件")
        return ReadError("file.not_spreadsheet", "文本文件")
    return ReadError("file.not_spreadsheet", "无法识别的文件格式")


def _sniff_text(chunk: bytes) -> str | None:
    """The chunk as text if it plausibly is text (UTF-8/16 or GBK), else None."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if chunk.startswith(bom):
            return chunk[len(bom) :].decode(enc, "ignore")
    if b"\x00" in chunk:
        return None
    for enc in ("utf-8", "gb18030"):
        for cut in range(4):  # the chunk may end in the middle of a character
            try:
                return chunk[: len(chunk) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
    return None
