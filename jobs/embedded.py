"""The embedded engine: a small thread pool inside the web process (the default: nothing to run).

Jobs die with the process, so at start-up the jobs a dead embedded engine left queued or running
are marked failed with a clear reason. "Dead" is decided by a lock file beside the data: every
live embedded engine holds it shared, and the recovery runs only when it can be taken exclusively,
so a gunicorn worker starting next to a live sibling never fails the sibling's jobs.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError

from jobs import lifecycle
from jobs.runner import run_job
from jobs.settings import setting
from store.db import db
from store.models import Job

log = logging.getLogger("quartile.jobs")
LOCK_FILE = ".jobs-embedded.lock"


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, app: Flask):
        self._app = app
        self._executor = ThreadPoolExecutor(
            max_workers=int(setting(app.config, "JOB_WORKERS")),
            thread_name_prefix="quartile-job",
        )
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._lock_file = hold_engine_lock(app)
        self._finalizer = weakref.finalize(self, _close_quietly, self._lock_file)

    def ensure_available(self) -> None:
        """The thread pool is always there."""

    def submit(self, job: Job) -> None:
        with self._lock:
            future = self._executor.submit(self._run, job.id)
            self._futures[job.id] = future
        future.add_done_callback(lambda _f, job_id=job.id: self._forget(job_id))

    def cancel(self, job_id: str) -> None:
        """A job still waiting for a thread never starts (its row is already cancelled)."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.cancel()

    def watch(self, jobs: list[Job]) -> None:
        """Nothing to watch: a dead embedded engine is found at the next start-up."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs and release the lock (tests use it to play a server that died)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
        self._finalizer()

    def _run(self, job_id: str) -> None:
        with self._app.app_context():
            try:
                run_job(job_id)
            finally:
                db.session.remove()

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._futures.pop(job_id, None)


def hold_engine_lock(app: Flask):
    """Take the embedded engines' lock; when no other live engine holds it, first fail the jobs
    a dead one left behind. Returns the open lock file (shared lock held while it is open):
    close it to let go."""
    files_dir = Path(app.config["FILES_DIR"])
    files_dir.mkdir(parents=True, exist_ok=True)
    handle = open(files_dir / LOCK_FILE, "a")  # noqa: SIM115 - held for the engine's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sole = False
    else:
        sole = True
    if sole:
        recover_dead_jobs(app)
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def recover_dead_jobs(app: Flask) -> int:
    """Fail the embedded jobs left queued or running. Quiet when the table is not there yet
    (a `flask db …` command on an empty database)."""
    with app.app_context():
        try:
            return lifecycle.fail_left_behind("embedded", lifecycle.RESTARTED)
        except (OperationalError, ProgrammingError):
            db.session.rollback()
            log.info("no jobs table yet: nothing to recover")
            return 0
        finally:
            db.session.remove()


def _close_quietly(handle) -> None:
    handle.close()  # closing releases the lock
