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
from sandbox import LimitedPool, use_inherited_forkserver
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
