"""Outputs are written atomically: into a temporary file beside the target, then renamed.

Nothing half-written is ever left under the target's name, and nothing is overwritten
unless the caller asks.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path


def display_name(path: Path | str) -> str:
    """A path as text a person (or a strict UTF-8 stream, or a workbook) can take: bytes of a
    name that are not UTF-8 — GBK names from a zip made on Chinese Windows and unpacked on
    Linux, which Python keeps as lone surrogates — become replacement characters."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")  # surrogates that never were bytes
    return raw.decode("utf-8", "replace")


def write_atomically(path: Path | str, render: Callable[[Path], None], *, overwrite: bool) -> Path:
    """``render`` into a temporary file beside ``path``, then give it that name."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise exists_error(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        render(tmp)
        publish(tmp, path, overwrite=overwrite)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()
    return path


def exists_error(path: Path | str) -> FileExistsError:
    """What refusing to overwrite ``path`` says, wherever it is refused."""
    return FileExistsError(f"{path}: 文件已存在 (file exists)")


def temp_beside(path: Path) -> Path:
    """A fresh file next to ``path`` (same file system, so the final rename is atomic)."""
    for _ in range(100):
        tmp = path.with_name(f".~{uuid.uuid4().hex[:12]}.tmp")
        with suppress(FileExistsError):
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
    raise FileExistsError(f"{path.parent}: cannot create a temporary file")


def publish(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Give ``tmp`` the name ``path`` atomically; unless ``overwrite``, only if the name is free."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise exists_error(path) from None
    except OSError:  # no hard links on this file system: best effort
        if path.exists():
            raise exists_error(path) from None
        os.replace(tmp, path)
