"""A custom form definition (--form PATH) works through template, check and merge."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from merge_books import valid_inputs
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin_dir
from xxgk.forms.layout import layout_of
from xxgk.forms.load import load
from xxgk.write.formsheet import cell_number as number


def custom_form(tmp_path: Path) -> Path:
    text = (builtin_dir() / "gk2018.yaml").read_text(encoding="utf-8")
    text = text.replace("id: gk2018", "id: province2018").replace("六、举报投诉数量", "六、举报投诉及意见建议数量")
    path = tmp_path / "province2018.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_custom_form_round_trip(tmp_path: Path) -> None:
    import openpyxl

    yaml_path = custom_form(tmp_path)
    form = load(yaml_path)
    runner = CliRunner()
    blank = tmp_path / "t.xlsx"
    result = runner.invoke(main, ["template", "--year", "2018", "--form", str(yaml_path), "--agency", "甲局",
                                  "--code", "001", "-o", str(blank)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(blank)
    for key, value in valid_inputs(form, 5).items():
        place = layout_of(form).places[key]
        book[place.sheet][place.a1] = number(value)
    filled = tmp_path / "returns" / "r.xlsx"
    filled.parent.mkdir()
    book.save(filled)

    # without the definition the return is not one of the built-in forms
    plain = runner.invoke(main, ["check", str(filled), "--format", "json"])
    assert plain.exit_code == 1
    assert not json.loads(plain.output)["returns"][0]["valid"]

    known = runner.invoke(main, ["check", str(filled), "--form", str(yaml_path), "--format", "json"])
    assert known.exit_code == 0, known.output
    assert json.loads(known.output)["returns"][0]["form"] == "province2018"

    out = tmp_path / "s.xlsx"
    merged = runner.invoke(main, ["merge", str(filled.parent), "-o", str(out), "--form", str(yaml_path),
                                  "--format", "json"])
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.output)["summary"]["valid"] == 1 and out.is_file()


def test_bad_custom_form_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: y\ntables: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--form", str(bad)])
    assert result.exit_code == 2
    assert "tables" in result.output
