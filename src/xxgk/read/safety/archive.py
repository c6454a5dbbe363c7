"""A zip archive's directory and parts read straight from its bytes in memory, cheaply."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from typing import Any, NamedTuple

from xxgk.read.returns import ReadError

MAX_PART = 64 * 1024 * 1024  # declared uncompressed bytes of one part


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


class Archive:
    """A zip's central directory read straight from its bytes, for the plain archives every
    spreadsheet program writes (zipfile builds a file object and a ZipInfo per part: a
    measurable share of reading a return).  `open_zip` leaves anything else to zipfile."""

    def __init__(self, data: bytes, parts: list[_Part]) -> None:
        self.fp = io.BytesIO(data)
        self.filelist = parts
        self.NameToInfo = {p.filename: p for p in parts}  # the last of a repeated name, as zipfile

    def infolist(self) -> list[_Part]:
        return self.filelist

    def getinfo(self, name: str) -> _Part:
        return self.NameToInfo[name]


Zip = zipfile.ZipFile | Archive
Part = zipfile.ZipInfo | _Part

_CENTRAL = struct.Struct("<8xHH4xIIIHHH8xI")  # flags, method, CRC, sizes, name/extra/comment lengths, offset


def open_zip(data: bytes) -> Zip:
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
    return Archive(data, parts)


# Parts already vetted in this process, by their exact compressed content (and what was
# learnt from them): the returns of a batch share most parts byte for byte (styles,
# relationships, workbook.xml), so each is inflated and vetted once.  Only small parts are
# kept (a miss costs a copy and a hash), and only so many.
VETTED: dict[Any, Any] = {}
VET_CACHE_PART = 4096  # compressed bytes
VET_CACHE_SIZE = 1024  # entries


def content_key(zf: Zip, info: Part) -> tuple[Any, ...] | None:
    """A part exactly as the archive stores and declares it — central directory entry, local
    header (but its time stamp), compressed bytes — so that equal keys get equal verdicts; None when the part is
    too large to keep or cannot be located (`Inflater` then says what is wrong)."""
    if info.compress_size > VET_CACHE_PART or not isinstance(zf.fp, io.BytesIO):
        return None
    data, off = zf.fp.getvalue(), info.header_offset
    if len(data) < off + 30:
        return None
    name_len, extra_len = struct.unpack_from("<HH", data, off + 26)
    end = off + 30 + name_len + extra_len + info.compress_size
    if end > len(data):
        return None
    # all of it but the local header's modification time and date (bytes 10–13): each return
    # is saved at its own minute, and what a part holds does not depend on when
    return (info.orig_filename, info.flag_bits, info.compress_type, info.file_size, info.CRC,
            data[off : off + 10], data[off + 14 : end])


def recall(key: Any) -> Any:
    """What was learnt from a part of this `content_key` already vetted; None if none was."""
    return VETTED.get(key)


def remember(key: Any, value: Any) -> None:
    if len(VETTED) >= VET_CACHE_SIZE:
        VETTED.clear()
    VETTED[key] = value


def read_capped(zf: Zip, info: Part, cap: int) -> bytes:
    """Up to ``cap`` bytes of a part, inflated."""
    return Inflater(zf, info).read(cap)


class Inflater:
    """A part inflated straight from the archive's bytes: what `ZipFile.open` does, without
    its file object per part (this runs for every part of every return, so it must be cheap),
    with the same refusals — encrypted, truncated, corrupt, a CRC that does not match."""

    def __init__(self, zf: Zip, info: Part) -> None:
        self.info, self.name, self.done = info, info.filename, 0
        if info.flag_bits & 0x1:
            raise ReadError("file.encrypted", f"部件{self.name}已加密")
        fp = zf.fp
        if not isinstance(fp, io.BytesIO):  # pragma: no cover - check_zip always opens the bytes in memory
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
