"""Which files under the given paths are read as returns, and why each other one is not.

Nothing is skipped in silence: every file found in a directory is either read or listed
with the reason it was passed over, and `check` and `merge` print that list.  Files named
on the command line are always read (reading says what is wrong with them).  An annotated
copy (``…_校验结果.xlsx``) is read like any return: the unit is known from the identity
embedded in it, not from its name.

`SKIPPED` is the one place that says what is not read: a reader that learns a new kind of
file (Word, HTML) removes its suffix here and adds it to `READ`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["READ", "SKIPPED", "Found", "find"]

# read as spreadsheets (.et: WPS's own format, which is a spreadsheet; reading says so if it fails),
# and the annual report itself: a Word document, a saved web page or a PDF with a text layer
# (read.docx, read.html, read.pdf)
READ = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".docx", ".html", ".htm", ".pdf")
ARCHIVE = "压缩包，请解压后将其中的报表放入目录再处理"
SKIPPED = {
    ".zip": ARCHIVE,
    ".rar": ARCHIVE,
    ".7z": ARCHIVE,
    ".doc": "旧版Word文档，无法读取，请另存为.docx后报送",
    ".wps": "WPS文字文档，不是统计表，请报送填写好的电子表格",
    ".csv": "CSV文件，不是统计表模板，请报送填写好的电子表格",
}
OTHER = "不是电子表格"
LOCK = "Office锁定文件（文件被打开时自动生成），不是报表"
HIDDEN = "隐藏文件"
OUTPUT = "本次要写入的输出文件"


@dataclass
class Found:
    files: list[Path] = field(default_factory=list)  # to read, sorted
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # not read, and why; sorted


def find(paths: Iterable[Path | str], *, exclude: Iterable[Path | str] = (), must_exist: bool = False) -> Found:
    """The files under ``paths``, read or skipped; no duplicates.

    ``exclude``: files or directories this run writes (the summary, --annotate's folder),
    listed as skipped.  ``must_exist``: a path that does not exist raises
    `FileNotFoundError` or `NotADirectoryError` (else it is kept, and reading reports it).
    """
    out = Found()
    outputs = [Path(p).resolve() for p in exclude]
    read: set[Path] = set()
    skipped: dict[Path, str] = {}
    for p in (q if isinstance(q, Path) else Path(q) for q in paths):
        try:  # one stat per path: a batch names thousands of files
            is_dir = stat.S_ISDIR(os.stat(p).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            if must_exist:
                raise
            is_dir = False
        except OSError:
            is_dir = False
        if not is_dir:
            if outputs and _inside(p.resolve(), outputs):
                skipped[p] = OUTPUT
            else:
                read.add(p)
            continue
        for root, dirs, names in os.walk(p):  # os.walk: a batch folder holds thousands of files
            dirs.sort()
            hidden = root != str(p) and any(part.startswith(".") for part in Path(root).relative_to(p).parts)
            real = Path(root).resolve() if outputs else None  # once a folder, not once a file
            for name in names:
                child = Path(root, name)
                why = HIDDEN if hidden and not name.startswith(("~$", ".~lock")) else _reason(name)
                if why is None and real is not None and _inside(
                        child.resolve() if os.path.islink(child) else real / name, outputs):
                    why = OUTPUT
                if why is None:
                    read.add(child)
                else:
                    skipped[child] = why
    out.files = sorted(read, key=lambda p: p.parts)  # Path order, compared in C
    out.skipped = sorted(((f, why) for f, why in skipped.items() if f not in read), key=lambda s: s[0].parts)
    return out


def _inside(path: Path, outputs: list[Path]) -> bool:
    """Whether ``path`` (resolved) is one of ``outputs`` (resolved) or lies under one."""
    text = str(path)
    return any(text == (o := str(out)) or text.startswith(o.rstrip(os.sep) + os.sep) for out in outputs)


def _reason(name: str) -> str | None:
    """Why a file found in a directory is not read (None: it is read)."""
    if name.startswith(("~$", ".~lock")):
        return LOCK
    if name.startswith("."):
        return HIDDEN
    suffix = os.path.splitext(name)[1].lower()
    if suffix in READ:
        return None
    return SKIPPED.get(suffix, f"{OTHER}（{suffix or '无扩展名'}）")
