"""The site in a real browser: Debian's Chromium, headless, driven by Playwright (launched with
``executable_path``: Playwright's own browser download does not work offline) against the real
server.  A unit downloads its template, uploads a faulty return, reads the findings, uploads
the corrected one and sees 已通过; meanwhile the office's register changes without a reload,
and the summary it downloads is the workbook `xxgk merge` writes from the same files.

Screenshots of the unit's page and the register are written to ``docs/`` (linked from the README).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import site_server
from site_books import REGION, ROSTER, YEAR, return_bytes
from xxgk.cli.main import main
from xxgk.read.open import read

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
# what differs between two writes of one summary: when (and the id of the write)
STAMP = re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2}|Z)?|\b[0-9a-f]{32}\b")

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():  # CI installs it (.ci/run); a developer without it is told, not failed
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)",
                allow_module_level=True)


def same_workbook(a: Path, b: Path) -> None:
    """Byte for byte, part by part, apart from timestamps and write ids."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            assert STAMP.sub(b"#", za.read(name)) == STAMP.sub(b"#", zb.read(name)), name


@pytest.mark.timeout(300)
def test_unit_and_office_in_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("代码,名称\n" + "".join(f"{u.code},{u.name}\n" for u in ROSTER), encoding="utf-8")
    returns = tmp_path / "returns"
    returns.mkdir()
    faulty = return_bytes(returns, ROSTER[0], faulty=True, name="a_机关事务局_初稿.xlsx")
    good = return_bytes(returns, ROSTER[0], name="b_机关事务局_修改稿.xlsx")
    other = return_bytes(returns, ROSTER[1], seed=1, name="c_政府办.xlsx")
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    server = site_server.start(tmp_path / "data", roster, year=YEAR, region=REGION,
                               extra=("--deadline", deadline, "--contact", "区政务公开办 张三 0955-1234567"))
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    try:
        links = server.links()
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                office = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900},
                                             locale="zh-CN")
                desk = office.new_page()
                desk.goto(server.base + "/office")
                assert desk.url.endswith("/office/login")
                desk.fill("input[name=password]", server.password)
                desk.click("button[type=submit]")
                desk.wait_for_url(server.base + "/office")
                row = desk.locator(f"tr[data-id] >> text={ROSTER[0].name}").locator("xpath=ancestor::tr")
                assert row.locator(".badge").inner_text() == "未报送"
                desk.evaluate("window.__notReloaded = true")

                unit = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900},
                                           locale="zh-CN").new_page()
                unit.goto(links[ROSTER[0].code])
                assert unit.locator("h1").inner_text() == ROSTER[0].name
                assert unit.locator("#state").inner_text() == "未报送"
                with unit.expect_download() as got:
                    unit.click("text=下载模板")
                template = tmp_path / "template.xlsx"
                got.value.save_as(template)
                ident = read(template).identity
                assert (ident.agency_code, ident.year) == (ROSTER[0].code, YEAR)

                unit.set_input_files("form.upload input[type=file]", str(faulty))
                unit.click("form.upload button[type=submit]")
                unit.wait_for_selector("#result .verdict.bad")
                assert unit.locator("#state").inner_text() == "未通过"
                findings = unit.locator("table.findings tbody tr")
                assert findings.count() >= 1
                assert "不能为负数" in findings.first.inner_text() and "C7" in findings.first.inner_text()
                assert unit.locator("table.figures td.error").count() >= 1
                unit.set_viewport_size({"width": 1280, "height": 1500})
                unit.evaluate("window.scrollTo(0, 0)")
                unit.screenshot(path=str(docs / "site-unit.png"))

                expect = sync_api.expect
                expect(desk.locator('tr[data-id="1"] .badge')).to_have_text("未通过", timeout=15000)

                unit.set_input_files("form.upload input[type=file]", str(good))
                unit.click("form.upload button[type=submit]")
                unit.wait_for_selector("#result .verdict.good")
                assert unit.locator("#state").inner_text() == "已通过"
                assert unit.locator("table.list tbody tr").count() == 2  # the history

                second = browser.new_context().new_page()
                second.goto(links[ROSTER[1].code])
                second.set_input_files("form.upload input[type=file]", str(other))
                second.click("form.upload button[type=submit]")
                second.wait_for_selector("#result .verdict.good")

                expect(desk.locator('tr[data-id="1"] .badge')).to_have_text("已通过", timeout=15000)
                expect(desk.locator('tr[data-id="2"] .badge')).to_have_text("已通过", timeout=15000)
                assert desk.evaluate("window.__notReloaded") is True  # changed live, not reloaded
                assert desk.locator("[data-count=passed]").inner_text() == "2"
                desk.wait_for_timeout(2500)  # the changed rows' highlight fades
                desk.screenshot(path=str(docs / "site-register.png"), full_page=False)
                desk.click("button.filter.missing")  # the filters and the search work in the page
                expect(desk.locator("table.register tbody tr:visible")).to_have_count(1)
                desk.click("button.filter[data-state='']")
                desk.fill("input.search", "人民政府")
                expect(desk.locator("table.register tbody tr:visible")).to_have_text([re.compile(ROSTER[1].name)])

                with desk.expect_download() as got:
                    desk.click("text=下载汇总表")
                served = tmp_path / "served.xlsx"
                got.value.save_as(served)
            finally:
                browser.close()
    finally:
        server.stop()
    # `xxgk merge` of the same current returns, named as they were uploaded
    merged_dir = tmp_path / "merged"
    merged_dir.mkdir()
    for path in (good, other):
        shutil.copy(path, merged_dir / path.name)
    monkeypatch.chdir(merged_dir)
    result = CliRunner().invoke(main, ["merge", good.name, other.name, "--roster", str(roster), "--region", REGION,
                                       "--year", str(YEAR),
                                       "-o", str(tmp_path / "merged.xlsx")])
    assert result.exit_code == 1, result.output  # one roster unit is still missing
    same_workbook(served, tmp_path / "merged.xlsx")
