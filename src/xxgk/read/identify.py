"""Whose return it is, of which form and year: from the template's metadata, else from the labels and title."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xxgk.forms import identity as ids
from xxgk.forms.findings import make
from xxgk.forms.identity import Identity
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.read import xmlscan
from xxgk.read.grid import Book, cell_text, norm
from xxgk.read.matches import FormMatch, Problems
from xxgk.read.returns import ReadError
from xxgk.read.safety import preflight as safety
from xxgk.read.tablematch import match_form
from xxgk.read.tables import report_title

MIN_SHARE = 0.5  # share of a form's labels found before a non-matching sheet is called a variant
TITLE_CELL, TITLE_TEXT = 200, 1000  # characters of one cell, and of all, above a table read for its title


def first_sheet(props: dict[str, Any], forms: list[Form]) -> str | None:
    """The sheet the positional read opens first, when the metadata names a known form."""
    if props.get(ids.KIND) != "return":
        return None
    same = [f for f in forms if f.id == props.get(ids.FORM) and f.fingerprint == props.get(ids.FINGERPRINT)]
    return layout_of(same[0]).sheets[0].name if same else None


# ---------------------------------------------------------------- metadata


# Each match runs from a <property start tag to the next "<" or ">" at most, three times
# over: the matches' spans never overlap, so a damaged part is still read in linear time.
_PROPERTY = re.compile(rb"<property\b([^<>]*)>\s*<vt:(\w+)>([^<]*)</vt:\2>")


def properties(pre: safety.Preflight) -> dict[str, Any]:
    """The template's identity as xlsx custom document properties (docProps/custom.xml):
    read from the archive already open for vetting, it spares parsing the metadata sheet."""
    part = pre.read_part("docProps/custom.xml")
    if part is None:
        return {}
    out: dict[str, Any] = {}
    for attrs, _, value in _PROPERTY.findall(part):
        name = xmlscan.attribute(attrs, b"name")
        if name is not None:
            out[xmlscan.unescape(name.decode("utf-8", "replace"))] = xmlscan.unescape(value.decode("utf-8", "replace"))
    return out


def metadata(book: Book, props: dict[str, Any]) -> dict[str, Any] | None:
    if ids.META_SHEET not in book.names:
        return None
    if props.get(ids.FORM) and props.get(ids.KIND) == "return":  # a summary's unit list is on the sheet
        return props
    grid = book.grid(ids.META_SHEET)
    out: dict[str, Any] = {}
    for r in range(grid.height):
        key = grid.get(r, 0)
        if isinstance(key, str) and key.strip():
            out[key.strip()] = grid.get(r, 1)
    return out if out.get(ids.FORM) else None


def identity(meta: dict[str, Any]) -> Identity:
    def text(key: str) -> str:
        return cell_text(meta.get(key))

    def number(key: str) -> int | None:
        value = text(key)
        try:
            return int(float(value)) if value else None
        except ValueError:
            return None

    units = []
    for line in text(ids.UNITS).splitlines():
        code, _, name = line.partition("\t")
        if code or name:
            units.append((code.strip(), name.strip()))
    summed, _, expected = text(ids.COMPLETE).partition("/")
    complete = (int(summed), int(expected)) if summed.isdigit() and expected.isdigit() else None
    return Identity(
        kind=text(ids.KIND) or "return",
        form=text(ids.FORM),
        form_version=number(ids.FORM_VERSION) or 0,
        fingerprint=text(ids.FINGERPRINT),
        year=number(ids.YEAR),
        agency_code=text(ids.AGENCY_CODE),
        agency_name=text(ids.AGENCY_NAME),
        template_id=text(ids.TEMPLATE_ID),
        region=text(ids.REGION),
        units=units,
        complete=complete,
        source="metadata",
    )

# ---------------------------------------------------------------- identification by labels


@dataclass
class Title:
    year: int | None = None
    agency: str = ""


def identify(book: Book, forms: list[Form], meta: dict[str, Any] | None) -> tuple[Form, FormMatch, Title]:
    """Which form a workbook without (usable) metadata holds, from its row labels."""
    grids = [book.grid(n) for n in book.data_sheets()]
    present: set[str] = set()
    for g in grids:
        for row in g.norms:
            present.update(t for t in row if t)
    if not present:
        raise ReadError("file.not_ours", "工作簿是空的")
    scored = []
    for form in forms:
        labels = [norm(r.label) for t in form.tables for r in t.rows]
        share = sum(lb in present for lb in labels) / max(len(labels), 1)
        scored.append((share, form))
    scored.sort(key=lambda x: -x[0])
    full: list[tuple[Form, FormMatch]] = []
    partial: list[tuple[float, Form, Problems]] = []
    for share, form in scored:
        if share < MIN_SHARE:
            continue
        result = match_form(book, form, None)
        if isinstance(result, Problems):
            partial.append((share, form, result))
        else:
            full.append((form, result))
    if full:
        titles = [(form, match, _title(book, form, match)) for form, match in full]
        if len(titles) > 1:
            # the form whose tables the report follows: read as printed, not through a later
            # form's known older printings (a 2019 report also reads as the 2021 form so)
            fewest = min(_older(t[1]) for t in titles)
            titles = [t for t in titles if _older(t[1]) == fewest]
        if len(titles) > 1:
            # the form of the year in the title; then the one read with fewest notices
            years = {y for t in titles if (y := t[2].year) is not None}
            dated = [t for t in titles if len(years) == 1 and t[0].applies_to(min(years))]
            titles = dated or titles
            fewest = min(len(t[1].findings) for t in titles)
            titles = [t for t in titles if len(t[1].findings) == fewest]
        if len(titles) > 1:
            named = [t for t in titles if t[2].agency or t[2].year]
            if len({t[0].fingerprint for t in titles}) > 1 and len(named) != 1:
                raise ReadError("file.not_ours", "同时符合多个表式：" + "、".join(t[0].id for t in titles))
            titles = named or titles
        _note_year_form(*titles[0], forms)
        return titles[0]
    if partial:
        share, form, problems = partial[0]
        raise ReadError("file.variant", f"与{form.name}（{form.id}）不一致：{problems.detail()}")
    wanted = f"（元数据中的表式为{cell_text(meta.get(ids.FORM))}）" if meta else ""
    raise ReadError("file.not_ours", f"表中没有找到已知统计表的指标名称{wanted}")


def _older(match: FormMatch) -> int:
    """How many tables or columns were read through a known older printing."""
    return sum(f.code == "structure.older" for f in match.findings)


def _note_year_form(form: Form, match: FormMatch, title: Title, forms: list[Form]) -> None:
    """A report whose title names a year of another form (a 2022 report in the 2019 tables):
    read as printed, with a notice naming the year's form (the cycle decides whether it counts)."""
    year = title.year
    if year is None or form.applies_to(year):
        return
    due = next((f for f in forms if f.id != form.id and f.applies_to(year)), None)
    if due is not None:
        match.findings.append(make("file.older_form", found=f"{form.name}（{form.id}）", year=year,
                                   expected=f"{due.name}（{due.id}）"))


def _title(book: Book, form: Form, match: FormMatch) -> Title:
    """Year and agency from the text above the first table (title, 填报单位 line)."""
    tm = next((x for t in form.tables if (x := match.tables[t.id]).rows), match.tables[form.tables[0].id])
    grid = book.grid(tm.sheet)
    top = min(tm.rows.values(), default=tm.end)
    lines = []
    for r in range(0, max(top - 1, 0)):
        texts = [cell_text(v)[:TITLE_CELL] for v in grid.rows[r] if isinstance(v, str | int | float) and cell_text(v)]
        if texts:
            lines.append("".join("".join(unicodedata.normalize("NFKC", t).split()) for t in texts))
    # the title's patterns are searched from every position: their cost grows with the
    # square of the text, so it is kept to what a title and a 填报单位 line can be
    text = "".join(lines)[:TITLE_TEXT]
    out = Title()
    for pattern in (_title_re(form.title, "agency"), _title_re(form.summary_title, "region")):
        m = pattern.search(text)
        if m:
            out.agency = _clean_agency(m.group("who"))
            year = m.groupdict().get("year")
            out.year = int(year) if year else None
            break
    if book.title and (out.year is None or not out.agency):  # a document: its own title
        who, year = report_title(book.title)
        out.agency, out.year = out.agency or _clean_agency(who), out.year if out.year is not None else year
    if out.year is None or not out.agency:  # a retyped report's own title
        who, year = report_title(text)
        out.agency, out.year = out.agency or _clean_agency(who), out.year if out.year is not None else year
    if out.year is None:
        m = re.search(r"((?:19|20)\d\d)年", text)
        out.year = int(m.group(1)) if m else None
    m = re.search(r"填报单位[:：]?(.+?)(?=(?:填报|统计|年度|日期|单位负责人|\d{4}年)|$)", text)
    if m and not out.agency:
        out.agency = _clean_agency(m.group(1))
    return out


@lru_cache(maxsize=64)
def _title_re(template: str, who: str) -> re.Pattern[str]:
    """A tolerant regex for a title template: whitespace ignored, full/half-width alike."""
    template = "".join(unicodedata.normalize("NFKC", template).split())
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for part in parts:
        if part == "{" + who + "}":
            out.append(r"(?P<who>.*?)")
        elif part == "{year}":
            out.append(r"(?P<year>(?:19|20)\d\d)")
        elif part.startswith("{") and part.endswith("}"):
            out.append(r".*?")
        else:
            out.append("".join(re.escape(ch) for ch in part))
    return re.compile("".join(out))


def _clean_agency(text: str) -> str:
    text = re.sub(r"^(附件|附表)\s*\d*\s*[:：.]?", "", text.strip())
    text = re.sub(r"^(填报单位|单位名称)[:：]?", "", text)
    return text.strip(" :：-—")
