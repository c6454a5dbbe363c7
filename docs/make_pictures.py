"""Regenerate the pictures of every printed page under docs/pictures/ and their index
docs/pictures.md: each workbook xxgk writes (tests/support/printed.py builds them from the samples)
printed to PDF by LibreOffice, then every page to a small PNG (pdftoppm).

    python docs/make_pictures.py [--dpi 40]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))  # the LibreOffice helpers and the outputs the print tests look at

from lo import convert, make_profile, pdf_pages  # noqa: E402
from printed import build  # noqa: E402

OUT = ROOT / "docs" / "pictures"
INDEX = ROOT / "docs" / "pictures.md"
WHAT = {
    "模板2018": "模板（gk2018，2018年度及以前）：统计表一页，填报说明",
    "模板2020": "模板（gk2019，2019—2020年度）：表二、表三、表四各一页，填报说明",
    "模板2025": "模板（gk2021，2021年度起）：表二、表三、表四各一页，填报说明",
    "标注xlsx": "标注副本：.xlsx报送表（东园镇2025，两项上年比对提醒）",
    "标注xls": "标注副本：.xls报送表（按模板重新生成，一项错误、一项提醒）",
    "汇总2018": "区汇总表（2018年样例）",
    "汇总2025": "区汇总表（2025年样例，含本年与上年）",
    "汇总2025无上年": "区汇总表（2025年样例，不含上年）",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        profile = make_profile(work / "profile")
        made = build(work / "out", profile)
        pdfs = convert(list(made.values()), "pdf", work / "pdf", profile)
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        lines = ["# 各输出的打印页面", "",
                 "由 `python docs/make_pictures.py` 生成：样例数据生成的每个工作簿经 LibreOffice 打印为 PDF，每页一张图。", ""]
        for name, pdf in zip(made, pdfs, strict=True):
            count = len(pdf_pages(pdf))
            subprocess.run(["pdftoppm", "-r", str(args.dpi), "-png", str(pdf), str(OUT / name)], check=True)
            pictures = sorted(OUT.glob(f"{name}-*.png"))
            assert len(pictures) == count, (name, count, len(pictures))
            lines += [f"## {WHAT[name]}（{count}页）", ""]
            lines += [f"![{name} 第{i}页](pictures/{p.name})" for i, p in enumerate(pictures, start=1)]
            lines.append("")
    INDEX.write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(list(OUT.glob('*.png')))} pictures in {OUT.relative_to(ROOT)}, index {INDEX.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
