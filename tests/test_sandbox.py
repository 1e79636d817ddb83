"""The limited worker pool: results, errors, and every way a task can overrun."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from errors import BadInput, Unprocessable
from sandbox import LimitedPool, Limits
from tests import sandbox_tasks as tasks

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pool():
    pool = LimitedPool(
        "test task",
        size=1,
        limits=Limits(wall_seconds=3, cpu_seconds=1, memory_bytes=512 * 1024 * 1024),
    ).start()
    yield pool
    pool.close()


def test_returns_the_result(pool):
    assert pool.run(tasks.add, 2, 3) == 5


def test_quartile_errors_travel_back_unchanged(pool):
    with pytest.raises(BadInput, match="no such column 'Price'"):
        pool.run(tasks.refuse, "no such column 'Price'")
    assert pool.run(tasks.add, 1, 1) == 2  # the worker was kept


def test_other_exceptions_become_a_422_with_their_message(pool):
    with pytest.raises(Unprocessable, match="ZeroDivisionError"):
        pool.run(tasks.divide, 1, 0)


def test_wall_clock_limit_kills_and_replaces_the_worker(pool):
    before = pool.replaced
    with pytest.raises(Unprocessable, match="took longer than 0.5 s") as caught:
        pool.run(tasks.sleep_for, 10, limits=Limits(wall_seconds=0.5, cpu_seconds=5))
    assert caught.value.code == "time_limit"
    assert pool.replaced == before + 1
    assert pool.run(tasks.add, 20, 22) == 42  # a fresh worker answers


def test_cpu_limit_stops_a_busy_loop(pool):
    with pytest.raises(Unprocessable, match="CPU time"):
        pool.run(tasks.spin_forever, limits=Limits(wall_seconds=10, cpu_seconds=1))
    assert pool.run(tasks.add, 1, 2) == 3


def test_memory_limit_is_enforced(pool):
    with pytest.raises(Unprocessable, match="512 MB memory limit"):
        pool.run(tasks.allocate, 2048)
    assert pool.run(tasks.allocate, 10) == 10 * 1024 * 1024


def test_workers_are_separate_processes(pool):
    pool.run(tasks.add, 0, 0)
    assert os.getpid() not in pool.worker_pids()


def test_an_idle_pool_retires_workers_and_rewarms_in_the_background():
    """After `idle_seconds` without work the pool keeps one warm worker; the next task is served
    by that one at once while the other starts again in the background."""
    pool = LimitedPool("retiring", size=2, idle_seconds=0.4, keep_warm=1).start()
    try:
        assert pool.wait_ready(30)
        first = set(pool.worker_pids())
        assert len(first) == 2 and pool.spawned == 2
        deadline = time.monotonic() + 10
        while len(pool.worker_pids()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        kept = set(pool.worker_pids())
        assert len(kept) == 1 and kept < first and pool.retired == 1
        (gone,) = first - kept
        deadline = time.monotonic() + 5
        while psutil.pid_exists(gone) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not psutil.pid_exists(gone)  # killed and reaped, not left as a zombie

        assert pool.run(tasks.worker_pid) in kept  # the warm one answered; nothing waited
        assert pool.wait_ready(30)  # and the pool is whole again
        assert pool.spawned == 3 and len(pool.worker_pids()) == 2
    finally:
        pool.close()


def test_a_pool_can_be_resized_before_it_starts():
    pool = LimitedPool("resized", size=2).configure(size=1, idle_seconds=60, keep_warm=0)
    assert (pool.size, pool.idle_seconds, pool.keep_warm) == (1, 60.0, 0)
    try:
        assert pool.wait_ready(30)
        assert len(pool.worker_pids()) == 1 and pool.spawned == 1
    finally:
        pool.close()


@pytest.mark.parametrize("alive", [True, False])
def test_a_forked_process_uses_the_inherited_forkserver_or_starts_its_own(alive):
    """gunicorn workers share the master's forkserver (gunicorn.conf.py); if it is gone, a
    worker starts one of its own instead of failing (multiprocessing itself would call waitpid
    on a process that is not its child, and raise)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({} if alive else {"KILL_IT": "1"})}
    done = subprocess.run([sys.executable, "-c", tasks.INHERITED_FORKSERVER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    shared, parent = map(int, done.stdout.split())
    assert (parent == shared) is alive


def test_a_forkserver_forked_from_this_process_shares_its_imports_and_keeps_the_limits():
    """gunicorn's master forks the forkserver (shared_forkserver.start_forkserver_by_fork)
    instead of a new interpreter: its sandbox workers have the master's modules without importing
    them, and the memory limit is a budget on top of that (128 MB fits in 256, 1 GB does not)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", tasks.FORKED_FORKSERVER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    first, refused = done.stdout.splitlines()
    script, server, parent, has_wave, allocated = first.split()
    assert int(parent) == int(server) != int(script)
    assert ended(int(server))  # with the script, its last client
    assert has_wave == "True" and int(allocated) == 128 * 2**20
    assert refused == "Unprocessable memory_limit"


def ended(pid: int, timeout: float = 10) -> bool:
    """The process has exited (a zombie nobody has reaped yet counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False
