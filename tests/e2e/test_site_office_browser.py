"""The office's pages in a real browser (Debian's Chromium through Playwright, as
test_site_browser.py): the 29 sample units' links copied from the 发放链接 page and followed by a
unit, the deadline on its page, the register printed to PDF on one A4 landscape page, and the
register's filters kept after opening a unit.

Writes the screenshot of the 发放链接 page to ``docs/site-links.png`` (linked from the README).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

import site_server

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
CONTACT = "区政务公开办 李明 0955-7012345"
KEEP_PDF = os.environ.get("XXGK_KEEP_PDF", "")  # a path: keep the printed register there, to look at

sync_api = pytest.importorskip("playwright.sync_api")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)",
                allow_module_level=True)


def roster_with_categories(path: Path) -> Path:
    """The sample roster (29 units) with a 类别 column: 部门 and 乡镇 by their codes."""
    lines = (SAMPLES / "roster.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [lines[0] + ",类别"] + [f"{x},{'乡镇' if x.split(',')[0][-3] == '1' else '部门'}" for x in lines[1:] if x]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def pdf_pages(path: Path) -> tuple[int, float, float]:
    """Pages, and the first page's width and height in points, as poppler's pdfinfo reads them."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert pages and size, info
    return int(pages.group(1)), float(size.group(1)), float(size.group(2))


@pytest.mark.timeout(300)
def test_links_deadline_and_printed_register(tmp_path: Path) -> None:
    roster = roster_with_categories(tmp_path / "roster.csv")
    port = site_server.free_port()
    base = f"http://127.0.0.1:{port}"
    server = site_server.start(tmp_path / "data", roster, port=port,
                               extra=("--base-url", base, "--deadline", "2026-01-31", "--contact", CONTACT))
    returns = sorted((SAMPLES / "returns" / "2025").glob("*.xlsx"))
    docs = ROOT / "docs"
    try:
        links = server.links()
        assert len(links) == 29
        with httpx.Client(timeout=60) as client:  # most units have reported: a register as it looks mid-cycle
            for path in returns[:20]:
                reply = site_server.upload(client, links[path.name.split("_")[0]], path)
                assert reply.status_code == 200, reply.text
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                             permissions=["clipboard-read", "clipboard-write"])
                desk = office.new_page()
                desk.goto(base + "/office/login")
                desk.fill("input[name=password]", server.password)
                desk.click("button[type=submit]")
                desk.wait_for_url(base + "/office")

                desk.click("nav >> text=发放链接")
                desk.wait_for_url(base + "/office/links")
                assert desk.locator("table.links tbody tr").count() == 29
                assert desk.locator("#local-warning").count() == 1  # 127.0.0.1: only this computer opens it
                row = desk.locator("table.links tbody tr").nth(3)
                row.locator("button.copy").first.click()
                sync_api.expect(row.locator(".copied").first).to_have_text("已复制")
                copied = desk.evaluate("navigator.clipboard.readText()")
                assert copied.startswith(base + "/u/") and copied == links["640502004"]
                assert desk.locator("img.qr").first.evaluate("i => i.complete && i.naturalWidth > 0")
                notice = desk.locator("#notice-all").input_value()
                assert "2026年1月31日前" in notice and CONTACT in notice and copied in notice

                unit = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
                unit.goto(copied)
                assert unit.locator("h1").inner_text() == "沙坡头区教育局"
                assert unit.locator("#deadline").inner_text() == "2026年1月31日"
                assert CONTACT in unit.locator("#contact").inner_text()

                desk.goto(base + "/office")
                progress = desk.locator("#progress").inner_text()
                assert re.match(r"已通过 \d+/29", progress) and "截止 2026-01-31" in progress
                assert desk.locator("tr.group").count() == 2
                desk.click("button.filter.missing")
                sync_api.expect(desk.locator("table.register tbody tr[data-id]:visible")).to_have_count(9)
                desk.locator("table.register tbody tr[data-id]:visible a").first.click()
                desk.wait_for_url(re.compile(r".*/office/unit/\d+$"))
                desk.go_back()
                desk.wait_for_url(base + "/office")
                # the filter chosen before opening the unit still holds
                sync_api.expect(desk.locator("table.register tbody tr[data-id]:visible")).to_have_count(9)
                desk.click("button.filter[data-state='']")
                sync_api.expect(desk.locator("table.register tbody tr[data-id]:visible")).to_have_count(29)

                printed = tmp_path / "register.pdf"
                desk.pdf(path=str(printed), prefer_css_page_size=True, print_background=True)
                pages, width, height = pdf_pages(printed)
                if KEEP_PDF:
                    shutil.copy(printed, KEEP_PDF)
                assert pages == 1, f"the register printed on {pages} pages"
                assert abs(width - 842) < 2 and abs(height - 595) < 2  # A4 landscape

                # the address units will open, set on the settings page: the links follow (a screenshot)
                desk.click("nav >> text=设置")
                desk.fill("input[name=base_url]", "http://192.168.1.10:8000")
                desk.click("form.settings button[type=submit]")
                assert "链接地址：http://192.168.1.10:8000" in desk.locator(".alert.good").inner_text()
                desk.click("nav >> text=发放链接")
                assert desk.locator("#local-warning").count() == 0
                first = desk.locator("table.links input.link").first.input_value()
                assert first == links["640502001"].replace(base, "http://192.168.1.10:8000")
                desk.set_viewport_size({"width": 1280, "height": 1100})
                desk.locator("table.links").scroll_into_view_if_needed()
                desk.evaluate("window.scrollTo(0, 0)")
                desk.screenshot(path=str(docs / "site-links.png"))
                office.close()
            finally:
                browser.close()
    finally:
        server.stop()
