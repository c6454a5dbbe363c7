"""The real server against files that cost a reader dearly: every read and every marked copy is
made in a bounded worker process, never in the server; results are stored, not read again."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import hostile
import site_books
import site_server

ROSTER = site_books.ROSTER


def roster_csv(folder: Path) -> Path:
    path = folder / "roster.csv"
    path.write_text("代码,名称\n" + "".join(f"{u.code},{u.name}\n" for u in ROSTER), encoding="utf-8")
    return path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(240)
def test_two_word_bombs_do_not_hold_up_a_normal_upload(tmp_path: Path) -> None:
    bombs_at = [tmp_path / f"年度报告{i}.docx" for i in (1, 2)]
    for i, path in enumerate(bombs_at):  # two different files: two reads at once
        path.write_bytes(hostile.vmerge_bomb(600 + i, 30))
    good = site_books.return_bytes(tmp_path, ROSTER[1])
    server = site_server.start(tmp_path / "data", roster_csv(tmp_path))
    try:
        links = server.links()
        done: list[str] = []

        def send(code: str, path: Path, name: str) -> httpx.Response:
            with httpx.Client(timeout=180) as client:
                reply = site_server.upload(client, links[code], path, name)
            done.append(name)
            return reply

        with ThreadPoolExecutor(3) as pool:
            bombs = [pool.submit(send, ROSTER[0].code, path, path.name) for path in bombs_at]
            time.sleep(1.0)  # both bombs are being read
            normal = send(ROSTER[1].code, good, "正常.xlsx")
            assert normal.status_code == 200 and normal.json()["valid"] is True, normal.text
            assert done == ["正常.xlsx"]  # answered while both bombs were still being read
            with httpx.Client(timeout=30) as client:
                assert client.get(links[ROSTER[2].code]).status_code == 200
            for fut in bombs:
                reply = fut.result()
                assert reply.status_code == 200 and reply.json()["valid"] is False, reply.text
        with httpx.Client(timeout=30) as client:
            page = client.get(links[ROSTER[0].code]).text
        assert "文件过于复杂，无法在限定时间内读取" in page
        assert server.proc.poll() is None
    finally:
        server.stop()
