"""The OLE2 compound file (xls, encrypted OOXML, old Office documents): what it holds."""

from __future__ import annotations

import struct
from typing import Any

from xxgk.read.returns import ReadError
from xxgk.read.safety.extent import check_biff_extent

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


class Compound:
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


def check_ole(data: bytes) -> tuple[str, bytes]:
    """The kind of a compound file, refused unless a workbook; with the workbook's stream, vetted."""
    cfb = Compound(data)
    lower = {n.lower(): n for n in cfb.entries}
    if "encryptedpackage" in lower or "encryptioninfo" in lower:
        raise ReadError("file.encrypted", "工作簿已加密")
    for name in ("workbook", "book"):
        if name in lower:
            stream = cfb.stream(lower[name])
            check_biff_extent(stream)
            return "xls", stream
    if "worddocument" in lower:
        raise ReadError("file.old_word", "Word文档（.doc）")
    if "powerpoint document" in lower:
        raise ReadError("file.not_spreadsheet", "演示文稿（.ppt）")
    raise ReadError("file.not_spreadsheet", "复合文档中没有工作簿")
