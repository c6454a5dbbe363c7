"""`xxgk check` end to end: real workbooks from the template, filled in with openpyxl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from books import seed_values
from xxgk.cli.main import main
from xxgk.forms import model as forms
from xxgk.forms.builtin import builtin
from xxgk.forms.layout import layout_of
from xxgk.write.template import write_template

AGENCY, CODE = "沙坡头区机关事务局", "640502"


def seed_inputs(form: forms.Form) -> dict[str, Any]:
    return {k: v for k, v in seed_values().items() if form.cells[k].kind == "input"}


def write_return(
    path: Path,
    form: forms.Form,
    figures: dict[str, Any],
    *,
    notes: dict[str, str] | None = None,
    year: int = 2018,
    agency: str = AGENCY,
    code: str = CODE,
) -> Path:
    """The department's workflow: the generated template, with figures typed into it.

    A key in ``figures`` overwrites that cell (a formula cell too); ``notes`` go in the
    情况说明 column of the key's row.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(form, path, year=year, agency=agency, code=code)
    lay = layout_of(form)
    wb = openpyxl.load_workbook(path)
    for key, value in figures.items():
        place = lay.places[key]
        wb[place.sheet].cell(place.row + 1, place.col + 1).value = value
    for key, text in (notes or {}).items():
        place = lay.note(form.cells[key])
        wb[place.sheet].cell(place.row + 1, place.col + 1).value = text
    wb.save(path)
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["check", *map(str, args)])


@pytest.fixture(scope="module")
def gk2018() -> forms.Form:
    return builtin("gk2018")


# ---------------------------------------------------------------- JSON shape (design.md)

ISSUE_KEYS = {"severity", "code", "indicator", "label", "sheet", "cell", "found", "expected", "explained", "message"}
ISSUE_OPTIONAL = {"explanation", "rule"}


def validate(doc: Any) -> None:
    """The documented `--format json` shape, strictly: keys, types, consistent summary."""
    assert isinstance(doc, dict) and {"returns", "summary"} <= set(doc) <= {"returns", "summary", "skipped"}
    assert isinstance(doc["returns"], list)
    assert all(set(s) == {"file", "reason"} and all(isinstance(v, str) for v in s.values())
               for s in doc.get("skipped", []))
    for ret in doc["returns"]:
        assert isinstance(ret, dict)
        assert set(ret) == {"file", "form", "year", "agency", "valid", "issues", "figures"}, set(ret)
        assert isinstance(ret["figures"], dict)
        for code, figure in ret["figures"].items():  # the figures read, by indicator code
            assert isinstance(code, str) and set(figure) == {"label", "place", "value", "cell", "total"}
            assert figure["value"] is None or type(figure["value"]) in (int, float)
            assert isinstance(figure["total"], bool) and isinstance(figure["label"], str) and figure["label"]
        assert isinstance(ret["file"], str) and isinstance(ret["form"], str)
        assert ret["year"] is None or (isinstance(ret["year"], int) and not isinstance(ret["year"], bool))
        assert isinstance(ret["agency"], dict) and set(ret["agency"]) == {"code", "name"}
        assert all(isinstance(v, str) for v in ret["agency"].values())
        assert isinstance(ret["valid"], bool) and isinstance(ret["issues"], list)
        for issue in ret["issues"]:
            assert isinstance(issue, dict)
            assert ISSUE_KEYS <= set(issue) <= ISSUE_KEYS | ISSUE_OPTIONAL, set(issue)
            assert issue["severity"] in ("error", "warning")
            assert isinstance(issue["explained"], bool)
            for key in set(issue) - {"explained"}:
                assert isinstance(issue[key], str), key
            assert issue["message"]
    summary = doc["summary"]
    assert set(summary) == {"checked", "valid", "errors", "warnings"}
    assert all(type(v) is int for v in summary.values())
    issues = [i for r in doc["returns"] for i in r["issues"]]
    assert summary["checked"] == len(doc["returns"])
    assert summary["valid"] == sum(r["valid"] for r in doc["returns"])
    assert summary["errors"] == sum(i["severity"] == "error" for i in issues)
    assert summary["warnings"] == sum(i["severity"] == "warning" for i in issues)


def test_validator_rejects_wrong_shapes() -> None:
    good = {"returns": [{"file": "a", "form": "gk2018", "year": 2018, "agency": {"code": "", "name": ""},
                         "valid": True, "issues": [],
                         "figures": {"1": {"label": "x", "place": "第1行", "value": 3, "cell": "统计表!D4", "total": False}}}],
            "summary": {"checked": 1, "valid": 1, "errors": 0, "warnings": 0}}
    validate(good)
    bad_year = json.loads(json.dumps(good))
    bad_year["returns"][0]["year"] = "2018"
    bad_count = json.loads(json.dumps(good))
    bad_count["summary"]["valid"] = 0
    extra = json.loads(json.dumps(good))
    extra["returns"][0]["agency_name"] = "x"
    bad_figure = json.loads(json.dumps(good))
    bad_figure["returns"][0]["figures"]["1"]["value"] = "3"
    for doc in (bad_year, bad_count, extra, bad_figure):
        with pytest.raises(AssertionError):
            validate(doc)


# ---------------------------------------------------------------- text


def test_seed_text_block(tmp_path: Path, gk2018: forms.Form) -> None:
    path = write_return(tmp_path / "沙坡头区机关事务局.xlsx", gk2018, seed_inputs(gk2018))
    result = run(path)
    assert result.exit_code == 1, result.output
    cell = layout_of(gk2018).places["12"].a1
    lines = result.output.splitlines()
    assert lines[:4] == [
        f"单位名称：{AGENCY}（{CODE}）",
        "文件名：沙坡头区机关事务局.xlsx",
        "表式：政府信息公开情况统计表（2018年度）",
        "结论：未通过（提醒1项）",
    ]
    assert lines[5].startswith(
        f"1. 【提醒】第12行（{cell}）“（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）”："
        "第14、16、18—20行填报了回应解读，但第12行“回应公众关注热点或重大舆情数”为0"
    )
    notes = "、".join(layout_of(gk2018).note(gk2018.cells[k]).a1 for k in ("12", "14", "16", "18", "19"))
    note20 = layout_of(gk2018).note(gk2018.cells["20"]).a1
    assert ("（第12行=0、第14行=0、第16行=0、第18行=0、第19行=1、第20行=0；第14行 + 第16行 + 第18行 + 第19行 + 第20行=1；"
            f"如情况属实，请在{notes}或{note20}单元格（“情况说明”列）填写原因）") in lines[5]
    assert "请核实以上【提醒】：如数据有误请改正，如情况属实请在所列的“情况说明”单元格写明原因，然后重新报送。" in lines
    assert lines[-1] == "共检查1份，通过0份，未通过1份。"


def test_explained_seed_passes(tmp_path: Path, gk2018: forms.Form) -> None:
    note = "第19行为日常政务微博回应，本年未发生公众关注热点。"
    path = write_return(tmp_path / "ok.xlsx", gk2018, seed_inputs(gk2018), notes={"12": note})
    result = run(path)
    assert result.exit_code == 0, result.output
    assert "结论：通过（提醒1项，均已说明）" in result.output
    assert f"【已说明】{note}" in result.output
    assert "校验通过：提醒事项均已在情况说明中解释，可以报送。" in result.output


def test_seed_as_published_text_and_json(tmp_path: Path, gk2018: forms.Form) -> None:
    path = write_return(tmp_path / "published.xlsx", gk2018, seed_values())
    text = run(path)
    assert text.exit_code == 1
    a1 = layout_of(gk2018).places
    assert "结论：未通过（错误6项，提醒1项）" in text.output
    assert f"1. 【错误】第1行（{a1['1'].a1}）“一、主动公开情况”：是标题行，不应填写数值，却填写了“83”。请清空该单元格。" in text.output
    assert (f"6. 【错误】第58行（{a1['58'].a1}）“（三）从事政府信息公开工作人员数”：是合计项，应为各分项之和2，表中却是0"
            f"（各分项：{a1['59'].a1}=1、{a1['60'].a1}=1；之和为2，表中合计与之相差2）。合计项不用手填：如分项无误，"
            f"请在{a1['58'].a1}恢复模板的公式或填写2；如合计0才对，请把分项{a1['59'].a1}、{a1['60'].a1}减少2，使其之和为0。"
            ) in text.output
    assert "请改正全部【错误】；【提醒】如数据有误请改正" in text.output

    result = run(path, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    validate(doc)
    [ret] = doc["returns"]
    assert (ret["file"], ret["form"], ret["year"], ret["agency"], ret["valid"]) == (
        str(path), "gk2018", 2018, {"code": CODE, "name": AGENCY}, False)
    assert [(i["code"], i["indicator"]) for i in ret["issues"]] == [
        ("value.in_header", "1"), ("value.in_header", "5"), ("value.in_header", "13"),
        ("value.in_header", "21"), ("value.in_header", "55"), ("formula.mismatch", "58"),
        ("rule.warning", "12"),
    ]
    mismatch = ret["issues"][5]
    assert (mismatch["severity"], mismatch["cell"], mismatch["found"], mismatch["expected"]) == (
        "error", a1["58"].a1, "0", "2")
    assert mismatch["label"] == "（三）从事政府信息公开工作人员数" and mismatch["sheet"] == "统计表"
    assert ret["issues"][6]["rule"] == "W_responses_need_r12"
    assert doc["summary"] == {"checked": 1, "valid": 0, "errors": 6, "warnings": 1}


def test_directory_batch_sorted_with_bad_files(tmp_path: Path, gk2018: forms.Form) -> None:
    good = {**seed_inputs(gk2018), "19": 0}
    write_return(tmp_path / "b" / "2_good.xlsx", gk2018, good, agency="乙局", code="002")
    write_return(tmp_path / "a" / "1_typo.xlsx", gk2018, {**good, "63": "两次", "64": "无"}, agency="甲局", code="001")
    (tmp_path / "a" / "~$1_typo.xlsx").write_bytes(b"lock")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "3_broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (tmp_path / "c" / "readme.txt").write_text("not a return")
    result = run(tmp_path, "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    validate(doc)
    assert [Path(r["file"]).name for r in doc["returns"]] == ["1_typo.xlsx", "2_good.xlsx", "3_broken.xlsx"]
    typo, ok, broken = doc["returns"]
    assert [(i["code"], i["found"]) for i in typo["issues"]] == [("value.not_number", "两次"), ("value.zero_text", "无")]
    assert ok["valid"] and ok["issues"] == []
    assert not broken["valid"] and [i["code"] for i in broken["issues"]] == ["file.unreadable"]
    assert broken["form"] == "" and broken["agency"] == {"code": "", "name": ""}

    text = run(tmp_path)
    assert text.exit_code == 1
    blocks = text.output.split("—" * 30)
    assert len(blocks) == 4
    assert "单位名称：甲局（001）" in blocks[0] and "单位名称：乙局（002）" in blocks[1]
    assert "结论：通过\n" in blocks[1] and "校验通过，可以报送。" in blocks[1]
    assert "单位名称：（未能识别）" in blocks[2] and "文件名：3_broken.xlsx" in blocks[2]
    assert "1. 【错误】文件无法读取" in blocks[2]
    at = layout_of(gk2018).places
    assert (f"1. 【错误】第63行（{at['63'].a1}）“（一）召开政府信息公开工作会议或专题会议数”："
            "填写为“两次”，不是数字。应填写非负整数。") in blocks[0]
    assert (f"2. 【提醒】第64行（{at['64'].a1}）“（二）举办各类培训班数”：填写为“无”，已按0处理，请直接填写数字0。") in blocks[0]
    closing, listed = blocks[3].strip().split("\n\n")
    assert closing == "共检查3份，通过1份，未通过2份。"
    # nothing skipped in silence: the lock file and the text file are listed with the reason
    assert listed.splitlines() == [
        "未读取的文件（2）：",
        f"  {tmp_path / 'a' / '~$1_typo.xlsx'} — Office锁定文件（文件被打开时自动生成），不是报表",
        f"  {tmp_path / 'c' / 'readme.txt'} — 不是电子表格（.txt）",
    ]
    assert [Path(s["file"]).name for s in doc["skipped"]] == ["~$1_typo.xlsx", "readme.txt"]


def test_all_valid_exits_zero(tmp_path: Path, gk2018: forms.Form) -> None:
    good = {**seed_inputs(gk2018), "19": 0}
    a = write_return(tmp_path / "a.xlsx", gk2018, good)
    b = write_return(tmp_path / "b.xlsx", gk2018, {**good, "12": 3})
    result = run(b, a, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    validate(doc)
    assert [Path(r["file"]).name for r in doc["returns"]] == ["a.xlsx", "b.xlsx"]
    assert doc["summary"] == {"checked": 2, "valid": 2, "errors": 0, "warnings": 0}


def test_empty_template_is_reported(tmp_path: Path, gk2018: forms.Form) -> None:
    path = write_return(tmp_path / "blank.xlsx", gk2018, {})
    result = run(path)
    assert result.exit_code == 1
    assert "1. 【错误】统计表尚未填写（所有填报单元格均为空）。" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "Missing argument"),
        (("/nonexistent/x.xlsx",), "does not exist"),
        (("{tmp}", "--format", "xml"), "Invalid value for '--format'"),
        (("{tmp}",), "没有找到报表文件"),
        (("{tmp}", "--previous", "{tmp}"), "Invalid value for '--previous'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run(*(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_unusable_previous_exits_2(tmp_path: Path, gk2018: forms.Form) -> None:
    this = write_return(tmp_path / "this.xlsx", gk2018, seed_inputs(gk2018))
    broken = tmp_path / "last.xlsx"
    broken.write_bytes(b"garbage")
    result = run(this, "--previous", broken)
    assert result.exit_code == 2
    assert "上年数据无法使用（last.xlsx）" in result.output


# ---------------------------------------------------------------- --previous (gk2021)


def gk2021_figures(form: forms.Form, carried_in: int, carried_out: int) -> dict[str, Any]:
    """A balanced table 三 for 自然人: 新收 5 + 上年结转 carried_in = 予以公开 + 结转下年 carried_out."""
    figures: dict[str, Any] = {c.key: 0 for c in form.inputs}
    figures.update({"t3.1.1": 5, "t3.2.1": carried_in, "t3.25.1": carried_out, "t3.3.1": 5 + carried_in - carried_out})
    return figures


def test_previous_year(tmp_path: Path) -> None:
    g21 = builtin("gk2021")
    last = write_return(tmp_path / "2021.xlsx", g21, gk2021_figures(g21, 0, 2), year=2021)
    same = write_return(tmp_path / "2022.xlsx", g21, gk2021_figures(g21, 2, 1), year=2022)
    off = write_return(tmp_path / "2022b.xlsx", g21, gk2021_figures(g21, 3, 1), year=2022)
    assert run(same).exit_code == 0
    assert run(same, "--previous", last).exit_code == 0
    result = run(off, "--previous", last, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    validate(doc)
    issue, total = doc["returns"][0]["issues"]  # column 1 (自然人) and column 7 (总计)
    assert total["rule"] == "Y_t3_carried_in.7" and total["indicator"] == "t3.2.7"
    assert (issue["code"], issue["severity"], issue["rule"], issue["indicator"]) == (
        "previous.mismatch", "warning", "Y_t3_carried_in.1", "t3.2.1")
    assert issue["found"] == "3" and issue["expected"] == "第2行第1栏 = 上年第25行第1栏"
    assert "第2行第1栏=3、上年第25行第1栏=2" in issue["message"]
    explained = write_return(tmp_path / "2022c.xlsx", g21, gk2021_figures(g21, 3, 1), year=2022,
                             notes={"t3.2.1": "上年报告结转数填报有误，已更正。"})
    assert run(explained, "--previous", last).exit_code == 0


def test_previous_of_another_unit_is_not_compared(tmp_path: Path) -> None:
    g21 = builtin("gk2021")
    last = write_return(tmp_path / "2021.xlsx", g21, gk2021_figures(g21, 0, 2), year=2021, code="999")
    off = write_return(tmp_path / "2022.xlsx", g21, gk2021_figures(g21, 3, 1), year=2022)
    result = CliRunner().invoke(main, ["check", str(off), "--previous", str(last)])
    assert result.exit_code == 0
    assert "上年数据2021.xlsx与2022.xlsx不是同一单位，未作上年比对" in result.output


def test_annotate_writes_marked_copies_of_returns_with_findings(tmp_path: Path, gk2018: forms.Form) -> None:
    good = {**seed_inputs(gk2018), "19": 0}
    write_return(tmp_path / "in" / "ok.xlsx", gk2018, good)
    write_return(tmp_path / "in" / "bad.xlsx", gk2018, {**good, "58": 0, "3": None, "4": None})
    (tmp_path / "in" / "broken.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "in" / "marked"
    for force in ([], ["--force"]):  # a second run overwrites its own copies and does not check them
        result = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--annotate", str(out), *force])
        assert result.exit_code == 1, result.output
        assert "共检查3份，通过1份，未通过2份。" in result.output
        assert f"已生成批注文件：{out / 'bad_校验结果.xlsx'}" in result.output
        places = layout_of(gk2018).places
        assert (f"【提醒】第3—4行（{places['3'].a1}:{places['4'].a1}）未填写（共2格），已按0处理。"
                "没有发生的，请填写0；") in result.output
    assert sorted(p.name for p in out.iterdir()) == ["bad_校验结果.xlsx"]
    # without --force the copies are not overwritten
    again = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--annotate", str(out)])
    assert again.exit_code == 2 and "如需覆盖请加 --force" in again.output
    marked = openpyxl.load_workbook(out / "bad_校验结果.xlsx")
    texts = [str(c.value) for ws in marked.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any("应为各分项之和2，表中却是0" in t for t in texts)
    assert any("未填写（共2格），已按0处理" in t for t in texts)
