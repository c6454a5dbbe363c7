"""A deterministic mutation fuzzer for the reader: filled returns damaged in four families.

Each mutant says what a spreadsheet program would show in its input cells (``expect``: the
figures by cell key), or None when it shows no usable figures at all; `test_fuzz` checks
that xxgk never reports a mutant valid with other figures than those.

* ``archive`` — the zip or compound file: truncated, bytes flipped, parts dropped, stored,
  renamed (ASCII case; a worksheet moved to the root or under xl/xl/), duplicated, junk added;
* ``xml`` — package parts: start tags, quotes, comments and CDATA left open by the thousand
  (``<c ``, ``<row ``, ``<sheet ``, ``<property ``, ``<Relationship ``, ODS rows and cells),
  markup characters inserted, parts cut short, DTDs, comments holding cells, extra
  attributes, a cell far away;
* ``cell`` — one input cell's XML rewritten (numbers, numbers as text, full-width digits,
  units, words, booleans, errors, a formula with a stale result, blanks), the totals'
  stored results set to what a spreadsheet computes from what it shows;
* ``sheet`` — sheet operations through openpyxl (renamed, reordered, metadata dropped,
  hidden; copied, corrected and the original hidden; figures swapped; a row inserted;
  table 四's blocks swapped; a long text where the title is, metadata dropped), stored
  results restored as a spreadsheet computes them.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

import lo
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read.safety import zipcheck
from xxgk.report.annotate import restore_cached
from xxgk.write.formsheet import cell_number


@dataclass(frozen=True)
class Seed:
    """A valid filled return: ``kind`` xlsxwriter (``xlsx-w``) or a LibreOffice save."""

    form: Form
    kind: str
    suffix: str
    data: bytes
    inputs: dict[str, Decimal]


@dataclass(frozen=True)
class Mutant:
    family: str
    op: str
    seed: Seed
    data: bytes
    # input figures a spreadsheet shows; None: none usable; ASK: LibreOffice is asked
    expect: dict[str, Decimal] | None | str
    # a person sees the seed's figures plainly (nothing debatable): refusing it is a mis-read too
    must_read: bool = False

    @property
    def name(self) -> str:
        return f"{self.family}/{self.seed.form.id}-{self.seed.kind}/{self.op}"


ASK = "libreoffice"


def same(seed: Seed, family: str, op: str, data: bytes) -> Mutant:
    """A mutant that shows what the seed shows (or nothing readable) — except a damaged .xls,
    whose cell records have no checksum: a flipped bit may be a different figure, which
    LibreOffice is asked for."""
    return Mutant(family, op, seed, data, ASK if seed.suffix == ".xls" else seed.inputs)


def shown_by_libreoffice(paths: list[Path], form: Form, workdir: Path, profile: Path) -> dict[Path, dict[str, Decimal]]:
    """The input figures LibreOffice shows in each file it can open (one soffice run)."""
    exe = lo.soffice()
    assert exe is not None
    out_dir = workdir / "shown"
    subprocess.run([exe, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
                    "--nolockcheck", "--convert-to", lo.FILTERS["xlsx"], "--outdir", str(out_dir), *map(str, paths)],
                   capture_output=True, timeout=600, check=False)
    lay = layout_of(form)
    shown = {}
    for path in paths:
        saved = out_dir / f"{path.stem}.xlsx"
        if not saved.is_file():
            continue  # LibreOffice shows nothing
        try:
            grids = lo.Book(saved).grids
        except Exception:  # noqa: BLE001 - what LibreOffice wrote and calamine cannot read shows nothing usable
            continue
        if any(sl.name not in grids for sl in lay.sheets):
            continue  # a sheet's name damaged: where its figures are is not known here
        figures = {}
        for c in form.inputs:
            p = lay.places[c.key]
            rows = grids.get(p.sheet, [])
            value = rows[p.row][p.col] if p.row < len(rows) and p.col < len(rows[p.row]) else ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                figures[c.key] = Decimal(str(value))
            elif value == "":
                figures[c.key] = Decimal(0)
        if len(figures) == len(form.inputs):
            shown[path] = figures
    return shown


# ---------------------------------------------------------------- zip helpers


def parts(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def rezip(items: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", method) as zf:
        warnings.simplefilter("ignore", UserWarning)  # a duplicated part is a mutation here
        for name, payload in items:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else method
            zf.writestr(info, payload)
    return out.getvalue()


def replaced(data: bytes, name: str, payload: bytes) -> bytes:
    return rezip([(i.filename, payload if i.filename == name else b) for i, b in parts(data)])


def sheet_part(data: bytes, sheet: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zipcheck.sheet_parts(zf)[sheet]


def read_part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def _insert_before(xml: bytes, marker: bytes, payload: bytes) -> bytes:
    at = xml.rfind(marker)
    return xml + payload if at < 0 else xml[:at] + payload + xml[at:]


# ---------------------------------------------------------------- archive


def archive(rng: random.Random, seed: Seed) -> Mutant:
    data = seed.data
    if seed.suffix == ".xls":
        op = rng.choice(["truncate", "flip"])
    else:
        op = rng.choice(["truncate", "flip", "drop", "stored", "case", "duplicate", "junk", "relocate", "flip"])
    if op == "truncate":
        cut = rng.randrange(1, len(data))
        return same(seed, "archive", f"truncate@{cut}", data[:cut])
    if op == "flip":
        out = bytearray(data)
        spots = sorted(rng.randrange(len(out)) for _ in range(rng.randint(1, 8)))
        for at in spots:
            out[at] ^= 1 << rng.randrange(8)
        return same(seed, "archive", f"flip@{spots}", bytes(out))
    items = [(i.filename, b) for i, b in parts(data)]
    if op == "drop":
        k = rng.randrange(len(items))
        return same(seed, "archive", f"drop:{items[k][0]}", rezip(items[:k] + items[k + 1 :]))
    if op == "stored":
        return same(seed, "archive", "stored", rezip(items, zipfile.ZIP_STORED))
    if op == "case":
        k = rng.randrange(len(items))
        name = items[k][0]
        flipped = "".join(ch.swapcase() if rng.random() < 0.5 else ch for ch in name)
        items[k] = (flipped, items[k][1])
        return same(seed, "archive", f"case:{name}->{flipped}", rezip(items))
    if op == "duplicate":
        k = rng.randrange(len(items))
        return same(seed, "archive", f"duplicate:{items[k][0]}", rezip([*items, items[k]]))
    if op == "junk":
        payload = bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
        name = rng.choice(["xl/junk.xml", "xl/worksheets/sheet99.xml", "junk.bin", "content2.xml"])
        return same(seed, "archive", f"junk:{name}", rezip([*items, (name, payload)]))
    # relocate: the first worksheet stored elsewhere, its relationship naming it as calamine finds it
    if seed.suffix != ".xlsx":
        return same(seed, "archive", "stored", rezip(items, zipfile.ZIP_STORED))
    first = layout_of(seed.form).sheets[0].name
    part = sheet_part(data, first)
    where, target = rng.choice([("sheet1.xml", "/sheet1.xml"), ("xl/Worksheets/Sheet1.xml", "worksheets/sheet1.xml"),
                                ("xl/xl/worksheets/s.xml", "xl/worksheets/s.xml"), ("xl/s.xml", "s.xml")])
    rels = read_part(data, "xl/_rels/workbook.xml.rels").decode()
    rel_target = part.removeprefix("xl/")
    rels = re.sub(rf'Target="/?(xl/)?{re.escape(rel_target)}"', f'Target="{target}"', rels, count=1)
    moved = [(where if n == part else n, rels.encode() if n == "xl/_rels/workbook.xml.rels" else b) for n, b in items]
    return same(seed, "archive", f"relocate:{part}->{where}", rezip(moved))


# ---------------------------------------------------------------- xml


def xml(rng: random.Random, seed: Seed) -> Mutant:
    if seed.suffix == ".xls":
        return archive(rng, seed)
    items = [(i.filename, b) for i, b in parts(seed.data)]
    names = [n for n, _ in items if n.endswith((".xml", ".rels"))]
    ods = seed.suffix == ".ods"
    sheet = "content.xml" if ods else sheet_part(seed.data, layout_of(seed.form).sheets[0].name)
    k = rng.choice([10, 1000, 5000, 20000])
    ops: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
        "open-cells": (sheet, lambda x: _insert_before(x, b"</sheetData>", b"<c " * k)),
        "open-quoted-cells": (sheet, lambda x: _insert_before(x, b"</sheetData>", b'<c r="' * k)),
        "comment-cell": (sheet, lambda x: x.replace(b"<sheetData>", b'<sheetData><!-- <c r="D8"><v>999</v></c> -->', 1)),
        "attribute-first": (sheet, lambda x: x.replace(b"<c r=", b'<c foo="1>" r=')),
        "far-cell": (sheet, lambda x: _insert_before(x, b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')),
        "doctype": (rng.choice(names), lambda x: re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"")
                                                         + b'<!DOCTYPE x [<!ENTITY a "aaaa">]>', x, count=1)),
        "cut": (rng.choice(names), lambda x: x[: rng.randrange(len(x) + 1)]),
        "markup-chars": (rng.choice([sheet, *names]), lambda x: _sprinkle(rng, x)),
        "open-rows-xlsx": (sheet, lambda x: _insert_before(x, b"</sheetData>", b"<row " * k)),
        "open-quotes": (sheet, lambda x: _insert_before(x, b"</sheetData>", b'<c r="A1" t="' + b'"' * k)),
        "open-comment": (rng.choice(names), lambda x: _insert_before(x, b"</", b"<!--" + b"<c " * k)),
        "open-cdata": (sheet, lambda x: _insert_before(x, b"</sheetData>", b"<![CDATA[" + b"<c " * k)),
    }
    if ods:
        ops["open-rows"] = (sheet, lambda x: _insert_before(x, b"</table:table>", b"<table:table-row " * k))
        ops["open-ods-cells"] = (sheet, lambda x: _insert_before(x, b"</table:table-row>", b"<table:table-cell " * k))
        ops["repeat-rows"] = (sheet, lambda x: _insert_before(
            x, b"</table:table>", b'<table:table-row table:number-rows-repeated="99999999"><table:table-cell '
            b'office:value-type="float" office:value="1"/></table:table-row>'))
    else:
        ops["open-sheets"] = ("xl/workbook.xml", lambda x: _insert_before(x, b"</sheets>", b"<sheet " * k))
        ops["open-relationships"] = ("xl/_rels/workbook.xml.rels",
                                     lambda x: _insert_before(x, b"</Relationships>", b"<Relationship Id='" * k))
        if "docProps/custom.xml" in dict(items):
            ops["open-properties"] = ("docProps/custom.xml", lambda x: _insert_before(x, b"</Properties>", b"<property " * k))
    op = rng.choice(sorted(ops))
    part, mutate = ops[op]
    payload = mutate(dict(items)[part])
    return same(seed, "xml", f"{op}:{part}:{k}", rezip([(n, payload if n == part else b) for n, b in items]))


def _sprinkle(rng: random.Random, x: bytes) -> bytes:
    out = x
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice([b"<", b">", b'"', b"'", b"&", b"<c ", b"</row>", b"<row>", b"/"]) + out[at:]
    return out


# ---------------------------------------------------------------- cell

def _cell_contents(rng: random.Random) -> tuple[str, str, str, Decimal | None, Decimal]:
    """(name, t attribute, XML content, the figure a spreadsheet shows — None: none — and the
    figure the file's stored totals were computed with: a stale formula result, TRUE as 1)."""
    n = rng.randint(0, 5000)
    return rng.choice([
        ("number", "", f"<v>{n}</v>", Decimal(n), Decimal(n)),
        ("decimal", "", "<v>12.5</v>", Decimal("12.5"), Decimal("12.5")),
        ("negative", "", f"<v>-{n + 1}</v>", Decimal(-n - 1), Decimal(-n - 1)),
        ("huge", "", "<v>1E+20</v>", Decimal("1E+20"), Decimal("1E+20")),
        ("text-number", "inlineStr", f"<is><t>{n}</t></is>", Decimal(n), Decimal(n)),
        ("padded-text", "inlineStr", f"<is><t> {n} </t></is>", Decimal(n), Decimal(n)),
        ("full-width", "inlineStr", "<is><t>１２</t></is>", Decimal(12), Decimal(12)),
        ("word", "inlineStr", "<is><t>若干</t></is>", None, Decimal(0)),
        ("boolean", "b", "<v>1</v>", None, Decimal(1)),
        ("error", "e", "<v>#VALUE!</v>", None, Decimal(0)),
        ("stale-formula", "", f"<f>{n}+1000</f><v>{n}</v>", Decimal(n + 1000), Decimal(n)),
        ("blank", "", "", Decimal(0), Decimal(0)),
        ("empty-text", "inlineStr", "<is><t></t></is>", Decimal(0), Decimal(0)),
    ])


def cell(rng: random.Random, seed: Seed) -> Mutant:
    if seed.suffix != ".xlsx":
        return xml(rng, seed)
    form, lay = seed.form, layout_of(seed.form)
    key = rng.choice([c.key for c in form.inputs])
    place = lay.places[key]
    name, kind, body, shown, stored = _cell_contents(rng)
    part = sheet_part(seed.data, place.sheet)
    xml_text = read_part(seed.data, part).decode("utf-8")
    expect = None if shown is None else {**seed.inputs, key: shown}
    figures = form.compute({**seed.inputs, key: stored})  # the totals' stored results
    updates = {place.a1: (kind, body, False)}
    for f in form.formulas:
        p = lay.places[f.key]
        if p.sheet == place.sheet:
            updates[p.a1] = ("", f"<v>{cell_number(figures[f.key])}</v>", True)
    new = _set_cells(xml_text, updates)
    return Mutant("cell", f"{name}:{key}", seed, replaced(seed.data, part, new.encode("utf-8")), expect)


_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_FORMULA = re.compile(r"<f[^>]*/>|<f[^>]*>.*?</f>", re.S)


def _set_cells(xml_text: str, updates: Mapping[str, tuple[str, str, bool]]) -> str:
    """Cells (by A1) rewritten: (t attribute, content, keep the cell's formula)."""

    def one(m: re.Match[str]) -> str:
        ref, attrs, inner = m.group(1), m.group(2), m.group(3) or ""
        if ref not in updates:
            return m.group(0)
        kind, body, keep = updates[ref]
        formula = _FORMULA.search(inner) if keep else None
        body = (formula.group(0) if formula else "") + body
        attrs = re.sub(r'\s+t="[^"]*"', "", attrs) + (f' t="{kind}"' if kind else "")
        return f'<c r="{ref}"{attrs}>{body}</c>' if body else f'<c r="{ref}"{attrs}/>'

    return _CELL.sub(one, xml_text)


# ---------------------------------------------------------------- sheet


def sheet(rng: random.Random, seed: Seed, workdir: Path) -> Mutant:
    if seed.suffix != ".xlsx":
        return xml(rng, seed)
    form, lay = seed.form, layout_of(seed.form)
    ops = ["rename", "reorder", "drop-meta", "hide", "copy-hide", "swap-figures", "insert-row", "long-title"]
    if form.id == "gk2021":
        ops.append("swap-blocks")
    op = rng.choice(ops)
    src = workdir / f"seed-{form.id}-{seed.kind}.xlsx"
    if not src.exists():
        src.write_bytes(seed.data)
    wb = openpyxl.load_workbook(src)
    names = [sl.name for sl in lay.sheets]
    target = rng.choice(names)
    inputs = dict(seed.inputs)
    grids: dict[str, dict[str, Decimal]] = {n: inputs for n in names}  # sheet -> inputs it shows
    if op == "rename":
        wb[target].title = f"{target[:20]}（填报）"
        grids = {(f"{target[:20]}（填报）" if n == target else n): v for n, v in grids.items()}
    elif op == "reorder":
        wb._sheets.reverse()  # noqa: SLF001 - openpyxl has no public way to reorder
        wb.active = 0
    elif op == "drop-meta":
        del wb["_xxgk"]
    elif op == "hide":
        wb.create_sheet("备用")
        wb[target].sheet_state = "hidden"
    elif op == "copy-hide":
        copy = wb.copy_worksheet(wb[target])
        copy.title = f"{target[:20]} (2)"
        key = rng.choice([c.key for c in form.inputs if lay.places[c.key].sheet == target])
        changed = {**inputs, key: inputs[key] + rng.randint(1, 50)}
        copy[lay.places[key].a1] = cell_number(changed[key])
        wb[target].sheet_state = "hidden"
        grids[copy.title] = changed
        inputs = changed
    elif op == "swap-figures":
        table = rng.choice(form.tables)
        keys = [c.key for c in form.inputs if c.table.id == table.id]
        if len(keys) >= 2:
            a, b = rng.sample(keys, 2)
            pa, pb = lay.places[a], lay.places[b]
            ws = wb[pa.sheet]
            ws[pa.a1], ws[pb.a1] = ws[pb.a1].value, ws[pa.a1].value
            inputs = {**inputs, a: inputs[b], b: inputs[a]}
            grids[pa.sheet] = inputs
    elif op == "long-title":  # read by labels, the title searched for year and agency
        del wb["_xxgk"]
        wb[names[0]]["A1"] = "2018年" * rng.choice([100, 6000])
    elif op == "insert-row":
        tl = lay.tables[rng.choice(form.tables).id]
        at = rng.randint(tl.first_row + 1, tl.last_row + 1)
        wb[lay.sheet_of(tl.table).name].insert_rows(at + 1)
        grids = {}  # totals move: their stored results are lost (as openpyxl loses them)
    else:  # swap-blocks: table 四's two 行政诉讼 blocks, headers and figures
        _swap_blocks(wb, form)
        grids = {}
    dest = workdir / "mutant.xlsx"
    wb.save(dest)
    restored = workdir / "restored.xlsx"
    restore_cached(dest, restored, {n: _formula_grid(form, v) for n, v in grids.items()})
    return Mutant("sheet", f"{op}:{target}", seed, restored.read_bytes(), inputs)


def _formula_grid(form: Form, inputs: Mapping[str, Decimal]) -> list[list[Any]]:
    """The stored results of a sheet's totals where the layout puts them (other sheets'
    cells too: `restore_cached` touches only formula cells)."""
    lay = layout_of(form)
    figures = form.compute(dict(inputs))
    grid: list[list[Any]] = []
    for f in form.formulas:
        p = lay.places[f.key]
        while len(grid) <= p.row:
            grid.append([])
        row = grid[p.row]
        while len(row) <= p.col:
            row.append(None)
        row[p.col] = cell_number(figures[f.key])
    return grid


def _swap_blocks(wb: Any, form: Form) -> None:
    lay = layout_of(form)
    t4 = next(t for t in form.tables if t.id == "t4")
    tl, sl = lay.tables["t4"], lay.sheet_of(t4)
    direct = [i for i, c in enumerate(t4.columns) if c.groups[-1:] == ("未经复议直接起诉",)]
    after = [i for i, c in enumerate(t4.columns) if c.groups[-1:] == ("复议后起诉",)]
    ws = wb[sl.name]
    for a, b in zip(direct, after, strict=True):
        ca, cb = sl.value_col0 + a + 1, sl.value_col0 + b + 1
        for r in range(tl.header_top + 1, tl.last_row + 2):
            if r - 1 != tl.code_row:
                ws.cell(r, ca).value, ws.cell(r, cb).value = ws.cell(r, cb).value, ws.cell(r, ca).value
