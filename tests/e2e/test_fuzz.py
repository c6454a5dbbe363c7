"""The mutation fuzzer (`fuzz`) run against `check` and `merge`.

For every mutant of a filled gk2018 and gk2021 return (xlsxwriter's, and LibreOffice's
.xlsx/.ods/.xls saves of it; and, in the ``docx`` and ``html`` families (`fuzz_docs`), of a
gk2021 annual report as a Word document, a web page and that document printed to PDF): checking it takes bounded time and never raises; when it is
reported valid, the figures read are the ones a spreadsheet shows (``Mutant.expect``); a document mutant a
person reads plainly as the seed (``Mutant.must_read``) is valid.
Each family's mutants are then checked and merged as one batch with a good return through
the command line: exit code 0/1/2 only, no traceback, the good return still valid, no
input file changed.  Deterministic: mutant ``i`` of a family always comes from the seed
``f"{XXGK_FUZZ_SEED}{family}-{i}"``.  ``XXGK_FUZZ_N`` sets the mutants per family (default
75); ``XXGK_FUZZ_SEED`` (default empty) gives a run of other mutants (a held-out run).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import fuzz
import fuzz_docs
import lo
from merge_books import valid_inputs, write_return
from retyped import sound_values, tables, title, to_docx, to_html
from xxgk.check.file import check_file
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin

PER_FAMILY = int(os.environ.get("XXGK_FUZZ_N", "75"))
RUN = os.environ.get("XXGK_FUZZ_SEED", "")
MAX_SECONDS = 20.0  # per file: generous (a return takes tens of milliseconds)
FAMILIES = ("archive", "xml", "cell", "sheet", "docx", "html", "pdf")
DOCUMENTS = ("docx", "html", "pdf")
YEARS = {"gk2018": 2018, "gk2021": 2025}


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[fuzz.Seed]:
    """Valid returns of both forms: as written, and saved by LibreOffice where it is installed."""
    base = tmp_path_factory.mktemp("fuzz-seeds")
    out: list[fuzz.Seed] = []
    written = []
    for i, form_id in enumerate(YEARS):
        form = builtin(form_id)
        inputs = valid_inputs(form, 100 + i, max_step=9)
        filed = write_return(base / f"{form_id}.xlsx", form, inputs, code=f"64050299{i}", name=f"种子单位{i}",
                             year=YEARS[form_id])
        written.append((form, inputs, filed.path))
        out.append(fuzz.Seed(form, "xlsx-w", ".xlsx", filed.path.read_bytes(), inputs))
    if lo.soffice() is not None:
        profile = lo.make_profile(base / "profile")
        for fmt in ("xlsx", "ods", "xls"):
            saved = lo.convert([p for _, _, p in written], fmt, base / fmt, profile)
            for (form, inputs, _), path in zip(written, saved, strict=True):
                out.append(fuzz.Seed(form, fmt, f".{fmt}", path.read_bytes(), inputs))
    for seed in out:  # every seed valid, with its own figures: else the oracle means nothing
        path = base / f"check-{seed.form.id}-{seed.kind}{seed.suffix}"
        path.write_bytes(seed.data)
        result = check_file(path)
        assert result.valid, (seed.kind, [f.message for f in result.report.findings])
        assert _inputs(result.values, seed) == seed.inputs
    return out


@pytest.fixture(scope="session")
def doc_seeds(tmp_path_factory: pytest.TempPathFactory) -> list[fuzz.Seed]:
    """The annual report of gk2021 retyped as a Word document and a web page, valid; its
    input figures as read (the `fuzz_docs` families)."""
    base = tmp_path_factory.mktemp("fuzz-doc-seeds")
    form = builtin("gk2021")
    out = []
    for kind, write in (("docx", to_docx), ("html", to_html)):
        path = write(tables(form, sound_values(form)), title(YEARS[form.id], "种子单位甲"), base / f"seed.{kind}")
        result = check_file(path)
        assert result.valid, (kind, [f.message for f in result.report.findings])
        inputs = {c.key: result.values[c.key] for c in form.inputs}
        out.append(fuzz.Seed(form, kind, f".{kind}", path.read_bytes(), inputs))
    if lo.soffice() is not None:  # the Word document printed to PDF by LibreOffice Writer
        printed = lo.convert([base / "seed.docx"], "pdf", base / "pdf", lo.make_profile(base / "profile"))[0]
        result = check_file(printed)
        assert result.valid, ("pdf", [f.message for f in result.report.findings])
        assert {c.key: result.values[c.key] for c in form.inputs} == out[0].inputs
        out.append(fuzz.Seed(form, "pdf", ".pdf", printed.read_bytes(), out[0].inputs))
    return out


@pytest.fixture(scope="session")
def goods(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A valid return of another unit for each form: it must stay valid in every batch."""
    base = tmp_path_factory.mktemp("fuzz-goods")
    out = {}
    for i, form_id in enumerate(YEARS):
        form = builtin(form_id)
        filed = write_return(base / f"{form_id}.xlsx", form, valid_inputs(form, 200 + i, max_step=9),
                             code=f"64050288{i}", name=f"对照单位{i}", year=YEARS[form_id])
        out[form_id] = filed.path.read_bytes()
    return out


def _inputs(values: dict[str, Decimal], seed: fuzz.Seed) -> dict[str, Decimal]:
    return {c.key: values.get(c.key) for c in seed.form.inputs}  # type: ignore[misc]


def _mutant(family: str, i: int, seeds: list[fuzz.Seed], workdir: Path) -> fuzz.Mutant:
    rng = random.Random(f"{RUN}{family}-{i}")
    if family in DOCUMENTS:
        doc = next(s for s in seeds if s.kind == family)
        return {"docx": fuzz_docs.docx, "html": fuzz_docs.html, "pdf": fuzz_docs.pdf}[family](rng, doc)
    seed = rng.choice(seeds)
    if family == "sheet":
        return fuzz.sheet(rng, seed, workdir)
    return {"archive": fuzz.archive, "xml": fuzz.xml, "cell": fuzz.cell}[family](rng, seed)


@pytest.mark.parametrize("family", FAMILIES)
def test_mutants_are_read_as_shown_or_refused(family: str, seeds: list[fuzz.Seed], doc_seeds: list[fuzz.Seed],
                                              goods: dict[str, bytes], tmp_path: Path) -> None:
    batch, work = tmp_path / "batch", tmp_path / "work"
    batch.mkdir()
    work.mkdir()
    problems: list[str] = []
    ask: dict[str, list[tuple[Path, fuzz.Mutant, dict[str, Decimal]]]] = {}
    for i in range(PER_FAMILY):
        if family == "pdf" and not any(s.kind == "pdf" for s in doc_seeds):
            pytest.skip("LibreOffice is not installed: no PDF to damage")
        mutant = _mutant(family, i, doc_seeds if family in DOCUMENTS else seeds, work)
        path = batch / mutant.seed.form.id / f"{i:04d}{mutant.seed.suffix}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mutant.data)
        start = time.perf_counter()
        result = check_file(path)
        took = time.perf_counter() - start
        where = f"#{i} {mutant.name}"
        if took > MAX_SECONDS:
            problems.append(f"{where}: {took:.1f} s")
        if mutant.must_read and not result.valid:
            errors = [f.message for f in result.report.findings if f.severity == "error"][:2]
            problems.append(f"{where}: refused, yet a person sees the return's figures plainly: {errors}")
        if result.valid and mutant.expect == fuzz.ASK:
            ask.setdefault(mutant.seed.form.id, []).append((path, mutant, _inputs(result.values, mutant.seed)))
        elif result.valid:
            got = _inputs(result.values, mutant.seed)
            if mutant.expect is None:
                problems.append(f"{where}: valid, yet a spreadsheet shows no figure")
            elif isinstance(mutant.expect, dict) and got != mutant.expect:
                diff = {k: (got[k], mutant.expect.get(k)) for k in got if got[k] != mutant.expect.get(k)}
                problems.append(f"{where}: valid with other figures than shown (read, shown): {diff}")
    if ask and lo.soffice() is not None:  # damaged .xls reported valid: what does LibreOffice show?
        profile = lo.make_profile(work / "profile")
        for form_id, todo in ask.items():
            shown = fuzz.shown_by_libreoffice([p for p, _, _ in todo], builtin(form_id), work, profile)
            for path, mutant, got in todo:
                if path in shown and shown[path] != got:
                    diff = {k: (got[k], shown[path][k]) for k in got if got[k] != shown[path][k]}
                    problems.append(f"{path.name} {mutant.name}: valid with other figures than LibreOffice shows: {diff}")
    assert not problems, "\n".join(problems)
    _batch_through_the_cli(batch, goods, tmp_path)


def _batch_through_the_cli(batch: Path, good_data: dict[str, bytes], tmp_path: Path) -> None:
    """``check`` and ``merge`` over each form's mutants, with a good return of that form."""
    goods = {}
    for form_id, data in good_data.items():
        goods[form_id] = batch / form_id / "good.xlsx"
        goods[form_id].parent.mkdir(exist_ok=True)
        goods[form_id].write_bytes(data)
    files = sorted(p for p in batch.rglob("*") if p.is_file())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    runner = CliRunner()
    for good in goods.values():  # one form and year per batch, as a reporting cycle has
        checked = runner.invoke(main, ["check", str(good.parent), "--format", "json"])
        assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.exception
        assert checked.exit_code in (0, 1, 2), checked.exit_code
        reports = {r["file"]: r for r in json.loads(checked.stdout)["returns"]}
        assert reports[str(good)]["valid"], reports[str(good)]
    for form_id, good in goods.items():
        summary = tmp_path / f"汇总-{form_id}.xlsx"
        merged = runner.invoke(main, ["merge", str(good.parent), "-o", str(summary), "--jobs", "1", "--format", "json"])
        assert merged.exception is None or isinstance(merged.exception, SystemExit), merged.exception
        assert merged.exit_code in (0, 1), (merged.exit_code, merged.stderr)
        units = json.loads(merged.stdout)["units"]
        assert any(u["status"] == "valid" and str(good) in u["files"] for u in units)
        assert summary.is_file()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(p for p in batch.rglob("*") if p.is_file())}
    assert after == before  # inputs untouched, nothing written beside them
