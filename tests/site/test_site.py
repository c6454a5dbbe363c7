"""The site over HTTP (Starlette's test client): every route's status, content and permissions."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from site_books import ROSTER, Site, open_site


def test_home_and_static(site: Site) -> None:
    page = site.client.get("/")
    assert page.status_code == 200 and "专属链接" in page.text
    css = site.client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["x-content-type-options"] == "nosniff"
    assert site.client.get("/static/site.js").status_code == 200


def test_unit_page_before_any_upload(site: Site) -> None:
    page = site.client.get(site.links[ROSTER[0].code])
    assert page.status_code == 200
    assert ROSTER[0].name in page.text and "未报送" in page.text and "2025" in page.text
    assert "次年1月31日前报送" in page.text  # the form's deadline
    assert "本单位尚未上传统计表" in page.text
    for header in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert header in page.headers
    assert "'self'" in page.headers["content-security-policy"]


def test_template_download_is_the_units_own(site: Site, tmp_path: Path) -> None:
    reply = site.client.get(site.links[ROSTER[1].code] + "/template")
    assert reply.status_code == 200
    assert "filename*=UTF-8''" in reply.headers["content-disposition"]
    path = tmp_path / "t.xlsx"
    path.write_bytes(reply.content)
    from xxgk.read.open import read

    ident = read(path).identity
    assert (ident.agency_code, ident.agency_name, ident.year) == (ROSTER[1].code, ROSTER[1].name, 2025)


def test_faulty_then_corrected_upload(site: Site, files: dict[str, Path]) -> None:
    code = ROSTER[0].code
    reply = site.upload(code, files["bad"])
    assert reply.status_code == 200 and reply.json()["ok"] and not reply.json()["valid"]  # type: ignore[attr-defined]
    page = site.client.get(site.links[code])
    assert "未通过" in page.text and "不能为负数" in page.text and "C7" in page.text
    assert 'class="num error' in page.text  # the problem cell marked in the figures
    assert "下载批注副本" in page.text
    upload_id = site.opened.store.uploads(site.opened.store.units()[0].id)[0].id
    copy = site.client.get(f"{site.links[code]}/annotated/{upload_id}")
    assert copy.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(copy.content))
    assert "校验结果" in book.sheetnames
    assert "%E6%A0%A1%E9%AA%8C%E7%BB%93%E6%9E%9C" in copy.headers["content-disposition"]  # 校验结果

    reply = site.upload(code, files["good"])
    assert reply.json()["valid"]  # type: ignore[attr-defined]
    page = site.client.get(site.links[code])
    assert "已通过" in page.text and page.text.count("<tr><td>20") == 2  # both uploads in the history
    original = site.client.get(f"{site.links[code]}/file/{upload_id}")
    assert original.content == files["bad"].read_bytes()


def test_upload_without_javascript_redirects_to_the_result(site: Site, files: dict[str, Path]) -> None:
    link = site.links[ROSTER[0].code]
    with files["good"].open("rb") as fh:
        reply = site.client.post(f"{link}/upload", data={"csrf": site.csrf(link)},
                                 files={"file": ("a.xlsx", fh)}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == f"{link}#result"


def test_unit_cannot_reach_another_units_files(site: Site, files: dict[str, Path]) -> None:
    site.upload(ROSTER[1].code, files["good2"])
    theirs = site.opened.store.uploads()[0].id
    mine = site.links[ROSTER[0].code]
    missing = site.client.get("/u/nothing-here")
    for path in (f"{mine}/file/{theirs}", f"{mine}/annotated/{theirs}"):
        reply = site.client.get(path)
        assert reply.status_code == 404
    # uploading with A's link and B's CSRF token is refused
    with files["good"].open("rb") as fh:
        reply = site.client.post(f"{mine}/upload", data={"csrf": site.csrf(site.links[ROSTER[1].code])},
                                 files={"file": ("x.xlsx", fh)})
    assert reply.status_code == 403
    assert missing.status_code == 404


def test_wrong_token_looks_like_a_missing_page(site: Site) -> None:
    wrong = site.client.get("/u/" + "A" * 43)
    nowhere = site.client.get("/no/such/page")
    assert wrong.status_code == nowhere.status_code == 404
    assert wrong.text == nowhere.text
    assert dict(wrong.headers).keys() == dict(nowhere.headers).keys()
    assert site.client.get("/u/" + "A" * 43 + "/template").text == nowhere.text


def test_post_without_csrf_is_refused(site: Site, files: dict[str, Path]) -> None:
    link = site.links[ROSTER[0].code]
    with files["good"].open("rb") as fh:
        reply = site.client.post(f"{link}/upload", files={"file": ("x.xlsx", fh)})
    assert reply.status_code == 403 and "请求已失效" in reply.text
    assert site.opened.store.uploads() == []
    site.sign_in()
    unit = site.opened.store.units()[0]
    assert site.client.post(f"/office/unit/{unit.id}/exempt", data={"reason": "x"}).status_code == 403
    assert site.client.post(f"/office/unit/{unit.id}/link", data={"csrf": "0" * 64}).status_code == 403
    assert site.client.post("/office/logout").status_code == 403
    assert site.client.post("/office/login", data={"password": "x"}).status_code == 403


def test_oversized_upload_is_refused_while_streaming(tmp_path: Path) -> None:
    site = open_site(tmp_path / "data", max_upload=1024 * 1024)
    try:
        link = site.links[ROSTER[0].code]
        big = b"PK\x03\x04" + b"\0" * (2 * 1024 * 1024)
        reply = site.client.post(f"{link}/upload", data={"csrf": site.csrf(link)},
                                 files={"file": ("big.xlsx", big)})
        assert reply.status_code == 413 and "1MB" in reply.text
        assert site.opened.store.uploads() == []
        assert not any(p.is_file() for p in (site.data / "files").rglob("*"))
        assert site.client.get(link).status_code == 200  # still answering
    finally:
        site.close()


def test_oversized_upload_without_a_length_is_cut_off_while_streaming(tmp_path: Path) -> None:
    site = open_site(tmp_path / "data", max_upload=1024 * 1024)
    try:
        link = site.links[ROSTER[0].code]
        csrf = site.csrf(link)
        def body() -> Iterator[bytes]:  # chunked: no Content-Length to refuse up front
            yield (f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
                   '--b\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n\r\n').encode()
            for _ in range(64):
                yield b"\0" * 65536
            yield b"\r\n--b--\r\n"

        reply = site.client.post(f"{link}/upload", content=body(),
                                 headers={"content-type": "multipart/form-data; boundary=b"})
        assert reply.status_code == 413 and "1MB" in reply.text
        assert site.opened.store.uploads() == []
        assert not any(p.is_file() for p in (site.data / "files").rglob("*"))
        assert site.client.get(link).status_code == 200
    finally:
        site.close()


@pytest.mark.parametrize(("payload", "said"), [
    (b"", "空的"),
    (b"%PDF-1.4 hello", "PDF"),
    (b"PK\x03\x04garbage-not-a-zip" * 10, ""),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ""),
    (b"<html><script>alert(1)</script></html>", ""),
])
def test_hostile_uploads_get_a_chinese_finding_and_no_traceback(site: Site, payload: bytes, said: str) -> None:
    link = site.links[ROSTER[0].code]
    reply = site.client.post(f"{link}/upload", data={"csrf": site.csrf(link)},
                             files={"file": ("../../etc/passwd.xlsx", payload)}, headers={"Accept": "application/json"})
    assert reply.status_code in (200, 400)
    page = site.client.get(link)
    assert page.status_code == 200 and "Traceback" not in page.text and "<script>alert" not in page.text
    assert said in (reply.text + page.text)
    for up in site.opened.store.uploads():
        assert up.name == "passwd.xlsx"  # the client's name is shown, never a path
        assert (site.data / up.path).resolve().is_relative_to((site.data / "files").resolve())


def test_zip_bomb_refused_by_the_preflight(site: Site) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (200 * 1024 * 1024))
    link = site.links[ROSTER[0].code]
    reply = site.client.post(f"{link}/upload", data={"csrf": site.csrf(link)},
                             files={"file": ("bomb.xlsx", out.getvalue())}, headers={"Accept": "application/json"})
    assert reply.status_code == 200 and not reply.json()["valid"]
    assert "拒绝读取" in site.client.get(link).text


def test_token_guesses_are_rate_limited(site: Site) -> None:
    for _ in range(20):
        assert site.client.get("/u/guess" + "x" * 40).status_code == 404
    assert site.client.get("/u/guess" + "y" * 40).status_code == 429
    assert site.client.get(site.links[ROSTER[0].code]).status_code == 200  # a valid link is proof: never braked


def test_sign_in_is_rate_limited(site: Site) -> None:
    page = site.client.get("/office/login")
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    for _ in range(5):
        reply = site.client.post("/office/login", data={"csrf": token.group(1), "password": "wrong"})
        assert reply.status_code == 403 and "密码不正确" in reply.text
    reply = site.client.post("/office/login", data={"csrf": token.group(1), "password": site.opened.password})
    assert reply.status_code == 429


def test_office_pages_need_the_password(site: Site) -> None:
    for path in ("/office", "/office/register.json", "/office/unit/1", "/office/summary.xlsx", "/office/summary.csv",
                 "/office/annotated.zip", "/office/reminder", "/office/audit", "/office/file/1", "/office/annotated/1"):
        reply = site.client.get(path, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"] == "/office/login", path
    # a unit's link opens no office page
    site.client.get(site.links[ROSTER[0].code])
    assert site.client.get("/office", follow_redirects=False).status_code == 303


def test_session_cookie_flags(site: Site) -> None:
    page = site.client.get("/office/login")
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    reply = site.client.post("/office/login", data={"csrf": token.group(1), "password": site.opened.password},
                             follow_redirects=False)
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie


def test_register_and_live_json(site: Site, files: dict[str, Path]) -> None:
    site.sign_in()
    page = site.client.get("/office")
    assert page.status_code == 200 and page.text.count("未报送</span>") == 3
    state = site.client.get("/office/register.json").json()
    assert [x["state"] for x in state["lines"]] == ["missing"] * 3
    same = site.client.get(f"/office/register.json?since={state['version']}").json()
    assert same["unchanged"]
    site.upload(ROSTER[0].code, files["bad"])
    changed = site.client.get(f"/office/register.json?since={state['version']}").json()
    assert changed["lines"][0]["state"] == "failing" and changed["lines"][0]["errors"] >= 1
    assert changed["counts"]["failing"] == 1
    site.upload(ROSTER[0].code, files["good"])
    lines = site.client.get("/office/register.json").json()["lines"]
    assert lines[0]["state"] == "passed" and lines[0]["label"] == "已通过"


def test_office_unit_page_history_and_files(site: Site, files: dict[str, Path]) -> None:
    site.upload(ROSTER[0].code, files["bad"])
    site.upload(ROSTER[0].code, files["good"])
    site.sign_in()
    unit = site.opened.store.units()[0]
    page = site.client.get(f"/office/unit/{unit.id}")
    assert page.status_code == 200 and page.text.count('class="upload-item"') == 2 and "不能为负数" in page.text
    bad, good = sorted(site.opened.store.uploads(unit.id), key=lambda u: u.id)
    assert site.client.get(f"/office/file/{bad.id}").content == files["bad"].read_bytes()
    assert site.client.get(f"/office/annotated/{bad.id}").status_code == 200
    assert site.client.get("/office/unit/999").status_code == 404
    assert site.client.get("/office/file/999").status_code == 404


def test_new_link_replaces_the_old_one(site: Site) -> None:
    site.sign_in()
    unit = site.opened.store.units()[2]
    old = site.links[unit.code]
    reply = site.client.post(f"/office/unit/{unit.id}/link", data={"csrf": site.office_csrf()})
    assert reply.status_code == 200
    import re

    found = re.search(r"/u/[A-Za-z0-9_-]{43}", reply.text)
    assert found
    assert site.client.get(old).status_code == 404
    assert site.client.get(found.group(0)).status_code == 200
    rows = list(csv.reader(io.StringIO((site.data / "单位链接.csv").read_text(encoding="utf-8-sig"))))
    assert rows[3][2].endswith(found.group(0)) and len(rows) == 4


def test_exempt_and_undo(site: Site) -> None:
    site.sign_in()
    unit = site.opened.store.units()[1]
    reply = site.client.post(f"/office/unit/{unit.id}/exempt", data={"csrf": site.office_csrf(), "reason": ""})
    assert reply.status_code == 400 and "原因" in reply.text
    site.client.post(f"/office/unit/{unit.id}/exempt", data={"csrf": site.office_csrf(), "reason": "机构撤并"})
    lines = site.client.get("/office/register.json").json()["lines"]
    assert lines[1]["state"] == "exempt" and lines[1]["detail"] == "机构撤并"
    assert "免报" in site.client.get(site.links[unit.code]).text
    site.client.post(f"/office/unit/{unit.id}/exempt", data={"csrf": site.office_csrf(), "undo": "1"})
    assert site.client.get("/office/register.json").json()["lines"][1]["state"] == "missing"


def test_paper_return_by_the_office(site: Site, files: dict[str, Path]) -> None:
    site.sign_in()
    unit = site.opened.store.units()[1]
    with files["good2"].open("rb") as fh:
        reply = site.client.post(f"/office/unit/{unit.id}/upload", data={"csrf": site.office_csrf()},
                                 files={"file": ("纸质报表.xlsx", fh)}, follow_redirects=False)
    assert reply.status_code == 303
    (up,) = site.opened.store.uploads(unit.id)
    assert up.via == "office" and up.valid
    assert "办公室代报" in site.client.get(site.links[unit.code]).text
    assert any("代报" in row[1] for row in site.opened.store.audit_rows().rows)


def test_downloads_summary_csv_zip_reminder(site: Site, files: dict[str, Path]) -> None:
    site.sign_in()
    assert site.client.get("/office/summary.xlsx").status_code == 409  # nobody reported yet
    site.upload(ROSTER[0].code, files["bad"])
    site.upload(ROSTER[1].code, files["good2"])
    book = site.client.get("/office/summary.xlsx")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    assert "filename*=UTF-8''" in book.headers["content-disposition"]
    text = site.client.get("/office/summary.csv")
    assert text.status_code == 200 and text.content.startswith(b"\xef\xbb\xbf")
    archive = zipfile.ZipFile(io.BytesIO(site.client.get("/office/annotated.zip").content))
    assert [n for n in archive.namelist() if "校验结果" in n] and len(archive.namelist()) == 1
    reminder = site.client.get("/office/reminder")
    assert reminder.status_code == 200 and ROSTER[2].name in reminder.text and "错误" in reminder.text
    plain = site.client.get("/office/reminder?download=1")
    assert "尚未报送（1个）" in plain.text and ROSTER[1].name not in plain.text


def test_audit_log(site: Site, files: dict[str, Path]) -> None:
    site.client.get(site.links[ROSTER[0].code] + "/template")
    site.upload(ROSTER[0].code, files["good"])
    site.sign_in()
    site.client.get("/office/summary.xlsx")
    page = site.client.get("/office/audit")
    assert page.status_code == 200
    for action in ("下载模板", "上传报表", "登录", "下载汇总表"):
        assert action in page.text


def test_logout(site: Site) -> None:
    site.sign_in()
    assert site.client.post("/office/logout", data={"csrf": site.office_csrf()}, follow_redirects=False).status_code == 303
    assert site.client.get("/office", follow_redirects=False).status_code == 303


def test_server_error_shows_an_id_not_a_traceback(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(site.service, "register", broken)
    page = site.client.get(site.links[ROSTER[0].code])
    assert page.status_code == 500 and "错误编号" in page.text and "boom" not in page.text
    assert "Traceback" not in page.text


def test_bad_method_and_malformed_body(site: Site) -> None:
    link = site.links[ROSTER[0].code]
    assert site.client.get(f"{link}/upload").status_code == 405
    reply = site.client.post(f"{link}/upload", content=b"--x\r\nnonsense", headers={
        "content-type": "multipart/form-data; boundary=x"})
    assert reply.status_code in (400, 403) and "Traceback" not in reply.text


def test_a_reader_that_dies_costs_only_its_file(tmp_path: Path, files: dict[str, Path]) -> None:
    import multiprocessing
    import os
    import signal
    import time
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from xxgk.site.service import Readers

    before = set(multiprocessing.active_children())
    readers = Readers(processes=1)
    try:
        assert readers.entry(readers.read(files["good"], "a.xlsx"), "a.xlsx").valid
        for proc in set(multiprocessing.active_children()) - before:  # the worker killed, as a hostile file might
            os.kill(proc.pid or 0, signal.SIGKILL)
        dead: Future[object] = Future()
        dead.set_exception(BrokenProcessPool("worker died"))
        entry = readers.entry(dead, "bomb.xlsx")  # type: ignore[arg-type]
        assert not entry.valid and entry.report.findings[0].code == "file.unreadable"
        assert "进程异常终止" in entry.report.findings[0].message
        deadline = time.monotonic() + 30
        while True:  # until the pool notices the death, a read still goes to the broken pool
            again = readers.entry(readers.read(files["good"], "a.xlsx"), "a.xlsx")
            if again.valid or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert again.valid  # a new pool took over
    finally:
        readers.close()


def test_a_start_sweeps_what_a_crash_left(tmp_path: Path, files: dict[str, Path]) -> None:
    site = open_site(tmp_path / "data")
    try:
        site.upload(ROSTER[0].code, files["good"])
        (kept,) = site.opened.store.uploads()
        leftovers = [site.data / "files" / kept.sha256[:2] / ".~0123456789ab.tmp", site.data / "tmp" / "7-summary.xlsx",
                     site.data / "annotated" / "1" / ".~ba9876543210.tmp"]
        for path in leftovers:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"half")
        assert site.opened.store.sweep() == 3
        assert not any(p.exists() for p in leftovers)
        assert site.opened.store.path(kept).read_bytes() == files["good"].read_bytes()
        assert site.opened.store.consistency() == []
        site.opened.store.path(kept).write_bytes(b"changed")  # what the check would catch
        assert "内容与登记不符" in site.opened.store.consistency()[0]
    finally:
        site.close()
