"""The real server under load and killed: concurrent uploads from every unit at once, and
kill -9 at any moment; afterwards the register, the rows and the stored files agree."""

from __future__ import annotations

import hashlib
import socket
import time
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


def uploads_plan() -> list[tuple[str, Path]]:
    """50 uploads: every unit's 2025 return, and for 21 units first last year's (refused: wrong year)."""
    plan = []
    old = sorted((RETURNS / "2018").iterdir())
    for i, path in enumerate(sorted((RETURNS / "2025").glob("*.xlsx"))):
        code = path.name.split("_")[0]
        if i < 21:
            plan.append((code, old[i]))
        plan.append((code, path))
    assert len(plan) == 50
    return plan


def consistent(data: Path) -> Store:
    """The data directory after a stop: every row's file there and intact, no file under a final
    name that is not its content's hash."""
    store = Store(data)
    assert store.consistency() == []
    for path in (data / "files").rglob("*"):
        if path.is_file() and not path.name.startswith(".~"):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name.split(".")[0], path
    return store


def test_fifty_concurrent_uploads_then_the_register_agrees(tmp_path: Path) -> None:
    server = site_server.start(tmp_path / "data", ROSTER)
    try:
        links = server.links()
        plan = uploads_plan()
        by_unit: dict[str, list[Path]] = {}
        for code, path in plan:
            by_unit.setdefault(code, []).append(path)

        def unit_uploads(code: str) -> list[tuple[str, str, bool]]:
            done = []
            with httpx.Client(timeout=120) as client:
                for path in by_unit[code]:  # one unit's uploads in order; units all at once
                    reply = site_server.upload(client, links[code], path)
                    assert reply.status_code == 200, reply.text
                    done.append((code, hashlib.sha256(path.read_bytes()).hexdigest(), reply.json()["valid"]))
            return done

        with ThreadPoolExecutor(max_workers=len(by_unit)) as pool:
            sent = [x for batch in pool.map(unit_uploads, by_unit) for x in batch]
        assert len(sent) == 50
        with httpx.Client(timeout=60) as office:
            site_server.sign_in(office, server.base, server.password)
            lines = office.get(server.base + "/office/register.json").json()["lines"]
        assert Counter(x["state"] for x in lines) == Counter({"passed": 29})
    finally:
        server.stop()
    store = consistent(tmp_path / "data")
    try:
        rows = store.uploads()
        units = {u.id: u.code for u in store.units()}
        assert Counter((units[r.unit], r.sha256, r.valid) for r in rows) == Counter(sent)
        latest = store.latest()
        for code, paths in by_unit.items():
            unit_id = next(i for i, c in units.items() if c == code)
            assert latest[unit_id].sha256 == hashlib.sha256(paths[-1].read_bytes()).hexdigest()
    finally:
        store.close()


def _half_upload(base: str, link: str, csrf: str, cookie_free_body: bytes) -> socket.socket:
    """An upload whose body stops half-way (the connection stays open)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    path = link.removeprefix(base)
    boundary = "xxgkboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + cookie_free_body + tail
    sock.sendall((f"POST {path}/upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode())
    sock.sendall(body[: len(body) // 2])
    return sock


@pytest.mark.timeout(300)
def test_kill_9_mid_upload_then_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = site_server.start(data, ROSTER)
    links = server.links()
    plan = uploads_plan()
    try:
        with httpx.Client(timeout=60) as client:
            code, path = plan[1]
            assert site_server.upload(client, links[code], path).json()["valid"]
            csrf = site_server.csrf(client.get(links["640502002"]).text)
        half = _half_upload(server.base, links["640502002"], csrf, plan[3][1].read_bytes())

        def hammer(item: tuple[str, Path]) -> None:
            try:
                with httpx.Client(timeout=60) as c:
                    site_server.upload(c, links[item[0]], item[1])
            except httpx.HTTPError:
                pass  # the server died under it: expected

        with ThreadPoolExecutor(max_workers=10) as pool:
            futures = [pool.submit(hammer, item) for item in plan[4:]]
            time.sleep(0.6)  # uploads in flight: some stored, some half-way
            server.kill()
            for f in futures:
                f.result()
        half.close()
    finally:
        server.stop()
    store = consistent(data)
    try:
        units = {u.id: u.code for u in store.units()}
        before = len(store.uploads())
        assert "640502002" not in {units[u.unit] for u in store.uploads()}  # the half-sent upload left no row
    finally:
        store.close()
    restarted = site_server.start(data, ROSTER, port=int(server.base.rsplit(":", 1)[1]))
    try:
        assert restarted.password == ""  # the cycle was reopened, not made again
        assert not list((data / "files").glob("*/.~*.tmp"))  # the crash's temporary files swept
        with httpx.Client(timeout=60) as client:
            code, path = plan[3]
            reply = site_server.upload(client, links[code], path)
            assert reply.status_code == 200 and reply.json()["valid"]  # the site resumes: old links work
            page = client.get(links[plan[1][0]])
            assert "已通过" in page.text
    finally:
        restarted.stop()
    store = consistent(data)
    try:
        assert len(store.uploads()) == before + 1
    finally:
        store.close()
