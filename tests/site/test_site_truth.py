"""One truth per unit on the site: the unit's page, the register, the office's page and the 催报
text say the same after a restart with last year's data; a unit link takes only the unit's own
return; a worse upload after a pass waits for the unit to confirm."""

from __future__ import annotations

import re
from pathlib import Path

from site_books import ROSTER, open_site, previous_summary, return_bytes
from xxgk.cycle.state import PASSED_WORDS


def badge(html: str) -> str:
    found = re.search(r'<span class="badge \w+" id="state">([^<]+)</span>', html)
    assert found, html[:500]
    return found.group(1)


def test_a_restart_with_last_years_data_is_one_truth_everywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    site = open_site(data)
    for i, unit in enumerate(ROSTER[:2]):
        assert site.upload(unit.code, return_bytes(tmp_path, unit, seed=i)).json()["valid"]  # type: ignore[attr-defined]
    page = site.client.get(site.links[ROSTER[0].code]).text
    assert badge(page) == "已通过" and PASSED_WORDS in page and "可以报送" not in page
    site.close()
    links = site.links

    site = open_site(data, previous=previous_summary(tmp_path), links=links)  # xxgk serve --previous
    try:
        lines = {x.unit.code: x for x in site.service.register()}
        reminder = site.service.reminder()
        site.sign_in()
        register = site.client.get("/office/register.json").json()["lines"]
        for unit in ROSTER:
            line = lines[unit.code]
            page = site.client.get(site.links[unit.code]).text
            assert badge(page) == line.label, unit.name
            (row,) = [r for r in register if r["code"] == unit.code]
            assert (row["label"], row["warnings"]) == (line.label, line.status.warnings)
            office = site.client.get(f"/office/unit/{line.unit.id}").text
            assert f'<span class="badge {line.state}">{line.label}</span>' in office
            if line.state == "missing":
                continue
            assert line.state == "explain" and line.status.unexplained > 0  # last year's figures do not carry on
            assert f"{unit.name}（{line.status.reminder}）" in reminder and "有提醒待说明" in reminder
            assert "根据上年数据重新校验：原结论“已通过”，现为“提醒待说明”" in page
            assert "根据上年数据重新校验：原结论“已通过”" in office
            assert "提醒0" not in office and "没有发现问题" not in office.split("报送记录")[1].split("</details>")[0]
            assert "已通过" not in page.split('id="result"')[1].split("</p>")[0]  # the verdict agrees
            assert "已报送但未通过" not in reminder  # warnings only: not listed as failing
        audit = "".join(" ".join(r) for r in site.opened.store.audit_rows().rows)
        assert "根据上年数据重新校验" in audit
    finally:
        site.close()
    site = open_site(data, previous=previous_summary(tmp_path), links=links)  # again: nothing new to tell
    try:
        unit_id = next(x.unit.id for x in site.service.register() if x.unit.code == ROSTER[0].code)
        assert sum(len(v) for v in site.opened.store.rechecks(unit_id).values()) == 1
    finally:
        site.close()


def test_a_unit_link_takes_only_the_units_own_return(tmp_path: Path) -> None:
    site = open_site(tmp_path / "data")
    try:
        theirs = return_bytes(tmp_path, ROSTER[1], seed=1)
        reply = site.upload(ROSTER[0].code, theirs)
        assert not reply.json()["valid"]  # type: ignore[attr-defined]
        page = site.client.get(site.links[ROSTER[0].code]).text
        assert badge(page) == "未通过" and f"这是{ROSTER[1].name}的报表" in page
        lines = {x.unit.code: x.state for x in site.service.register()}
        assert lines == {ROSTER[0].code: "failing", ROSTER[1].code: "missing", ROSTER[2].code: "missing"}
        summary = previous_summary(tmp_path)  # a summary (last year's: refused before any year check)
        assert not site.upload(ROSTER[2].code, summary).json()["valid"]  # type: ignore[attr-defined]
        page = site.client.get(site.links[ROSTER[2].code]).text
        assert "汇总表" in page and "只接收本单位" in page and badge(page) == "未通过"
        assert {x.unit.code: x.state for x in site.service.register()}[ROSTER[1].code] == "missing"
        assert site.client.get(site.links[ROSTER[1].code]).text.count("本单位尚未上传统计表") == 1
    finally:
        site.close()


def test_a_worse_upload_after_a_pass_asks_first(tmp_path: Path) -> None:
    site = open_site(tmp_path / "data")
    code, link = ROSTER[0].code, site.links[ROSTER[0].code]
    try:
        assert site.upload(code, return_bytes(tmp_path, ROSTER[0])).json()["valid"]  # type: ignore[attr-defined]
        reply = site.upload(code, return_bytes(tmp_path, ROSTER[0], faulty=True)).json()  # type: ignore[attr-defined]
        assert reply["held"] and "/confirm/" in reply["redirect"]
        assert badge(site.client.get(link).text) == "已通过"  # nothing changed yet
        confirm = site.client.get(reply["redirect"].split("#")[0]).text
        assert "以最后一次上传为准" in confirm and "不能为负数" in confirm and "保留已通过的报表" in confirm
        digest = re.search(r'name="confirm" value="([0-9a-f]+)"', confirm)
        assert digest
        csrf = re.search(r'name="csrf" value="([^"]+)"', confirm)
        assert csrf
        done = site.client.post(f"{link}/upload", data={"csrf": csrf.group(1), "confirm": digest.group(1)},
                                follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == f"{link}#result"
        page = site.client.get(link).text
        assert badge(page) == "未通过" and page.count(f"{link}/file/") == 2
        again = site.client.post(f"{link}/upload", data={"csrf": csrf.group(1), "confirm": digest.group(1)})
        assert again.status_code == 409  # confirmed once only
        assert site.upload(code, return_bytes(tmp_path, ROSTER[0], faulty=True, seed=3)).json()["valid"] is False  # type: ignore[attr-defined]
        assert "held" not in site.upload(code, return_bytes(tmp_path, ROSTER[0], faulty=True, seed=4)).json()  # type: ignore[attr-defined]
        audit = [r[2] for r in site.opened.store.audit_rows().rows]
        assert "确认以新文件取代已通过的报表" in audit
    finally:
        site.close()
