"""The findings catalogue and its `Code` type stay the same list of codes."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from xxgk.forms.findings import CATALOGUE, Code, is_code, make


def test_code_type_lists_the_catalogue() -> None:
    assert list(get_args(Code)) == list(CATALOGUE)


def test_is_code_and_make() -> None:
    assert is_code("file.wrong_year") and not is_code("no.such.code")
    f = make("file.wrong_year", found=2019, expected=2018)
    assert (f.severity, f.code, f.found) == ("error", "file.wrong_year", "2019")
    unknown: Any = "no.such.code"  # mypy refuses the literal itself
    with pytest.raises(KeyError):
        make(unknown)
