"""Module-level tasks for tests/test_sandbox.py (workers import them by name)."""

import os
import time

from errors import BadInput


def add(a, b):
    return a + b


def sleep_for(seconds):
    time.sleep(seconds)
    return "slept"


def spin_forever():
    while True:
        pass


def allocate(megabytes):
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def refuse(message):
    raise BadInput(message)


def divide(a, b):
    return a / b


def worker_pid():
    return os.getpid()


def parent_pid():
    return os.getppid()


INHERITED_FORKSERVER = '''
import os, signal, sys
from multiprocessing import forkserver
from sandbox import LimitedPool
from shared_forkserver import use_inherited_forkserver
from tests import sandbox_tasks

forkserver.ensure_running()
shared = forkserver._forkserver._forkserver_pid
if os.environ.get("KILL_IT"):
    os.kill(shared, signal.SIGKILL)
    os.waitpid(shared, 0)
child = os.fork()
if child == 0:  # a gunicorn worker, as it were
    use_inherited_forkserver()
    pool = LimitedPool("inherited", size=1).start()
    print(shared, pool.run(sandbox_tasks.parent_pid), flush=True)
    pool.close()
    os._exit(0)
os.waitpid(child, 0)
'''


def has_module(name):
    import sys

    return name in sys.modules


FORKED_FORKSERVER = '''
import os
import wave  # imported before the fork: the sandbox workers have it without importing it
import sandbox
import shared_forkserver
from multiprocessing import forkserver
from tests import sandbox_tasks

shared_forkserver.start_forkserver_by_fork([])
server = forkserver._forkserver._forkserver_pid
pool = sandbox.LimitedPool("forked", size=1,
                           limits=sandbox.Limits(wall_seconds=10, memory_bytes=256 * 2**20))
pool.start()
print(os.getpid(), server, pool.run(sandbox_tasks.parent_pid),
      pool.run(sandbox_tasks.has_module, "wave"), pool.run(sandbox_tasks.allocate, 128),
      flush=True)
try:
    pool.run(sandbox_tasks.allocate, 1024)
except Exception as exc:
    print(type(exc).__name__, exc.code, flush=True)
pool.close()
'''
