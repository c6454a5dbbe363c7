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

import contextlib
import multiprocessing
import os
import pickle
import resource
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

__all__ = ["Exceeded", "Limits", "Workers", "may_fork", "MB", "TIME_MESSAGE", "MEMORY_MESSAGE", "CRASH_MESSAGE"]

T = TypeVar("T")
MB = 1024 * 1024
TIME_MESSAGE = "文件过于复杂，无法在限定时间内读取（限时{seconds}秒），已停止读取；请检查文件是否异常，或重新从模板填写后报送"
MEMORY_MESSAGE = "文件过于复杂，读取所需内存超过上限（{mb}MB），已停止读取；请检查文件是否异常，或重新从模板填写后报送"
CRASH_MESSAGE = "读取该文件时处理进程异常终止，文件可能已损坏或含有恶意内容"
WARM_MODULE = "xxgk.cycle.warm"
GROUP, HOLD = 32, 0.05  # replies sent together at most, and seconds one is held at most


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


def _serve(conn: Connection, started: Any, memory: int, init: Callable[..., None] | None,
           init_args: tuple[Any, ...]) -> None:
    """A worker: tasks from ``conn`` as (fn, [args, …]), ``fn(*args)`` for each in turn, each
    answered as it is done: ("ok", result), ("error", text), ("memory", None); ``started``
    (shared memory) counts the calls begun, so the one a worker died on is known."""
    if init is not None:
        init(*init_args)
    if memory:
        base = _address_space()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = base + memory
        resource.setrlimit(resource.RLIMIT_AS, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:  # closed (a worker forked later holds this pipe too: no end of file)
            return
        fn, calls = task
        if not _answer(conn, started, fn, calls):
            return  # a process that ran out of memory is not trusted with another task


def _answer(conn: Connection, started: Any, fn: Callable[..., Any], calls: list[tuple[Any, ...]]) -> bool:
    """``fn(*args)`` for each of ``calls``, the replies (each pickled on its own: one that cannot
    be costs only itself) sent in groups: at most `GROUP` together, none held past `HOLD`
    seconds when a call starts (a reply's wait does not eat into the next call's time).
    False when a call ran out of memory."""
    held: list[bytes] = []
    since = time.monotonic()
    reply: tuple[str, Any] = ("ok", None)
    for args in calls:
        if held and (len(held) >= GROUP or time.monotonic() - since > HOLD):
            conn.send(held)
            held, since = [], time.monotonic()
        started.value += 1
        try:
            reply = ("ok", fn(*args))
        except MemoryError:
            reply = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - a task's failure is the caller's to judge
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            held.append(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
        except MemoryError:
            held.append(pickle.dumps(reply := ("memory", None)))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            held.append(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
        if reply[0] == "memory":
            break
    conn.send(held)
    return reply[0] != "memory"


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
        self.started = ctx.RawValue("q", 0)  # calls it has begun, counted by the worker
        self.answered = 0  # replies received from it
        self.proc: BaseProcess = ctx.Process(target=_serve, args=(child, self.started, limits.memory, init, init_args),
                                             daemon=True)
        self.proc.start()
        child.close()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class _Chunk:
    """Calls sent to one worker in one message: those not answered yet, and when the one it is
    on now must be done by."""

    def __init__(self, worker: _Worker, items: list[int], seconds: float) -> None:
        self.worker, self.items, self.seconds = worker, deque(items), seconds
        self.deadline = 0.0

    def send(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> bool:
        try:
            self.worker.conn.send((fn, [calls[i] for i in self.items]))
        except (OSError, EOFError):
            return False
        self.deadline = time.monotonic() + self.seconds
        return True

    def receive(self) -> tuple[list[tuple[int, tuple[str, Any]]], bool]:
        """The calls answered now, each (its index, its reply), and whether the worker may go on.
        Past the time or with the worker dead: the call it was on, found by its count of calls
        begun (replies it held back are lost with it; those calls stay to be sent again)."""
        worker = self.worker
        late = time.monotonic() >= self.deadline and not worker.conn.poll()
        try:
            replies: list[bytes] = [] if late else worker.conn.recv()
        except (EOFError, OSError):
            replies = []
        if not replies:
            worker.kill()  # before counting: it begins no other call meanwhile
            on = min(max(0, worker.started.value - 1 - worker.answered), len(self.items) - 1)
            index = self.items[on]
            del self.items[on]
            return [(index, ("time" if late else "crash", None))], False
        worker.answered += len(replies)
        self.deadline = time.monotonic() + self.seconds
        out = [(self.items.popleft(), pickle.loads(blob)) for blob in replies]
        return out, out[-1][1][0] != "memory"


def _ready(running: list[_Chunk]) -> list[_Chunk]:
    """The chunks with a reply, a dead worker or a call past its time, waited for."""
    left = min(c.deadline for c in running) - time.monotonic()
    waits: dict[Any, _Chunk] = {}
    for c in running:
        waits[c.worker.conn] = waits[c.worker.proc.sentinel] = c
    ready = multiprocessing.connection.wait(list(waits), timeout=max(0.0, left))
    now = time.monotonic()
    return list(dict.fromkeys([waits[r] for r in ready] + [c for c in running if c.deadline <= now]))


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
        outcome = self._outcome(reply)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[no-any-return]

    def _outcome(self, reply: tuple[str, Any]) -> Any:
        """A reply as what `call` returns, or the exception it raises."""
        status, value = reply
        if status == "ok":
            return value
        if status == "error":
            return RuntimeError(value)
        return Exceeded(status, self.message(status))

    def map(self, fn: Callable[..., T], calls: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, T | Exception]]:
        """``fn(*args)`` for every ``args`` in ``calls``, across the workers, each call within the
        limits as in `call`; yields (index, result) as they are done, where the result is what
        `call` returns or the `Exceeded` / `RuntimeError` it raises.

        Calls go to a worker in chunks, one message each, and come back one by one: a batch of
        thousands of small files costs a message per file, not a thread, a lock and a round trip
        (most of the time of a 2,000-file merge went there).  A call past a limit costs only
        itself: the rest of its chunk goes to a fresh worker."""
        if not calls:
            return
        count = min(self.processes, len(calls))
        todo = deque(range(len(calls)))
        running: list[_Chunk] = []
        spare = self._take(count)
        try:
            while todo or running:
                while todo and spare:
                    worker = spare.pop()
                    if worker is None or not worker.proc.is_alive():
                        worker = _Worker(self._ctx, self.limits, self._init, self._init_args)
                    # chunks shrink as the calls run out, so that the workers finish together
                    size = max(1, min(64, len(todo) // (count * 4)))
                    chunk = _Chunk(worker, [todo.popleft() for _ in range(size)], self.limits.seconds)
                    if chunk.send(fn, calls):
                        running.append(chunk)
                    else:  # the worker is gone: its first call is the one to blame
                        worker.kill()
                        yield chunk.items.popleft(), self._outcome(("crash", None))
                        todo.extendleft(reversed(chunk.items))
                        spare.append(None)
                for chunk in _ready(running):
                    replies, alive = chunk.receive()
                    for index, reply in replies:
                        yield index, self._outcome(reply)
                    if not alive:
                        chunk.worker.kill()
                        todo.extendleft(reversed(chunk.items))
                        running.remove(chunk)
                        spare.append(None)
                    elif not chunk.items:
                        running.remove(chunk)
                        spare.append(chunk.worker)
        finally:
            for chunk in running:
                chunk.worker.kill()
            self._give(count, [w for w in spare if w is not None])

    def _take(self, count: int) -> list[_Worker | None]:
        """``count`` of the running slots, waited for; each with an idle worker where there is one."""
        with self._cond:
            while not self._closed and self._running + count > self.processes:
                self._cond.wait()
            if self._closed:
                raise RuntimeError("workers closed")
            self._running += count
            return [self._idle.pop() if self._idle else None for _ in range(count)]

    def _give(self, count: int, idle: list[_Worker]) -> None:
        """The slots `_take` took back, with the workers still fit for work."""
        with self._cond:
            self._running -= count
            if self._closed:
                for worker in idle:
                    worker.kill()
            else:
                self._idle.extend(idle)
            self._cond.notify_all()

    def _run(self, worker: _Worker, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, tuple[str, Any]]:
        """(whether the worker may be used again, its reply)."""
        try:
            worker.conn.send((fn, [args]))
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
                    reply: tuple[str, Any] = pickle.loads(conn.recv()[0])
                except (EOFError, OSError):
                    return False, ("crash", None)
                worker.answered += 1
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
            with contextlib.suppress(OSError, EOFError):
                worker.conn.send(None)  # the worker ends
            worker.conn.close()
            worker.proc.join(5)
            if worker.proc.is_alive():
                worker.proc.kill()
                worker.proc.join(5)


def may_fork() -> bool:
    """Whether this process may fork (its workers, a writer): a process with threads may not (a
    lock held by another thread stays held in the child)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _context(preload: tuple[str, ...]) -> Any:
    """The fork server where there is one (its process loaded the forms once; forking from it
    is safe whatever threads the caller runs), else the platform's default."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([WARM_MODULE, *preload])
        return ctx
    return multiprocessing.get_context()
