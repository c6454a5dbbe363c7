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
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from xxgk.check.checking import CheckResult
from xxgk.check.figures import Figure, figures_read
from xxgk.check.file import check_file
from xxgk.cycle.entries import Entry, entry_of, failed_entry
from xxgk.cycle.worker import Exceeded, Limits, Workers, may_fork
from xxgk.files import display_name
from xxgk.forms.builtin import default_forms
from xxgk.forms.findings import Report, make
from xxgk.forms.model import Form

__all__ = ["Probed", "bounded_entry", "probe_files", "read_entries"]

T = TypeVar("T")
_FORMS: list[Sequence[Form] | None] = [None]


def _use_forms(sources: Sequence[str]) -> None:
    """In a worker, once: the forms its files are read against, loaded from their files."""
    from xxgk.forms.load import load

    _FORMS[0] = [load(Path(s)) for s in sources]


def _workers(jobs: int, forms: Sequence[Form] | None, limits: Limits | None) -> Workers:
    """Workers that read against ``forms`` (None: the built-in ones).

    Forked from this process where it runs no other thread (the command line): they start at
    once with what it has loaded (the readers, loaded here first, once for all of them).  Else
    from the fork server, the forms loaded again in each worker from their files; forms made in
    memory need the fork."""
    if may_fork() or (forms is not None and not all(Path(f.source).is_file() for f in forms)):
        import xxgk.cycle.warm  # noqa: F401 - the readers and forms, loaded before the fork

        _FORMS[0] = forms
        return Workers(jobs, limits, fork=True)
    if forms is None:
        return Workers(jobs, limits)
    return Workers(jobs, limits, init=_use_forms, init_args=([f.source for f in forms],))


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
    try:
        return workers.call(read_entry, str(path), name, key=key)
    except (Exceeded, RuntimeError) as exc:
        return failed_entry(name if name is not None else str(path), str(exc))


@dataclass(frozen=True)
class Probed:
    """What `xxgk check` shows of a file read and checked in a worker, without its workbook:
    its entry, the figures read (``--show-values``, JSON) and the form it was read against
    (its position in the forms read against; None: not read)."""

    path: str
    entry: Entry
    figures: tuple[Figure, ...] = ()
    form: int | None = None

    def form_in(self, forms: Sequence[Form] | None) -> Form | None:
        """The form it was read against, among the same ``forms`` the workers read against."""
        return None if self.form is None else list(forms if forms is not None else default_forms())[self.form]


def _probe(path: str) -> Probed:
    """In a worker: ``path`` read and checked; what `check` shows of it (forms do not travel:
    the form by its position)."""
    result = check_file(path, _FORMS[0])
    known = _FORMS[0] if _FORMS[0] is not None else default_forms()
    ret = result.ret
    form = next((i for i, f in enumerate(known) if f is ret.form), None) if ret is not None else None
    return Probed(path, entry_of(result), tuple(figures_read(result)), form)


def probe_files(paths: Sequence[Path | str], *, forms: Sequence[Form] | None = None,
                jobs: int | None = None, limits: Limits | None = None) -> list[Probed]:
    """Each file read and checked in the workers within ``limits``: what `xxgk check` shows; a
    file past a limit gets ``file.unreadable``.  (Before, each file was read again here for its
    workbook: twice the time of `merge`; now only a marked copy reads it again.)"""
    files = [str(p) for p in paths]
    out = []
    for path, probed in zip(files, _bounded(_probe, files, jobs, forms, limits, None), strict=True):
        if isinstance(probed, Exception):
            report = Report(file=display_name(Path(path)), findings=[make("file.unreadable", detail=str(probed))])
            out.append(Probed(path, entry_of(CheckResult(report))))
        else:
            out.append(probed)
    return out


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
    files = [str(p) for p in paths]
    read = _bounded(read_entry, files, jobs, forms, limits, progress)
    return [failed_entry(f, str(e)) if isinstance(e, Exception) else e for f, e in zip(files, read, strict=True)]


def _bounded(fn: Callable[[str], T], files: list[str], jobs: int | None, forms: Sequence[Form] | None,
             limits: Limits | None, progress: Callable[[int, int], None] | None) -> list[T | Exception]:
    """``fn(file)`` in the workers for every file, ``jobs`` at a time; results (or why a file
    passed a limit) in input order."""
    if not files:
        return []
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    workers = _workers(jobs, forms, limits)
    out: list[T | Exception | None] = [None] * len(files)
    try:
        for done, (index, result) in enumerate(workers.map(fn, [(f,) for f in files]), 1):
            out[index] = result
            if progress:
                progress(done, len(files))
    finally:
        workers.close()
    return out  # type: ignore[return-value] # every index answered
