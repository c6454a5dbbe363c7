"""The real server against slow clients (issue 19, item 7): a crowd of connections that never
finish their request head, sign-in posts that never finish their body and an upload that stalls;
a normal request is answered meanwhile, the server drops them all, and no temporary disk is held."""

from __future__ import annotations

import resource
import socket
import time
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

import site_server

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.csv"
HALF_OPEN = 1100
SIGN_IN_POSTS = 25


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def _closed_by_server(sock: socket.socket) -> bool:
    """The server closed ``sock`` (what it sent before closing is skipped)."""
    sock.setblocking(False)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except BlockingIOError:  # nothing to read and still open
        return False
    except OSError:  # reset
        return True


def _response(sock: socket.socket) -> str:
    """What the server answers on ``sock``, up to the end of its page (or the connection)."""
    data = b""
    while b"</html>" not in data and len(data) < 1_000_000:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data.decode("utf-8", "replace")


def _room_for(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 200:
        if hard != resource.RLIM_INFINITY and hard < count + 200:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (count + 200, hard))


@pytest.mark.timeout(300)
def test_half_open_connections_and_unfinished_bodies_hold_nothing(tmp_path: Path) -> None:
    _room_for(HALF_OPEN + SIGN_IN_POSTS + 10)
    spool = tmp_path / "spool"
    spool.mkdir()
    # started with the common 1,024 open files: the server raises its limit to the hard one
    server = site_server.start(tmp_path / "data", ROSTER, env={"TMPDIR": str(spool)}, open_files=1024)
    socks: list[socket.socket] = []
    try:
        for _ in range(HALF_OPEN):  # a request head begun and never finished
            sock = _connect(server.base)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(sock)
        posts = []
        with httpx.Client(timeout=60) as client:
            page = client.get(server.base + "/office/login")  # answered while the crowd waits
            assert page.status_code == 200 and "密码" in page.text
            held = [s for s in socks if not _closed_by_server(s)]
            assert len(held) > HALF_OPEN // 2  # answered while the crowd is still there, not after it left
            token = site_server.csrf(page.text)
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
            link = next(iter(server.links().values()))
            upload_csrf = site_server.csrf(client.get(link).text)
        for i in range(SIGN_IN_POSTS):  # sign-in bodies that claim 20 MB, or stream without a length
            sock = _connect(server.base)
            length = "Content-Length: 20000000\r\n" if i % 2 else "Transfer-Encoding: chunked\r\n"
            sock.sendall((f"POST /office/login HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n{length}"
                          "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode())
            chunk = f"csrf={token}&password=".encode() + b"a" * 65536
            with suppress(OSError):  # already refused
                sock.sendall(chunk if i % 2 else b"%x\r\n%s\r\n" % (len(chunk), chunk))
            posts.append(sock)
        stalled = _connect(server.base)  # an upload (valid link) whose body stops half-way
        boundary = "xxgkb"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{upload_csrf}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\n").encode()
        stalled.sendall((f"POST {link.removeprefix(server.base)}/upload HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Length: {len(head) + 2_000_000}\r\n"
                         f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode() + head + bytes(500_000))

        for sock in posts:  # each sign-in post refused (413) at its first few KB
            sock.settimeout(60)
            assert sock.recv(200).startswith(b"HTTP/1.1 413"), "sign-in body not cut off"
        assert not [p for p in spool.rglob("*") if p.is_file()]  # nothing spooled to disk for them
        with httpx.Client(timeout=60) as client:
            assert client.get(server.base + "/").status_code == 200

        stalled.settimeout(120)  # the stalled upload gets 408 once it pauses too long
        answer = _response(stalled)
        assert answer.startswith("HTTP/1.1 408") and "上传中断或过慢" in answer
        deadline = time.monotonic() + 120
        open_ones = socks
        while open_ones and time.monotonic() < deadline:  # the server drops every unfinished head
            time.sleep(1)
            open_ones = [s for s in open_ones if not _closed_by_server(s)]
        assert not open_ones, f"{len(open_ones)} half-open connections still held"
        with httpx.Client(timeout=60) as client:
            assert client.get(server.base + "/").status_code == 200
    finally:
        for sock in socks:
            sock.close()
        server.stop()
    assert not [p for p in spool.rglob("*") if p.is_file()]
