"""Opening a file: its bytes, vetted by `safety.preflight`, opened by the reader its kind names.

File names mean nothing here: the bytes say what a file is.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Literal, cast

import python_calamine as pc

from xxgk.forms.builtin import default_forms
from xxgk.forms.model import Form
from xxgk.read.cells import read_book
from xxgk.read.docx import read_docx
from xxgk.read.grid import Book, Document, short_error
from xxgk.read.html import read_html
from xxgk.read.identify import first_sheet, properties
from xxgk.read.pdf import read_pdf
from xxgk.read.returns import ReadError, Return
from xxgk.read.safety import preflight as safety
from xxgk.read.tables import DOCUMENT_KINDS, KINDS, Tables

FileKind = Literal["xlsx", "xls", "ods", "docx", "html", "pdf"]  # every kind `safety.preflight` names


def open_book(data: bytes, preflight: safety.Preflight | None = None) -> Book:
    """Open workbook bytes, vetted by `safety.preflight` (lazily: then pass its ``preflight``,
    which vets each sheet before python-calamine parses it)."""
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise ReadError("file.encrypted", "工作簿已加密") from None
    except BaseException as exc:  # calamine may raise a Rust panic, which is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
            raise
        raise ReadError("file.unreadable", f"文件已损坏（{short_error(exc)}）") from None
    return Book(wb, preflight)


def _open_document(read_tables: Callable[[bytes], Tables], data: bytes, preflight: safety.Preflight) -> Book:
    """A Word document's, a web page's or a PDF's tables as a book; refused when it has none."""
    tables = read_tables(data)
    if not tables.grids:
        raise ReadError("file.not_ours", f"{KINDS[preflight.kind]}中没有表格")
    return Document(tables)


# The one place that says which reader opens which kind of file.
_OPENERS: dict[FileKind, Callable[[bytes, safety.Preflight], Book]] = {
    "xlsx": open_book,
    "xls": open_book,
    "ods": open_book,
    "docx": partial(_open_document, read_docx),
    "html": partial(_open_document, read_html),
    "pdf": partial(_open_document, read_pdf),
}


# ---------------------------------------------------------------- entry points


def read(path: str | Path, forms: Sequence[Form] | None = None) -> Return:
    """Read one return.  Raises `ReadError` (with a findings catalogue code) when the
    file cannot be read at all; everything else becomes a finding in ``Return.findings``."""
    path = Path(path)
    data, st = _file_bytes(path)
    ret = read_bytes(data, forms, path=path)
    ret.mtime = st.st_mtime
    return ret


def open_file(path: str | Path) -> Book:
    """Any workbook file opened for reading its sheets, vetted as `read` vets a return: for
    files that are not returns (last year's summary's 分单位明细).  Raises `ReadError`."""
    data, _ = _file_bytes(Path(path))
    return open_book(data, safety.preflight(data, lazy=True))


def _file_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its status, refused past `safety.MAX_FILE`."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            if st.st_size > safety.MAX_FILE:
                raise ReadError("file.too_large", f"文件大小{st.st_size // (1024 * 1024)}MB")
            return read_all(fd, st.st_size), st
        finally:
            os.close(fd)
    except OSError as exc:
        raise ReadError("file.unreadable", exc.strerror or type(exc).__name__) from None


def read_all(fd: int, size: int) -> bytes:
    """The whole file in as few system calls as its size allows (it may change meanwhile)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, max(size + 1, 65536))
        if not chunk:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > safety.MAX_FILE:
            raise ReadError("file.too_large", f"文件大小超过{safety.MAX_FILE // (1024 * 1024)}MB")


def read_bytes(data: bytes, forms: Sequence[Form] | None = None, *, path: Path | None = None) -> Return:
    """`read` for bytes already in memory."""
    # the bytes are hashed and vetted while they are still in the CPU's cache: after the
    # spreadsheet is parsed, hashing them took several times as long (measured)
    digest = hashlib.sha256(data).hexdigest()
    pre = safety.preflight(data, lazy=True)
    known = list(forms) if forms is not None else default_forms()
    opener = _OPENERS[cast("FileKind", pre.kind)]
    if pre.kind in DOCUMENT_KINDS:  # no metadata: who and which year come from its title
        return read_book(opener(data, pre), known, digest, path, {})
    props = properties(pre)
    first = first_sheet(props, known)
    if first in pre.parts:  # parsed first in any case: vetted now, while the bytes are in the cache
        pre.vet_sheet(first)
    book = opener(data, pre)
    try:
        return read_book(book, known, digest, path, props)
    finally:
        book.close()
