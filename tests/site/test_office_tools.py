"""The office's tools over HTTP: the 发放链接 page (links, QR codes, 通知, .xlsx), the settings
(link address, deadline, contact) and what they change on the units' pages and the register,
退回 with a note, the audit log's filter and CSV, the summary and templates with last year."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from site_books import REGION, ROSTER, YEAR, Site, open_site
from xxgk.check.file import check_file
from xxgk.cli.main import main
from xxgk.cycle.roster import Unit
from xxgk.read.open import read
from xxgk.site import datadir

ROOT = Path(__file__).resolve().parents[2]
PREVIOUS = ROOT / "samples" / "previous" / "沙坡头区2024年汇总.xlsx"


def settings(site: Site, **fields: str) -> str:
    reply = site.client.post("/office/settings", data={"csrf": site.office_csrf(), "base_url": "", "deadline": "",
                                                       "contact": "", **fields})
    return str(reply.text)


def test_links_page_has_every_units_working_link(site: Site) -> None:
    site.sign_in()
    settings(site, base_url="http://192.168.1.10:8000/", deadline="2026-01-31", contact="区政务公开办 张三 0955-1234567")
    page = site.client.get("/office/links")
    assert page.status_code == 200 and "局域网" not in page.text
    shown = re.findall(r'value="(http://192\.168\.1\.10:8000/u/[A-Za-z0-9_-]{43})"', page.text)
    assert len(shown) == len(ROSTER)
    for member, link in zip(ROSTER, shown, strict=True):
        opened = site.client.get(link.removeprefix("http://192.168.1.10:8000"))
        assert opened.status_code == 200 and f"<h1>{member.name}</h1>" in opened.text
    notice = page.text.split('id="notice-all"')[1].split("</textarea>")[0]
    for said in ("2026年1月31日前", "区政务公开办 张三 0955-1234567", "1. 打开链接", "3. ", *shown):
        assert said in notice
    unit = site.opened.store.units()[0]
    qr = site.client.get(f"/office/links/qr/{unit.id}.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and b"<path" in qr.content
    assert site.client.get("/office/links/qr/999.svg").status_code == 404
    # the file handed out elsewhere follows the address the office set
    rows = list(csv.reader(io.StringIO((site.data / "单位链接.csv").read_text(encoding="utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == shown


def test_links_page_warns_about_a_local_address(site: Site) -> None:
    site.sign_in()
    page = site.client.get("/office/links")
    assert 'id="local-warning"' in page.text and "--base-url" in page.text and "尚未设置报送截止日期" in page.text


def test_links_workbook(site: Site) -> None:
    site.sign_in()
    settings(site, deadline="2026-01-31")
    reply = site.client.get("/office/links.xlsx")
    assert reply.status_code == 200 and "filename*=UTF-8''" in reply.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(reply.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("序号", "类别", "代码", "单位", "链接", "截止日期", "通知")
    tokens = datadir.current_tokens(site.opened.store)
    for row, unit in zip(rows[1:], site.opened.store.units(), strict=True):
        assert row[2:6] == (unit.code, unit.name, f"http://127.0.0.1:8000/u/{tokens[unit.id]}", "2026-01-31")
        assert str(row[4]) in str(row[6]) and unit.name in str(row[6])


def test_new_link_shows_on_the_links_page(site: Site) -> None:
    site.sign_in()
    unit = site.opened.store.units()[2]
    reply = site.client.post(f"/office/unit/{unit.id}/link", data={"csrf": site.office_csrf()})
    found = re.search(r"/u/[A-Za-z0-9_-]{43}", reply.text)
    assert found and 'href="/office/links"' in reply.text  # the menu, and the way to the links page
    page = site.client.get("/office/links").text
    assert found.group(0) in page and site.links[unit.code] not in page


def test_settings_reach_the_unit_page_and_are_checked(site: Site) -> None:
    site.sign_in()
    done = settings(site, deadline="2026-01-31", contact="区政务公开办 张三 0955-1234567")
    assert "已保存" in done and "2026-01-31" in done
    page = site.client.get(site.links[ROSTER[0].code]).text
    assert 'data-date="2026-01-31">2026年1月31日<' in page and "区政务公开办 张三 0955-1234567" in page
    bad = site.client.post("/office/settings", data={"csrf": site.office_csrf(), "deadline": "2026-02-30",
                                                     "base_url": "", "contact": ""})
    assert bad.status_code == 400 and "截止日期" in bad.text
    slip = site.client.post("/office/settings", data={"csrf": site.office_csrf(), "deadline": "2025-01-31",
                                                      "base_url": "", "contact": ""})
    assert slip.status_code == 400 and "请写2026年的日期" in slip.text  # a 2025 return is made in 2026
    assert datadir.cycle_settings(site.opened.store).deadline == dt.date(2026, 1, 31)  # the kept one stays
    bad = site.client.post("/office/settings", data={"csrf": site.office_csrf(), "deadline": "",
                                                     "base_url": "javascript:alert(1)", "contact": ""})
    assert bad.status_code == 400 and "链接地址" in bad.text
    assert datadir.cycle_settings(site.opened.store).base_url == ""
    refused = site.client.post("/office/settings", data={"deadline": "2027-01-01"})
    assert refused.status_code == 403
    assert any(r[2] == "修改设置" for r in site.opened.store.audit_rows().rows)


def test_register_deadline_progress_and_signer(site: Site, files: dict[str, Path]) -> None:
    site.sign_in()
    past = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    settings(site, deadline=past)
    site.upload(ROSTER[0].code, files["good"])
    page = site.client.get("/office").text
    assert "已通过 1/3 · 逾期 2 · 截止 " + past in page
    assert page.count('class="due late">逾期3天<') == 2  # the two still missing
    assert page.count('class="due late">逾期3天报送<') == 1  # passed today, three days late
    lines = site.client.get("/office/register.json").json()
    assert lines["progress"].startswith("已通过 1/3 · 逾期 2")
    first = lines["lines"][0]
    assert first["due"] == "逾期3天报送" and first["late"]
    assert first["filler"] and first["phone"] and f'<td class="filler">{first["filler"]}</td>' in page
    later = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    settings(site, deadline=later)
    assert "剩余5天" in site.client.get("/office").text


def test_register_groups_by_category(tmp_path: Path) -> None:
    roster = [Unit(u.code, u.name, kind) for u, kind in zip(ROSTER, ("部门", "乡镇", "部门"), strict=True)]
    s = open_site(tmp_path / "data", roster=roster)
    try:
        s.sign_in()
        page = s.client.get("/office").text
        heads = re.findall(r'<tr class="group"><th colspan="\d+">(\S+) ', page)
        assert heads == ["部门", "乡镇"]
        body = page.split('<tr class="group">')
        assert ROSTER[0].name in body[1] and ROSTER[2].name in body[1] and ROSTER[1].name in body[2]
    finally:
        s.close()


def test_send_back_with_a_note(site: Site, files: dict[str, Path]) -> None:
    site.upload(ROSTER[0].code, files["good"])
    site.sign_in()
    unit = site.opened.store.units()[0]
    empty = site.client.post(f"/office/unit/{unit.id}/send-back", data={"csrf": site.office_csrf(), "note": " "})
    assert empty.status_code == 400
    none = site.client.post(f"/office/unit/{site.opened.store.units()[1].id}/send-back",
                            data={"csrf": site.office_csrf(), "note": "x"})
    assert none.status_code == 409
    reply = site.client.post(f"/office/unit/{unit.id}/send-back",
                             data={"csrf": site.office_csrf(), "note": "第三表与纸质件不符"}, follow_redirects=False)
    assert reply.status_code == 303
    page = site.client.get(site.links[ROSTER[0].code]).text
    assert 'id="sent-back"' in page and "第三表与纸质件不符" in page
    line = site.client.get("/office/register.json").json()["lines"][0]
    assert line["state"] == "failing" and "第三表与纸质件不符" in line["detail"]
    assert "第三表与纸质件不符" in site.client.get(f"/office/unit/{unit.id}").text
    site.upload(ROSTER[0].code, files["good"])  # uploaded again: the 退回 is over
    assert 'id="sent-back"' not in site.client.get(site.links[ROSTER[0].code]).text
    assert site.client.get("/office/register.json").json()["lines"][0]["state"] == "passed"


def test_exempt_unit_sees_no_upload_steps(site: Site) -> None:
    site.sign_in()
    unit = site.opened.store.units()[1]
    site.client.post(f"/office/unit/{unit.id}/exempt", data={"csrf": site.office_csrf(), "reason": "机构撤并"})
    page = site.client.get(site.links[unit.code]).text
    assert 'id="exempt"' in page and "form.upload" not in page and 'class="upload"' not in page
    assert "/template\"" not in page


def test_office_template_and_menus(site: Site, tmp_path: Path) -> None:
    site.sign_in()
    unit = site.opened.store.units()[1]
    page = site.client.get(f"/office/unit/{unit.id}").text
    assert f'href="/office/unit/{unit.id}/template"' in page
    reply = site.client.get(f"/office/unit/{unit.id}/template")
    path = tmp_path / "t.xlsx"
    path.write_bytes(reply.content)
    assert read(path).identity.agency_code == unit.code
    for where in ("/office/reminder", "/office/audit", "/office/links", "/office/settings"):
        shown = site.client.get(where).text
        assert 'action="/office/logout"' in shown and 'href="/office/links"' in shown, where


def test_audit_filter_and_csv(site: Site, files: dict[str, Path]) -> None:
    site.client.get(site.links[ROSTER[0].code] + "/template")
    site.upload(ROSTER[1].code, files["good2"])
    site.sign_in()
    page = site.client.get("/office/audit", params={"action": "上传报表"}).text
    assert ROSTER[1].name in page and "下载模板</td>" not in page
    by_who = site.client.get("/office/audit", params={"who": ROSTER[0].name}).text
    assert "下载模板" in by_who and "上传报表</td>" not in by_who
    none = site.client.get("/office/audit", params={"since": "2999-01-01"}).text
    assert "没有符合条件的记录" in none
    exported = site.client.get("/office/audit.csv", params={"text": ROSTER[1].name})
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "操作", "内容", "来源地址"] and len(rows) >= 2
    assert all(ROSTER[1].name in "".join(r) for r in rows[1:])


def test_summary_and_templates_with_last_year(tmp_path: Path, files: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    s = open_site(tmp_path / "data", previous=PREVIOUS)
    try:
        template = s.client.get(s.links[ROSTER[0].code] + "/template")
        path = tmp_path / "template.xlsx"
        path.write_bytes(template.content)
        carried = s.service.previous.carried(s.service.form, ROSTER[0].code) if s.service.previous else {}
        assert carried and {"t3.2.1", "t2_1.1.3"} <= set(carried)
        values = check_file(path).values
        assert all(values.get(k) == v for k, v in carried.items())
        s.upload(ROSTER[0].code, files["good"])
        s.upload(ROSTER[1].code, files["good2"])
        s.sign_in()
        served = s.client.get("/office/summary.xlsx").content
    finally:
        s.close()
    book = openpyxl.load_workbook(io.BytesIO(served))
    assert {"本年与上年", "本年与上年（按单位）"} <= set(book.sheetnames)
    merged_dir = tmp_path / "merged"
    merged_dir.mkdir()
    for name in ("good", "good2"):
        shutil.copy(files[name], merged_dir / files[name].name)
    monkeypatch.chdir(merged_dir)
    roster = tmp_path / "roster.csv"
    roster.write_text("代码,名称\n" + "".join(f"{u.code},{u.name}\n" for u in ROSTER), encoding="utf-8")
    CliRunner().invoke(main, ["merge", files["good"].name, files["good2"].name, "--roster", str(roster),
                              "--region", REGION, "--year", str(YEAR), "--previous", str(PREVIOUS),
                              "-o", str(tmp_path / "merged.xlsx")])
    merged = openpyxl.load_workbook(tmp_path / "merged.xlsx")
    assert merged.sheetnames == book.sheetnames
    for name in ("本年与上年", "本年与上年（按单位）"):
        assert [list(r) for r in merged[name].iter_rows(values_only=True)] == \
               [list(r) for r in book[name].iter_rows(values_only=True)], name


def test_reminder_per_unit_with_link_deadline_and_contact(site: Site, files: dict[str, Path]) -> None:
    site.upload(ROSTER[0].code, files["bad"])
    site.upload(ROSTER[1].code, files["good2"])
    site.sign_in()
    later = dt.date.today() + dt.timedelta(days=4)
    settings(site, deadline=later.isoformat(), contact="区政务公开办 张三 0955-1234567")
    page = site.client.get("/office/reminder").text
    chased = dict(re.findall(r'<textarea id="chase-(\d+)"[^>]*>([^<]*)</textarea>', page))
    units = site.opened.store.units()
    assert set(chased) == {str(units[0].id), str(units[2].id)}  # the passed unit is left alone
    tokens = datadir.current_tokens(site.opened.store)
    for unit in (units[0], units[2]):
        text = chased[str(unit.id)]
        assert f"/u/{tokens[unit.id]}" in text and f"{later.month}月{later.day}日" in text and "还有4天" in text
        assert "0955-1234567" in text
    assert "尚未报送" in chased[str(units[2].id)] and "未通过" in chased[str(units[0].id)]
    assert 'action="/office/logout"' in page
    # the text for all says the same deadline and contact as every unit's page and 催报
    plain = site.client.get("/office/reminder?download=1").text
    assert f"报送截止：{later.year}年{later.month}月{later.day}日（还有4天）" in plain
    assert "联系方式：区政务公开办 张三 0955-1234567" in plain
    settings(site, deadline=(dt.date.today() - dt.timedelta(days=2)).isoformat(), contact="")
    plain = site.client.get("/office/reminder?download=1").text
    assert "（已逾期2天）" in plain and "联系方式" not in plain


def test_marked_copy_offered_only_for_a_readable_spreadsheet(site: Site, files: dict[str, Path], tmp_path: Path) -> None:
    pdf = tmp_path / "统计表.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    site.upload(ROSTER[0].code, pdf)
    site.upload(ROSTER[0].code, files["bad"])
    site.sign_in()
    unit = site.opened.store.units()[0]
    bad, pdf_up = site.opened.store.uploads(unit.id)
    page = site.client.get(f"/office/unit/{unit.id}").text
    assert f'href="/office/annotated/{bad.id}"' in page and f'href="/office/annotated/{pdf_up.id}"' not in page
    assert site.client.get(f"/office/annotated/{bad.id}").status_code == 200


def test_links_of_a_directory_made_before_they_were_kept(site: Site) -> None:
    store = site.opened.store
    kept = datadir.current_tokens(store)
    with store.transaction() as db:  # as an earlier version left it: the links only in 单位链接.csv
        db.execute("DELETE FROM meta WHERE key = ?", (datadir.TOKENS,))
    assert datadir.current_tokens(store) == {}
    assert datadir.recover_tokens(store) == len(ROSTER)
    assert datadir.current_tokens(store) == kept
    assert datadir.recover_tokens(store) == 0  # once
