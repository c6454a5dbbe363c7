"""The mutation fuzzer's document families (`fuzz`): the annual report as a Word document
(``docx``) and as a saved web page (``html``), changed in ways a person reading it in Word or
a browser does not see — or sees as two figures in one cell.

Each mutant says what a person sees (``Mutant.expect``): the seed's figures, or None when a
cell now shows what is no figure (the return must not be valid); and whether what it shows is
plainly the seed (``Mutant.must_read``: refusing it is a mis-read too) — not so for a table
expanded without limit or a footnote marker typed as a Unicode superscript, where refusing
is the debatable choice made.

* ``docx`` — a figure's run followed by hidden text (``w:vanish``, a hidden character
  style), a superscript or subscript digit, a footnote reference, deleted or moved-away
  digits, or a Unicode superscript or circled number; its digits split with part inside
  ``w:ins``/``w:moveTo``/``w:sdt``/``w:smartTag``/``w:customXml``/``w:fldSimple``/
  ``mc:AlternateContent``; a row deleted with track changes holding other figures; a row
  ending late (``w:gridAfter``), a row starting late (``w:gridBefore``, its empty merged
  first cell dropped); tables expanded without limit (``gridSpan`` 10⁹, thousands of vertical
  merges), 200,000 empty paragraphs; a second paragraph in a figure's cell (two figures).
* ``pdf`` — the Word report printed to PDF, cut short, bytes flipped, junk after its end,
  its cross-reference table broken.
* ``html`` — a figure's cell with hidden text (``display:none``, ``hidden``,
  ``visibility:hidden``, ``<template>``, ``<script>``, ``<style>``, a closed ``<details>``),
  ``<sup>``/``<sub>`` markers, a comment; hidden rows and cells holding other figures, a
  hidden copy of a table; spans written as "2px", "2.0", " +2"; the header rows as a
  ``<thead>`` placed after the body; ``3<br>5`` or a block child (two figures).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable

from fuzz import Mutant, Seed

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_RUN = re.compile(r"<w:r><w:rPr>(?:(?!</w:rPr>).)*</w:rPr><w:t>([0-9]+(?:\.[0-9]+)?)</w:t></w:r>")
_ROW = re.compile(r"<w:tr>(?:(?!</w:tr>).)*</w:tr>")
_CONTINUED_FIRST = re.compile(r"<w:tr><w:tc><w:tcPr>(?:(?!</w:tcPr>).)*<w:vMerge/>(?:(?!</w:tc>).)*</w:tc>")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in parts.items():
            zf.writestr(name, payload)
    return out.getvalue()


def _digits(rng: random.Random) -> str:
    return str(rng.randint(1, 99))


def _after_run(rng: random.Random, xml: str, extra: str) -> str:
    """``extra`` put after a random figure's run."""
    m = rng.choice(list(_RUN.finditer(xml)))
    return xml[: m.end()] + extra + xml[m.end():]


def _split_run(rng: random.Random, xml: str, wrap: Callable[[str], str]) -> str:
    """A random figure's run split in two, the second part (its last digit) wrapped by ``wrap``."""
    m = rng.choice([m for m in _RUN.finditer(xml) if len(m.group(1)) > 1] or list(_RUN.finditer(xml)))
    run, text = m.group(0), m.group(1)
    head, tail = (text[:-1], text[-1]) if len(text) > 1 else ("", text)
    first = run.replace(f"<w:t>{text}</w:t>", f"<w:t>{head}</w:t>") if head else ""
    second = run.replace(f"<w:t>{text}</w:t>", f"<w:t>{tail}</w:t>")
    return xml[: m.start()] + first + wrap(second) + xml[m.end():]


def _run(text: str, props: str = "") -> str:
    return f"<w:r><w:rPr>{props}</w:rPr><w:t>{text}</w:t></w:r>"


_WRAPS: dict[str, Callable[[str], str]] = {
    "ins": lambda r: f'<w:ins w:id="901" w:author="x">{r}</w:ins>',
    "moveTo": lambda r: f'<w:moveTo w:id="902" w:author="x">{r}</w:moveTo>',
    "sdt": lambda r: f"<w:sdt><w:sdtPr/><w:sdtContent>{r}</w:sdtContent></w:sdt>",
    "smartTag": lambda r: f'<w:smartTag w:uri="urn:x" w:element="n">{r}</w:smartTag>',
    "customXml": lambda r: f'<w:customXml w:element="n">{r}</w:customXml>',
    "fldSimple": lambda r: f'<w:fldSimple w:instr=" =1 ">{r}</w:fldSimple>',
    "hyperlink": lambda r: f"<w:hyperlink>{r}</w:hyperlink>",
    "alternate": lambda r: (f'<mc:AlternateContent xmlns:mc="{_MC}"><mc:Choice Requires="w14">{r}</mc:Choice>'
                            f"<mc:Fallback>{r}</mc:Fallback></mc:AlternateContent>"),
}


def docx(rng: random.Random, seed: Seed) -> Mutant:
    parts = _parts(seed.data)
    xml = parts["word/document.xml"].decode()
    op = rng.choice(["hidden", "hidden_style", "superscript", "subscript", "footnote", "deleted", "moved_away",
                     "unicode_marker", "wrap", "deleted_row", "grid_after", "grid_before", "span_bomb",
                     "merge_bomb", "paragraph_bomb", "two_paragraphs"])
    expect: dict | None = seed.inputs  # type: ignore[type-arg]
    d = _digits(rng)
    if op == "hidden":
        xml = _after_run(rng, xml, _run(d, "<w:vanish/>"))
    elif op == "hidden_style":
        styles = parts["word/styles.xml"].decode()
        style = '<w:style w:type="character" w:styleId="FuzzHidden"><w:rPr><w:vanish/></w:rPr></w:style>'
        parts["word/styles.xml"] = styles.replace("</w:styles>", style + "</w:styles>").encode()
        xml = _after_run(rng, xml, _run(d, '<w:rStyle w:val="FuzzHidden"/>'))
    elif op in ("superscript", "subscript"):
        xml = _after_run(rng, xml, _run(d, f'<w:vertAlign w:val="{op}"/>'))
    elif op == "footnote":
        xml = _after_run(rng, xml, '<w:r><w:footnoteReference w:id="1"/></w:r>')
    elif op == "deleted":
        xml = _after_run(rng, xml, f'<w:del w:id="903" w:author="x"><w:r><w:delText>{d}</w:delText></w:r></w:del>')
    elif op == "moved_away":
        xml = _after_run(rng, xml, f'<w:moveFrom w:id="904" w:author="x">{_run(d)}</w:moveFrom>')
    elif op == "unicode_marker":
        mark = rng.choice("¹²³⁴₁₂①②③⑴")
        m = rng.choice(list(_RUN.finditer(xml)))
        xml = xml[: m.start(1)] + m.group(1) + mark + xml[m.end(1):]
    elif op == "wrap":
        kind = rng.choice(sorted(_WRAPS))
        op = f"wrap-{kind}"
        xml = _split_run(rng, xml, _WRAPS[kind])
    elif op == "deleted_row":
        rows = [m for m in _ROW.finditer(xml) if _RUN.search(m.group(0))]
        m = rng.choice(rows)
        other = _RUN.sub(lambda r: r.group(0).replace(f"<w:t>{r.group(1)}</w:t>", f"<w:t>{_digits(rng)}</w:t>"),
                         m.group(0))
        other = other.replace("<w:tr>", '<w:tr><w:trPr><w:del w:id="905" w:author="x"/></w:trPr>', 1)
        xml = xml[: m.start()] + other + xml[m.start():]
    elif op == "grid_after":
        m = rng.choice(list(_ROW.finditer(xml)))
        xml = xml[: m.start()] + '<w:tr><w:trPr><w:gridAfter w:val="1"/></w:trPr>' + xml[m.start() + len("<w:tr>"):]
    elif op == "grid_before":
        found = list(_CONTINUED_FIRST.finditer(xml))
        if found:  # a row's empty merged first cell dropped, the row starting one column late
            m = rng.choice(found)
            xml = xml[: m.start()] + '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>' + xml[m.end():]
        else:
            op = "grid_before-none"
    elif op == "span_bomb":
        m = rng.choice(list(_RUN.finditer(xml)))
        at = xml.rfind("<w:tcPr>", 0, m.start()) + len("<w:tcPr>")
        xml = xml[:at] + f'<w:gridSpan w:val="{rng.choice([10**9, 10**6, 99999])}"/>' + xml[at:]
        expect = None
    elif op == "merge_bomb":
        first = '<w:tc><w:tcPr><w:vMerge w:val="restart"/><w:gridSpan w:val="40"/></w:tcPr><w:p/></w:tc>'
        more = '<w:tr><w:tc><w:tcPr><w:vMerge/><w:gridSpan w:val="40"/></w:tcPr><w:p/></w:tc></w:tr>'
        table = f"<w:tbl><w:tr>{first}</w:tr>{more * rng.choice([3000, 6000])}</w:tbl><w:p/>"
        at = xml.rfind("<w:sectPr")
        xml = xml[:at] + table + xml[at:]
    elif op == "paragraph_bomb":
        at = xml.index("<w:body>") + len("<w:body>")
        xml = xml[:at] + "<w:p/>" * 200_000 + xml[at:]
    else:  # two figures in one cell, on two lines
        m = rng.choice(list(_RUN.finditer(xml)))
        xml = xml[: m.end()] + f"</w:p><w:p>{_run(d)}" + xml[m.end():]
        expect = None
    if 'xmlns:mc="' not in xml[:2000] and "mc:" in xml:
        xml = xml.replace("<w:document ", f'<w:document xmlns:mc="{_MC}" ', 1)
    parts["word/document.xml"] = xml.encode()
    plain = expect is not None and not op.endswith(("bomb", "marker", "-none"))
    return Mutant("docx", op, seed, _zip(parts), expect, must_read=plain)


# ---------------------------------------------------------------- web pages

_CELL = re.compile(r"<td>([0-9]+(?:\.[0-9]+)?)</td>")
_HTML_ROW = re.compile(r"<tr>.*?</tr>", re.S)
_SPAN = re.compile(r'(rowspan|colspan)="?([0-9]+)"?')

_HIDDEN: dict[str, Callable[[str], str]] = {
    "display_none": lambda d: f"<span style='display: none'>{d}</span>",
    "display_none_important": lambda d: f"<span style='color:red;DISPLAY:NONE !important'>{d}</span>",
    "hidden_attribute": lambda d: f"<span hidden>{d}</span>",
    "visibility": lambda d: f"<span style='visibility:hidden'>{d}</span>",
    "template": lambda d: f"<template>{d}</template>",
    "script": lambda d: f"<script>var x = {d};</script>",
    "style": lambda d: f"<style>.x{{width:{d}px}}</style>",
    "details": lambda d: f"<details>{d}</details>",
    "sup": lambda d: f"<sup>{d}</sup>",
    "sub": lambda d: f"<sub>{d}</sub>",
    "comment": lambda d: f"<!--{d}-->",
    "noscript": lambda d: f"<noscript>{d}</noscript>",
}


def html(rng: random.Random, seed: Seed) -> Mutant:
    page = seed.data.decode("utf-8")
    op = rng.choice(["hidden", "hidden_row", "hidden_cell", "hidden_table", "span", "thead_after",
                     "break", "block"])
    expect: dict | None = seed.inputs  # type: ignore[type-arg]
    d = _digits(rng)
    if op == "hidden":
        kind = rng.choice(sorted(_HIDDEN))
        op = f"hidden-{kind}"
        m = rng.choice(list(_CELL.finditer(page)))
        marked = rng.choice([m.group(1) + _HIDDEN[kind](d), _HIDDEN[kind](d) + m.group(1)])
        if kind in ("sup", "sub"):
            marked = m.group(1) + _HIDDEN[kind](d)
        page = page[: m.start(1)] + marked + page[m.end(1):]
    elif op == "hidden_row":
        m = rng.choice([m for m in _HTML_ROW.finditer(page) if _CELL.search(m.group(0))])
        other = _CELL.sub(lambda c: f"<td>{_digits(rng)}</td>", m.group(0))
        how = rng.choice(["style='display:none'", "hidden", "style='DISPLAY: none;'"])
        page = page[: m.start()] + other.replace("<tr>", f"<tr {how}>", 1) + page[m.start():]
    elif op == "hidden_cell":
        m = rng.choice(list(_CELL.finditer(page)))
        page = page[: m.start()] + f"<td style='display:none'>{d}</td>" + page[m.start():]
    elif op == "hidden_table":
        tables = list(re.finditer(r"<table border=1>.*?</table>", page, re.S))
        m = rng.choice(tables)
        other = _CELL.sub(lambda c: f"<td>{_digits(rng)}</td>", m.group(0))
        how = rng.choice(["<div style='display:none'>{}</div>", "<div hidden>{}</div>", "<template>{}</template>"])
        page = page[: m.start()] + how.format(other) + page[m.start():]
    elif op == "span":
        found = list(_SPAN.finditer(page))
        m = rng.choice(found)
        form = rng.choice(["{}px", "{}.0", " +{}", "{} ", "0{}"])
        op = f"span-{form.strip().replace('{}', 'N')}"
        page = page[: m.start()] + f'{m.group(1)}="{form.format(m.group(2))}"' + page[m.end():]
    elif op == "thead_after":
        # (a header row whose cells span down into the body would be cut at its group's end,
        # in a browser as here: only tables whose first row spans no rows)
        found = [m for m in re.finditer(r"(<table border=1>\n)(<tr>.*?</tr>\n)(.*?)(</table>)", page, re.S)
                 if "rowspan" not in m.group(2)]
        m = rng.choice(found)
        head, body = m.group(2), m.group(3)
        page = (page[: m.start()] + m.group(1) + f"<tbody>{body}</tbody><thead>{head}</thead>" + m.group(4)
                + page[m.end():])
    else:  # two figures in one cell
        m = rng.choice(list(_CELL.finditer(page)))
        two = f"{m.group(1)}<br>{d}" if op == "break" else f"{m.group(1)}<div>{d}</div>"
        page = page[: m.start(1)] + two + page[m.end(1):]
        expect = None
    return Mutant("html", op, seed, page.encode("utf-8"), expect, must_read=expect is not None)


# ---------------------------------------------------------------- PDF


def pdf(rng: random.Random, seed: Seed) -> Mutant:
    """A PDF printed by LibreOffice, damaged as files are in transit: cut short, bytes flipped,
    junk after its end, its cross-reference table broken (readers rebuild it). What a viewer
    shows is the seed's figures or nothing usable: read, it must be the seed's figures."""
    data = bytearray(seed.data)
    op = rng.choice(["truncate", "flip", "junk_after_end", "xref_broken", "startxref_wrong"])
    if op == "truncate":
        data = data[: rng.randrange(len(data) // 4, len(data))]
    elif op == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif op == "junk_after_end":
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000)))
    elif op == "xref_broken":
        at = data.rfind(b"xref")
        data[at: at + 4] = b"xreF"
    else:
        at = data.rfind(b"startxref") + len(b"startxref\n")
        data[at: at + 3] = str(rng.randint(100, 999)).encode()
    return Mutant("pdf", op, seed, bytes(data), seed.inputs)
