"""The pre-flight tests' own: a good return to damage, and a file refused with a catalogue code."""

from __future__ import annotations

from pathlib import Path

import pytest

from books import fill_template
from xxgk.forms.findings import CATALOGUE
from xxgk.read.open import read
from xxgk.read.returns import ReadError


def refused(tmp_path: Path, data: bytes, code: str, name: str = "return.xlsx") -> ReadError:
    """``data`` written as ``name`` and read: the refusal, checked to carry ``code``."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ReadError) as info:
        read(path)
    err = info.value
    assert err.code == code, (err.code, err.detail)
    assert err.code in CATALOGUE
    return err


def good_return(factory: pytest.TempPathFactory) -> bytes:
    """A filled return's bytes, as our template and a clerk make one."""
    return fill_template(factory.mktemp("good") / "r.xlsx").read_bytes()
