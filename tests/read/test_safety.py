"""Pre-flight: files that are no spreadsheet, broken, encrypted or malicious are refused
with a catalogue code before python-calamine parses them, and quickly."""

from __future__ import annotations

import contextlib
import io
import struct
import time
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from books import rezip
from refusals import good_return, refused
from xxgk.forms.findings import is_code, make
from xxgk.read import identify
from xxgk.read.open import read
from xxgk.read.returns import ReadError
from xxgk.read.safety import archive, extent, ole, xmlcheck, zipcheck
from xxgk.read.safety import preflight as safety


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return good_return(tmp_path_factory)


# ---------------------------------------------------------------- not a spreadsheet


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        ("统计指标,单位,统计数\n一、主动公开情况,——,83\n".encode(), "文本"),
        ("统计指标\t单位\n".encode("gbk"), "文本"),
        (b"", "空文件"),
    ],
)
def test_not_a_spreadsheet(tmp_path: Path, data: bytes, what: str) -> None:
    err = refused(tmp_path, data, "file.not_spreadsheet")
    assert what in err.detail and is_code(err.code)
    assert what in make(err.code, detail=err.detail).message


def test_a_broken_pdf_is_named(tmp_path: Path) -> None:
    """A PDF is read as the annual report (`read.pdf`); one pdfminer cannot open is named."""
    assert "PDF" in refused(tmp_path, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "file.unreadable").detail


def test_broken_word_document_in_a_zip(tmp_path: Path) -> None:
    """A Word document is read as the annual report (`docx_book`); one python-docx cannot open is named."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    assert "Word" in refused(tmp_path, buf.getvalue(), "file.unreadable").detail


def test_web_page_named_xls_is_read_as_a_page(tmp_path: Path) -> None:
    html = "<html><head><meta charset='utf-8'></head><body><table><tr><td>统计数</td></tr></table></body></html>"
    err = refused(tmp_path, html.encode(), "file.not_ours", name="导出.xls")
    assert "指标名称" in err.detail


# ---------------------------------------------------------------- broken


@pytest.mark.parametrize("keep", [0.5, 0.95, 10 / 9000])
def test_truncated_zip(tmp_path: Path, good: bytes, keep: float) -> None:
    refused(tmp_path, good[: max(int(len(good) * keep), 10)], "file.unreadable")


def test_corrupt_sheet_xml(tmp_path: Path, good: bytes) -> None:
    data = rezip(good, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c r='A1' t="})
    refused(tmp_path, data, "file.unreadable")


def test_corrupt_compound_file(tmp_path: Path) -> None:
    refused(tmp_path, safety.OLE_MAGIC + b"\x00" * 600, "file.unreadable", name="r.xls")


@pytest.mark.parametrize("part", ["xl/workbook.xml", "docProps/app.xml"])
def test_lying_part_size(tmp_path: Path, good: bytes, part: str) -> None:
    """A central directory that declares a part far smaller than its compressed data.

    The batch reader's lazy check skips document properties python-calamine never parses;
    the full check (before openpyxl loads everything) refuses a lie in any part."""
    data = bytearray(good)
    struct.pack_into("<I", data, _central(good, part) + 24, 1)  # uncompressed size: 1 byte
    with pytest.raises(ReadError) as info:
        safety.preflight(bytes(data))
    assert info.value.code == "file.unreadable"
    if part in zipcheck.UNPARSED:
        safety.preflight(bytes(data), lazy=True)
    else:
        refused(tmp_path, bytes(data), "file.unreadable")


def _central(data: bytes, name: str) -> int:
    """Offset of the central directory record of part ``name``."""
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        n = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + n] == name.encode():
            return at
        at += 4


def test_part_with_a_wrong_checksum(tmp_path: Path, good: bytes) -> None:
    """A sheet whose content does not match its CRC (parts are inflated from the bytes)."""
    data = bytearray(good)
    at = _central(good, "xl/worksheets/sheet1.xml")
    crc = struct.unpack_from("<I", data, at + 16)[0]
    struct.pack_into("<I", data, at + 16, crc ^ 1)
    err = refused(tmp_path, bytes(data), "file.unreadable")
    assert "sheet1.xml" in err.detail


def test_local_header_naming_another_part(tmp_path: Path, good: bytes) -> None:
    data = bytearray(good)
    at = _central(good, "xl/workbook.xml")
    local = struct.unpack_from("<I", data, at + 42)[0]
    assert data[local + 30 : local + 30 + 15] == b"xl/workbook.xml"
    data[local + 30 : local + 30 + 15] = b"xl/workbook.xmx"
    refused(tmp_path, bytes(data), "file.unreadable")


def test_part_flagged_encrypted(tmp_path: Path, good: bytes) -> None:
    data = bytearray(good)
    at = _central(good, "xl/workbook.xml")
    flags = struct.unpack_from("<H", data, at + 8)[0]
    struct.pack_into("<H", data, at + 8, flags | 1)
    refused(tmp_path, bytes(data), "file.encrypted")


def test_stored_parts_are_read(tmp_path: Path, good: bytes) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
    path = tmp_path / "stored.xlsx"
    path.write_bytes(out.getvalue())
    assert read(path).cells == read_good(tmp_path, good).cells


def read_good(tmp_path: Path, good: bytes):  # type: ignore[no-untyped-def]
    path = tmp_path / "good.xlsx"
    path.write_bytes(good)
    return read(path)


# ---------------------------------------------------------------- encrypted


def cfb(streams: list[str]) -> bytes:
    """A minimal compound file (512-byte sectors: FAT in sector 0, directory in sector 1)
    whose directory names ``streams`` — the shape of an encrypted OOXML workbook."""
    header = bytearray(512)
    header[:8] = safety.OLE_MAGIC
    struct.pack_into("<HHH", header, 0x18, 0x3E, 3, 0xFFFE)  # minor, major version, byte order
    struct.pack_into("<HH", header, 0x1E, 9, 6)  # sector shift 512, mini sector shift 64
    struct.pack_into("<II", header, 0x2C, 1, 1)  # one FAT sector; directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)  # mini stream cutoff
    struct.pack_into("<III", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE)  # no mini FAT, no DIFAT
    struct.pack_into("<I", header, 0x48, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * 126
    directory = bytearray(512)
    for i, name in enumerate(["Root Entry", *streams][:4]):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        off = i * 128
        directory[off : off + len(raw)] = raw
        struct.pack_into("<HB", directory, off + 64, len(raw), 5 if i == 0 else 2)
    return bytes(header) + struct.pack("<128I", *fat) + bytes(directory)


def test_encrypted_ooxml(tmp_path: Path) -> None:
    data = cfb(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])
    assert "EncryptedPackage" in ole.Compound(data).entries
    err = refused(tmp_path, data, "file.encrypted")
    assert is_code(err.code)
    assert "密码" in make(err.code).message  # tells the department to remove the password


def test_word_97_document_is_asked_to_be_saved_as_docx(tmp_path: Path) -> None:
    err = refused(tmp_path, cfb(["WordDocument", "1Table"]), "file.old_word", "a.doc")
    assert is_code(err.code)
    assert ".docx" in make(err.code).message


def test_encrypted_ods(tmp_path: Path) -> None:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1"/></manifest:file-entry></manifest:manifest>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", b"\x8f\x12binary")
    refused(tmp_path, buf.getvalue(), "file.encrypted", "r.ods")


# ---------------------------------------------------------------- zip bombs


def test_zip_bomb_of_zeros(tmp_path: Path, good: bytes) -> None:
    """200 MB of zeros deflate to ~200 KB: refused from the central directory alone."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        chunk = b"\x00" * (1 << 20)
        with zout.open("xl/media/padding.bin", "w", force_zip64=True) as fh:
            for _ in range(200):
                fh.write(chunk)
    data = buf.getvalue()
    assert len(data) < 1_000_000
    err = refused(tmp_path, data, "file.too_large")
    assert "压缩比" in err.detail  # from the central directory, before any part is inflated


def test_declared_huge_size(tmp_path: Path, good: bytes) -> None:
    data = bytearray(good)
    at = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, at + 24, 0xFFFF0000)  # declares ~4 GB for the first part
    refused(tmp_path, bytes(data), "file.too_large")


def test_too_many_parts(tmp_path: Path, good: bytes) -> None:
    extra = {f"xl/junk/{i}.bin": b"" for i in range(zipcheck.MAX_ENTRIES + 1)}
    refused(tmp_path, rezip(good, {}, extra), "file.too_large")


def test_too_large_file(tmp_path: Path, good: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_FILE", len(good) - 1)
    refused(tmp_path, good, "file.too_large")
    with pytest.raises(ReadError) as info:
        safety.preflight(good)
    assert info.value.code == "file.too_large"


# ---------------------------------------------------------------- XML entity bombs

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


def _with_prolog(good: bytes, part: str, prolog: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        body = zf.read(part).decode("utf-8")
    body = body[body.index("?>") + 2 :] if body.startswith("<?xml") else body
    return rezip(good, {part: (prolog + body.replace("<sheets>", "<sheets>&lol9;", 1)).encode("utf-8")})


def test_billion_laughs_in_workbook_xml(tmp_path: Path, good: bytes) -> None:
    err = refused(tmp_path, _with_prolog(good, "xl/workbook.xml", LAUGHS), "file.unsafe_xml")
    assert "xl/workbook.xml" in err.detail


def test_doctype_after_a_long_comment(tmp_path: Path, good: bytes) -> None:
    prolog = '<?xml version="1.0"?>\n<!--' + "x" * 3000 + "-->\n" + LAUGHS.split("\n", 1)[1]
    refused(tmp_path, _with_prolog(good, "xl/worksheets/sheet1.xml", prolog), "file.unsafe_xml")


def test_external_entity_in_utf16_part(tmp_path: Path, good: bytes) -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x/>'
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        assert "xl/styles.xml" in zf.namelist()
    data = rezip(good, {"xl/styles.xml": b"\xff\xfe" + xml.encode("utf-16-le")})
    refused(tmp_path, data, "file.unsafe_xml")


def test_endless_prolog(tmp_path: Path, good: bytes) -> None:
    prolog = '<?xml version="1.0"?>' + "<!-- padding -->" * 2000
    refused(tmp_path, _with_prolog(good, "xl/workbook.xml", prolog), "file.unsafe_xml")


def test_doctype_only_mentioned_in_a_comment_is_fine(tmp_path: Path, good: bytes) -> None:
    prolog = '<?xml version="1.0"?><!-- no <!DOCTYPE here --><?pi <!ENTITY?>'
    data = _with_prolog(good, "xl/workbook.xml", prolog).replace(b"&lol9;", b"")
    path = tmp_path / "ok.xlsx"
    path.write_bytes(data)
    assert read(path).identity.form == "gk2018"


# ---------------------------------------------------------------- parts vetted once per process


def test_parts_shared_by_returns_are_vetted_once_and_a_changed_part_again(
    good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "VETTED", {})
    safety.preflight(good, lazy=True).vet_sheet("统计表")
    remembered = len(archive.VETTED)
    assert remembered >= 3  # e.g. styles, relationships, workbook.xml, and the sheet map
    safety.preflight(good, lazy=True).vet_sheet("统计表")
    assert len(archive.VETTED) == remembered  # nothing new: every shared part was known
    with pytest.raises(ReadError) as info:  # the same file with a DTD in workbook.xml
        safety.preflight(_with_prolog(good, "xl/workbook.xml", LAUGHS), lazy=True)
    assert info.value.code == "file.unsafe_xml"


def test_the_cache_of_vetted_parts_is_bounded(good: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "VETTED", {})
    monkeypatch.setattr(archive, "VET_CACHE_SIZE", 2)
    safety.preflight(good)
    assert 0 < len(archive.VETTED) <= 2


# ---------------------------------------------------------------- the central directory, read directly


def _fields(infos: list[Any]) -> list[tuple[Any, ...]]:
    keys = ("filename", "orig_filename", "flag_bits", "compress_type", "CRC", "compress_size",
            "file_size", "header_offset")
    return [tuple(getattr(i, k) for k in keys) for i in infos]


def test_the_directory_read_directly_is_what_zipfile_reads(good: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("stored.xml", b"<a/>", compress_type=zipfile.ZIP_STORED)
        zf.writestr("压缩.xml", b"<b/>" * 100, compress_type=zipfile.ZIP_DEFLATED)  # a UTF-8 name
        zf.writestr(zipfile.ZipInfo("dup.xml"), b"1")
        with pytest.warns(UserWarning):
            zf.writestr(zipfile.ZipInfo("dup.xml"), b"22")  # the later one counts, as in zipfile
    for data in (good, buf.getvalue()):
        direct = archive.open_zip(data)
        assert isinstance(direct, archive.Archive)
        reference = zipfile.ZipFile(io.BytesIO(data))
        assert _fields(direct.infolist()) == _fields(reference.infolist())
        assert _fields(list(direct.NameToInfo.values())) == _fields(list(reference.NameToInfo.values()))


def test_archives_out_of_the_ordinary_are_left_to_zipfile(good: bytes) -> None:
    with_comment = bytearray(good)
    struct.pack_into("<H", with_comment, len(good) - 2, 4)
    for data in (bytes(with_comment) + b"note", b"junk" + good):
        assert isinstance(archive.open_zip(data), zipfile.ZipFile)
    safety.preflight(bytes(with_comment) + b"note", lazy=True)  # and a comment is read just the same


@pytest.mark.parametrize("cut", ["<", "<!", "<!-"])
def test_a_comment_cut_by_the_end_of_a_read_is_not_taken_for_a_doctype(cut: str) -> None:
    assert xmlcheck.prolog('<?xml version="1.0"?>' + cut) == "more"
    assert xmlcheck.prolog('<?xml version="1.0"?><!DOCTYPE x>') == "dtd"
    assert xmlcheck.prolog('<?xml version="1.0"?><!-- a --><root/>') == "ok"


def test_a_prolog_of_comments_longer_than_the_first_read_is_fine(tmp_path: Path, good: bytes) -> None:
    for pad in range(140, 175):  # the first read is 160 bytes: a comment starts across it
        prolog = '<?xml version="1.0"?>' + "<!--" + "x" * (pad - 30) + "-->" + "<!-- second -->"
        data = _with_prolog(good, "xl/workbook.xml", prolog).replace(b"&lol9;", b"")
        safety.preflight(data, lazy=True)


# ---------------------------------------------------------------- linear scans of damaged parts


def _best_seconds(scan: Any, *datas: bytes) -> list[float]:
    """The least CPU time (not wall time: another process on a loaded host takes none of it)
    each of ``datas`` took to scan, over several rounds taken in turn, so that a drift of the
    host's speed touches them all alike."""
    best = [float("inf")] * len(datas)
    for _ in range(5):
        for i, data in enumerate(datas):
            start = time.process_time()
            with contextlib.suppress(ReadError):
                scan(data)
            best[i] = min(best[i], time.process_time() - start)
    return best


class _Part:
    """`Preflight.read_part` of an archive holding one part."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read_part(self, name: str) -> bytes:
        return self.data


# a start tag opened and never closed, repeated: a regex that looks for the element and
# fails at the end of the bytes restarts at the next one (minutes for a few tens of KB)
DAMAGED_SCANS = {
    "cells": (lambda d: extent.check_sheet_extent("s.xml", d), b"<sheetData>", b"<c ", b"</sheetData>"),
    "cells in quotes": (lambda d: extent.check_sheet_extent("s.xml", d), b"<sheetData><c r='A1", b'<c r="', b"</sheetData>"),
    "ods rows": (extent.check_ods_extent, b"<table:table>", b"<table:table-row ", b""),
    "ods cells": (extent.check_ods_extent, b"<table:table><table:table-row>", b"<table:table-cell ", b""),
    "sheets": (lambda d: zipcheck.sheet_targets(d, d), b"<workbook><sheets>", b"<sheet ", b""),
    "relationships": (lambda d: zipcheck.sheet_targets(d, d), b"<Relationships>", b"<Relationship Id='", b""),
    "properties": (lambda d: identify.properties(cast(safety.Preflight, _Part(d))), b"<Properties>", b"<property ", b""),
    "property values": (lambda d: identify.properties(cast(safety.Preflight, _Part(d))), b"<Properties>", b"<property name='a'><vt:i4>", b""),
}


@pytest.mark.parametrize("kind", list(DAMAGED_SCANS))
def test_scanning_a_damaged_part_takes_time_in_proportion_to_its_size(kind: str) -> None:
    scan, head, unit, tail = DAMAGED_SCANS[kind]
    n = 5_000
    while _best_seconds(scan, head + unit * n + tail)[0] < 0.02 and n < 2_000_000:
        n *= 2  # until the time measured is well above the clock's and the host's noise
    small, large = _best_seconds(scan, head + unit * n + tail, head + unit * 8 * n + tail)
    ratio = large / small
    # linear: about 8; the quadratic scans it replaces: 64 and more. The margin (3x) absorbs a
    # loaded host and cache effects at the larger size without letting a quadratic scan pass.
    assert ratio < 24, (n, ratio)


def test_a_part_saved_at_another_time_has_the_same_key() -> None:
    """Returns are saved each at its own minute: a part's cache key leaves out the time stamp,
    and nothing else (another content, name or method is another key)."""

    def archive_of(text: bytes, when: tuple[int, int, int, int, int, int], name: str = "xl/styles.xml") -> Any:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo(name, when), text, zipfile.ZIP_DEFLATED)
        stored = archive.open_zip(buffer.getvalue())
        return archive.content_key(stored, stored.NameToInfo[name])

    styles = b"<styleSheet>" + b"<xf/>" * 50 + b"</styleSheet>"
    key = archive_of(styles, (2019, 1, 20, 9, 30, 0))
    assert key is not None and key == archive_of(styles, (2019, 1, 21, 17, 5, 42))
    assert key != archive_of(styles.replace(b"<xf/>", b"<xf />", 1), (2019, 1, 20, 9, 30, 0))
    assert key != archive_of(styles, (2019, 1, 20, 9, 30, 0), "xl/other.xml")


@given(st.text(alphabet=st.characters(codec="utf-8")) | st.sampled_from(["XL/Worksheets/Sheet1.XML", "xl/ΣHEET.xml", "İ.xml"]))
def test_part_names_fold_only_ascii_letters(name: str) -> None:
    """calamine finds parts whatever their ASCII case, and only that: the quick fold for an
    ASCII name is the same as folding ASCII letters alone."""
    assert zipcheck._fold(name) == "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)
