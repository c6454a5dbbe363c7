"""One rule source: the template's in-sheet checks, recalculated by a real LibreOffice,
reach the verdict the Python checks reach on the same inputs — in .xlsx, .ods and .xls."""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from lo import Book, fill, make_profile, recalc, soffice
from xxgk.forms import identity as ids
from xxgk.forms.builtin import builtin
from xxgk.forms.findings import EXPLAINED_MARK, SEVERITY_MARK
from xxgk.forms.layout import Place, layout_of
from xxgk.forms.model import Form
from xxgk.write.livecheck import HINT, VIOLATED, hint_text, note_places, status_text
from xxgk.write.template import write_template

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed"),
]

SEED = Path(__file__).resolve().parents[2] / "samples" / "seed_2018.tsv"
FORMATS = ("xlsx", "ods", "xls")
GK2018 = builtin("gk2018")
GK2021 = builtin("gk2021")


def seed_inputs(form: Form) -> dict[str, Any]:
    """The seed's figures for the input cells only (header and formula rows skipped)."""
    with SEED.open(encoding="utf-8") as fh:
        rows = list(csv.reader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"))[1:]
    figures = {r[0]: r[3] for r in rows if len(r) > 3 and r[3]}
    inputs = {c.key for c in form.inputs}
    return {k: int(v) for k, v in figures.items() if k in inputs}


def random_inputs(form: Form, seed: int, blanks: int = 0) -> dict[str, Any]:
    """Small random figures (so rules trip both ways), some cells left blank."""
    rng = random.Random(seed)
    values: dict[str, Any] = {}
    for cell in form.inputs:
        if cell.value == "amount":
            values[cell.key] = rng.choice([0, 0, 0.5, 1.25, 3])
        else:
            values[cell.key] = rng.choice([0, 0, 1, 2, 3, 5])
    for key in rng.sample(sorted(values), blanks):
        values[key] = None
    return values


CASES: dict[str, tuple[Form, dict[str, Any], dict[str, str]]] = {}
CASES["seed"] = (GK2018, seed_inputs(GK2018), {})
CASES["seed_explained"] = (GK2018, seed_inputs(GK2018), {"12": "本年度通过政务微博回应1起网民咨询，未形成热点舆情。"})
CASES["seed_explained_on_19"] = (GK2018, seed_inputs(GK2018), {"19": "第19行为日常政务微博回应，未形成热点舆情。"})
CASES["seed_errors"] = (GK2018, {**seed_inputs(GK2018), "3": 90, "15": 2, "54": 0.5}, {"54": "  "})
for i in range(4):
    CASES[f"random{i}"] = (GK2018, random_inputs(GK2018, i, blanks=i), {"2": "说明"} if i % 2 else {})
for i in range(2):
    CASES[f"grid{i}"] = (GK2021, random_inputs(GK2021, 10 + i, blanks=i), {})


# what clerks paste: "约10" in row 2, and 12 stored as text in row 23 (a part of the total in row 22)
PASTED: dict[str, Any] = {**seed_inputs(GK2018), "2": "约10", "23": "12"}


def python_verdict(form: Form, values: dict[str, Any], notes: dict[str, str]) -> dict[str, Any]:
    """What the in-sheet checks must show, computed in Python with exact decimals."""
    decimals = {k: Decimal(str(v)) if v is not None else Decimal(0) for k, v in values.items()}
    computed = form.compute(decimals)
    explained_rows = {(form.cells[k].table.id, form.cells[k].row.id) for k, t in notes.items() if t.strip()}
    violated: dict[str, bool] = {}
    problems = 0
    hints: dict[Place, list[str]] = {}
    layout = layout_of(form)
    for check in form.checks:
        bad = not check.evaluate(computed)
        violated[check.id] = bad
        anchor = form.cells[check.anchor]
        # a note on any row the rule involves explains a warning (issue 10 point 4)
        explained = check.rule.severity == "warning" and any(
            (check.rule.table.id, row.id) in explained_rows for row in check.note_rows)
        problems += bad and not explained
        if bad:
            prefix = EXPLAINED_MARK if explained else SEVERITY_MARK[check.rule.severity]
            hints.setdefault(layout.hint(anchor), []).append(prefix + hint_text(check, note_places(form, layout, check)))
    blanks = sum(v is None for v in values.values())
    return {
        "computed": computed,
        "violated": violated,
        "problems": problems,
        "status": status_text(problems, blanks),
        "hints": {p: "\n".join(m) for p, m in hints.items()},
    }


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_profile(tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, lo_profile: Path) -> dict[str, dict[str, Book]]:
    """Every case filled, recalculated by LibreOffice and saved in each format (3 soffice runs)."""
    work = tmp_path_factory.mktemp("lo-cases")
    templates = {}
    for form, year in ((GK2018, 2018), (GK2021, 2021)):
        templates[form.id] = write_template(form, work / f"{form.id}.xlsx", year=year,
                                            agency="沙坡头区机关事务局", code="640502001")
    files = [fill(templates[form.id], work / f"{name}.xlsx", form, values, notes=notes)
             for name, (form, values, notes) in CASES.items()]
    files.append(fill(templates["gk2018"], work / "pasted.xlsx", GK2018, PASTED))
    files.append(_stale_cache_book(work / "stale.xlsx"))
    out = recalc(files, work / "out", lo_profile, formats=FORMATS)
    return {fmt: {p.stem: Book(p) for p in paths} for fmt, paths in out.items()}


def _stale_cache_book(path: Path) -> Path:
    """A formula whose stored result is wrong: only a real recalculation shows 3."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_number(0, 0, 1)
    ws.write_number(1, 0, 2)
    ws.write_formula(2, 0, "=A1+A2", None, 99)
    wb.close()
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_libreoffice_recalculates_stale_results(converted: dict[str, dict[str, Book]], fmt: str) -> None:
    assert converted[fmt]["stale"].get("S", 2, 0) == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_seed_total_staff_and_single_warning(converted: dict[str, dict[str, Book]], fmt: str) -> None:
    book, layout = converted[fmt]["seed"], layout_of(GK2018)
    staff = layout.places["58"]
    assert book.get(staff.sheet, staff.row, staff.col) == 2  # 从事政府信息公开工作人员数 = 1 + 1
    status = layout.status(layout.sheets[0])
    assert book.get(status.sheet, status.row, status.col) == "发现1个问题"
    flags = {book.get(ids.CHECK_SHEET, r, 0): book.get(ids.CHECK_SHEET, r, VIOLATED)
             for r in range(1, len(GK2018.checks) + 1)}
    assert {k for k, v in flags.items() if v == 1} == {"W_responses_need_r12"}
    hint = layout.hint(GK2018.cells["12"])
    assert book.get(hint.sheet, hint.row, hint.col).startswith("【提醒】第14、16、18—20行填报了回应解读")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_sheet_agrees_with_python(converted: dict[str, dict[str, Book]], fmt: str, case: str) -> None:
    form, values, notes = CASES[case]
    book, layout = converted[fmt][case], layout_of(form)
    expected = python_verdict(form, values, notes)
    for cell in form.formulas:
        place = layout.places[cell.key]
        assert Decimal(str(book.get(place.sheet, place.row, place.col))) == expected["computed"][cell.key]
    for r, check in enumerate(form.checks, start=1):
        assert book.get(ids.CHECK_SHEET, r, 0) == check.id
        assert bool(book.get(ids.CHECK_SHEET, r, VIOLATED)) == expected["violated"][check.id], check.id
        hint_piece = book.get(ids.CHECK_SHEET, r, HINT) or ""
        assert (check.message in hint_piece) == expected["violated"][check.id]
    for sheet in layout.sheets:
        status = layout.status(sheet)
        assert book.get(status.sheet, status.row, status.col) == expected["status"]
    hint_places = {layout.hint(c) for c in form.cells.values() if c.kind != "header"}
    for place in hint_places:
        assert (book.get(place.sheet, place.row, place.col) or "") == expected["hints"].get(place, "")


def test_cases_cover_both_verdicts() -> None:
    """The random cases are only worth something if they trip rules of both severities."""
    tripped = {sev: 0 for sev in ("error", "warning")}
    passed = 0
    for form, values, notes in CASES.values():
        verdict = python_verdict(form, values, notes)
        passed += verdict["status"] == "校验通过"
        for check in form.checks:
            tripped[check.rule.severity] += verdict["violated"][check.id]
    assert tripped["error"] > 0 and tripped["warning"] > 0 and passed > 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_identity_survives_libreoffice(converted: dict[str, dict[str, Book]], fmt: str) -> None:
    book = converted[fmt]["seed"]
    assert book.visible[ids.META_SHEET] != "SheetVisibleEnum.Visible"
    pairs = {book.get(ids.META_SHEET, r, 0): book.get(ids.META_SHEET, r, 1) for r in range(len(ids.KEYS))}
    assert pairs[ids.FORM] == "gk2018"
    assert pairs[ids.YEAR] == "2018"
    assert pairs[ids.AGENCY_NAME] == "沙坡头区机关事务局"


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_pasted_into_number_cells_is_named_never_an_error_value(
    converted: dict[str, dict[str, Book]], fmt: str
) -> None:
    """No formula turns into #VALUE!: rules read N(cell), the row's hint names each cell holding
    text, and the status counts those cells as problems (the total does not drop them silently)."""
    book, layout = converted[fmt]["pasted"], layout_of(GK2018)
    for name, grid in book.grids.items():
        for row in grid:
            for value in row:
                assert not (isinstance(value, str) and ("#VALUE" in value or value.startswith("Err:"))), name
    as_zero = python_verdict(GK2018, {**PASTED, "2": 0, "23": 0}, {})
    status = layout.status(layout.sheets[0])
    assert book.get(status.sheet, status.row, status.col) == status_text(as_zero["problems"] + 2, 0)
    for key in ("2", "23"):
        place, hint = layout.places[key], layout.hint(GK2018.cells[key])
        assert f"{SEVERITY_MARK['error']}{place.a1}不是数字" in book.get(hint.sheet, hint.row, hint.col)
    total = layout.places["22"]
    assert book.get(total.sheet, total.row, total.col) == sum(PASTED[k] for k in ("24", "25", "26"))
