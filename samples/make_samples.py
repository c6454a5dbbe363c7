"""Regenerate the shipped sample returns, reproducibly: `python samples/make_samples.py`.

Every return starts from the real template (`xxgk.template`), is typed into with
openpyxl and then opened, recalculated and saved by LibreOffice, as a department's
return would be.  Figures come from seeded random walks that keep every rule of the
form (so most returns pass); the 区机关事务局 return carries the seed's own published
figures.  A few returns carry the mistakes departments really make.

Writes:
  samples/returns/2018/   gk2018 returns of the roster units (.xlsx, one .xls, one .ods)
  samples/returns/2025/   gk2021 returns of the roster units
  samples/previous/沙坡头区2024年汇总.xlsx   the 2024 district summary, for --previous
Needs LibreOffice (`soffice`).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from books import seed_values  # noqa: E402
from lo import convert, fill, make_profile  # noqa: E402
from merge_books import valid_inputs  # noqa: E402
from xxgk.cycle.batch import merge  # noqa: E402
from xxgk.cycle.roster import Unit, read_roster  # noqa: E402
from xxgk.forms.builtin import builtin  # noqa: E402
from xxgk.forms.layout import layout_of  # noqa: E402
from xxgk.forms.model import Form  # noqa: E402
from xxgk.report.summary.workbook import write_summary  # noqa: E402
from xxgk.write.formsheet import cell_number as number  # noqa: E402
from xxgk.write.names import file_name  # noqa: E402
from xxgk.write.template import write_template  # noqa: E402

SAMPLES = ROOT / "samples"
SEED_UNIT = "640502001"  # 沙坡头区机关事务局, whose published 2018 return is the seed
NOT_REPORTED = {"640502110", "640502111"}  # 兴仁镇, 香山乡 send nothing
OFF_ROSTER = Unit("640502901", "沙坡头区税务局")  # vertically managed: not on the district roster


def seed_inputs(form: Form) -> dict[str, Decimal]:
    """The seed's published figures for the input rows (header and total rows are the form's)."""
    return {k: Decimal(v or 0) for k, v in seed_values().items() if form.cells[k].kind == "input"}


def write(form: Form, year: int, unit: Unit, inputs: Mapping[str, Decimal], dest: Path, work: Path, *,
          notes: Mapping[str, str] | None = None, typed: Mapping[str, object] | None = None,
          date: str = "") -> Path:
    """A filled return at ``work``/name: template, typed inputs, notes, signature.

    ``typed`` overrides cells with what a clerk typed over them (text, a total over its formula).
    """
    template = write_template(form, work / f"{unit.code}_template.xlsx", year=year, agency=unit.name,
                              code=unit.code, template_id=f"sample-{year}-{unit.code}", overwrite=True)
    signature = {"单位负责人": "张明", "审核人": "李华", "填报人": f"{unit.name[-4:]}王芳",
                 "联系电话": "0955-70" + unit.code[-5:], "填报日期": date or f"{year + 1}-01-{10 + int(unit.code[-1]):02d}"}
    filled = fill(template, dest, form, {k: number(v) for k, v in inputs.items()}, notes=notes, signature=signature)
    if typed:
        book = openpyxl.load_workbook(filled)
        for key, value in typed.items():
            place = layout_of(form).places[key]
            sheet = book[place.sheet]
            sheet.protection.sheet = False  # the clerk removed the protection to type over
            sheet[place.a1] = value
        book.save(filled)
    template.unlink()
    return filled


def returns_2018(units: list[Unit], out: Path, work: Path) -> list[Path]:
    form = builtin("gk2018")
    files = []
    for unit in [u for u in units if u.code not in NOT_REPORTED] + [OFF_ROSTER]:
        name = file_name(unit.code, unit.name, 2018, form)
        inputs = valid_inputs(form, int(unit.code), max_step=4)
        notes: dict[str, str] = {}
        typed: dict[str, object] = {}
        if unit.code == SEED_UNIT:
            inputs = seed_inputs(form)
            notes = {"12": "本年度未发生公众关注热点或重大舆情；微博回应的1次为工作动态转发。"}
        elif unit.name.endswith("财政局"):
            typed = {"58": 0}  # the seed's own mistake: a total typed over as 0
        elif unit.name.endswith("教育局"):
            inputs["4"] = Decimal(0)  # more normative documents published than issued, unexplained
            inputs["3"] = max(inputs["3"], Decimal(1))
            inputs["2"] = max(inputs["2"], inputs["3"])
            inputs["10"] = inputs["2"]
        elif unit.name == "柔远镇":
            typed = {"7": "约10"}  # text in a number cell
        elif unit.name == "文昌镇":
            name = "文昌镇2018年政务公开统计表（最终版）.xlsx"  # renamed: file names mean nothing
        files.append(write(form, 2018, unit, inputs, work / name, work, notes=notes, typed=typed))
    saved = convert(files, "xlsx", out, make_profile(work / "profile"))
    by_name = {u.name: u for u in units}
    for fmt, town in (("xls", "镇罗镇"), ("ods", "宣和镇")):  # returns saved by WPS/LibreOffice users
        unit = by_name[town]
        src = out / file_name(unit.code, unit.name, 2018, form)
        convert([src], fmt, out, make_profile(work / "profile"))
        src.unlink()
    dup = by_name["永康镇"]  # sent twice, the second time under another name
    shutil.copy(out / file_name(dup.code, dup.name, 2018, form), out / "永康镇统计表-重发.xlsx")
    return saved


def carried(form: Form, last: Mapping[str, Decimal], inputs: dict[str, Decimal]) -> dict[str, Decimal]:
    """This year's figures made consistent with last year's: 上年结转 = last 结转下年度 per column,
    现行有效件数 = last + 制发 − 废止, keeping 一 + 二 = （七）总计 + 四."""
    values = dict(inputs)
    for col in range(1, 7):
        values[f"t3.2.{col}"] = last[f"t3.25.{col}"]
        computed = form.compute(values)
        gap = computed[f"t3.1.{col}"] + computed[f"t3.2.{col}"] - computed[f"t3.24.{col}"]
        if gap >= 0:
            values[f"t3.25.{col}"] = gap
        else:  # more handled than received and carried in: more new applications
            values[f"t3.1.{col}"] -= gap
            values[f"t3.25.{col}"] = Decimal(0)
    for row in (1, 2):
        values[f"t2_1.{row}.3"] = last[f"t2_1.{row}.3"] + values[f"t2_1.{row}.1"] - values[f"t2_1.{row}.2"]
        if values[f"t2_1.{row}.3"] < 0:
            values[f"t2_1.{row}.2"] += values[f"t2_1.{row}.3"]
            values[f"t2_1.{row}.3"] = Decimal(0)
    return values


def returns_2025(units: list[Unit], out: Path, previous: Path, work: Path) -> None:
    form = builtin("gk2021")
    profile = make_profile(work / "profile")
    last_year: dict[str, dict[str, Decimal]] = {}
    files_2024 = []
    for unit in units:
        last_year[unit.code] = valid_inputs(form, int(unit.code) + 2024, max_step=3)
        dest = work / "2024" / file_name(unit.code, unit.name, 2024, form)
        dest.parent.mkdir(exist_ok=True)
        files_2024.append(write(form, 2024, unit, last_year[unit.code], dest, work / "2024"))
    summary = merge(files_2024, roster=units, region="沙坡头区", jobs=2)
    write_summary(summary, previous, overwrite=True)
    files = []
    for unit in units:
        inputs = carried(form, last_year[unit.code], valid_inputs(form, int(unit.code) + 2025, max_step=3))
        if unit.name == "东园镇":  # 上年结转 typed from memory, not from last year's return
            inputs["t3.2.1"] += 2
            inputs["t3.25.1"] += 2
        dest = work / "2025" / file_name(unit.code, unit.name, 2025, form)
        dest.parent.mkdir(exist_ok=True)
        files.append(write(form, 2025, unit, inputs, dest, work / "2025"))
    convert(files, "xlsx", out, profile)


def main() -> None:
    units = read_roster(SAMPLES / "roster.csv")
    for sub in ("returns/2018", "returns/2025", "previous"):
        shutil.rmtree(SAMPLES / sub, ignore_errors=True)
        (SAMPLES / sub).mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        returns_2018(units, SAMPLES / "returns" / "2018", work)
        returns_2025(units, SAMPLES / "returns" / "2025", SAMPLES / "previous" / "沙坡头区2024年汇总.xlsx", work)
    print("samples written under", SAMPLES)


if __name__ == "__main__":
    main()
