"""A warm pool of child processes that run untrusted work under CPU, memory and time limits.

Parsing an uploaded workbook and evaluating a typed equation are the two places where user input
decides how much work the server does. Both run here, in a separate process, so that a zip bomb or
`9**9**9**9` costs a worker, never the web server. Workers are started ahead of time (imports paid
once) and replaced in the background when one is killed, so the next request finds a warm one.

Flask-free: the web layer, the CLI and the tests use it alike. Functions sent to a worker must be
importable module-level functions; their arguments and results must pickle. Exceptions that are
`QuartileError`s travel back unchanged; anything else comes back as a 422 with its message.
"""

from __future__ import annotations

import atexit
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
    """What one task may use. `cpu_seconds` counts per task, not per worker lifetime."""

    wall_seconds: float = 5.0
    cpu_seconds: int = 10
    memory_bytes: int = 1024 * 1024 * 1024


def _worker_main(conn: Connection, memory_bytes: int, preload: Sequence[str]) -> None:
    """Loop in the child: receive (fn, args), answer ("ok", result) or ("error", exc)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    for module in preload:
        __import__(module)
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
    """A fixed number of warm workers; `run` blocks for a free one, then for the result."""

    def __init__(
        self,
        name: str,
        *,
        size: int = 1,
        limits: Limits | None = None,
        preload: Sequence[str] = (),
        acquire_timeout: float = 30.0,
    ):
        self.name = name
        self.size = size
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.acquire_timeout = acquire_timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self.replaced = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LimitedPool:
        """Start the workers now (optional: the first `run` starts them otherwise)."""
        with self._lock:
            if not self._started:
                self._started = True
                atexit.register(self.close)
                for _ in range(self.size):
                    self._spawn_async()
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

    def _spawn_async(self) -> None:
        threading.Thread(target=self._spawn, name=f"{self.name}-spawn", daemon=True).start()

    def _spawn(self) -> None:
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
        ready = worker.wait_ready(timeout=120)
        if self._closed:
            worker.kill()
        elif ready:
            self._idle.put(worker)
        else:
            log.error(
                "%s worker failed to start (exit code %s)", self.name, worker.process.exitcode
            )
            worker.kill()
            if not self._closed:
                time.sleep(1)
                self._spawn_async()

    # -- work ----------------------------------------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, limits: Limits | None = None, **kwargs: Any):
        """Run `fn(*args, **kwargs)` in a worker; raise a QuartileError if it fails or overruns."""
        if not self._started:
            self.start()
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
            if healthy:
                self._idle.put(worker)
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
