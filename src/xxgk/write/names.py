"""Safe, distinct file names for the workbooks written for a roster.

Unit names come from a roster someone typed; they may hold slashes, ``..``,
control characters or Windows device names.  Every name built here is a single
path component that is valid on Windows, macOS and Linux, so a workbook can
only ever land inside the output directory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from xxgk.forms.model import Form

MAX_BYTES = 180  # of UTF-8; leaves room under the usual 255 for a suffix and a temp prefix
EXTENSION = ".xlsx"
_WINDOWS = set('<>:"/\\|?*')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")
}


def _clean(text: str) -> str:
    """One part of a name: no separators, reserved or invisible characters, no ``..``."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch in _WINDOWS or category in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            out.append("_")
        elif category == "Zs":
            out.append(" ")
        else:
            out.append(ch)
    cleaned = re.sub(r"\.{2,}", ".", re.sub(r" {2,}", " ", "".join(out)))
    return cleaned.strip(" ._")


def _fit(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` bytes of UTF-8 on a character boundary."""
    data = text.encode("utf-8")[: max(budget, 0)]
    return data.decode("utf-8", "ignore").rstrip(" .")


def document_name(form: Form) -> str:
    """What the workbook's title calls it, without agency and year: 政府信息公开情况统计表,
    政府信息公开工作年度报告统计表 (the file name then says what the title says)."""
    text = re.sub(r"[（(]?\{year\}年度?[）)]?", "", form.title.replace("{agency}", ""))
    return _clean(re.sub(r"\{[^{}]*\}", "", text)) or form.name


def file_name(code: str, name: str, year: int, form: Form | str) -> str:
    """``<code>_<name>_<year>年<document name>.xlsx``, made safe to use as one path component."""
    title = _clean(f"{year}年{document_name(form) if isinstance(form, Form) else form}") or f"{year}年"
    code_part = _fit(_clean(code), 40)
    name_part = _clean(name) or "未命名单位"
    fixed = len(title.encode()) + len(code_part.encode()) + len(EXTENSION) + 2
    name_part = _fit(name_part, MAX_BYTES - fixed) or "未命名单位"
    stem = "_".join(p for p in (code_part, name_part, title) if p)
    stem = _fit(stem, MAX_BYTES - len(EXTENSION))
    if stem.split(".")[0].upper().rstrip(" ") in _RESERVED:
        stem = "_" + stem
    return stem + EXTENSION


def unique(names: Iterable[str]) -> list[str]:
    """The same names with ``_2``, ``_3``… added where two would be the same file.

    Names are compared as a case-insensitive file system would (NFC, casefold),
    so two units never overwrite each other on Windows or macOS either.
    """
    taken: set[str] = set()
    out = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while _fold(candidate) in taken:
            n += 1
            candidate = f"{stem}_{n}{dot}{ext}"
        taken.add(_fold(candidate))
        out.append(candidate)
    return out


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
