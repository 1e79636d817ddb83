"""A warm pool of child processes that run untrusted work under CPU, memory and time limits.

Parsing an uploaded workbook and evaluating a typed equation are the two places where user input
decides how much work the server does. Both run here, in a separate process, so that a zip bomb or
`9**9**9**9` costs a worker, never the web server. Workers are started ahead of time (imports paid
once) and replaced in the background when one is killed, so the next request finds a warm one.
A pool left idle for `idle_seconds` retires its workers down to `keep_warm`, and starts the
others again in the background as soon as work comes back (the first request after a quiet
spell is served by a worker that stayed warm, not by one being started).

Flask-free: the web layer, the CLI and the tests use it alike. Functions sent to a worker must be
importable module-level functions; their arguments and results must pickle. Exceptions that are
`QuartileError`s travel back unchanged; anything else comes back as a 422 with its message.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from errors import QuartileError, Unavailable, Unprocessable

log = logging.getLogger(__name__)

# forkserver: safe to start from a threaded web server, and each worker starts from a small,
# clean process rather than a copy of the server's memory.
_CONTEXT = multiprocessing.get_context("forkserver")


@dataclass(frozen=True)
class Limits:
    """What one task may use. `cpu_seconds` counts per task, not per worker lifetime;
    `memory_bytes` is address space on top of what the warm worker maps (its imports, which
    it may share with the process it was forked from, are not the task's)."""

    wall_seconds: float = 5.0
    cpu_seconds: int = 10
    memory_bytes: int = 1024 * 1024 * 1024


def _worker_main(conn: Connection, memory_bytes: int, preload: Sequence[str]) -> None:
    """Loop in the child: receive (fn, args), answer ("ok", result) or ("error", exc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in preload:
        __import__(module)
    release_free_memory()
    if memory_bytes:  # on top of what the warm worker maps (its imports, shared or not)
        limit = mapped_bytes() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fn, args, kwargs, cpu_seconds = conn.recv()
        except EOFError:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = int(usage.ru_utime + usage.ru_stime)
        # SIGXCPU at the soft limit ends the worker: the parent sees EOF and reports "CPU time".
        resource.setrlimit(resource.RLIMIT_CPU, (used + cpu_seconds, resource.RLIM_INFINITY))
        try:
            conn.send(("ok", fn(*args, **kwargs)))
        except QuartileError as exc:
            conn.send(("error", exc))
        except MemoryError:
            conn.send(("memory", None))
            return  # the heap may be fragmented or half-built: start afresh
        except RecursionError:
            conn.send(("error", Unprocessable("The input is nested too deeply to process.")))
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a 422, logged in full
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            conn.send(("crash", detail))


def mapped_bytes() -> int:
    """The address space this process maps now (VmSize)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def release_free_memory() -> None:
    """Give the heap that start-up freed (imports, warm-up work) back to the system: glibc
    keeps it otherwise, and every idle process of the app would hold tens of MB it never uses."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


class _Worker:
    def __init__(self, limits: Limits, preload: Sequence[str]):
        parent_conn, child_conn = _CONTEXT.Pipe()
        self.conn = parent_conn
        self.process = _CONTEXT.Process(
            target=_worker_main, args=(child_conn, limits.memory_bytes, tuple(preload)), daemon=True
        )
        self.process.start()
        child_conn.close()
        self.pid: int | None = None
        self.last_used = time.monotonic()

    def wait_ready(self, timeout: float) -> bool:
        if self.conn.poll(timeout):
            try:
                tag, pid = self.conn.recv()
            except EOFError:
                return False
            self.pid = pid
            return tag == "ready"
        return False

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class LimitedPool:
    """A number of warm workers; `run` blocks for a free one, then for the result.

    `size` workers serve at once. With `idle_seconds` > 0, a pool that has had no work for that
    long retires all but `keep_warm` of its idle workers; the next `run` starts them again in
    the background while the warm one answers.
    """

    def __init__(
        self,
        name: str,
        *,
        size: int = 1,
        limits: Limits | None = None,
        preload: Sequence[str] = (),
        acquire_timeout: float = 30.0,
        idle_seconds: float = 0.0,
        keep_warm: int = 1,
    ):
        self.name = name
        self.size = size
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.acquire_timeout = acquire_timeout
        self.idle_seconds = idle_seconds
        self.keep_warm = keep_warm
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._started = False
        self._closed = False
        self._live = 0  # workers started or starting, idle or busy
        self._last_work = time.monotonic()
        self.replaced = 0
        self.spawned = 0  # processes ever started (tests and benchmarks read it)
        self.retired = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def configure(self, *, size: int | None = None, idle_seconds: float | None = None,
                  keep_warm: int | None = None) -> LimitedPool:
        """Change the size or the retirement settings (the app factory applies its config).
        A smaller size takes effect as workers retire; a larger one at the next `run`."""
        with self._lock:
            if size is not None:
                self.size = max(1, int(size))
            if idle_seconds is not None:
                self.idle_seconds = float(idle_seconds)
            if keep_warm is not None:
                self.keep_warm = max(0, int(keep_warm))
        return self

    def start(self) -> LimitedPool:
        """Start the workers now (optional: the first `run` starts them otherwise)."""
        with self._lock:
            if self._started:
                return self
            self._started = True
            atexit.register(self.close)
        self._top_up()
        threading.Thread(target=self._retire_idle_loop, name=f"{self.name}-retire",
                         daemon=True).start()
        return self

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break

    def worker_pids(self) -> list[int]:
        """Pids of the idle workers (for tests and benchmarks that measure RSS)."""
        return [w.process.pid for w in list(self._idle.queue) if w.process.pid]

    def wait_ready(self, timeout: float) -> bool:
        """Block until all `size` workers are started and idle; False after `timeout` s."""
        if not self._started:
            self.start()
        deadline = time.monotonic() + timeout
        with self._ready:
            while self._idle.qsize() < self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._ready.wait(min(remaining, 0.5))
        return True

    def _top_up(self) -> None:
        """Start workers in the background until `size` are live (re-warming after retirement)."""
        with self._lock:
            missing = 0 if self._closed else self.size - self._live
            self._live += max(0, missing)
        for _ in range(missing):
            self._spawn_async()

    def _spawn_async(self) -> None:
        threading.Thread(target=self._spawn, name=f"{self.name}-spawn", daemon=True).start()

    def _spawn(self) -> None:
        """Start one worker for a place already counted in `_live`."""
        if self._closed:
            return
        try:
            worker = _Worker(self.limits, self.preload)
        except (OSError, RuntimeError, EOFError) as exc:  # e.g. forkserver not startable yet
            log.error("%s worker could not be started: %s", self.name, exc)
            if not self._closed:
                time.sleep(1)
                self._spawn_async()
            return
        self.spawned += 1
        ready = worker.wait_ready(timeout=120)
        if self._closed:
            worker.kill()
        elif ready:
            self._put_idle(worker)
        else:
            log.error(
                "%s worker failed to start (exit code %s)", self.name, worker.process.exitcode
            )
            worker.kill()
            if not self._closed:
                time.sleep(1)
                self._spawn_async()

    def _put_idle(self, worker: _Worker) -> None:
        with self._ready:
            self._idle.put(worker)
            self._ready.notify_all()

    def _retire_idle_loop(self) -> None:
        """Every few seconds: after `idle_seconds` without work, retire idle workers down to
        `keep_warm`, and workers above a reduced `size`."""
        while not self._closed:
            time.sleep(max(0.05, min(5.0, (self.idle_seconds or 5.0) / 4)))
            quiet = time.monotonic() - self._last_work
            with self._lock:
                if self.idle_seconds > 0 and quiet >= self.idle_seconds:
                    target = min(self.keep_warm, self.size)
                else:
                    target = self.size
                surplus = self._live - target
            for _ in range(max(0, surplus)):
                self._retire_one()

    def _retire_one(self) -> None:
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            return  # busy or still starting: looked at again next round
        with self._lock:
            self._live -= 1
            self.retired += 1
        worker.kill()
        log.info("%s worker %s retired after %.0f s idle", self.name, worker.pid,
                 self.idle_seconds)

    # -- work ----------------------------------------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, limits: Limits | None = None, **kwargs: Any):
        """Run `fn(*args, **kwargs)` in a worker; raise a QuartileError if it fails or overruns."""
        if not self._started:
            self.start()
        self._last_work = time.monotonic()
        if self._live < self.size:
            self._top_up()  # back from retirement: the others start while a warm one answers
        limits = limits or self.limits
        try:
            worker = self._idle.get(timeout=self.acquire_timeout)
        except queue.Empty:
            raise Unavailable(
                f"The {self.name} workers are all busy; try again in a moment."
            ) from None
        healthy = False
        try:
            worker.conn.send((fn, args, kwargs, max(1, int(limits.cpu_seconds))))
            if not worker.conn.poll(limits.wall_seconds):
                raise Unprocessable(
                    f"The {self.name} took longer than {limits.wall_seconds:g} s and was stopped.",
                    code="time_limit",
                )
            try:
                tag, payload = worker.conn.recv()
            except EOFError:
                raise self._death_error(worker, limits) from None
            if tag == "ok":
                healthy = True
                return payload
            if tag == "error":
                healthy = True
                raise payload
            if tag == "memory":
                raise Unprocessable(
                    f"The {self.name} needed more than the "
                    f"{limits.memory_bytes // (1024 * 1024)} MB memory limit.",
                    code="memory_limit",
                )
            healthy = True
            log.warning("%s task failed: %s", self.name, payload)
            raise Unprocessable(f"The {self.name} failed: {payload}", code="worker_error")
        finally:
            self._last_work = worker.last_used = time.monotonic()
            if healthy:
                self._put_idle(worker)
            else:
                worker.kill()
                self.replaced += 1
                self._spawn_async()

    def _death_error(self, worker: _Worker, limits: Limits) -> QuartileError:
        worker.process.join(timeout=2)
        code = worker.process.exitcode
        if code == -signal.SIGXCPU:
            return Unprocessable(
                f"The {self.name} used more than {limits.cpu_seconds} s of CPU time "
                "and was stopped.",
                code="time_limit",
            )
        return Unprocessable(
            f"The {self.name} ran out of memory or crashed (limit "
            f"{limits.memory_bytes // (1024 * 1024)} MB) and was stopped.",
            code="memory_limit",
        )
