"""One truth per unit, in a real browser (Debian's Chromium through Playwright, as
`test_site_browser`) against the real server: a unit link refuses another unit's workbook and a
summary (errors; nobody else changes), a worse upload after a pass waits for the unit, and after
a restart with ``--previous`` every unit's page, the register and the 催报 text say the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import site_server
from site_books import REGION, ROSTER, YEAR, previous_summary, return_bytes

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)",
                allow_module_level=True)


def send(page: Page, path: Path) -> None:
    """Upload as a clerk does (the page's script posts the file, then goes to the verdict)."""
    page.set_input_files("form.upload input[type=file]", str(path))
    with page.expect_navigation(timeout=60000):  # the page shown before may hold an older #result
        page.click("form.upload button[type=submit]")
    page.wait_for_selector("#result, #confirm")


@pytest.mark.timeout(300)
def test_whose_return_and_one_truth_after_a_restart(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("代码,名称\n" + "".join(f"{u.code},{u.name}\n" for u in ROSTER), encoding="utf-8")
    a, b, c = ROSTER
    theirs = return_bytes(tmp_path, b, seed=1, name="政府办的表.xlsx")
    own_a, own_b = return_bytes(tmp_path, a), return_bytes(tmp_path, b, seed=1)
    worse = return_bytes(tmp_path, a, faulty=True, name="机关事务局_改错了.xlsx")
    last_year = previous_summary(tmp_path)
    data = tmp_path / "data"
    server = site_server.start(data, roster, year=YEAR, region=REGION)
    try:
        links = server.links()
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                unit = browser.new_context(locale="zh-CN").new_page()
                unit.goto(links[a.code])
                assert ".docx" in unit.locator("form.upload .drop .muted").inner_text()  # every kind read
                send(unit, theirs)  # 政府办's workbook through 机关事务局's link
                assert unit.locator("#state").inner_text() == "未通过"
                assert f"这是{b.name}的报表" in unit.locator("table.findings").inner_text()
                unit.goto(links[b.code])
                assert unit.locator("#state").inner_text() == "未报送"  # nobody else changed

                unit.goto(links[c.code])
                send(unit, last_year)  # a summary through a unit link
                assert unit.locator("#state").inner_text() == "未通过"
                assert "只接收本单位" in unit.locator("table.findings").inner_text()
                unit.goto(links[b.code])
                assert unit.locator("#state").inner_text() == "未报送"

                for code, path in ((a.code, own_a), (b.code, own_b)):
                    unit.goto(links[code])
                    send(unit, path)
                    assert unit.locator("#state").inner_text() == "已通过"
                    assert "已报送成功，区政务公开办已收到" in unit.locator("#verdict").inner_text()

                unit.goto(links[a.code])
                send(unit, worse)  # a worse upload after a pass: asked first
                assert "以最后一次上传为准" in unit.locator("#confirm").inner_text()
                with unit.expect_navigation():
                    unit.click("#keep-passed")
                unit.wait_for_selector("#result")
                assert unit.locator("#state").inner_text() == "已通过"
            finally:
                browser.close()
    finally:
        server.stop()

    # the restart: last year's summary given; the office signs in with a new password
    server = site_server.start(data, roster, year=YEAR, region=REGION,
                               extra=("--previous", str(last_year), "--reset-password"))
    links = {code: server.base + "/u/" + link.split("/u/")[1] for code, link in links.items()}  # its new port
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
                desk.goto(server.base + "/office/login")
                desk.fill("input[name=password]", server.password)
                desk.click("button[type=submit]")
                desk.wait_for_url(server.base + "/office")
                register = {u.code: desk.locator(f'tr[data-id="{i}"] .badge').inner_text()
                            for i, u in enumerate(ROSTER, 1)}
                desk.goto(server.base + "/office/reminder")
                reminder = desk.locator("textarea.reminder").input_value()
                phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800}).new_page()
                said = {}
                for u in ROSTER:
                    phone.goto(links[u.code])
                    said[u.code] = phone.locator("#state").inner_text()
                    inside = phone.evaluate(
                        "Array.from(document.querySelectorAll('.card')).every("
                        "c => c.getBoundingClientRect().right <= window.innerWidth + 1)")
                    assert inside, u.name  # on a phone the findings table stays in its card
                    verdict = phone.locator("#verdict").inner_text()
                    if said[u.code] == "提醒待说明":
                        assert "根据上年数据重新校验：原结论“已通过”，现为“提醒待说明”" in phone.locator(
                            "#result").inner_text()
                        assert "已通过" not in verdict and "提醒" in verdict
                        assert "单元格（“情况说明”列）填写原因" in phone.locator("table.findings").inner_text()
            finally:
                browser.close()
    finally:
        server.stop()
    assert said == register  # the unit pages and the register agree on every unit
    assert said == {a.code: "提醒待说明", b.code: "提醒待说明", c.code: "未通过"}
    explain = reminder.split("有提醒待说明")[1]
    failing = reminder.split("已报送但未通过")[1].split("有提醒待说明")[0]
    assert a.name in explain and b.name in explain and c.name in failing  # the 催报 text agrees too
    assert a.name not in failing and b.name not in failing
    assert not re.search(r"提醒0", reminder)
