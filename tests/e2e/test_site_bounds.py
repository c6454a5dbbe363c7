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
def test_two_slow_reports_do_not_hold_up_a_normal_upload(tmp_path: Path) -> None:
    bombs_at = [tmp_path / f"年度报告{i}.pdf" for i in (1, 2)]
    for i, path in enumerate(bombs_at):  # two different files: two reads at once
        path.write_bytes(hostile.slow_pdf(mark=str(i)))
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
            began = time.monotonic()
            normal = send(ROSTER[1].code, good, "正常.xlsx")
            print(f"a normal upload while two slow PDF reports are read: {time.monotonic() - began:.2f} s")
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


@pytest.mark.timeout(300)
def test_marked_copies_of_a_huge_sheet_are_made_outside_the_server(tmp_path: Path) -> None:
    faulty = site_books.return_bytes(tmp_path, ROSTER[0], faulty=True)
    big = tmp_path / "附表很大.xlsx"
    big.write_bytes(hostile.with_big_sheet(faulty.read_bytes(), 2000, 1000))  # 2,000,000 cells
    valid = site_books.return_bytes(tmp_path, ROSTER[1])
    server = site_server.start(tmp_path / "data", roster_csv(tmp_path))
    try:
        links = server.links()
        with httpx.Client(timeout=120) as client:
            assert site_server.upload(client, links[ROSTER[0].code], big).json()["valid"] is False
            assert site_server.upload(client, links[ROSTER[1].code], valid).json()["valid"] is True
            page = client.get(links[ROSTER[0].code]).text
        upload_id = int(page.split("/annotated/")[1].split('"')[0])
        url = f"{links[ROSTER[0].code]}/annotated/{upload_id}"
        peak = rss_mb(server.proc.pid)

        def fetch(_: int) -> int:
            with httpx.Client(timeout=200) as client:
                return client.get(url).status_code

        with ThreadPoolExecutor(3) as pool:
            replies = [pool.submit(fetch, i) for i in range(3)]
            with httpx.Client(timeout=30) as client:
                while not all(r.done() for r in replies):
                    peak = max(peak, rss_mb(server.proc.pid))
                    assert client.get(server.base + "/").status_code == 200  # the site answers meanwhile
                    time.sleep(0.2)
        statuses = {r.result() for r in replies}
        assert statuses <= {200, 503}, statuses  # made, or refused past the workers' limits
        print(f"marked copies of a 2M-cell sheet: server peak RSS {peak:.0f} MB, answers {sorted(statuses)}")
        assert peak < 600, peak
        with httpx.Client(timeout=30) as client:  # a valid return has nothing to mark: no copy at all
            valid_page = client.get(links[ROSTER[1].code]).text
            (valid_id,) = {int(x.split('"')[0]) for x in valid_page.split("/file/")[1:]}
            assert client.get(f"{links[ROSTER[1].code]}/annotated/{valid_id}").status_code == 404
    finally:
        server.stop()


@pytest.mark.timeout(240)
def test_a_restart_does_not_read_stored_returns_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    roster = roster_csv(tmp_path)
    good = site_books.return_bytes(tmp_path, ROSTER[0])
    server = site_server.start(data, roster)
    try:
        with httpx.Client(timeout=120) as client:
            assert site_server.upload(client, server.links()[ROSTER[0].code], good).json()["valid"] is True
    finally:
        server.stop()
    (kept,) = [p for p in (data / "files").rglob("*.xlsx")]
    kept.write_bytes(hostile.slow_pdf())  # read again, it would be refused (after 20 s)
    again = site_server.start(data, roster)
    try:
        with httpx.Client(timeout=30) as client:
            site_server.sign_in(client, again.base, server.password)
            lines = client.get(again.base + "/office/register.json").json()["lines"]
        assert [x["state"] for x in lines] == ["passed", "missing", "missing"]
    finally:
        again.stop()
