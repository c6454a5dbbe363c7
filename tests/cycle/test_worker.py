"""Bounded work: a task past its time or memory limit is stopped (its worker killed) with a
Chinese reason, the same in `check`/`merge` as on the site; the next task gets a fresh worker."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import hostile
import site_books
from hostile import _act, _die, _fail, _hog, _sleep
from xxgk.cycle.pool import probe_files, read_entries
from xxgk.cycle.stored import entry_from_json, entry_json
from xxgk.cycle.worker import MB, Exceeded, Limits, Workers


def test_time_memory_and_death_each_cost_only_their_task() -> None:
    workers = Workers(2, Limits(seconds=1.5, memory=128 * MB))
    try:
        first = workers.call(_sleep, 0)
        with pytest.raises(Exceeded) as late:
            workers.call(_sleep, 30)
        assert late.value.what == "time" and "文件过于复杂，无法在限定时间内读取" in str(late.value)
        with pytest.raises(Exceeded) as big:
            workers.call(_hog, 512 * MB)
        assert big.value.what == "memory" and "内存超过上限（128MB）" in str(big.value)
        assert workers.call(_hog, 32 * MB) == 32 * MB  # within the limit
        with pytest.raises(Exceeded) as dead:
            workers.call(_die)
        assert dead.value.what == "crash"
        with pytest.raises(RuntimeError, match="ValueError: 坏"):
            workers.call(_fail)
        assert workers.call(_sleep, 0) not in (0, os.getpid())
        assert first != os.getpid()
    finally:
        workers.close()


def test_a_batch_costs_each_call_only_its_own_limit() -> None:
    """`map` sends calls in chunks: a call past a limit, or whose worker died, fails alone and
    the rest of its chunk is answered by a fresh worker; every call answered exactly once."""
    calls: list[tuple[str, float]] = [("sleep", 0)] * 400  # chunks of 25, replies held back in groups
    odd = {33: ("sleep", 30), 99: ("hog", 512 * MB), 217: ("die", 0), 250: ("fail", 0)}
    for i, call in odd.items():
        calls[i] = call
    workers = Workers(2, Limits(seconds=1.5, memory=128 * MB), fork=True)
    try:
        got = dict(workers.map(_act, calls))
        assert sorted(got) == list(range(400))
        assert isinstance(got[33], Exceeded) and got[33].what == "time"
        assert isinstance(got[99], Exceeded) and got[99].what == "memory"
        assert isinstance(got[217], Exceeded) and got[217].what == "crash"  # the call it died on, not a neighbour
        assert isinstance(got[250], RuntimeError) and "ValueError: 坏" in str(got[250])
        pids = {v for i, v in got.items() if i not in odd}
        assert all(isinstance(p, int) and p != os.getpid() for p in pids)
        assert len(pids) >= 3  # workers replaced after the time, memory and crash
        assert workers.call(_sleep, 0) != os.getpid()  # the workers are usable afterwards
    finally:
        workers.close()


def test_one_key_never_holds_every_worker() -> None:
    workers = Workers(4, Limits(seconds=20))
    try:
        slow = [workers.submit(_sleep, 3, key="unit:1") for _ in range(3)]
        time.sleep(0.5)
        quick = workers.submit(_sleep, 0, key="unit:2")
        quick.result(timeout=10)
        assert sum(f.done() for f in slow) == 0  # unit 2 went ahead of unit 1's third file
        for f in slow:
            f.result(timeout=30)
    finally:
        workers.close()


@pytest.mark.timeout(120)
def test_check_and_merge_refuse_the_file_the_site_refuses(tmp_path: Path) -> None:
    bomb = tmp_path / "年度报告.pdf"
    bomb.write_bytes(hostile.slow_pdf())
    good = site_books.return_bytes(tmp_path, site_books.ROSTER[0])
    limits = Limits(seconds=2)
    entries = read_entries([bomb, good], jobs=2, limits=limits)
    assert entries[1].valid
    (finding,) = entries[0].report.findings
    assert finding.code == "file.unreadable" and "文件过于复杂，无法在限定时间内读取（限时2秒）" in finding.message
    probed = probe_files([good, bomb], limits=limits)
    assert probed[0].form_in(None) is not None and probed[0].entry.valid and probed[0].figures
    assert probed[1].form is None and not probed[1].figures
    assert "文件过于复杂" in probed[1].entry.report.findings[0].message


def test_an_entry_is_stored_exactly(tmp_path: Path) -> None:
    faulty = site_books.return_bytes(tmp_path, site_books.ROSTER[0], faulty=True)
    (entry,) = read_entries([faulty], jobs=1)
    assert entry.values and entry.report.findings
    again = entry_from_json(entry_json(entry))
    assert again == entry
    assert all(type(again.values[k]) is type(v) for k, v in entry.values.items())  # type: ignore[index]
