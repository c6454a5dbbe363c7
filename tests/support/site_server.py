"""The real server for reliability, browser and benchmark runs: `xxgk serve` in its own process
on 127.0.0.1 and a free port, with what it printed (the office password) and the units' links."""

from __future__ import annotations

import csv
import io
import os
import re
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    data: Path
    log: Path
    password: str

    def links(self) -> dict[str, str]:
        """Unit code -> its link, from 单位链接.csv."""
        rows = csv.reader(io.StringIO((self.data / "单位链接.csv").read_text(encoding="utf-8-sig")))
        return {r[0]: r[2] for r in list(rows)[1:]}

    def kill(self) -> None:
        """kill -9: no clean shutdown of anything."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def child_env() -> dict[str, str]:
    """This tree's package first on the path of a child process."""
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def start(data: Path, roster: Path, *, year: int = 2025, region: str = "沙坡头区", port: int | None = None,
          extra: tuple[str, ...] = (), env: dict[str, str] | None = None, umask: int = -1,
          open_files: int | None = None) -> Server:
    """``env``: more environment for the server; ``umask``: the server's (-1: this process's);
    ``open_files``: the server's soft limit on open files when it starts."""

    def limit_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    port = port or free_port()
    log = data.with_name(data.name + f".{port}.log")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "xxgk", "serve", "--data", str(data), "--year", str(year), "--roster", str(roster),
             "--region", region, "--port", str(port), *extra], stdout=out, stderr=subprocess.STDOUT,
            env={**child_env(), **(env or {})}, umask=umask, preexec_fn=limit_files)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {log.read_text(errors='replace')}")
        time.sleep(0.1)
    found = re.search(r"办公室密码 \(password\): (\S+)", log.read_text(encoding="utf-8"))
    return Server(proc, base, data, log, found.group(1) if found else "")


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def upload(client: httpx.Client, link: str, path: Path, name: str | None = None) -> httpx.Response:
    token = csrf(client.get(link).text)
    with path.open("rb") as fh:
        return client.post(link + "/upload", data={"csrf": token}, files={"file": (name or path.name, fh)},
                           headers={"Accept": "application/json"})


def sign_in(client: httpx.Client, base: str, password: str) -> None:
    token = csrf(client.get(base + "/office/login").text)
    reply = client.post(base + "/office/login", data={"csrf": token, "password": password})
    assert reply.status_code == 303, reply.text
