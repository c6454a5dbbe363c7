"""The real server and the small items of issue 19 (item 9): ids past SQLite's range, temporaries
left by a crash, the audit page paged and filtered, the data directory's modes, a 500 that keeps
the unit's link out of the log, a full disk and a read-only one, long file names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

import site_server

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.csv"
RETURNS = ROOT / "samples" / "returns"
HUGE = "9" * 25  # past 2**63


def _good(code: str) -> Path:
    return next((RETURNS / "2025").glob(f"{code}_*.xlsx"))


@pytest.mark.timeout(300)
def test_modes_long_names_huge_ids_and_a_500_without_the_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = site_server.start(data, ROSTER, umask=0)  # whatever the umask
    try:
        modes = {p.name: p.stat().st_mode & 0o777 for p in (data, data / "xxgk.sqlite3", data / "单位链接.csv")}
        assert modes == {"data": 0o700, "xxgk.sqlite3": 0o600, "单位链接.csv": 0o600}
        links = server.links()
        code = next(iter(links))
        link = links[code]
        name = "关于" + "很长的名字" * 60 + ".xlsx"
        with httpx.Client(timeout=120) as client:
            assert site_server.upload(client, link, _good(code), name=name).json()["valid"]
            up_id = re.findall(rf"{re.escape(link.removeprefix(server.base))}/file/(\d+)", client.get(link).text)[0]
            reply = client.get(f"{link}/file/{up_id}")
            shown = unquote(reply.headers["content-disposition"].split("filename*=UTF-8''")[1])
            assert reply.status_code == 200 and shown.endswith(".xlsx") and len(shown) == 200 and shown.startswith("关于很长")
            for path in (f"{link}/file/{HUGE}", f"{link}/annotated/{HUGE}", f"{link}/file/0"):
                assert client.get(path).status_code == 404, path
            with httpx.Client(timeout=60) as office:
                site_server.sign_in(office, server.base, server.password)
                for path in (f"/office/file/{HUGE}", f"/office/annotated/{HUGE}", f"/office/unit/{HUGE}"):
                    assert office.get(server.base + path).status_code == 404, path
            for stored in (data / "files").rglob("*.xlsx"):  # the stored file lost: a 500 on the unit's route
                stored.unlink()
            reply = client.get(f"{link}/file/{up_id}")
            assert reply.status_code == 500
            incident = re.search(r"错误编号([0-9a-f]{10})", reply.text)
            assert incident
    finally:
        server.stop()
    log = server.log.read_text(encoding="utf-8", errors="replace")
    token = link.rsplit("/", 1)[1]
    assert incident.group(1) in log and "Traceback" in log  # logged, with what went wrong
    assert token not in log  # ... but never the unit's link


@pytest.mark.timeout(300)
def test_restart_sweeps_raw_and_tmp_temporaries(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = site_server.start(data, ROSTER)
    server.kill()
    left = [data / "annotated" / "3" / ".~0123456789ab.raw", data / "files" / "ab" / ".~0123456789ab.tmp",
            data / "templates" / ".~ba9876543210.raw"]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half written")
    kept = data / "annotated" / "3" / "甲_校验结果.xlsx"
    kept.write_bytes(b"a final name")
    again = site_server.start(data, ROSTER, port=int(server.base.rsplit(":", 1)[1]))
    again.stop()
    assert [p for p in left if p.exists()] == [] and kept.exists()


@pytest.mark.timeout(300)
def test_audit_page_is_paged_and_filtered(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        links = server.links()
        code = next(iter(links))
        with httpx.Client(timeout=60) as office:
            site_server.sign_in(office, server.base, server.password)
            office.post(server.base + "/office/unit/2/exempt",
                        data={"csrf": site_server.csrf(office.get(server.base + "/office/unit/2").text), "reason": "已撤并"})
            with httpx.Client(timeout=60) as unit:
                for _ in range(230):  # a flood of template downloads after the real events
                    assert unit.get(links[code] + "/template").status_code == 200
            first = office.get(server.base + "/office/audit").text
            assert "共232条" in first and "第1/3页" in first and first.count("<tr><td") == 100
            assert "<td>标记免报" not in first
            last = office.get(server.base + "/office/audit?page=3").text
            assert "标记免报：已撤并" in last and "登录" in last  # nothing pushed off: it is on the last page
            quiet = office.get(server.base + "/office/audit?quiet=1").text
            assert "共2条" in quiet and "<td>标记免报" in quiet and "<td>下载模板" not in quiet
            found = office.get(server.base + "/office/audit", params={"text": "已撤并"}).text
            assert "共1条" in found and "标记免报" in found
            assert office.get(server.base + "/office/audit?page=" + HUGE).status_code == 200
    finally:
        server.stop()


@contextmanager
def _small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.timeout(300)
def test_a_full_disk_says_so_and_the_office_can_still_sign_in(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk", "8m") as disk:
        server = site_server.start(disk / "data", ROSTER)
        try:
            links = server.links()
            code = next(iter(links))
            filler = disk / "filler"
            with filler.open("wb") as fh, suppress(OSError):  # the disk filled to the last byte
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            with suppress(OSError), filler.open("ab") as fh:
                while True:
                    fh.write(b"\0" * 512)
                    fh.flush()
            with httpx.Client(timeout=120) as unit:
                reply = site_server.upload(unit, links[code], _good(code))
                assert reply.status_code == 507 and "服务器磁盘已满，请联系区政务公开办" in reply.json()["error"]
            with httpx.Client(timeout=60) as office:
                site_server.sign_in(office, server.base, server.password)
                page = office.get(server.base + "/office")
                assert page.status_code == 200 and "报送" in page.text
            filler.unlink()
            with httpx.Client(timeout=120) as unit:  # room again: the same upload goes through
                assert site_server.upload(unit, links[code], _good(code)).json()["valid"]
        finally:
            server.stop()


@pytest.mark.timeout(300)
def test_a_read_only_data_directory_is_refused_at_start(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root")
    site_server.start(tmp_path / "data", ROSTER).stop()
    view = tmp_path / "view"  # the same directory, mounted read-only
    view.mkdir()
    if subprocess.run(["mount", "--bind", str(tmp_path / "data"), str(view)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True, capture_output=True)
        result = subprocess.run(
            [sys.executable, "-m", "xxgk", "serve", "--data", str(view), "--year", "2025", "--roster", str(ROSTER),
             "--region", "沙坡头区", "--port", str(site_server.free_port())],
            capture_output=True, text=True, timeout=120, env=site_server.child_env())
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
    assert result.returncode == 2
    assert "只读" in result.stderr and "数据目录" in result.stderr, result.stderr
