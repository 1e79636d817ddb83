"""The embedded engine: a small thread pool inside the web process (the default: nothing to run).

Jobs die with the process, so at start-up the jobs a dead embedded engine left queued or running
are marked failed with a clear reason. "Dead" is decided by a lock file beside the data: every
live embedded engine holds it shared, and the recovery runs only when it can be taken exclusively,
so a gunicorn worker starting next to a live sibling never fails the sibling's jobs.

Several gunicorn workers (`make run` starts one per core) each run an engine. A job runs where it
was submitted, unless that worker's threads are busy: with QUARTILE_JOB_POLL_SECONDS an engine
with a free thread also claims jobs queued elsewhere. Claiming is one conditional UPDATE, so
exactly one engine runs each job. Cancelling changes the row, which the task sees wherever it
runs; and a job whose process died while its siblings live (claimed_by names it) is failed by
the first sibling that looks at it.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psutil
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from jobs import lifecycle
from jobs.runner import run_job
from jobs.settings import setting
from store.db import db, utcnow
from store.models import Job

log = logging.getLogger("quartile.jobs")
LOCK_FILE = ".jobs-embedded.lock"
PROCESS_GONE = "The server process running this job stopped."


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, app: Flask):
        self._app = app
        self._threads = int(setting(app.config, "JOB_WORKERS"))
        self._executor = ThreadPoolExecutor(
            max_workers=self._threads, thread_name_prefix="quartile-job",
        )
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._lock_file = hold_engine_lock(app)
        self._finalizer = weakref.finalize(self, _close_quietly, self._lock_file)
        self._stopped = threading.Event()
        self._poll_seconds = float(setting(app.config, "JOB_POLL_SECONDS"))
        if self._poll_seconds > 0:
            threading.Thread(target=self._claim_loop, name="quartile-job-poll",
                             daemon=True).start()

    def ensure_available(self) -> None:
        """The thread pool is always there."""

    def submit(self, job: Job) -> None:
        self._start(job.id)

    def _start(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._futures:
                return
            future = self._executor.submit(self._run, job_id)
            self._futures[job_id] = future
        future.add_done_callback(lambda _f, job_id=job_id: self._forget(job_id))

    def cancel(self, job_id: str) -> None:
        """A job still waiting for a thread never starts (its row is already cancelled)."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.cancel()

    def watch(self, jobs: list[Job]) -> None:
        """Fail running embedded jobs whose process on this host has died while others live
        (a gunicorn worker killed and replaced); a dead whole server is found at start-up."""
        for job in jobs:
            if job.engine == self.name and job.state == lifecycle.RUNNING \
                    and _process_gone(job.claimed_by):
                lifecycle.fail(job.id, PROCESS_GONE, allowed=(lifecycle.RUNNING,))

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs and release the lock (tests use it to play a server that died)."""
        self._stopped.set()
        self._executor.shutdown(wait=wait, cancel_futures=True)
        self._finalizer()

    def _claim_loop(self) -> None:
        """Every poll: with threads free, start embedded jobs another process queued a while
        ago and has not started (its threads are busy, or it died before starting them)."""
        while not self._stopped.wait(self._poll_seconds):
            with self._lock:
                free = self._threads - len(self._futures)
            if free <= 0:
                continue
            try:
                for job_id in self._queued_elsewhere(free):
                    self._start(job_id)
            except SQLAlchemyError:
                log.warning("could not look for queued jobs; trying again", exc_info=True)

    def _queued_elsewhere(self, limit: int) -> list[str]:
        waited = utcnow() - timedelta(seconds=self._poll_seconds)
        with self._app.app_context():
            try:
                ids = db.session.scalars(
                    select(Job.id).where(Job.engine == self.name,
                                         Job.state == lifecycle.QUEUED, Job.created_at < waited)
                    .order_by(Job.created_at).limit(limit + len(self._futures))
                ).all()
            finally:
                db.session.remove()
        with self._lock:
            return [i for i in ids if i not in self._futures][:limit]

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


def _process_gone(claimed_by: str | None) -> bool:
    """Whether the process a job's claimed_by names is known dead (only on this host)."""
    if not claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != lifecycle.this_process().rpartition(":")[0] or not pid.isdigit():
        return False
    return not psutil.pid_exists(int(pid))


def _close_quietly(handle) -> None:
    handle.close()  # closing releases the lock
