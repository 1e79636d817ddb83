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
