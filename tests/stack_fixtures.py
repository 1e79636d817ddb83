"""The real job stack for tests: a private redis-server, a Celery worker and gunicorn, as
subprocesses on free ports, plus the test-only task kinds they run.

The worker imports this module (QUARTILE_JOB_EXTRA_TASK_MODULES=tests.stack_fixtures) to learn the
test kinds, so the module must stay importable without pytest fixtures being used.

- `test_steps`: `steps` progress reports `delay` seconds apart, honouring cancellation; appends
  "<pid>\\n" to `marker` (a file under FILES_DIR) when it starts, so a test can see which process
  runs it and how often it was started. `fail` = "quartile" raises a BadInput for the user;
  "crash" raises a ZeroDivisionError.
- `test_count`: like test_steps, but reports progress after each step and records it in
  STEPS_SEEN (embedded engine only: same process), for the engine's unit tests.
- `test_gate`: waits, cancellably, until the test sets GATES[params["gate"]].
- `test_crash` / `test_not_json`: an unexpected exception; a result that is not JSON.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from errors import BadInput
from jobs import TaskContext, task
from scripts.launch import (  # noqa: F401  (free_port, wait_for_port: the tests' imports)
    ROOT,
    VENV_BIN,
    RedisServer,
    base_env,
    free_port,
    start_celery_worker,
    start_gunicorn,
    stop_process,
    wait_for_port,
)
from store.db import db
from store.models import Job

HEARTBEAT_SECONDS = 1.0  # the workers' heartbeat in these tests: a lost worker is seen in ~1 s
STEPS_SEEN: dict[str, int] = {}  # job id → steps a test_count job has done
GATES: dict[str, threading.Event] = {}  # name → what a test_gate job waits for


# -- test-only task kinds --------------------------------------------------------------------
@task("test_steps")
def steps_task(ctx: TaskContext, params: dict) -> dict:
    """Slow, cancellable, observable: see the module docstring."""
    steps, delay = int(params.get("steps", 3)), float(params.get("delay", 0.0))
    if params.get("marker"):
        with open(ctx.files_dir / params["marker"], "a") as handle:
            handle.write(f"{os.getpid()}\n")
    for n in range(steps):
        ctx.progress(100 * n / steps, f"Step {n + 1} of {steps}")
        if params.get("fail") == "quartile" and n == steps - 1:
            raise BadInput(f"Step {n + 1} found nothing to do.")
        if params.get("fail") == "crash" and n == steps - 1:
            return {"ratio": 1 / 0}
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(min(0.02, delay))
    return {"steps": steps, "owner": ctx.owner_id}


@task("test_count")
def count_task(ctx: TaskContext, params: dict) -> dict:
    """`steps` steps of `delay` s, progress 100·k/steps after step k; may fail at the end."""
    steps, delay = int(params.get("steps", 4)), float(params.get("delay", 0.0))
    for step in range(1, steps + 1):
        ctx.check_cancelled()
        time.sleep(delay)
        ctx.progress(100 * step / steps, f"Step {step} of {steps}")
        STEPS_SEEN[ctx.job_id] = step
    if params.get("fail"):
        raise BadInput(params["fail"])
    return {"steps": steps, "pid": os.getpid(), "owner": ctx.owner_id}


@task("test_gate")
def gate_task(ctx: TaskContext, params: dict) -> dict:
    gate = GATES[params["gate"]]
    while not gate.wait(0.02):
        ctx.check_cancelled()
    return {"gate": params["gate"]}


@task("test_crash")
def crash_task(ctx: TaskContext, params: dict) -> dict:
    raise ZeroDivisionError("the test divided by zero")


@task("test_not_json")
def not_json_task(ctx: TaskContext, params: dict) -> dict:
    return {"value": float("nan")}


# -- processes (scripts/launch.py starts them) ------------------------------------------
@dataclass
class Stack:
    """One database, files dir and Redis shared by the test app, Celery workers and gunicorn."""

    files_dir: Path
    database_url: str
    redis: RedisServer
    logs: Path
    worker: subprocess.Popen | None = None
    extra_env: dict = field(default_factory=dict)

    def env(self, **more: str) -> dict:
        env = base_env(
            QUARTILE_DATABASE_URL=self.database_url,
            QUARTILE_FILES_DIR=str(self.files_dir),
            QUARTILE_REDIS_URL=self.redis.url,
            QUARTILE_JOB_ENGINE="celery",
            QUARTILE_JOB_EXTRA_TASK_MODULES="tests.stack_fixtures",
            QUARTILE_JOB_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
            QUARTILE_SECRET_KEY="stack-test-secret",
            QUARTILE_AUTO_MIGRATE="0",
            QUARTILE_AUTH="off",
            QUARTILE_WARM_START="0",  # gunicorn.conf.py turns it on; these tests need no warming
        )
        env.update(self.extra_env)
        env.update(more)
        return env

    def app_settings(self, **overrides) -> dict:
        """create_app overrides for the test process's own app on this stack."""
        return {"FILES_DIR": self.files_dir, "SQLALCHEMY_DATABASE_URI": self.database_url,
                "REDIS_URL": self.redis.url, "JOB_ENGINE": "celery",
                "JOB_EXTRA_TASK_MODULES": "tests.stack_fixtures",
                "JOB_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS, "SECRET_KEY": "stack-test-secret",
                "TESTING": True, "WTF_CSRF_ENABLED": False, "AUTH": "off",
                "AUTO_MIGRATE": False, **overrides}

    def start_worker(self, timeout: float = 60) -> subprocess.Popen:
        """`make worker`'s command; returns once the worker says it is ready."""
        self.worker_log = self.logs / f"worker-{time.monotonic_ns()}.log"
        self.worker = start_celery_worker(self.env(), self.worker_log, timeout=timeout)
        return self.worker

    def stop_worker(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.worker, sig)
        self.worker = None

    def start_gunicorn(self, workers: int = 2, threads: int = 16) -> tuple[subprocess.Popen, str]:
        port = free_port()
        process = start_gunicorn(self.env(QUARTILE_SSE_HEARTBEAT_SECONDS="1"), port,
                                 self.logs / f"gunicorn-{port}.log", workers, threads)
        return process, f"http://127.0.0.1:{port}"


def make_stack(tmp: Path, sqlite_template: Path) -> Stack:
    """Files dir, a migrated SQLite copy and a running private Redis (no worker yet)."""
    files_dir, logs = tmp / "files", tmp / "logs"
    files_dir.mkdir()
    logs.mkdir()
    database = files_dir / "quartile.sqlite3"
    shutil.copy(sqlite_template, database)
    redis_dir = tmp / "redis"
    redis_dir.mkdir()
    return Stack(files_dir, f"sqlite:///{database}", RedisServer(redis_dir).start(), logs)


def python() -> str:
    return str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable


def stored_job(app, job_id: str) -> Job:
    """The job row as stored, read without the API's lost-worker check."""
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.remove()
        return job


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_sse(lines) -> tuple[str | None, str | None]:
    """The next (event, data) from an iterator of decoded SSE lines; (None, None) at its end.
    Comments and retry fields are skipped."""
    event = data = None
    for line in lines:
        if line == "":
            if data is not None:
                return event, data
            continue
        if line.startswith((":", "retry:")):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data = value if data is None else data + "\n" + value
    return None, None


@pytest.fixture(name="make_app")
def make_app_stopping_jobs(make_app):
    """conftest's make_app, plus: when the test ends, open every gate and stop the apps'
    embedded engines, so no job thread touches a database the next fixture tears down.
    A test module that starts jobs imports it to override the conftest fixture."""
    created = []

    def factory(**overrides):
        app = make_app(**overrides)
        created.append(app)
        return app

    yield factory
    for gate in GATES.values():
        gate.set()
    for app in created:
        engine = app.extensions.get("quartile_jobs")
        if hasattr(engine, "shutdown"):
            engine.shutdown(wait=True)
