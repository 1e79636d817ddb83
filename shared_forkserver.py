"""One forkserver for the sandboxes of every gunicorn worker (gunicorn.conf.py).

multiprocessing starts a forkserver as a new interpreter, per process that asks. Here gunicorn's
master forks it from itself once the shared modules are imported (`start_forkserver_by_fork`),
so the parser and solver processes it forks share those pages with the master and the web
workers; each web worker then uses that server (`use_inherited_forkserver`) instead of
starting one of its own.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Sequence

FORKSERVER_NAME = "forkserver"  # the process name of a forkserver forked from gunicorn's master


def start_forkserver_by_fork(preload: Sequence[str]) -> None:
    """Start multiprocessing's forkserver as a fork of this process rather than as a new
    interpreter (what `ensure_running` does), so that the sandbox workers it forks share the
    pages of every module this process has imported. Call it from a process with no threads
    of its own (the gunicorn master before it forks its workers)."""
    import socket
    from multiprocessing import connection, forkserver, resource_tracker

    server = forkserver._forkserver  # noqa: SLF001 - the module's one instance
    with server._lock:  # noqa: SLF001
        resource_tracker.ensure_running()
        if server._forkserver_pid is not None:  # noqa: SLF001
            return
        with socket.socket(socket.AF_UNIX) as listener:
            address = connection.arbitrary_address("AF_UNIX")
            listener.bind(address)
            os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()  # EOF on alive_r: every client has gone
            pid = os.fork()
            if pid == 0:
                try:
                    _close_fds_except({0, 1, 2, listener.fileno(), alive_r})
                    _set_process_name(FORKSERVER_NAME)
                    for module in preload:  # imported here, then frozen: the collectors of
                        __import__(module)  # the sandbox processes never touch their pages
                    gc.freeze()
                    forkserver.main(listener.fileno(), alive_r, [])  # nothing left to import
                finally:
                    os._exit(0)  # never back into the caller's code
            os.close(alive_r)
        server._forkserver_address = address  # noqa: SLF001
        server._forkserver_alive_fd = alive_w  # noqa: SLF001
        server._forkserver_pid = pid  # noqa: SLF001


def _set_process_name(name: str) -> None:
    """The name `ps -o comm` and psutil's name() show (its command line stays the parent's)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass  # not Linux with glibc: the name is cosmetic


def _close_fds_except(keep: set[int]) -> None:
    for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the directory's own descriptor, already closed


def use_inherited_forkserver() -> None:
    """In a process forked from the one that started multiprocessing's forkserver (a gunicorn
    worker; gunicorn.conf.py starts one for all): use that server. multiprocessing would check
    on it with waitpid, which only its parent may call; here a signal 0 says it is alive, and a
    process of our own is started only if it is gone."""
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver  # noqa: SLF001 - the module's one instance
    inherited = server._forkserver_pid  # noqa: SLF001
    if inherited is None:
        return
    own = type(server).ensure_running

    def ensure_running() -> None:
        if server._forkserver_pid == inherited:  # noqa: SLF001
            try:
                os.kill(inherited, 0)
            except ProcessLookupError:
                os.close(server._forkserver_alive_fd)  # noqa: SLF001
                server._forkserver_address = server._forkserver_alive_fd = None  # noqa: SLF001
                server._forkserver_pid = None  # noqa: SLF001
            else:
                resource_tracker.ensure_running()
                return
        own(server)

    server.ensure_running = ensure_running
