"""The real server against clients that guess, lie about their address or flood (issue 19, items
3–6 and 8): the brakes count before they check, X-Forwarded-For is not believed, a unit's own
link is never braked, a password reset ends the sessions, a unit's uploads have a quota."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import site_server
from xxgk.site.store import Store

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.csv"
RETURNS = ROOT / "samples" / "returns"
SIGN_IN_LIMIT = 5


def _audit(data: Path) -> list[tuple[str, str, str, str, str]]:
    store = Store(data)
    try:
        return store.audit_rows(limit=10_000).rows
    finally:
        store.close()


def _wrong_passwords(base: str, count: int, headers: list[dict[str, str]] | None = None) -> Counter[int]:
    """``count`` wrong passwords posted at once (one sign-in page, so one good CSRF token)."""
    with httpx.Client(timeout=120) as client:
        page = client.get(base + "/office/login")
        token = site_server.csrf(page.text)
        cookies = dict(client.cookies)

    def post(i: int) -> int:
        with httpx.Client(timeout=120, cookies=cookies) as c:
            extra = headers[i] if headers else {}
            return c.post(base + "/office/login", data={"csrf": token, "password": f"wrong-{i}"},
                          headers=extra).status_code

    with ThreadPoolExecutor(max_workers=min(count, 50)) as pool:
        return Counter(pool.map(post, range(count)))


@pytest.mark.timeout(300)
def test_parallel_wrong_passwords_are_checked_at_most_the_limit(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        statuses = _wrong_passwords(server.base, 100)
        assert statuses[403] <= SIGN_IN_LIMIT and statuses[403] + statuses[429] == 100, statuses
        with httpx.Client(timeout=60) as client:  # the right password is not even checked now
            token = site_server.csrf(client.get(server.base + "/office/login").text)
            reply = client.post(server.base + "/office/login", data={"csrf": token, "password": server.password})
            assert reply.status_code == 429 and "登录失败次数过多" in reply.text
    finally:
        server.stop()
    failures = [row for row in _audit(tmp_path / "data") if row[2] == "登录失败"]
    assert 1 <= len(failures) <= SIGN_IN_LIMIT  # every check that ran is in the log: at most the limit


@pytest.mark.timeout(300)
def test_rotating_x_forwarded_for_resets_no_limit(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        rotating = [{"X-Forwarded-For": f"10.{i // 250}.{i % 250}.7", "X-Real-IP": f"10.9.{i}.1"} for i in range(12)]
        statuses = _wrong_passwords(server.base, 12, rotating)
        assert statuses[403] <= SIGN_IN_LIMIT and statuses[429] >= 12 - SIGN_IN_LIMIT, statuses
        with httpx.Client(timeout=60) as client:
            codes = [client.get(f"{server.base}/u/guess{i:040d}", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
                     for i in range(25)]
        assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}
    finally:
        server.stop()
    addresses = {row[4] for row in _audit(tmp_path / "data") if row[2] == "登录失败"}
    assert addresses == {"127.0.0.1"}  # the address logged is the connection's, not the header's


@pytest.mark.timeout(300)
def test_proxy_option_trusts_that_proxy_only(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER, extra=("--proxy", "127.0.0.1"))
    try:
        with httpx.Client(timeout=60) as client:  # behind the proxy, each client has its own count
            codes = [client.get(f"{server.base}/u/guess{i:040d}", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
                     for i in range(25)]
        assert codes == [404] * 25
    finally:
        server.stop()


@pytest.mark.timeout(300)
def test_a_truncated_link_does_not_lock_out_valid_links_behind_the_same_address(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        links = server.links()
        first, second = list(links)[:2]
        truncated = links[first][:-5]
        with httpx.Client(timeout=60) as client:
            codes = [client.get(truncated).status_code for _ in range(25)]
            assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}
            for code in (first, second):  # every unit behind the address: its own link works
                page = client.get(links[code])
                assert page.status_code == 200 and "上传" in page.text
            path = next((RETURNS / "2025").glob(f"{second}_*.xlsx"))
            reply = site_server.upload(client, links[second], path)
            assert reply.status_code == 200 and reply.json()["valid"]
            assert client.get(truncated).status_code == 429  # the wrong link stays braked
    finally:
        server.stop()


@pytest.mark.timeout(300)
def test_reset_password_ends_every_session_and_is_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = site_server.start(data, ROSTER)
    with httpx.Client(timeout=60) as old:
        try:
            site_server.sign_in(old, server.base, server.password)
            assert old.get(server.base + "/office", follow_redirects=False).status_code == 200
        finally:
            server.stop()
        port = int(server.base.rsplit(":", 1)[1])
        reset = site_server.start(data, ROSTER, port=port, extra=("--reset-password",))
        try:
            assert reset.password and reset.password != server.password
            reply = old.get(reset.base + "/office", follow_redirects=False)
            assert reply.status_code == 303 and reply.headers["location"] == "/office/login"
            csrf = site_server.csrf(old.get(reset.base + "/office/login").text)  # nor can it act
            reply = old.post(reset.base + "/office/logout", data={"csrf": csrf}, follow_redirects=False)
            assert reply.status_code == 303 and reply.headers["location"] == "/office/login"
            with httpx.Client(timeout=60) as new:
                site_server.sign_in(new, reset.base, reset.password)
                audit = new.get(reset.base + "/office/audit")
                assert "重置密码" in audit.text and "会话已退出" in audit.text
        finally:
            reset.stop()


def _junk(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(b"PK\x03\x04" + bytes(size))  # not a workbook: refused
    return path


@pytest.mark.timeout(300)
def test_a_unit_past_its_hourly_quota_gets_429_and_refused_files_are_pruned(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER, extra=("--unit-uploads-per-hour", "4", "--keep-refused", "2"))
    try:
        links = server.links()
        code = next(iter(links))
        good = next((RETURNS / "2025").glob(f"{code}_*.xlsx"))
        sent = [_junk(tmp_path, "甲.xlsx", 100), good, _junk(tmp_path, "乙.xlsx", 200), _junk(tmp_path, "丙.xlsx", 300)]
        with httpx.Client(timeout=120) as unit:
            replies = [site_server.upload(unit, links[code], path) for path in sent]
            assert [r.json()["valid"] for r in replies] == [False, True, False, False]
            over = site_server.upload(unit, links[code], good)
            assert over.status_code == 429 and "1小时内已上传4次" in over.json()["error"]
            assert unit.get(links[code]).status_code == 200  # the pages stay open
        with httpx.Client(timeout=120) as office:  # the office is not counted against the unit
            site_server.sign_in(office, server.base, server.password)
            page = office.get(server.base + "/office/unit/1")
            token = site_server.csrf(page.text)
            with good.open("rb") as fh:
                reply = office.post(server.base + "/office/unit/1/upload", data={"csrf": token},
                                    files={"file": (good.name, fh)}, follow_redirects=False)
            assert reply.status_code == 303
            ids = [int(x) for x in re.findall(r'/office/file/(\d+)"', office.get(server.base + "/office/unit/1").text)]
            files = {i: office.get(f"{server.base}/office/file/{i}") for i in sorted(set(ids))}
            assert [r.status_code for r in files.values()] == [404, 200, 200, 200, 200]  # 甲 pruned: older than 2 refused
            assert "已按保留规则删除" in files[min(files)].text
    finally:
        server.stop()
    store = Store(tmp_path / "data")
    try:
        assert store.consistency() == []
        assert [u.pruned for u in store.uploads()] == [True, False, False, False, False]  # the rows stay
    finally:
        store.close()


@pytest.mark.timeout(300)
def test_a_unit_past_its_daily_bytes_gets_429(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER, extra=("--unit-mb-per-day", "1"))
    try:
        links = server.links()
        code = next(iter(links))
        with httpx.Client(timeout=120) as unit:
            assert site_server.upload(unit, links[code], _junk(tmp_path, "大.xlsx", 1_100_000)).status_code == 200
            over = site_server.upload(unit, links[code], _junk(tmp_path, "小.xlsx", 10))
            assert over.status_code == 429 and "24小时内已上传" in over.json()["error"]
            other = list(links)[1]  # another unit has its own quota
            assert site_server.upload(unit, links[other], _junk(tmp_path, "小.xlsx", 10)).status_code == 200
    finally:
        server.stop()


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found
    return int(found.group(1)) * 1024


@pytest.mark.timeout(300)
def test_twenty_large_uploads_at_once_are_held_a_few_at_a_time(tmp_path: Path) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc")
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        links = server.links()
        codes = list(links)[:20]
        big = _junk(tmp_path, "大文件.xlsx", 15 * 1024 * 1024)
        with httpx.Client(timeout=60) as client:
            for code in codes:  # every page seen once: what the server holds before the uploads
                client.get(links[code])
        before = _peak_rss(server.proc.pid)

        def send(code: str) -> int:
            with httpx.Client(timeout=300) as c:
                return site_server.upload(c, links[code], big).status_code

        with ThreadPoolExecutor(max_workers=len(codes)) as pool:
            assert list(pool.map(send, codes)) == [200] * len(codes)
        grown = _peak_rss(server.proc.pid) - before
        # four in memory at a time, each at most about twice its size (20 at once: over 300 MB)
        assert grown < 12 * 15 * 1024 * 1024, f"{grown / 2**20:.0f} MB"
    finally:
        server.stop()
