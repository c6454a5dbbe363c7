"""`xxgk template`: one agency or a whole roster; user mistakes end with exit code 2."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xxgk.cli.main import main
from xxgk.forms import identity as ids


def _meta(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path, read_only=True)[ids.META_SHEET]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True)}


def test_single_agency(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["template", "--year", "2018", "--agency", "沙坡头区机关事务局",
                                       "--code", "640502001", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    meta = _meta(out)
    assert (meta[ids.FORM], meta[ids.YEAR], meta[ids.AGENCY_CODE]) == ("gk2018", "2018", "640502001")


def test_form_defaults_by_year_and_can_be_named(tmp_path: Path) -> None:
    runner = CliRunner()
    for year, form, expected in (("2020", None, "gk2019"), ("2023", None, "gk2021"), ("2023", "gk2019", "gk2019")):
        out = tmp_path / f"{year}-{expected}.xlsx"
        args = ["template", "--year", year, "--agency", "局", "-o", str(out)] + (["--form", form] if form else [])
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert _meta(out)[ids.FORM] == expected


def test_roster_of_200_units(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    lines = ["代码,名称"]
    for i in range(200):
        name = "沙坡头区机关事务局" if i % 10 == 0 else f"单位{i}"  # 20 units share one name
        if i == 7:
            name = "../../逃逸/单位"
        lines.append(f"640502{i:03d},{name}")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    out_dir = tmp_path / "out"
    result = CliRunner().invoke(main, ["template", "--year", "2018", "--roster", str(roster),
                                       "--out-dir", str(out_dir), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    files = sorted(out_dir.iterdir())
    assert len(files) == 200 and all(f.suffix == ".xlsx" for f in files)
    assert not list(tmp_path.glob("逃逸*")) and not list(tmp_path.parent.glob("逃逸*"))
    codes = {_meta(f)[ids.AGENCY_CODE] for f in files[::9]}
    assert len(codes) == len(files[::9])
    assert (out_dir / "640502000_沙坡头区机关事务局_2018年政府信息公开情况统计表.xlsx").is_file()
    assert str(out_dir) in result.stdout
    again = CliRunner().invoke(main, ["template", "--year", "2018", "--roster", str(roster),
                                      "--out-dir", str(out_dir), "--jobs", "1"])
    assert again.exit_code == 2
    assert "--force" in again.stderr


def test_sample_roster_and_force(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "samples" / "roster.csv"
    args = ["template", "--year", "2018", "--roster", str(sample), "--out-dir", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("640502*_*.xlsx"))
    assert len(files) == len(sample.read_text("utf-8-sig").split()) - 1
    first_id = _meta(files[0])[ids.TEMPLATE_ID]
    assert CliRunner().invoke(main, args).exit_code == 2
    assert _meta(files[0])[ids.TEMPLATE_ID] == first_id
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert _meta(files[0])[ids.TEMPLATE_ID] != first_id
    assert sorted(tmp_path.iterdir()) == files  # nothing but the workbooks


@pytest.mark.parametrize(("args", "needle"), [
    (["--form", "gk1999", "--agency", "局", "-o", "{tmp}/a.xlsx"], "gk1999"),
    (["--form", "{tmp}/missing.yaml", "--agency", "局", "-o", "{tmp}/a.xlsx"], "missing.yaml"),
    (["--agency", "局"], "-o"),
    (["-o", "{tmp}/a.xlsx"], "--agency"),
    (["--agency", "  ", "-o", "{tmp}/a.xlsx"], "--agency"),
    (["--agency", "局", "-o", "{tmp}/a.xlsx", "--roster", "{tmp}/r.csv"], "二选一"),
    ([], "二选一"),
    (["--roster", "{tmp}/r.csv"], "--out-dir"),
    (["--roster", "{tmp}/bad.csv", "--out-dir", "{tmp}/out"], "名称"),
    (["--roster", "{tmp}/none.csv", "--out-dir", "{tmp}/out"], "none.csv"),
    (["--agency", "局", "-o", "{tmp}/exists.xlsx"], "--force"),
])
def test_user_mistakes_exit_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    (tmp_path / "r.csv").write_text("代码,名称\n1,局\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("代码,单位\n1,局\n", encoding="utf-8")
    (tmp_path / "exists.xlsx").write_bytes(b"keep")
    argv = ["template", "--year", "2018", *(a.format(tmp=tmp_path) for a in args)]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert needle in result.stderr
    assert (tmp_path / "exists.xlsx").read_bytes() == b"keep"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
