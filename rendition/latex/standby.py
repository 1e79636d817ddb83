"""A pdflatex started ahead: the next report's first pass skips process start and format load.

Starting pdflatex and loading the report format (18 MB) is a third of a seeded report's only
pass. A standby is that pass started early, in its own fresh build directory, with the same
command and paranoid environment as any pass; its source `report.tex` is a link to its standard
input, so it waits, format loaded, reading a pipe. A build that takes it writes its assets and
seed files into the directory, then the source into the pipe; from there on it is an ordinary
pass (deadline, process-group kill, log checks). Each process keeps at most one, for one
command, replaced after use; a standby whose process died, that belongs to the parent of a fork
or that waits for another format is ended, never used. When its Python process dies, the pipe
closes and pdflatex stops at the end of its empty input.

TeX takes the time of day when it starts, so the source sent down the pipe sets the PDF's
creation date to the time of sending (on the format's marker line, which the format executes:
line numbers in error messages stay those of report.tex).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

IDLE_SECONDS = 600.0  # a standby nobody took in this long is ended
STDIN = "/proc/self/fd/0"  # the pdflatex process's own standard input, whatever it is


@dataclass(frozen=True)
class Standby:
    command: tuple[str, ...]
    workdir: Path
    process: subprocess.Popen
    owner: int  # the pid that started it: a forked child must not use its parent's

    def end(self) -> None:
        """Stop the process (if it still runs) and remove its directory (only in the process
        that started it)."""
        if self.owner != os.getpid():
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it ended meanwhile
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def drop_in_child(self) -> None:
        """In a forked child: close the inherited pipe ends (so that the parent's death still
        ends the standby), without touching the parent's process or directory."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


_lock = threading.Lock()
_waiting: Standby | None = None
_starter: threading.Thread | None = None


def start(command: list[str], environment: Callable[[Path], dict[str, str]],
          source_name: str, idle_seconds: float = IDLE_SECONDS) -> None:
    """Have a standby for `command` waiting (started now unless one waits already); one left
    unused for `idle_seconds` is ended, so a quiet server does not keep ~35 MB per process."""
    global _waiting
    with _lock:
        current = _waiting
        if current is not None and current.command == tuple(command) \
                and current.owner == os.getpid() and current.process.poll() is None:
            return
        _waiting = None
    if current is not None:
        current.end()
    workdir = Path(tempfile.mkdtemp(prefix="quartile-latex-"))
    (workdir / source_name).symlink_to(STDIN)
    process = subprocess.Popen(command, cwd=workdir, env=environment(workdir),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    started = Standby(tuple(command), workdir, process, os.getpid())
    with _lock:
        if _waiting is None:
            _waiting = started
            retire = threading.Timer(idle_seconds, _retire, args=(started,))
            retire.daemon = True
            retire.start()
            return
    started.end()  # another thread was quicker


def start_soon(command: list[str], environment: Callable[[Path], dict[str, str]],
               source_name: str) -> None:
    """`start` on a thread of its own: a large server process takes tens of ms to start a
    process, which the report that asked for the next standby should not wait for."""
    global _starter
    starter = threading.Thread(target=start, args=(command, environment, source_name),
                               name="latex-standby", daemon=True)
    _starter = starter
    starter.start()


def settle(timeout: float = 30.0) -> None:
    """Wait until a standby being started (`start_soon`) is waiting."""
    starter = _starter
    if starter is not None:
        starter.join(timeout)


def _retire(idle: Standby) -> None:
    """End `idle` if it is still the one waiting (not taken since it was started)."""
    global _waiting
    with _lock:
        if _waiting is not idle:
            return
        _waiting = None
    idle.end()


def take(command: list[str]) -> Standby | None:
    """The waiting standby for `command`, now the caller's (who must `end` it); None when
    there is none that can be used (a stale one is ended)."""
    global _waiting
    with _lock:
        waiting, _waiting = _waiting, None
    if waiting is None:
        return None
    if waiting.command != tuple(command) or waiting.owner != os.getpid() \
            or waiting.process.poll() is not None:
        waiting.end()
        return None
    return waiting


def dated(tex: str, marker: str) -> str:
    """`tex` with the PDF's creation and modification dates set to now, after `marker`
    on its line (pdfTeX's own date would be when the standby started)."""
    now = time.time()
    local = time.localtime(now)
    offset = local.tm_gmtoff or 0
    zone = "Z" if offset == 0 else \
        f"{'+' if offset > 0 else '-'}{abs(offset) // 3600:02d}'{abs(offset) % 3600 // 60:02d}'"
    stamp = time.strftime("D:%Y%m%d%H%M%S", local) + zone
    return tex.replace(f"\n{marker}\n",
                       f"\n{marker}\\pdfinfo{{/CreationDate ({stamp})/ModDate ({stamp})}}\n", 1)


def end_waiting() -> None:
    """End the standby waiting now, if any (at exit; tests, between tests)."""
    global _waiting
    with _lock:
        waiting, _waiting = _waiting, None
    if waiting is not None:
        waiting.end()


def _after_fork_in_child() -> None:
    global _waiting, _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    if _waiting is not None:
        _waiting.drop_in_child()
    _waiting = None


atexit.register(end_waiting)
os.register_at_fork(after_in_child=_after_fork_in_child)
