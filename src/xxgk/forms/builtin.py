"""The built-in forms shipped with the package, found in one place by id, year or path."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from xxgk.forms.load import load
from xxgk.forms.model import Form, FormError


def builtin_dir() -> Path:
    """Where the shipped definitions live: inside the wheel, or the repo's templates/."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parents[1] / "templates"


def builtin_forms() -> list[Form]:
    return sorted((load(p, shipped=True) for p in builtin_dir().glob("*.yaml")), key=lambda f: f.years[1] or 9999)


def builtin(form_id: str) -> Form:
    path = builtin_dir() / f"{form_id}.yaml"
    if not path.is_file():
        known = ", ".join(f.id for f in builtin_forms())
        raise FormError(form_id, "form", f"no built-in form {form_id!r}; known: {known}")
    return load(path, shipped=True)


def for_year(year: int) -> Form:
    """The built-in form that applies to ``year`` (≤2018 gk2018, 2019–2020 gk2019, ≥2021 gk2021)."""
    matches = [f for f in builtin_forms() if f.applies_to(year)]
    if not matches:
        raise FormError(str(year), "year", f"no built-in form applies to year {year}")
    return matches[0]


def resolve(spec: str | None, year: int) -> Form:
    """A form from ``--form`` (an id or a YAML path) or, without it, from the year."""
    if spec is None:
        return for_year(year)
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        return load(Path(spec))
    return builtin(spec)


@lru_cache(maxsize=1)
def _loaded() -> tuple[Form, ...]:
    return tuple(builtin_forms())


def default_forms() -> list[Form]:
    """The forms a return is matched against when none are given: the built-in ones,
    loaded once per process (a batch reads thousands of files)."""
    return list(_loaded())


def form_by_id(form_id: str, forms: Sequence[Form] | None = None) -> Form:
    """A form given (``--forms``) by its id, else the built-in one."""
    known = [f for f in forms or () if f.id == form_id]
    return known[0] if known else builtin(form_id)
