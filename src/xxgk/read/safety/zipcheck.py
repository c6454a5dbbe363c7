"""The zip archive (xlsx, xlsm, ods, docx): bombs, its kind, and which parts to vet how."""

from __future__ import annotations

import string
import struct
import zipfile

from xxgk.read import xmlscan
from xxgk.read.returns import ReadError
from xxgk.read.safety.archive import MAX_PART, Part, Zip, content_key, open_zip, read_capped, recall, remember
from xxgk.read.safety.extent import check_ods_extent, check_sheet_extent
from xxgk.read.safety.xmlcheck import check_prolog, whole_part

MAX_ENTRIES = 5000  # parts in one archive (a normal workbook has 10–50)
MAX_TOTAL = 256 * 1024 * 1024  # declared uncompressed bytes of all parts together
MAX_RATIO = 200  # declared size / compressed size of one part …
RATIO_FLOOR = 4 * 1024 * 1024  # … checked for parts larger than this
# Package parts python-calamine never parses (nor does the reader): a lazy check (the batch
# reader's) skips them; the full check, before openpyxl loads a workbook, vets them too.
UNPARSED = frozenset({"[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml"})
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def check_zip(data: bytes, lazy: bool) -> tuple[str, Zip, dict[str, Part], dict[str, str]]:
    """Refuse an unsafe archive; else what a `Preflight` holds: its kind, the archive, the
    worksheet parts left to vet (``lazy``), and each sheet's part."""
    try:
        zf = open_zip(data)
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
            check_ods_extent(whole_part(zf, info))
        elif kind == "xlsx" and (name in sheets or (folded.startswith("xl/worksheets/") and folded.endswith(".xml"))):
            if lazy:
                pending[name] = info
            else:
                check_worksheet(zf, info)
        elif folded.endswith((".xml", ".rels", ".vml")) and not (lazy and name in UNPARSED and kind != "docx"):
            check_prolog(zf, info)
    if kind == "ods":
        _check_ods_encryption(zf, names)
    return kind, zf, pending, parts


def check_worksheet(zf: Zip, info: Part) -> bytes:
    """A worksheet part is read whole once: prolog and used area.  Returns its XML."""
    xml = whole_part(zf, info)
    check_sheet_extent(info.filename, xml)
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
    """ASCII letters in lower case, nothing else changed (`str.lower` where the name is ASCII:
    it runs for every part of every return)."""
    return name.lower() if name.isascii() else name.translate(_ASCII_FOLD)


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
    key = (content_key(zf, book_info), content_key(zf, rels_info))
    targets = recall(key) if None not in key else None
    if targets is None:
        targets = sheet_targets(read_capped(zf, book_info, MAX_PART), read_capped(zf, rels_info, MAX_PART))
        if None not in key:
            remember(key, targets)
    out = {}
    for name, target in targets.items():
        info = folded.get(_fold(target))
        out[name] = target if info is None else info.filename
    return out


def sheet_targets(book: bytes, rels: bytes) -> dict[str, str]:
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


def _zip_kind(zf: Zip, names: set[str]) -> str:
    folded = {_fold(n) for n in names}
    if "xl/workbook.xml" in folded:
        return "xlsx"
    if "xl/workbook.bin" in folded:  # its sheets' used area could not be measured before parsing
        raise ReadError("file.unreadable", "二进制工作簿（.xlsb）不受支持，请在Excel中另存为.xlsx后重新报送")
    if "mimetype" in names:
        mime = read_capped(zf, zf.getinfo("mimetype"), 200).strip()
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


def _check_ods_encryption(zf: Zip, names: set[str]) -> None:
    if "META-INF/manifest.xml" not in names:
        return
    manifest = read_capped(zf, zf.getinfo("META-INF/manifest.xml"), 1024 * 1024)
    if b"encryption-data" in manifest:
        raise ReadError("file.encrypted", "ODS文件设置了密码")
