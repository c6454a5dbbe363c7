"""Bounded work in worker processes: every read of a file someone handed in, in the CLI and the site.

A file can be small and valid and still cost a parser minutes and gigabytes (a Word table whose
cells are all vertical-merge continuations; a sheet of two million cells).  So nothing reads such
a file in the process that serves or merges: `Workers` keeps a few warm worker processes (made
by a fork server that has the forms loaded), sends each one task at a time, and gives each task
a time limit (the worker is killed when it passes it) and a memory limit (``RLIMIT_AS`` in the
worker: an allocation past it fails, the task ends with `MemoryError`).  A task past a limit, or
whose worker died, raises `Exceeded` with the Chinese reason to show; the next task gets a fresh
worker.  ``key``: who asked (a unit); one key never holds more than half the workers, so a unit
handing in several costly files does not make the others wait.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

__all__ = ["Exceeded", "Limits", "Workers", "MB", "TIME_MESSAGE", "MEMORY_MESSAGE", "CRASH_MESSAGE"]

T = TypeVar("T")
MB = 1024 * 1024
TIME_MESSAGE = "文件过于复杂，无法在限定时间内读取（限时{seconds}秒），已停止读取；请检查文件是否异常，或重新从模板填写后报送"
MEMORY_MESSAGE = "文件过于复杂，读取所需内存超过上限（{mb}MB），已停止读取；请检查文件是否异常，或重新从模板填写后报送"
CRASH_MESSAGE = "读取该文件时处理进程异常终止，文件可能已损坏或含有恶意内容"
WARM_MODULE = "xxgk.cycle.warm"


@dataclass(frozen=True)
class Limits:
    """What one task may cost: ``seconds`` of wall time, ``memory`` bytes of address space the
    task may add to a warm worker (0: no memory limit)."""

    seconds: float = 20.0
    memory: int = 512 * MB


class Exceeded(Exception):
    """A task passed a limit (``what``: "time", "memory") or its worker died ("crash");
    ``str()`` is the Chinese reason, ready to be a finding's detail."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what


def _serve(conn: Connection, memory: int, init: Callable[..., None] | None, init_args: tuple[Any, ...]) -> None:
    """A worker: one task at a time from ``conn``, each answered ("ok", result) or ("error", text)."""
    if init is not None:
        init(*init_args)
    if memory:
        base = _address_space()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = base + memory
        resource.setrlimit(resource.RLIMIT_AS, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - a task's failure is the caller's to judge
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        if reply[0] == "memory":
            return  # a process that ran out of memory is not trusted with another task


def _address_space() -> int:
    """This process's virtual size now (VmSize), in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Worker:
    def __init__(self, ctx: Any, limits: Limits, init: Callable[..., None] | None, init_args: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc: BaseProcess = ctx.Process(target=_serve, args=(child, limits.memory, init, init_args), daemon=True)
        self.proc.start()
        child.close()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class Workers:
    """A few warm worker processes that run tasks within `Limits` (see the module doc).

    ``init(*init_args)`` runs once in each worker before its first task (e.g. custom forms);
    ``preload``: more modules for the fork server to import (when it is not running yet);
    ``fork``: workers forked from this process instead (they inherit what it holds: objects that
    cannot be sent to a worker, such as forms built in memory).
    `call` blocks its thread until the task is done; `submit` runs it from a thread of its own."""

    def __init__(self, processes: int | None = None, limits: Limits | None = None, *,
                 init: Callable[..., None] | None = None, init_args: tuple[Any, ...] = (),
                 preload: tuple[str, ...] = (), fork: bool = False) -> None:
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.limits = limits or Limits()
        self._init, self._init_args = init, init_args
        self._ctx = multiprocessing.get_context("fork") if fork else _context(preload)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: dict[str, int] = {}
        self._running = 0
        self._closed = False

    def _per_key(self) -> int:
        return max(1, self.processes // 2) if self.processes > 2 else self.processes

    def call(self, fn: Callable[..., T], *args: Any, key: str = "") -> T:
        """``fn(*args)`` in a worker within the limits; raises `Exceeded` past one, and
        `RuntimeError` with the worker's text when ``fn`` raised."""
        with self._cond:
            while not self._closed and (self._running >= self.processes or (
                    key and self._busy.get(key, 0) >= self._per_key())):
                self._cond.wait()
            if self._closed:
                raise RuntimeError("workers closed")
            self._running += 1
            if key:
                self._busy[key] = self._busy.get(key, 0) + 1
            worker = self._idle.pop() if self._idle else None
        try:
            if worker is None or not worker.proc.is_alive():
                worker = _Worker(self._ctx, self.limits, self._init, self._init_args)
            kept, reply = self._run(worker, fn, args)
        finally:
            with self._cond:
                self._running -= 1
                if key:
                    self._busy[key] -= 1
                    if not self._busy[key]:
                        del self._busy[key]
                self._cond.notify_all()
        with self._cond:
            if kept and not self._closed:
                self._idle.append(worker)
            else:
                worker.kill()
        status, value = reply
        if status == "ok":
            return value  # type: ignore[no-any-return]
        if status == "error":
            raise RuntimeError(value)
        raise Exceeded(status, self.message(status))

    def _run(self, worker: _Worker, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, tuple[str, Any]]:
        """(whether the worker may be used again, its reply)."""
        try:
            worker.conn.send((fn, args))
        except (OSError, EOFError):
            return False, ("crash", None)
        except Exception as exc:  # noqa: BLE001 - a task that cannot be sent (unpicklable)
            return False, ("error", f"{type(exc).__name__}: {exc}")
        deadline = time.monotonic() + self.limits.seconds
        conn, sentinel = worker.conn, worker.proc.sentinel
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, ("time", None)
            ready = multiprocessing.connection.wait([conn, sentinel], timeout=left)
            if conn in ready:
                try:
                    reply: tuple[str, Any] = conn.recv()
                except (EOFError, OSError):
                    return False, ("crash", None)
                return reply[0] != "memory", reply
            if sentinel in ready:
                return False, ("crash", None)

    def message(self, what: str) -> str:
        if what == "time":
            return TIME_MESSAGE.format(seconds=f"{self.limits.seconds:g}")
        if what == "memory":
            return MEMORY_MESSAGE.format(mb=self.limits.memory // MB)
        return CRASH_MESSAGE

    def submit(self, fn: Callable[..., T], *args: Any, key: str = "") -> Future[T]:
        """`call` from a thread of its own: the caller (an event loop) waits on the future."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(self.call(fn, *args, key=key))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                future.set_exception(exc)

        threading.Thread(target=run, name="xxgk-bounded", daemon=True).start()
        return future

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.conn.close()  # the worker sees EOF and ends
            worker.proc.join(5)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join(5)


def _context(preload: tuple[str, ...]) -> Any:
    """The fork server where there is one (its process loaded the forms once; forking from it
    is safe whatever threads the caller runs), else the platform's default."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([WARM_MODULE, *preload])
        return ctx
    return multiprocessing.get_context()
