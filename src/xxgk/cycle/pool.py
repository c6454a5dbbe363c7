"""Read and check many files in worker processes, each within its limits: the batch path into a
`Collection`.

A worker (`worker.Workers`: warm processes, each file bounded in time and memory, a worker
past a limit killed) sends back only a compact `Entry` (the report, the exact values — ints
where whole —, identity, signature, SHA-256 and mtime), never a workbook.  A file past a limit,
or that brings its worker down, costs only itself: it gets ``file.unreadable`` saying why, as
the site says it for the same file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from xxgk.check.checking import CheckResult
from xxgk.check.file import check_file
from xxgk.cycle.entries import Entry, entry_of, failed_entry
from xxgk.cycle.worker import Exceeded, Limits, Workers
from xxgk.files import display_name
from xxgk.forms.findings import Report, make
from xxgk.forms.model import Form

__all__ = ["bounded_entry", "check_results", "read_entries"]

T = TypeVar("T")
_FORMS: list[Sequence[Form] | None] = [None]


def _use_forms(sources: Sequence[str]) -> None:
    """In a worker, once: the forms its files are read against, loaded from their files."""
    from xxgk.forms.load import load

    _FORMS[0] = [load(Path(s)) for s in sources]


def _workers(jobs: int, forms: Sequence[Form] | None, limits: Limits | None) -> Workers:
    """Workers that read against ``forms`` (None: the built-in ones): loaded again in each
    worker from their files, or (forms made in memory) inherited by workers forked from here."""
    if forms is None:
        return Workers(jobs, limits)
    sources = [f.source for f in forms]
    if all(Path(s).is_file() for s in sources):
        return Workers(jobs, limits, init=_use_forms, init_args=(sources,))
    _FORMS[0] = forms
    return Workers(jobs, limits, fork=True)


def read_entry(path: str, name: str | None = None) -> Entry:
    """In a worker: one file read and checked (``name``: the file name to show, default ``path``)."""
    try:
        return entry_of(check_file(path, _FORMS[0]), name)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - check_file does not raise; a batch never stops
        return failed_entry(name or path, f"{type(exc).__name__}: {exc}")


def bounded_entry(workers: Workers, path: Path | str, name: str | None = None, *, key: str = "") -> Entry:
    """``path`` read and checked by ``workers`` within their limits; past one (or when the worker
    died) a ``file.unreadable`` entry saying why."""
    shown = name if name is not None else str(path)
    try:
        return workers.call(read_entry, str(path), name, key=key)
    except Exceeded as exc:
        return failed_entry(shown, str(exc))
    except RuntimeError as exc:
        return failed_entry(shown, str(exc))


def _probe(path: str) -> None:
    """In a worker: ``path`` read and checked, the result dropped (forms do not travel)."""
    check_file(path, _FORMS[0])


def _bounded_result(workers: Workers, path: str, forms: Sequence[Form] | None) -> CheckResult:
    """``path`` checked in this process once a worker has read it within the limits (a `Return`
    holds its form, which cannot be sent back); past a limit, ``file.unreadable`` saying why."""
    try:
        workers.call(_probe, path)
    except (Exceeded, RuntimeError) as exc:
        shown = display_name(Path(path))
        return CheckResult(Report(file=shown, findings=[make("file.unreadable", detail=str(exc))]))
    return check_file(path, forms)


def check_results(paths: Sequence[Path | str], *, forms: Sequence[Form] | None = None,
                  jobs: int | None = None, limits: Limits | None = None) -> list[CheckResult]:
    """Each file read and checked within ``limits``, with its `Return` (for a marked copy): what
    `xxgk check` shows; a file past a limit gets ``file.unreadable``.  A worker reads each file
    first; only one it read within the limits is read again here (about 2 ms a return)."""
    def one(workers: Workers, path: str) -> CheckResult:
        return _bounded_result(workers, path, forms)

    return _bounded(one, [str(p) for p in paths], jobs, forms, limits, None)


def read_entries(
    paths: Sequence[Path | str],
    *,
    jobs: int | None = None,
    forms: Sequence[Form] | None = None,
    progress: Callable[[int, int], None] | None = None,
    limits: Limits | None = None,
) -> list[Entry]:
    """Read and check every file, in parallel across ``jobs`` worker processes, each file within
    ``limits`` (default `Limits()`: 20 s, 512 MB); results in input order."""
    return _bounded(bounded_entry, [str(p) for p in paths], jobs, forms, limits, progress)


def _bounded(one: Callable[[Workers, str], T], files: list[str], jobs: int | None, forms: Sequence[Form] | None,
             limits: Limits | None, progress: Callable[[int, int], None] | None) -> list[T]:
    """``one(workers, file)`` for every file, ``jobs`` at a time; results in input order."""
    if not files:
        return []
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    workers = _workers(jobs, forms, limits)
    out: dict[int, T] = {}
    try:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="xxgk-read") as threads:
            futures = {threads.submit(one, workers, f): i for i, f in enumerate(files)}
            for done, fut in enumerate(as_completed(futures), 1):
                out[futures[fut]] = fut.result()
                if progress:
                    progress(done, len(files))
    finally:
        workers.close()
    return [out[i] for i in range(len(files))]
