"""Returns for merge/summary tests: valid figures for any form, and a district of files.

`valid_inputs` finds figures that pass every rule of a form by random steps from zero,
each kept only if the form's checks still hold, so the figures differ per seed but
every return is accepted.  `district` writes one return per unit with `books.filled_return`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from books import filled_return
from xxgk.forms.layout import layout_of
from xxgk.forms.model import Form
from xxgk.write.formsheet import cell_number as number


def valid_inputs(form: Form, seed: int, max_step: int = 40) -> dict[str, Decimal]:
    """Input figures (by cell key) that satisfy every error and warning rule of ``form``;
    ``max_step`` bounds each random step (small for the realistic sample returns)."""
    rng = random.Random(seed)
    keys = [c.key for c in form.inputs]
    kinds = {c.key: c.value for c in form.inputs}
    inputs = {k: Decimal(0) for k in keys}

    def ok(trial: Mapping[str, Decimal]) -> bool:
        values = form.compute(trial)
        return all(check.evaluate(values) for check in form.checks)

    for _ in range(len(keys) * 6):
        picked = rng.sample(keys, 2) if rng.random() < 0.4 else [rng.choice(keys)]
        trial = dict(inputs)
        step = Decimal(rng.randint(1, max_step))
        for k in picked:
            if kinds[k] == "amount":
                trial[k] += Decimal(rng.randint(1, 9_999_999)) / Decimal(1_000_000)
            else:
                trial[k] += step
        if ok(trial):
            inputs = trial
    assert any(inputs.values()), "no figures found"
    return inputs


@dataclass
class Filed:
    path: Path
    code: str
    name: str
    inputs: dict[str, Decimal]


def write_return(
    path: Path,
    form: Form,
    inputs: Mapping[str, Decimal],
    *,
    code: str,
    name: str,
    year: int = 2018,
    date: str = "2019-01-20",
    notes: Mapping[str, str] | None = None,
    meta: Mapping[str, Any] | bool = True,
) -> Filed:
    values = {k: number(v) for k, v in form.compute(dict(inputs)).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    filled_return(
        path, form, values, agency=name, code=code, year=year, notes=notes, meta=meta,
        signature={"填报人": f"{name}填报人", "联系电话": "0955-1234567", "填报日期": date},
    )
    return Filed(path, code, name, dict(inputs))


def district(folder: Path, form: Form, units: list[tuple[str, str]], *, seed: int = 0,
             year: int = 2018) -> list[Filed]:
    """One valid return per (code, name) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_return(folder / f"{code}.xlsx", form, valid_inputs(form, seed + i), code=code, name=name,
                     year=year)
        for i, (code, name) in enumerate(units)
    ]


def read_inputs(path: Path, form: Form, *, summary: bool = False) -> dict[str, Decimal]:
    """Input cells of a workbook read with openpyxl at the layout positions (cached values)."""
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        out = {}
        for cell in form.inputs:
            place = layout_of(form, summary=summary).places[cell.key]
            value = wb[place.sheet][place.a1].value
            out[cell.key] = Decimal(str(value)) if value is not None else Decimal(0)
        return out
    finally:
        wb.close()


def add(*figures: Mapping[str, Decimal]) -> dict[str, Decimal]:
    keys = set().union(*figures)
    return {k: sum((f.get(k, Decimal(0)) for f in figures), Decimal(0)) for k in keys}
