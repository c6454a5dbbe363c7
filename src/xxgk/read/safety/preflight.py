"""Pre-flight checks on a file's bytes before any spreadsheet library parses it.

Every return passes through here first, so it has to be cheap: the bytes are
already in memory, the zip central directory is read once, and of each XML
part only its prolog (normally a few dozen bytes) is decompressed.  What is
refused here never reaches python-calamine:

* not a spreadsheet nor a report at all (PDF, image, text…)   → ``file.not_spreadsheet``
* an old Word document (.doc)                                 → ``file.old_word``
* Excel 2003 XML saved with an .xls name                      → ``file.unreadable``
* a truncated or corrupt archive / compound file               → ``file.unreadable``
* a password-encrypted workbook (OOXML inside OLE2, ODS)       → ``file.encrypted``
* a zip bomb: too many parts, too much declared content,
  an extreme compression ratio                                 → ``file.too_large``
* a DOCTYPE / ENTITY declaration in an XML part that is parsed (entity bombs,
  external entities)                                           → ``file.unsafe_xml``
* a sheet whose cells span more than `MAX_CELLS` (python-calamine
  would allocate the whole area at once and abort)             → ``file.too_large``
* a binary workbook (.xlsb), whose sheets cannot be measured   → ``file.unreadable``
"""

from __future__ import annotations

import io
import itertools
import os
import re
import string
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from xxgk.read import xmlscan
from xxgk.read.returns import ReadError

MAX_FILE = 64 * 1024 * 1024  # bytes on disk
MAX_ENTRIES = 5000  # parts in one archive (a normal workbook has 10–50)
MAX_TOTAL = 256 * 1024 * 1024  # declared uncompressed bytes of all parts together
MAX_RATIO = 200  # declared size / compressed size of one part …
RATIO_FLOOR = 4 * 1024 * 1024  # … checked for parts larger than this
PROLOG_CAP = 16 * 1024  # bytes of an XML part read to find its root element
MAX_PART = 64 * 1024 * 1024  # declared uncompressed bytes of one part
MAX_CELLS = 2_000_000  # rows × columns of one sheet's used area (python-calamine allocates it densely)
# Package parts python-calamine never parses (nor does the reader): a lazy check (the batch
# reader's) skips them; the full check, before openpyxl loads a workbook, vets them too.
UNPARSED = frozenset({"[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml"})

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
WEB_PAGE = "网页（HTML）"  # what the text sniff calls a web page: read as a published report


@dataclass
class Preflight:
    """What the bytes turned out to be: ``xlsx`` (incl. xlsm), ``ods``, ``xls``, or the
    annual report as ``docx`` (every XML part vetted) or ``html`` (vetted by `html_book`);
    with ``check(lazy=True)``, also the worksheet parts still to vet before parsing."""

    kind: str
    zf: Zip | None = None
    pending: dict[str, Part] = field(default_factory=dict)  # worksheet part -> info
    parts: dict[str, str] = field(default_factory=dict)  # sheet name -> worksheet part, as calamine resolves it
    vetted: set[str] = field(default_factory=set)  # worksheet parts vetted so far
    xml: dict[str, bytes] = field(default_factory=dict)  # worksheet parts inflated while vetted (xls: its stream)

    def read_part(self, name: str, cap: int = MAX_PART) -> bytes | None:
        """Up to ``cap`` bytes of package part ``name`` inflated; None if there is no such part."""
        info = self.zf.NameToInfo.get(name) if self.zf is not None else None
        return None if info is None or self.zf is None else _read_capped(self.zf, info, cap)

    def vet_sheet(self, name: str) -> None:
        """Vet the worksheet part of sheet ``name`` (prolog, used area) before it is parsed.

        A sheet whose part cannot be found is vetted with every pending part: never parsed unseen.
        """
        part = self.parts.get(name)
        if not self.pending or self.zf is None or part in self.vetted:
            return
        for todo in [part] if part in self.pending else list(self.pending):
            self.xml[todo] = _check_worksheet(self.zf, self.pending.pop(todo))
            self.vetted.add(todo)

    def part_key(self, name: str) -> tuple[Any, ...] | None:
        """Part ``name`` exactly as stored (see `_content_key`): equal keys, equal contents;
        None when there is no such part or it is too large to key."""
        info = self.zf.NameToInfo.get(name) if self.zf is not None else None
        return None if info is None or self.zf is None else _content_key(self.zf, info)

    def sheet_xml(self, part: str) -> bytes | None:
        """A worksheet part's XML: as inflated while vetting it, else inflated now."""
        xml = self.xml.get(part)
        return xml if xml is not None else self.read_part(part)


def check(data: bytes, *, lazy: bool = False) -> Preflight:
    """Classify ``data`` and refuse anything unsafe or unreadable (raises `ReadError`).

    ``lazy``: vet only what python-calamine will parse: the worksheets of an xlsx are left
    to `Preflight.vet_sheet`, so that a batch reader inflates only the sheets it parses
    (calamine parses sheets on demand), and the `UNPARSED` package parts are skipped.
    """
    if not data:
        raise ReadError("file.not_spreadsheet", "空文件，0字节")
    if len(data) > MAX_FILE:
        raise ReadError("file.too_large", f"文件大小{len(data) // (1024 * 1024)}MB")
    head = data[:8]
    if head == OLE_MAGIC:
        kind, stream = _check_ole(data)
        return Preflight(kind, xml={BIFF_STREAM: stream})
    if head[:4] in ZIP_MAGICS:
        return _check_zip(data, lazy)
    if OLE_MAGIC.startswith(data) or (data[:2] == b"PK" and len(data) < 22):
        raise ReadError("file.unreadable", "文件不完整（只有文件头）")
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


# ---------------------------------------------------------------- zip (xlsx, xlsm, ods)


class _Part(NamedTuple):
    """A central directory entry: the fields of `zipfile.ZipInfo` the checks use."""

    filename: str
    orig_filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


class _Archive:
    """A zip's central directory read straight from its bytes, for the plain archives every
    spreadsheet program writes (zipfile builds a file object and a ZipInfo per part: a
    measurable share of reading a return).  `_open_zip` leaves anything else to zipfile."""

    def __init__(self, data: bytes, parts: list[_Part]) -> None:
        self.fp = io.BytesIO(data)
        self.filelist = parts
        self.NameToInfo = {p.filename: p for p in parts}  # the last of a repeated name, as zipfile

    def infolist(self) -> list[_Part]:
        return self.filelist

    def getinfo(self, name: str) -> _Part:
        return self.NameToInfo[name]


Zip = zipfile.ZipFile | _Archive
Part = zipfile.ZipInfo | _Part

_CENTRAL = struct.Struct("<8xHH4xIIIHHH8xI")  # flags, method, CRC, sizes, name/extra/comment lengths, offset


def _open_zip(data: bytes) -> Zip:
    """The archive's directory: read directly when the archive is plain — its end record last
    with no comment, one disk, no ZIP64, nothing before it — else by zipfile."""
    end = len(data) - 22
    if end < 0 or data[end : end + 4] != b"PK\x05\x06":
        return zipfile.ZipFile(io.BytesIO(data))
    disk, cd_disk, here, count, size, start, comment = struct.unpack_from("<HHHHIIH", data, end + 4)
    if disk or cd_disk or here != count or comment or start + size != end or 0xFFFF in (here, count):
        return zipfile.ZipFile(io.BytesIO(data))
    parts, at = [], start
    for _ in range(count):
        if data[at : at + 4] != b"PK\x01\x02" or at + 46 > end:
            return zipfile.ZipFile(io.BytesIO(data))
        flags, method, crc, csize, usize, name_len, extra_len, comment_len, offset = _CENTRAL.unpack_from(data, at)
        if 0xFFFFFFFF in (csize, usize, offset):
            return zipfile.ZipFile(io.BytesIO(data))  # ZIP64
        raw = data[at + 46 : at + 46 + name_len]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437")
        short = name.split("\x00", 1)[0]
        if os.sep != "/":  # as zipfile names parts on this system
            short = short.replace(os.sep, "/")
        parts.append(_Part(short, name, flags, method, crc, csize, usize, offset))
        at += 46 + name_len + extra_len + comment_len
    if at != end:
        return zipfile.ZipFile(io.BytesIO(data))
    return _Archive(data, parts)


def _check_zip(data: bytes, lazy: bool) -> Preflight:
    try:
        zf = _open_zip(data)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, NotImplementedError):
        raise ReadError("file.unreadable", "文件已损坏或不完整（压缩包结构无法读取）") from None
    if len(infos) > MAX_ENTRIES:
        raise ReadError("file.too_large", f"压缩包内有{len(infos)}个部件")
    total = 0
    for info in infos:
        total += info.file_size
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ReadError("file.unreadable", f"部件{info.filename}使用了不支持的压缩方式")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ReadError(
                "file.too_large",
                f"部件{info.filename}压缩比约{ratio}:1，解压后{info.file_size // (1024 * 1024)}MB",
            )
        # deflate never grows data by more than a few bytes per 16 KB block: a declared
        # size far below the compressed size is a lie meant to slip past the checks above
        if info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > info.file_size + info.file_size // 100 + 1024:
            raise ReadError("file.unreadable", f"部件{info.filename}的大小信息与内容不符，文件已损坏")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ReadError("file.unreadable", f"部件{info.filename}的大小信息与内容不符，文件已损坏")
        if info.file_size > MAX_PART:
            raise ReadError("file.too_large", f"部件{info.filename}解压后{info.file_size // (1024 * 1024)}MB")
    if total > MAX_TOTAL:
        raise ReadError("file.too_large", f"解压后共{total // (1024 * 1024)}MB")
    names = {i.filename for i in infos}
    kind = _zip_kind(zf, names)
    pending: dict[str, Part] = {}
    parts = sheet_parts(zf) if kind == "xlsx" else {}
    # what calamine may parse as a sheet: the parts the relationships name, wherever they are
    # (found as calamine finds them: `sheet_parts`)
    sheets = set(parts.values()) & names
    for info in infos:
        name = info.filename
        folded = _fold(name)  # calamine finds an xlsx's parts whatever their ASCII case
        if kind == "ods" and name == "content.xml":  # (an ods's by their exact names)
            # the part holding cells is read whole once: prolog and used area
            _check_ods_extent(_whole_part(zf, info))
        elif kind == "xlsx" and (name in sheets or (folded.startswith("xl/worksheets/") and folded.endswith(".xml"))):
            if lazy:
                pending[name] = info
            else:
                _check_worksheet(zf, info)
        elif folded.endswith((".xml", ".rels", ".vml")) and not (lazy and name in UNPARSED and kind != "docx"):
            _check_prolog(zf, info)
    if kind == "ods":
        _check_ods_encryption(zf, names)
    return Preflight(kind, zf, pending, parts)


def _check_worksheet(zf: Zip, info: Part) -> bytes:
    """A worksheet part is read whole once: prolog and used area.  Returns its XML."""
    xml = _whole_part(zf, info)
    _check_sheet_extent(info.filename, xml)
    return xml


def _whole_part(zf: Zip, info: Part) -> bytes:
    """A part that holds cells, inflated whole and its prolog vetted (the first KB decides
    nearly always; the rest of `PROLOG_CAP` is decoded only when it does not)."""
    xml = _read_capped(zf, info, MAX_PART)
    if not _prolog_verdict(info.filename, xml[:1024], complete=len(xml) <= 1024):
        _prolog_verdict(info.filename, xml[:PROLOG_CAP], complete=len(xml) <= PROLOG_CAP)
    return xml


def _elements(xml: bytes, tag: bytes) -> list[dict[bytes, bytes]]:
    """The attributes of every ``tag`` element (by local name, any prefix), in document order."""
    return [
        dict(xmlscan.attributes(m.group(3)))
        for m in xmlscan.tokens(xml)
        if m.group(2) is not None and xmlscan.local(m.group(2)) == tag
    ]


_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _fold(name: str) -> str:
    return name.translate(_ASCII_FOLD)


def _by_folded_name(zf: Zip) -> dict[str, Part]:
    """The part python-calamine opens for each name of an xlsx: it compares names ignoring
    ASCII case, and of several that match, the last in the central directory wins (measured
    with python-calamine 0.9: ``xl/Worksheets/sheet1.xml`` for ``worksheets/sheet1.xml``)."""
    return {_fold(info.filename): info for info in zf.infolist()}


def sheet_parts(zf: Zip) -> dict[str, str]:
    """Sheet name -> worksheet part, from workbook.xml and its relationships, read and
    resolved as python-calamine reads and resolves them (``zf`` opened on the bytes in
    memory); a target that names no part is given as calamine would look for it."""
    folded = _by_folded_name(zf)
    book_info, rels_info = folded.get("xl/workbook.xml"), folded.get("xl/_rels/workbook.xml.rels")
    if book_info is None or rels_info is None:
        return {}
    key = (_content_key(zf, book_info), _content_key(zf, rels_info))
    targets = _VETTED.get(key) if None not in key else None
    if targets is None:
        targets = _sheet_targets(_read_capped(zf, book_info, MAX_PART), _read_capped(zf, rels_info, MAX_PART))
        if None not in key:
            _remember(key, targets)
    out = {}
    for name, target in targets.items():
        info = folded.get(_fold(target))
        out[name] = target if info is None else info.filename
    return out


def _sheet_targets(book: bytes, rels: bytes) -> dict[str, str]:
    """Sheet name -> the path calamine looks for: a later relationship with the same Id
    wins; a target starting with "/" is a path from the archive's root, anything else is
    under xl/ (even "xl/…": measured); the last r:id (or relationships:id) attribute; the
    first of two sheets with one name."""
    targets = {}
    for attrs in _elements(rels, b"Relationship"):
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        targets[attrs.get(b"Id", b"")] = target[1:] if target.startswith("/") else "xl/" + target
    out: dict[str, str] = {}
    for attrs in _elements(book, b"sheet"):
        ids = [v for k, v in attrs.items() if k in (b"r:id", b"relationships:id")]
        name = xmlscan.unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
        if ids and ids[-1] in targets:
            out.setdefault(name, targets[ids[-1]])
    return out


# Parts already vetted in this process, by their exact compressed content (and what was
# learnt from them): the returns of a batch share most parts byte for byte (styles,
# relationships, workbook.xml), so each is inflated and vetted once.  Only small parts are
# kept (a miss costs a copy and a hash), and only so many.
_VETTED: dict[Any, Any] = {}
VET_CACHE_PART = 4096  # compressed bytes
VET_CACHE_SIZE = 1024  # entries


def _content_key(zf: Zip, info: Part) -> tuple[Any, ...] | None:
    """A part exactly as the archive stores and declares it — central directory entry, local
    header, compressed bytes — so that equal keys get equal verdicts; None when the part is
    too large to keep or cannot be located (`_Inflater` then says what is wrong)."""
    if info.compress_size > VET_CACHE_PART or not isinstance(zf.fp, io.BytesIO):
        return None
    data, off = zf.fp.getvalue(), info.header_offset
    if len(data) < off + 30:
        return None
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    end = off + 30 + name_len + extra_len + info.compress_size
    if end > len(data):
        return None
    return info.orig_filename, info.flag_bits, info.compress_type, info.file_size, info.CRC, data[off:end]


def _remember(key: Any, value: Any) -> None:
    if len(_VETTED) >= VET_CACHE_SIZE:
        _VETTED.clear()
    _VETTED[key] = value


def _zip_kind(zf: Zip, names: set[str]) -> str:
    folded = {_fold(n) for n in names}
    if "xl/workbook.xml" in folded:
        return "xlsx"
    if "xl/workbook.bin" in folded:  # its sheets' used area could not be measured before parsing
        raise ReadError("file.unreadable", "二进制工作簿（.xlsb）不受支持，请在Excel中另存为.xlsx后重新报送")
    if "mimetype" in names:
        mime = _read_capped(zf, zf.getinfo("mimetype"), 200).strip()
        if mime == ODS_MIME or mime.startswith(ODS_MIME + b"-template"):
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument.text"):
            raise ReadError("file.not_spreadsheet", "文字处理文档（ODT）")
        raise ReadError("file.not_spreadsheet", f"OpenDocument文件（{mime.decode('ascii', 'replace')}）")
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        raise ReadError("file.not_spreadsheet", "演示文稿（.pptx）")
    if "content.xml" in names:
        return "ods"  # an ODS without its mimetype part; calamine decides
    raise ReadError("file.not_spreadsheet", "压缩包，其中没有工作簿")


def _read_capped(zf: Zip, info: Part, cap: int) -> bytes:
    """Up to ``cap`` bytes of a part, inflated."""
    return _Inflater(zf, info).read(cap)


def _check_prolog(zf: Zip, info: Part) -> None:
    """Refuse an XML part whose prolog declares a DTD (entity bombs, external entities).

    A DTD can only come before the root element, so reading up to the first start
    tag is enough; a prolog longer than `PROLOG_CAP` is itself refused.  (A part is
    checked whole — size and CRC — only when that reading reaches its end.)
    """
    key = _content_key(zf, info)
    if key is not None and key in _VETTED:
        return
    part = _Inflater(zf, info)
    buf = part.read(160)  # the XML declaration and the root's name, usually
    while not _prolog_verdict(info.filename, buf, complete=len(buf) >= info.file_size):
        more = part.read(4096)
        if not more:
            break
        buf += more
    if key is not None:
        _remember(key, True)


class _Inflater:
    """A part inflated straight from the archive's bytes: what `ZipFile.open` does, without
    its file object per part (this runs for every part of every return, so it must be cheap),
    with the same refusals — encrypted, truncated, corrupt, a CRC that does not match."""

    def __init__(self, zf: Zip, info: Part) -> None:
        self.info, self.name, self.done = info, info.filename, 0
        if info.flag_bits & 0x1:
            raise ReadError("file.encrypted", f"部件{self.name}已加密")
        fp = zf.fp
        if not isinstance(fp, io.BytesIO):  # pragma: no cover - _check_zip always opens the bytes in memory
            raise ReadError("file.unreadable", f"部件{self.name}无法读取")
        data = fp.getvalue()  # the archive's own bytes, not a copy
        off = info.header_offset
        if data[off : off + 4] != b"PK\x03\x04" or len(data) < off + 30:
            raise ReadError("file.unreadable", f"部件{self.name}已损坏（局部文件头无效）")
        name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if data[off + 30 : off + 30 + name_len].decode(encoding, "replace") != info.orig_filename:
            raise ReadError("file.unreadable", f"部件{self.name}已损坏（文件头名称不符）")
        start = off + 30 + name_len + extra_len
        end = start + info.compress_size
        if end > len(data):
            raise ReadError("file.unreadable", f"部件{self.name}已损坏（文件不完整）")
        self.raw: bytes | memoryview = memoryview(data)[start:end]
        self.z = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        self.crc = 0

    def read(self, n: int) -> bytes:
        """The next ``n`` (or fewer, at the end) bytes of the part."""
        if self.z is None:
            out = bytes(self.raw[self.done : self.done + n])
        else:
            try:
                out = self.z.decompress(self.raw, n)
            except zlib.error:
                raise ReadError("file.unreadable", f"部件{self.name}已损坏（压缩数据无效）") from None
            self.raw = self.z.unconsumed_tail
        self.done += len(out)
        self.crc = zlib.crc32(out, self.crc)
        if self.done > self.info.file_size:  # more than the central directory declares
            raise ReadError("file.unreadable", f"部件{self.name}的大小信息与内容不符，文件已损坏")
        if len(out) < n:  # the end: the whole part was read, so it must be whole and intact
            if self.done != self.info.file_size or (self.z is not None and not self.z.eof):
                raise ReadError("file.unreadable", f"部件{self.name}已损坏（EOFError）")
            if self.crc != self.info.CRC:
                raise ReadError("file.unreadable", f"部件{self.name}已损坏（BadZipFile）")
        return out


def _prolog_verdict(name: str, buf: bytes, *, complete: bool) -> bool:
    """True when the start of a part is known safe; raises when it declares a DTD or its
    prolog runs past `PROLOG_CAP`; False: read more."""
    verdict = _prolog(_prolog_text(buf))
    if verdict == "dtd":
        raise ReadError("file.unsafe_xml", f"部件{name}含有DOCTYPE/ENTITY声明")
    if verdict == "ok" or complete:
        return True
    if len(buf) >= PROLOG_CAP:
        raise ReadError("file.unsafe_xml", f"部件{name}的XML声明部分异常冗长")
    return False


def _prolog_text(buf: bytes) -> str:
    if buf.startswith((b"\xff\xfe", b"\xfe\xff")) or buf[1:2] == b"\x00" or buf[:1] == b"\x00":
        enc = "utf-16-be" if buf.startswith(b"\xfe\xff") or buf[:1] == b"\x00" else "utf-16-le"
        return buf[: len(buf) // 2 * 2].decode(enc, "ignore")
    return buf.decode("latin-1")


def _prolog(text: str) -> str:
    """``ok``: the root element starts before any declaration; ``dtd``: a ``<!DOCTYPE``
    (or any other ``<!`` markup that is not a comment) comes first; ``more``: undecided.

    Comments and processing instructions are skipped whole, so markup inside them
    does not count.
    """
    i = 0
    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= len(text):
            return "more"
        if text.startswith("<!--", i):
            j = text.find("-->", i + 4)
        elif text[i + 1] == "?":
            j = text.find("?>", i + 2)
        elif text[i + 1] == "!":
            if len(text) - i < 4 and "<!--".startswith(text[i:]):
                return "more"  # the read ended inside what may be a comment's opening
            return "dtd"
        else:
            return "ok"
        if j < 0:
            return "more"
        i = j + 2


# A sheet's used area: python-calamine allocates rows × columns cells for it at once, so a
# sheet with one value in A1 and one in XFD1048576 would take terabytes and abort the
# process.  The area is measured from the cell references before calamine sees them.

# The usual case, proven in two quick scans: every cell start tag is `<c r="…"` with a
# reference within Z9999 first (26 × 9999 cells at most), and no cell tag has a prefix.
_ODD_CELL = re.compile(rb'<c(?:[\t\r\n/>]| (?!r="[A-Z][0-9]{1,4}"))')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
# Otherwise every cell is placed as python-calamine (quick-xml) places it, token by token
# (`xmlscan`: linear however damaged the part): row and cell start tags by local name (any
# prefix), end tags of rows, attribute values that may hold ">"; a reference in any case,
# any number of digits.  Comments, CDATA and processing instructions hold no cells.
_REF = re.compile(rb"([A-Za-z]{0,7})([0-9]+)")
_HUGE = 10**9  # a reference too long to be real: beyond any sheet


def _check_sheet_extent(name: str, xml: bytes) -> None:
    """Refuse a worksheet part whose cells span more than `MAX_CELLS`."""
    # python-calamine reads cells inside <sheetData> only: scan from the first mention of
    # it to the last (the whole part where there is none)
    start, end = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    if start < 0:
        start, end = 0, len(xml)
    if _ODD_CELL.search(xml, start, end) is None and _PREFIXED_CELL.search(xml, start, end) is None:
        return
    rows, cols = _used_area(xml, start, end)
    if rows * cols > MAX_CELLS:
        raise ReadError("file.too_large", f"工作表{name}的数据区域达{rows}行×{cols}列")


def _used_area(xml: bytes, start: int, end: int) -> tuple[int, int]:
    """Rows × columns from A1 to the farthest cell holding something, counted the way
    python-calamine counts: a cell without a reference follows the previous one in its
    row, a row without one follows the previous row, and empty rows and cells (``<c/>``)
    hold nothing but still move those counters."""
    rows = cols = row_at = col_at = 0
    for m in xmlscan.tokens(xml, start, end):
        closing, name, attrs = m.groups()
        if closing is not None:
            if xmlscan.local(closing) == b"row":
                row_at, col_at = row_at + 1, 0
            continue
        tag = xmlscan.local(name) if name is not None else b""
        if tag != b"row" and tag != b"c":
            continue
        empty = attrs.endswith(b"/")
        value = xmlscan.attribute(attrs, b"r")
        if tag == b"row":
            if value is not None and value.isdigit():
                row_at = int(value) - 1 if len(value) <= 9 else _HUGE
            if empty:  # <row/> is a row that starts and ends at once
                row_at, col_at = row_at + 1, 0
            continue
        row, col = row_at, col_at
        if value is not None:
            parsed = _REF.fullmatch(value)
            if parsed is None:
                continue  # calamine refuses a reference it cannot read: the sheet fails to load
            letters, digits = parsed.groups()
            digits = digits.lstrip(b"0") or b"0"
            row = int(digits) - 1 if len(digits) <= 9 else _HUGE
            col = -1
            for ch in letters.upper():
                col = (col + 1) * 26 + ch - 65
            col = _HUGE if len(letters) > 6 else max(col, 0)
        if not empty:
            rows, cols = max(rows, row + 1), max(cols, col + 1)
        col_at = col + 1
    return rows, cols


_ODS_CELLS = (b"table:table-cell", b"table:covered-table-cell")
_ODS_ROWS_REP = re.compile(rb'number-rows-repeated="([0-9]+)"')
_ODS_COLS_REP = re.compile(rb'number-columns-repeated="([0-9]+)"')


def _repeat(pattern: re.Pattern[bytes], attrs: bytes) -> int:
    m = pattern.search(attrs)
    if m is None:
        return 1
    return int(m.group(1)) if len(m.group(1)) <= 9 else _HUGE


def _check_ods_extent(xml: bytes) -> None:
    """The same limit for the tables of an ODS ``content.xml`` (read token by token, as
    python-calamine reads it): repeated rows and cells count as often as they repeat up to
    the last one holding something."""
    row_at = used_rows = used_cols = 0
    times = col_at = last = 0  # the open row: times repeated (0: none open), columns, last used
    for m in itertools.chain(xmlscan.tokens(xml), [None]):
        # the end of the part closes the last row as a new table would
        name, attrs = (b"table:table", b"") if m is None else (m.group(2), m.group(3))
        if name is None:
            continue
        if name in _ODS_CELLS:
            if times:
                col_at += _repeat(_ODS_COLS_REP, attrs)
                if not attrs.endswith(b"/") or b"value-type" in attrs or b"formula" in attrs:
                    last = col_at
            continue
        if name != b"table:table-row" and name != b"table:table":
            continue
        if times:  # the row open until now ends here
            if last:
                used_rows, used_cols = row_at + times, max(used_cols, last)
            row_at += times
            if used_rows * used_cols > MAX_CELLS:
                raise ReadError("file.too_large", f"表格数据区域达{used_rows}行×{used_cols}列")
        times = col_at = last = 0
        if name == b"table:table":
            row_at = used_rows = used_cols = 0
        elif attrs.endswith(b"/"):  # a row without cells
            row_at += _repeat(_ODS_ROWS_REP, attrs)
        else:
            times = _repeat(_ODS_ROWS_REP, attrs)


def _check_ods_encryption(zf: Zip, names: set[str]) -> None:
    if "META-INF/manifest.xml" not in names:
        return
    manifest = _read_capped(zf, zf.getinfo("META-INF/manifest.xml"), 1024 * 1024)
    if b"encryption-data" in manifest:
        raise ReadError("file.encrypted", "ODS文件设置了密码")


# ---------------------------------------------------------------- OLE2 / CFB (xls, encrypted OOXML)

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


class _Compound:
    """Just enough of a compound file (OLE2/CFB) to list its streams and read one."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        bad = ReadError("file.unreadable", "文件已损坏或不完整（复合文档结构无法读取）")
        self.bad = bad
        if len(data) < 512:
            raise bad
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        if shift not in (9, 12):
            raise bad
        self.size = size = 1 << shift
        n_fat, first_dir, self.cutoff, first_mini, _n_mini, first_difat, n_difat = struct.unpack_from(
            "<II4xIIIII", data, 0x2C
        )
        per = size // 4
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s not in (_FREE, _END)]
        nxt, seen = first_difat, 0
        while nxt not in (_FREE, _END) and seen < n_difat:
            block = struct.unpack(f"<{per}I", self._sector(nxt))
            fat_sectors += [s for s in block[:-1] if s not in (_FREE, _END)]
            nxt, seen = block[-1], seen + 1
        if not fat_sectors:
            raise bad
        self.fat: list[int] = []
        for s in fat_sectors[: max(n_fat, 1)]:
            self.fat.extend(struct.unpack(f"<{per}I", self._sector(s)))
        self.entries: dict[str, tuple[int, int, int]] = {}  # name -> (type, start, size)
        root: tuple[int, int] | None = None
        directory = self._chain(first_dir)
        for off in range(0, len(directory) - 127, 128):
            length, kind = struct.unpack_from("<HB", directory, off + 64)
            if kind in (1, 2, 5) and 2 <= length <= 64:
                name = directory[off : off + length - 2].decode("utf-16-le", "replace")
                start, stream_size = struct.unpack_from("<IQ", directory, off + 116)
                if kind == 5:
                    root = (start, stream_size)
                self.entries.setdefault(name, (kind, start, stream_size))
        self.first_mini, self.root = first_mini, root

    def _sector(self, n: int) -> bytes:
        off = (n + 1) * self.size
        if n >= 0xFFFFFFFA or off + self.size > len(self.data):
            raise self.bad
        return self.data[off : off + self.size]

    def _chain(self, start: int, fat: list[int] | None = None, sector: Any = None) -> bytes:
        fat = self.fat if fat is None else fat
        read = self._sector if sector is None else sector
        parts, s, steps = [], start, 0
        limit = len(self.data) // 64 + 1
        while s not in (_FREE, _END):
            parts.append(read(s))
            steps += 1
            if steps > limit or s >= len(fat):
                raise self.bad
            s = fat[s]
        return b"".join(parts)

    def stream(self, name: str) -> bytes:
        kind, start, size = self.entries[name]
        if size >= self.cutoff or self.root is None:
            return self._chain(start)[:size]
        # a small stream lives in the mini stream (64-byte sectors, its own FAT)
        mini_fat_bytes = self._chain(self.first_mini)
        mini_fat = list(struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes))
        mini = self._chain(self.root[0])

        def mini_sector(n: int) -> bytes:
            if n * 64 + 64 > len(mini):
                raise self.bad
            return mini[n * 64 : n * 64 + 64]

        return self._chain(start, mini_fat, mini_sector)[:size]


def ole_stream_names(data: bytes) -> list[str]:
    """Names of the directory entries of a compound file (raises `ReadError` if corrupt)."""
    return list(_Compound(data).entries)


# BIFF records that put a value in a cell (row, column first); BLANK/MULBLANK hold nothing.
_BIFF_CELLS = frozenset({0x0203, 0x027E, 0x00FD, 0x0204, 0x0006, 0x0205, 0x00D6, 0x0003, 0x0004, 0x0002})
_BIFF_MULRK, _BIFF_BOF = 0x00BD, 0x0809


def _check_biff_extent(stream: bytes) -> None:
    """The used-area limit for each sheet of an .xls workbook stream."""
    rows = cols = 0
    pos, end = 0, len(stream) - 4
    unpack = struct.unpack_from
    while pos <= end:
        typ, length = unpack("<HH", stream, pos)
        body = pos + 4
        if typ in _BIFF_CELLS and length >= 4:
            r, c = unpack("<HH", stream, body)
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif typ == _BIFF_MULRK and length >= 6:
            r = unpack("<H", stream, body)[0]
            c = unpack("<H", stream, body + length - 2)[0]
            rows, cols = max(rows, r + 1), max(cols, c + 1)
        elif typ == _BIFF_BOF:
            rows = cols = 0
        if rows * cols > MAX_CELLS:
            raise ReadError("file.too_large", f"工作表数据区域达{rows}行×{cols}列")
        pos = body + length


BIFF_STREAM = "Workbook"  # where `Preflight.xml` keeps an .xls workbook's stream, read while vetting


def _check_ole(data: bytes) -> tuple[str, bytes]:
    cfb = _Compound(data)
    lower = {n.lower(): n for n in cfb.entries}
    if "encryptedpackage" in lower or "encryptioninfo" in lower:
        raise ReadError("file.encrypted", "工作簿已加密")
    for name in ("workbook", "book"):
        if name in lower:
            stream = cfb.stream(lower[name])
            _check_biff_extent(stream)
            return "xls", stream
    if "worddocument" in lower:
        raise ReadError("file.old_word", "Word文档（.doc）")
    if "powerpoint document" in lower:
        raise ReadError("file.not_spreadsheet", "演示文稿（.ppt）")
    raise ReadError("file.not_spreadsheet", "复合文档中没有工作簿")
