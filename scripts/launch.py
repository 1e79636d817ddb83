"""Start and stop Quartile's processes as subprocesses on loopback: a private redis-server, a
gunicorn app node, a Celery worker. Used by scripts/stack.py (`make stack`), the stack tests
(tests/stack_fixtures.py) and the benches, so that they all run the commands of the README.

Every process starts in a session of its own, so stop_process() ends it with its children (a
gunicorn master's workers, a Celery worker's pool, the sandboxes' forkservers).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop_process(process: subprocess.Popen | None, sig: int = signal.SIGTERM,
                 timeout: float = 10.0) -> None:
    """Stop a process started with start_new_session (its whole group), waiting for it."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def base_env(**settings: str) -> dict:
    """This process's environment without any QUARTILE_* setting, plus `settings`: a child sees
    exactly the Quartile configuration it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTILE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def venv_tool(name: str) -> str:
    path = VENV_BIN / name
    return str(path) if path.exists() else str(Path(sys.executable).parent / name)


def logged(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start `args` in ROOT in a session of its own, stdout and stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)


class RedisServer:
    """A private redis-server: no persistence, its own port; stop() and start() again."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_for_port(self.port, 10, self.process)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def start_gunicorn(env: dict, port: int, log: Path, workers: int = 2, threads: int = 16,
                   timeout: float | None = 60) -> subprocess.Popen:
    """`make run`'s gunicorn (gunicorn.conf.py) on 127.0.0.1:`port`; returns once it listens
    (its workers may still be booting: poll /healthz), or at once when `timeout` is None."""
    process = logged(
        [venv_tool("gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
        {**env, "QUARTILE_BIND": f"127.0.0.1:{port}", "QUARTILE_WORKERS": str(workers),
         "QUARTILE_THREADS": str(threads)}, log)
    if timeout is not None:
        wait_for_port(port, timeout, process)
    return process


def start_celery_worker(env: dict, log: Path, concurrency: int = 2,
                        timeout: float = 60) -> subprocess.Popen:
    """`make worker`'s command; returns once the worker says it is ready."""
    start = log.stat().st_size if log.exists() else 0
    process = logged(
        [venv_tool("celery"), "-A", "jobs.celery_app", "worker", "--loglevel=info",
         f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
         "--without-heartbeat"], env, log)
    deadline = time.monotonic() + timeout
    while b" ready." not in log.read_bytes()[start:]:
        if process.poll() is not None:
            raise RuntimeError("the Celery worker exited:\n" + log.read_text()[-3000:])
        if time.monotonic() > deadline:
            stop_process(process)
            raise TimeoutError("the Celery worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.05)
    return process
