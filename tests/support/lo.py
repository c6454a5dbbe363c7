"""Round trips through a real LibreOffice: fill a template as a clerk would, let
LibreOffice recalculate and save it as .xlsx/.ods/.xls, read what it computed.

LibreOffice does not recalculate .xlsx formulas on load by default (it trusts the
cached results, and openpyxl drops them), so every call runs with a private user
profile whose registrymodifications.xcu sets Calc's load-time recalculation
(``/org.openoffice.Office.Calc/Formula/Load``: ``OOXMLRecalcMode`` and
``ODFRecalcMode``) to 0, "always recalculate".  Each soffice start costs seconds:
convert many files in one call.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form

FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "ods": "ods:calc8",
    "xls": "xls:MS Excel 97",
    "pdf": "pdf:calc_pdf_Export",
}
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_profile(directory: Path) -> Path:
    """A LibreOffice user profile that recalculates every formula on load."""
    (directory / "user").mkdir(parents=True, exist_ok=True)
    (directory / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return directory


def fill(template: Path, dest: Path, form: Form, values: Mapping[str, Any], *,
         notes: Mapping[str, str] | None = None, signature: Mapping[str, str] | None = None) -> Path:
    """A copy of ``template`` with input cells typed (by cell key; None leaves a cell blank),
    情况说明 of the rows of the given cell keys, and signature fields.

    Only input cells can be filled: a key of a header or formula cell is a test bug.
    openpyxl keeps protection, validation, conditional formats and hidden sheets.
    """
    layout = layout_of(form)
    inputs = {c.key for c in form.inputs}
    wb = openpyxl.load_workbook(template)
    for key, value in values.items():
        if key not in inputs:
            raise ValueError(f"{key!r} is not an input cell of {form.id}")
        if value is not None:
            place = layout.places[key]
            wb[place.sheet][place.a1] = value
    for key, text in (notes or {}).items():
        place = layout.note(form.cells[key])
        wb[place.sheet][place.a1] = text
    for name, text in (signature or {}).items():
        place = layout.signature[name]
        wb[place.sheet][place.a1] = text
    wb.save(dest)
    return dest


def convert(files: Sequence[Path], fmt: str, out_dir: Path, profile: Path, timeout: float = 300,
            export: str | None = None) -> list[Path]:
    """Open every file in one LibreOffice run (recalculating) and save it as ``fmt`` in ``out_dir``
    (``export``: another filter, e.g. Writer's PDF export for a Word document)."""
    exe = soffice()
    if exe is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [exe, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
           "--nolockcheck", "--convert-to", export or FILTERS[fmt], "--outdir", str(out_dir), *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    outputs = [out_dir / f"{Path(f).stem}.{fmt}" for f in files]
    missing = [p.name for p in outputs if not p.is_file()]
    if done.returncode != 0 or missing:
        raise RuntimeError(f"soffice failed ({done.returncode}), missing {missing}: {done.stderr[-2000:]}")
    return outputs


def pdf_pages(pdf: Path) -> list[str]:
    """The text of every page of ``pdf`` (poppler's pdftotext, layout kept)."""
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout.split("\f")[:-1]


def recalc(files: Sequence[Path], out_dir: Path, profile: Path,
           formats: Sequence[str] = ("xlsx",)) -> dict[str, list[Path]]:
    """Each file recalculated and saved in each format: one soffice run per format."""
    return {fmt: convert(files, fmt, out_dir / fmt, profile) for fmt in formats}


class Book:
    """Cell values of a saved workbook (any format), read with python-calamine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        wb = CalamineWorkbook.from_path(str(path))
        self.visible = {s.name: str(s.visible) for s in wb.sheets_metadata}
        self.grids: dict[str, list[list[Any]]] = {
            name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names
        }

    def get(self, sheet: str, row: int, col: int) -> Any:
        grid = self.grids[sheet]
        if row >= len(grid) or col >= len(grid[row]):
            return None
        value = grid[row][col]
        return None if value == "" else value
