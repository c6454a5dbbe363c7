"""File names built from roster entries stay one safe component inside the output dir."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xxgk.forms.builtin import builtin
from xxgk.write.names import MAX_BYTES, file_name, unique

FORM = builtin("gk2018")
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
BAD_CHARS = set('<>:"/\\|?*') | {chr(i) for i in range(32)} | {"\x7f"}


def assert_safe(name: str, out_dir: Path) -> None:
    assert name and name not in {".", ".."}
    assert not BAD_CHARS & set(name), name
    assert ".." not in name
    assert not name.startswith((" ", ".")) and not name.endswith((" ", "."))
    assert name.split(".")[0].upper() not in RESERVED
    assert len(name.encode("utf-8")) <= MAX_BYTES
    assert name.endswith(".xlsx")
    target = (out_dir / name).resolve()
    assert target.parent == out_dir.resolve()


def test_ordinary_name() -> None:
    assert (file_name("640502001", "沙坡头区机关事务局", 2018, FORM)
            == "640502001_沙坡头区机关事务局_2018年政府信息公开情况统计表.xlsx")


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "..\\..\\windows\\system32", "a/b\\c", "..", ".", "...", "",
    "CON", "con", "NUL.txt", "LPT1", "com9", "  ", "\x00\x01\x1f", "名称\n换行\t制表",
    'a<b>c:d"e|f?g*h', "\u202e伪装gpj.exe", "x" * 400, "局" * 200, "\ud800", " 前后空格 ",
])
def test_hostile_names_are_safe(name: str, tmp_path: Path) -> None:
    for code in ("640502001", "", "../..", "CON"):
        result = file_name(code, name, 2018, FORM)
        assert_safe(result, tmp_path)
        (tmp_path / result).write_bytes(b"")  # the file system accepts it
        assert (tmp_path / result).is_file()


def test_windows_device_names_are_never_the_stem() -> None:
    assert file_name("", "", 2018, "CON").split(".")[0].upper() not in RESERVED
    name = file_name("CON", "x", 2018, FORM)
    assert name.startswith("CON_")  # CON_… is not a device name; only the bare stem is
    assert file_name("", "", 2018, "")  # never empty


def test_distinct_units_get_distinct_names() -> None:
    names = unique([
        file_name("1", "局", 2018, FORM), file_name("1", "局", 2018, FORM),
        file_name("1", "局", 2018, FORM), "A.xlsx", "a.xlsx", "a_2.xlsx",
    ])
    assert len({n.casefold() for n in names}) == len(names)
    assert names[:3] == ["1_局_2018年政府信息公开情况统计表.xlsx", "1_局_2018年政府信息公开情况统计表_2.xlsx",
                         "1_局_2018年政府信息公开情况统计表_3.xlsx"]
    assert names[3:] == ["A.xlsx", "a_2.xlsx", "a_2_2.xlsx"]


def test_names_that_clean_to_the_same_text_stay_apart() -> None:
    raw = [("1", "a/b"), ("1", "a\\b"), ("1", "a:b"), ("1", "a|b")]
    names = unique(file_name(c, n, 2018, FORM) for c, n in raw)
    assert len(set(names)) == 4


@settings(max_examples=300, deadline=None)
@given(code=st.text(max_size=60), name=st.text(max_size=300), year=st.integers(1990, 2100))
def test_any_text_gives_a_safe_name(code: str, name: str, year: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        result = file_name(code, name, year, FORM)
        assert_safe(result, out)
        fd = os.open(out / result, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        assert os.listdir(out) == [result]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=30))
def test_unique_names_never_collide(units: list[tuple[str, str]]) -> None:
    names = unique(file_name(c, n, 2018, FORM) for c, n in units)
    assert len({n.casefold() for n in names}) == len(units)
