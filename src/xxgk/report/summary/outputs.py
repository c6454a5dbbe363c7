"""The summary workbook and its long CSV written side by side.

Each takes a few tenths of a second for 2,000 units, all of it in Python: on a machine with
two cores, the CSV is written by a child forked for it while this process writes the workbook.
Where forking is not safe (a process running threads, a platform without fork) one after
the other, as before.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path

from xxgk.cycle.summary import Summary
from xxgk.cycle.worker import may_fork
from xxgk.report.summary.csvout import write_csv
from xxgk.report.summary.workbook import write_summary

__all__ = ["write_outputs"]


def write_outputs(summary: Summary, workbook: Path | str, csv: Path | str | None = None, *,
                  overwrite: bool = False) -> None:
    """`write_summary` to ``workbook`` and, given ``csv``, `write_csv` to it; raises what
    either raises (the workbook's error first)."""
    if csv is None or not may_fork() or (multiprocessing.cpu_count() or 1) < 2:
        write_summary(summary, workbook, overwrite=overwrite)
        if csv is not None:
            write_csv(summary, csv, overwrite=overwrite)
        return
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_write_csv, args=(summary, csv, overwrite, send), daemon=True)
    child.start()
    send.close()
    try:
        write_summary(summary, workbook, overwrite=overwrite)
    finally:
        try:
            error = receive.recv()
        except EOFError:
            error = OSError(f"{csv}: 写入CSV的进程异常终止")
        child.join()
        receive.close()
    if error is not None:
        raise error


def _write_csv(summary: Summary, csv: Path | str, overwrite: bool, send: Connection) -> None:
    """In the child: the CSV written; what it raised sent back (None: written)."""
    try:
        write_csv(summary, csv, overwrite=overwrite)
    except Exception as exc:  # noqa: BLE001 - raised again in the parent
        send.send(exc)
    else:
        send.send(None)
