"""Every workbook xxgk writes, made from the shipped samples, for looking at printed pages:
the template of each form, annotated copies of an .xlsx and an .xls return, and the district
summaries of 2018 and 2025 (with last year's summary, and without).  Shared by the print tests and
``docs/make_pictures.py``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lo import convert, fill
from xxgk.cli.main import main
from xxgk.forms.builtin import builtin

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
AGENCY = ("640502001", "沙坡头区机关事务局")
PREVIOUS = SAMPLES / "previous" / "沙坡头区2024年汇总.xlsx"
# 东园镇 2025: two year-over-year warnings against last year's summary
XLSX_RETURN = SAMPLES / "returns" / "2025" / "640502103_东园镇_2025年政府信息公开工作年度报告格式.xlsx"
# typed into the 2018 template and saved as .xls by LibreOffice: an error (3 > 2), a warning (12 = 0)
XLS_FIGURES = {"2": 10, "3": 12, "4": 12, "6": 4, "7": 10, "14": 2, "23": 1, "28": 1, "32": 1, "59": 1}


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, [*args], catch_exceptions=False)
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"xxgk {' '.join(args)}: {result.output}")


def build(out: Path, profile: Path) -> dict[str, Path]:
    """Name → workbook, written into ``out``: 模板2018, 模板2020, 模板2025, 标注xlsx, 标注xls,
    汇总2018, 汇总2025 (with last year's summary), 汇总2025无上年 (``profile``: the LibreOffice profile that saves the .xls return)."""
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    for year in (2018, 2020, 2025):
        path = out / f"模板{year}.xlsx"
        _run("template", "--year", str(year), "--code", AGENCY[0], "--agency", AGENCY[1], "-o", str(path), "--force")
        made[f"模板{year}"] = path
    form = builtin("gk2018")
    (out / "xls").mkdir(exist_ok=True)
    typed = {c.key: XLS_FIGURES.get(c.key, 0) for c in form.inputs}
    filled = fill(made["模板2018"], out / "xls" / "镇罗镇2018.xlsx", form, typed,
                  signature={"填报人": "李明", "填报日期": "2019-01-20"})
    xls_return = convert([filled], "xls", out / "xls", profile)[0]
    annotated = out / "annotated"
    _run("check", str(XLSX_RETURN), "--annotate", str(annotated), "--previous", str(PREVIOUS))
    _run("check", str(xls_return), "--annotate", str(annotated))
    for name, src in (("标注xlsx", XLSX_RETURN), ("标注xls", xls_return)):
        copy = annotated / f"{src.stem}_校验结果.xlsx"
        made[name] = copy.replace(out / f"{name}.xlsx")
    for name, year, extra in (("汇总2018", 2018, ()), ("汇总2025", 2025, ("--previous", str(PREVIOUS))),
                              ("汇总2025无上年", 2025, ())):
        path = out / f"{name}.xlsx"
        _run("merge", str(SAMPLES / "returns" / str(year)), "--roster", str(SAMPLES / "roster.csv"),
             "--region", "沙坡头区", "-o", str(path), "--force", *extra)
        made[name] = path
    return made
