"""Benchmark `xxgk serve` over HTTP against `xxgk check` of the same files, in one run.

    python benchmarks/bench_serve.py
    python benchmarks/bench_serve.py --units 30 --returns 5 --register-units 3000

Writes ``--units`` × ``--returns`` 2025 returns (typed at the template's positions with
xlsxwriter, as `tests/support/merge_books.py` does; every unit's last return valid, the earlier
ones with one faulty figure, so each upload is read and checked in full), then:

(a) the yardstick: ``xxgk check`` of all of them (one process, as an office runs it),
    wall time from start to exit, and the same check in this process without start-up;
(b) the real server (`xxgk serve` in its own process, uvicorn, 127.0.0.1), idle: one upload
    at a time, upload-to-verdict latency (the POST of the file until its JSON verdict);
(c) the same server, every unit uploading at once (one client thread per unit, each unit's
    returns in order): latency p50/p95 and throughput (returns per second) against (a);
(d) a server with a ``--register-units`` roster: the office's register page (HTML) and its
    live JSON, median of 20 requests each.

Targets (2-core machine): p95 of (b) under 300 ms; throughput of (c) at least 70% of
``xxgk check``'s; the register page under 100 ms at 3,000 units.  A script, not a test.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))  # valid figures and the server helpers shared with the tests

import site_server  # noqa: E402
from merge_books import valid_inputs, write_return  # noqa: E402
from xxgk.check.file import check_file  # noqa: E402
from xxgk.forms.builtin import for_year  # noqa: E402

YEAR = 2025


def unit(i: int) -> tuple[str, str]:
    return f"B{i:06d}", f"基准单位{i:06d}"


def roster(path: Path, n: int) -> Path:
    path.write_text("代码,名称\n" + "".join(f"{c},{name}\n" for c, name in map(unit, range(n))), encoding="utf-8")
    return path


def make_returns(folder: Path, units: int, returns: int) -> dict[str, list[Path]]:
    form = for_year(YEAR)
    figures = [valid_inputs(form, seed) for seed in range(returns)]
    out: dict[str, list[Path]] = {}
    for i in range(units):
        code, name = unit(i)
        for k in range(returns):
            inputs = dict(figures[k])
            if k < returns - 1:
                inputs[form.inputs[k % len(form.inputs)].key] = Decimal(-1)
            path = folder / f"{code}_{k}.xlsx"
            write_return(path, form, inputs, code=code, name=name, year=YEAR, date="2026-01-20")
            out.setdefault(code, []).append(path)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


BOUNDARY = "xxgk-bench-boundary"


def body(path: Path, csrf: str) -> bytes:
    """The multipart body of one upload, made before the clock starts: the clients should
    cost as little as a browser does, so that the server is what is measured."""
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
        f"\r\n--{BOUNDARY}--\r\n".encode()


def timed_upload(conn: http.client.HTTPConnection, link: str, payload: bytes) -> float:
    """POST one upload on a kept-alive connection; seconds until its JSON verdict is in."""
    start = time.perf_counter()
    conn.request("POST", urlsplit(link).path + "/upload", body=payload, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Accept": "application/json"})
    reply = conn.getresponse()
    text = reply.read()
    took = time.perf_counter() - start
    assert reply.status == 200 and b'"valid"' in text, text
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--returns", type=int, default=5)
    parser.add_argument("--register-units", type=int, default=3000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="xxgk-bench-serve-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "returns").mkdir()
        by_unit = make_returns(tmp / "returns", args.units, args.returns)
        files = [p for paths in by_unit.values() for p in paths]
        n = len(files)
        print(f"{args.units} units × {args.returns} returns = {n} files ({YEAR}, {for_year(YEAR).id})")

        # (a) the yardstick
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xxgk", "check", str(tmp / "returns")], stdout=subprocess.DEVNULL,
                       env=site_server.child_env(), check=False)
        check_wall = time.perf_counter() - start
        start = time.perf_counter()
        for f in files:  # one process, one file after another: the yardstick
            check_file(f)
        check_inproc = time.perf_counter() - start
        print(f"(a) xxgk check: {check_wall:.2f} s wall = {n / check_wall:.0f} returns/s "
              f"(in process, no start-up: {check_inproc:.2f} s = {n / check_inproc:.0f} returns/s)")

        server = site_server.start(tmp / "data", roster(tmp / "roster.csv", args.units), year=YEAR)
        try:
            links = server.links()
            with httpx.Client(timeout=120) as client:
                tokens = {code: site_server.csrf(client.get(links[code]).text) for code in by_unit}
            payloads = {code: [body(p, tokens[code]) for p in paths] for code, paths in by_unit.items()}
            port = int(server.base.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            # (b) idle: one at a time (a warm-up upload first)
            timed_upload(conn, links[unit(0)[0]], payloads[unit(0)[0]][0])
            idle = [timed_upload(conn, links[code], payloads[code][0]) for code in by_unit]
            conn.close()
            print(f"(b) idle server, one upload at a time ({len(idle)}): p50 {pct(idle, 50) * 1000:.0f} ms, "
                  f"p95 {pct(idle, 95) * 1000:.0f} ms  [target p95 < 300 ms]")

            # (c) every unit at once
            def one_unit(code: str) -> list[float]:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                try:
                    return [timed_upload(c, links[code], p) for p in payloads[code]]
                finally:
                    c.close()

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(by_unit)) as pool:
                busy = [t for ts in pool.map(one_unit, by_unit) for t in ts]
            wall = time.perf_counter() - start
            ratio = (n / wall) / (n / check_wall)
            print(f"(c) {len(by_unit)} units at once ({len(busy)} uploads): {wall:.2f} s = {n / wall:.0f} returns/s, "
                  f"{ratio:.0%} of check's ({check_inproc / wall:.0%} of its in-process time); latency p50 {pct(busy, 50) * 1000:.0f} ms, "
                  f"p95 {pct(busy, 95) * 1000:.0f} ms  [target ≥ 70%]")
            with httpx.Client(timeout=60) as office:
                site_server.sign_in(office, server.base, server.password)
                lines = office.get(server.base + "/office/register.json").json()["lines"]
            assert all(x["state"] == "passed" for x in lines), "every unit's last return is valid"
        finally:
            server.stop()

        # (d) the register at scale
        big = site_server.start(tmp / "big", roster(tmp / "big.csv", args.register_units), year=YEAR)
        try:
            links = big.links()
            with httpx.Client(timeout=120) as client:
                for code in list(by_unit)[:10]:  # a few units have reported
                    site_server.upload(client, links[code], by_unit[code][-1])
                site_server.sign_in(client, big.base, big.password)
                timings = {}
                for path in ("/office", "/office/register.json"):
                    client.get(big.base + path)  # warm
                    runs = []
                    for _ in range(20):
                        start = time.perf_counter()
                        reply = client.get(big.base + path)
                        runs.append(time.perf_counter() - start)
                        assert reply.status_code == 200
                    timings[path] = statistics.median(runs)
            print(f"(d) register with {args.register_units} units: page {timings['/office'] * 1000:.0f} ms, "
                  f"JSON {timings['/office/register.json'] * 1000:.0f} ms (median of 20)  [target page < 100 ms]")
        finally:
            big.stop()


if __name__ == "__main__":
    main()
