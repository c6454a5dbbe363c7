"""A PDF's bytes measured before pdfminer parses them: how many objects it declares and how
many bytes its compressed streams inflate to (a deflate bomb in a page's content stream
would be inflated whole by pdfminer)."""

from __future__ import annotations

import re
import zlib

from xxgk.read.returns import ReadError

MAX_OBJECTS = 200_000  # indirect objects, counted as declared (a report has a few thousand)
MAX_INFLATED = 256 * 1024 * 1024  # bytes all Flate streams inflate to together

_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_PACKED = re.compile(rb"/Type\s*/ObjStm\b[^>]*?/N\s+(\d{1,9})|/N\s+(\d{1,9})[^>]*?/Type\s*/ObjStm\b")
_STREAM = re.compile(rb"stream\r?\n")


def check_pdf(data: bytes) -> None:
    """Refuse a PDF with too many objects or streams that inflate past `MAX_INFLATED`."""
    objects = len(_OBJECT.findall(data))
    objects += sum(int(a or b) for a, b in _PACKED.findall(data))
    if objects > MAX_OBJECTS:
        raise ReadError("file.too_large", f"PDF中有{objects}个对象")
    inflated = 0
    for m in _STREAM.finditer(data):
        end = data.find(b"endstream", m.end())
        if end < 0:
            break
        inflated += _inflated_size(data, m.end(), end, MAX_INFLATED - inflated + 1)
        if inflated > MAX_INFLATED:
            raise ReadError("file.too_large", f"PDF中的数据流解压后超过{MAX_INFLATED // (1024 * 1024)}MB")


def _inflated_size(data: bytes, start: int, end: int, cap: int) -> int:
    """How many bytes ``data[start:end]`` inflates to (0 if it is not zlib data), up to ``cap``."""
    inflater = zlib.decompressobj()
    total = 0
    chunk = memoryview(data)[start:end]
    try:
        out = inflater.decompress(chunk, 1 << 20)
        while out:
            total += len(out)
            if total >= cap:
                return total
            out = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
    except zlib.error:
        return total
    return total
