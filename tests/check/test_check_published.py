"""Checking reports as published: a report without its title names no unit (as merge says),
and the figures read are there for a person to see."""

from __future__ import annotations

from pathlib import Path

import pytest

from retyped import UNIT, WRITERS, apply, drop_row, set_value, sound_values, tables, title
from xxgk.check.checking import check_return
from xxgk.check.figures import figures_json, figures_read
from xxgk.check.file import check_file
from xxgk.forms.builtin import builtin
from xxgk.read.open import read

GK2021 = builtin("gk2021")
KINDS = list(WRITERS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_report_without_its_title_names_no_unit_and_is_not_valid(tmp_path: Path, kind: str) -> None:
    path = WRITERS[kind](tables(GK2021, sound_values(GK2021)), "", tmp_path / f"r.{kind}")
    result = check_file(path)
    assert result.ret is not None and result.ret.form is GK2021
    [finding] = result.report.findings
    assert finding.code == "file.no_unit" and finding.severity == "error"
    assert finding.message.startswith("无法识别报送单位：") and not result.valid


@pytest.mark.parametrize("kind", KINDS)
def test_a_report_with_its_title_names_its_unit(tmp_path: Path, kind: str) -> None:
    path = WRITERS[kind](tables(GK2021, sound_values(GK2021)), title(2021), tmp_path / f"r.{kind}")
    result = check_file(path)
    assert result.report.agency_name == UNIT and result.report.findings == [] and result.valid


@pytest.mark.parametrize("kind", KINDS)
def test_the_figures_read_name_each_indicator_its_label_and_where(tmp_path: Path, kind: str) -> None:
    values = sound_values(GK2021)
    ts = apply(tables(GK2021, values), drop_row("规章"), set_value("行政许可", 1, "许多"))
    result = check_return(read(WRITERS[kind](ts, title(2021), tmp_path / f"r.{kind}")))
    figures = {f.code: f for f in figures_read(result)}
    assert list(figures) == [c.key for c in GK2021.cells.values() if c.kind != "header"]
    total = figures["t3.24.1"]
    assert total.value == values["t3.24.1"] and total.total and "（七）总计" in total.label
    assert total.place == "表三第24行第1栏" and total.where.endswith(tuple("0123456789"))
    assert figures["t2_1.1.1"].value == 0 and figures["t2_1.1.1"].where == ""  # the row left out
    assert figures["t2_5.1.1"].value is None  # “许多” is no number
    doc = figures_json(list(figures.values()))
    assert doc["t3.24.1"]["value"] == int(values["t3.24.1"]) and doc["t2_5.1.1"]["value"] is None
    assert doc["t2_8.1.1"]["value"] == float(values["t2_8.1.1"]) == 0.25
    assert doc["t2_8.1.1"]["label"] == "行政事业性收费" and doc["t2_8.1.1"]["total"] is False


def test_a_file_not_read_has_no_figures(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"not a workbook")
    assert figures_read(check_file(path)) == []


def test_a_row_left_out_is_explained_by_a_note_in_its_table() -> None:
    from books import figures_return
    from xxgk.forms.findings import make

    values = {k: v for k, v in sound_values(GK2021).items() if GK2021.cells[k].kind == "input"}

    def left_out(notes: dict[str, str]) -> list[tuple[str, bool, str]]:
        ret = figures_return(GK2021, values, notes=notes, year=2021, agency_name=UNIT)
        for key in ("t2_1.1.1", "t2_1.1.2", "t2_1.1.3"):
            ret.cells[key] = ret.cells[key]._replace(cell="", value=None)
        ret.findings.append(make("structure.absent", indicator="t2_1.1", label="第1行“规章”", detail="……"))
        result = check_return(ret)
        return [(f.code, f.explained, f.explanation) for f in result.report.findings]

    assert left_out({}) == [("structure.absent", False, "")]
    note = "本单位没有规章制定权"
    assert left_out({"t2_1.2.1": note}) == [("structure.absent", True, note)]
    assert left_out({"t3.1.1": note}) == [("structure.absent", False, "")]  # another table's note
