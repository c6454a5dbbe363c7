"""Form + agency + year → the workbook a department fills in.

Everything positional comes from `layout_of(form)`, every formula from the
form's parts and rules, so the reader and `xxgk check` see the workbook exactly
as it was written.  Files are written atomically: a crash or a second writer
never leaves half a workbook under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from xxgk.files import write_atomically
from xxgk.forms.model import Form
from xxgk.write.formsheet import metadata, render_return
from xxgk.write.names import file_name, unique


def write_template(form: Form, path: Path | str, *, year: int, agency: str, code: str = "",
                   template_id: str | None = None, overwrite: bool = False,
                   values: Mapping[str, Decimal] | None = None) -> Path:
    """Write the template for one agency (``values``: input cells filled in advance, e.g. carried
    from last year); raises FileExistsError unless ``overwrite``."""
    meta = metadata(form, year=year, agency=agency, code=code, template_id=template_id)
    if values:
        return write_atomically(path, lambda tmp: render_return(form, tmp, meta, values=values), overwrite=overwrite)
    return write_atomically(path, lambda tmp: _render(form, tmp, meta), overwrite=overwrite)


@dataclass(frozen=True)
class Job:
    """One workbook to write for a roster unit."""

    path: Path
    agency: str
    code: str = ""


def plan(units: Iterable[tuple[str, str]], out_dir: Path, *, year: int, form: Form) -> list[Job]:
    """A job per (code, name) unit with a safe, distinct file name inside ``out_dir``."""
    units = list(units)
    names = unique(file_name(code, name, year, form) for code, name in units)
    return [Job(out_dir / n, name, code) for (code, name), n in zip(units, names, strict=True)]


def write_many(form: Form, jobs: Sequence[Job], *, year: int, workers: int | None = None,
               overwrite: bool = False) -> Iterator[Path]:
    """Write every job, in a process pool when worthwhile; yields paths as they are done."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        for job in jobs:
            yield _write_job(form, year, overwrite, job)
        return
    chunk = max(1, min(16, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(workers, initializer=_worker_init, initargs=(form, year, overwrite)) as pool:
        try:
            yield from pool.map(_worker_job, jobs, chunksize=chunk)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


_WORKER: tuple[Form, int, bool] | None = None


def _worker_init(form: Form, year: int, overwrite: bool) -> None:
    global _WORKER
    _WORKER = (form, year, overwrite)


def _worker_job(job: Job) -> Path:
    assert _WORKER is not None
    form, year, overwrite = _WORKER
    return _write_job(form, year, overwrite, job)


def _write_job(form: Form, year: int, overwrite: bool, job: Job) -> Path:
    return write_template(form, job.path, year=year, agency=job.agency, code=job.code, overwrite=overwrite)


# ---------------------------------------------------------------- rendering


def _render(form: Form, target: Path, meta: dict[str, str]) -> None:
    render_return(form, target, meta)
