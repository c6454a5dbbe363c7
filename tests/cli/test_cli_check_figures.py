"""`xxgk check` shows the figures it read (json always, text with --show-values), and says
of a report without its title what `xxgk merge` says: its unit is unknown."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from retyped import UNIT, WRITERS, sound_values, tables, title
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin

GK2021 = builtin("gk2021")


def _report(folder: Path, heading: str, kind: str = "docx") -> Path:
    folder.mkdir(exist_ok=True)
    return WRITERS[kind](tables(GK2021, sound_values(GK2021)), heading, folder / f"r.{kind}")


def test_json_gives_each_returns_figures_by_indicator_with_label(tmp_path: Path) -> None:
    _report(tmp_path / "in", title(2021), "html")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--format", "json"])
    assert result.exit_code == 0, result.output
    [ret] = json.loads(result.output)["returns"]
    figures = ret["figures"]
    values = sound_values(GK2021)
    assert set(figures) == {c.key for c in GK2021.cells.values() if c.kind != "header"}
    assert figures["t3.24.1"]["value"] == int(values["t3.24.1"]) and figures["t3.24.1"]["total"] is True
    assert figures["t2_6.2.1"] == {"label": "行政强制", "place": "表二第二十条第（六）项第2行",
                                   "value": int(values["t2_6.2.1"]), "cell": figures["t2_6.2.1"]["cell"],
                                   "total": False}
    assert figures["t2_6.2.1"]["cell"].startswith("表1!")


def test_text_shows_the_figures_only_when_asked(tmp_path: Path) -> None:
    _report(tmp_path / "in", title(2021))
    plain = CliRunner().invoke(main, ["check", str(tmp_path / "in")])
    shown = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--show-values"])
    assert plain.exit_code == shown.exit_code == 0
    assert "读取的数字" not in plain.output and shown.output.startswith(plain.output)
    values = sound_values(GK2021)
    assert "读取的数字（r.docx）：" in shown.output
    assert f"  t3.24.1\t表三第24行第1栏“三、本年度办理结果/（七）总计（申请人情况/自然人）”\t{values['t3.24.1']}（合计）" in shown.output
    assert f"  t2_8.1.1\t表二第二十条第（八）项第1行“行政事业性收费”\t{values['t2_8.1.1']}\n" in shown.output


def test_check_and_merge_both_say_a_report_without_its_title_names_no_unit(tmp_path: Path) -> None:
    _report(tmp_path / "in", "")
    checked = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--year", "2021", "--format", "json"])
    assert checked.exit_code == 1
    [ret] = json.loads(checked.output)["returns"]
    [issue] = ret["issues"]
    assert issue["code"] == "file.no_unit" and ret["valid"] is False
    merged = CliRunner().invoke(main, ["merge", str(tmp_path / "in"), "--year", "2021", "--format", "json",
                                       "-o", str(tmp_path / "out.xlsx")])
    doc = json.loads(merged.output[merged.output.index("{"):])
    said = json.dumps(doc, ensure_ascii=False)
    assert issue["message"] in said  # the same words
    assert "无法识别报送单位" in said and UNIT not in said


def test_year_picks_the_cycle_not_the_form(tmp_path: Path) -> None:
    gk2019 = builtin("gk2019")
    folder = tmp_path / "in"
    folder.mkdir()
    WRITERS["html"](tables(gk2019, sound_values(gk2019)), "2019年上海市人民政府办公厅政府信息公开工作年度报告",
                    folder / "r.html")
    own = CliRunner().invoke(main, ["check", str(folder), "--year", "2019", "--format", "json"])
    assert own.exit_code == 0, own.output
    [ret] = json.loads(own.output)["returns"]
    assert (ret["form"], ret["year"], ret["agency"]["name"]) == ("gk2019", 2019, "上海市人民政府办公厅")
    assert ret["issues"] == [] and ret["figures"]["t2_9.1.2"]["label"] == "政府集中采购（采购总金额）"
    later = CliRunner().invoke(main, ["check", str(folder), "--year", "2021", "--format", "json"])
    [ret] = json.loads(later.output)["returns"]
    assert ret["form"] == "gk2019"  # still read as its own form; the 2021 cycle says it is not its year
    [issue] = ret["issues"]
    assert issue["code"] == "file.wrong_year" and "2019年度" in issue["message"]
    assert "gk2021" not in issue["message"] and "请改用本年度表式" not in issue["message"]
