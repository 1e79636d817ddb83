"""The Celery worker: `.venv/bin/celery -A jobs.celery_app worker --loglevel=info --concurrency=2`
(`make worker`).

It reads the same QUARTILE_* environment as the web server (the database URL, the files
directory, QUARTILE_REDIS_URL as broker) and builds the Flask app once per worker process to
reach the database. It runs one Celery task, `quartile.run_job(job_id)`, which runs the job's
registered task through the same runner as the embedded engine.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing.process
import os
import threading
import time

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from config import Config
from jobs import lifecycle
from jobs.celery_engine import HEARTBEAT_KEY, RUN_JOB, Heartbeat, make_celery
from jobs.runner import run_job
from jobs.settings import extra_task_modules, setting
from store.db import db
from store.models import Job

log = logging.getLogger("quartile.jobs")

# Modules that define task kinds; QUARTILE_JOB_EXTRA_TASK_MODULES adds more.
TASK_MODULES = ["jobs.tasks"]
ATTEMPTS_KEY = "quartile:jobs:attempts:{}"
MAX_ATTEMPTS = 2  # a job whose worker is lost runs once more, then fails

_settings = Config()
if not _settings.REDIS_URL:
    raise RuntimeError("Set QUARTILE_REDIS_URL (e.g. redis://127.0.0.1:6379/0) before starting "
                       "a Celery worker: it is the job queue.")
celery = make_celery(_settings.REDIS_URL, _settings.as_dict())
for _module in TASK_MODULES + extra_task_modules(_settings.as_dict()):
    importlib.import_module(_module)

_app = None
_redis = None
_app_lock = threading.Lock()


class _PlainProcessIdentity(multiprocessing.process.BaseProcess):
    """What multiprocessing's own main process looks like (its `_MainProcess`, which the
    standard library deletes after use): not daemonic, with a standard authkey."""

    def __init__(self, name: str, identity: tuple):  # noqa: D107 - no BaseProcess.__init__
        self._identity = identity
        self._name = name
        self._parent_pid = os.getppid()
        self._parent_name = None
        self._popen = None
        self._closed = False
        self._config = {"authkey": multiprocessing.process.AuthenticationString(os.urandom(32)),
                        "semprefix": "/mp"}


@worker_process_init.connect
def plain_multiprocessing_identity(**_) -> None:
    """Let a prefork child start the sandbox's parser workers (ingest jobs parse in them).

    billiard makes multiprocessing see its own process object in each child: daemonic (so
    multiprocessing refuses it children) and with an authkey the standard library will not
    pickle to its forkserver. The sandbox's workers are forked by that forkserver, not by this
    process, and exit when their pipe closes; give this process a plain identity of its own,
    keeping its name for the logs.
    """
    billiard_view = multiprocessing.process.current_process()
    multiprocessing.process._current_process = _PlainProcessIdentity(
        billiard_view.name, tuple(billiard_view._identity))


def worker_app():
    """The Flask app of this worker process, built on first use (after a prefork fork)."""
    global _app, _redis
    with _app_lock:
        if _app is None:
            import redis

            from app import create_app

            _app = create_app(Config(JOB_ENGINE="celery"))
            _redis = redis.Redis.from_url(_settings.REDIS_URL, socket_connect_timeout=2.0,
                                          socket_timeout=5.0)
        return _app


@celery.task(name=RUN_JOB)
def run_job_task(job_id: str) -> None:
    """Run one job. A redelivered job (its worker was lost) runs again once, then fails."""
    app = worker_app()
    with app.app_context():
        try:
            if _admit(job_id, float(setting(app.config, "JOB_HEARTBEAT_SECONDS"))):
                run_job(job_id, time_limit_errors=(SoftTimeLimitExceeded,),
                        guard=Heartbeat(_redis, job_id,
                                        float(setting(app.config, "JOB_HEARTBEAT_SECONDS"))))
        finally:
            db.session.remove()


def _admit(job_id: str, heartbeat_seconds: float) -> bool:
    """Whether this delivery should run the job: it is queued, or it was running on a worker
    that has since gone silent and has not used up its attempts."""
    job = db.session.get(Job, job_id)
    state = job.state if job is not None else None
    db.session.commit()
    if state == lifecycle.QUEUED:
        _count_attempt(job_id)
        return True
    if state != lifecycle.RUNNING:
        return False  # cancelled, finished, or failed by the watchdog: nothing to do
    if not _previous_worker_gone(job_id, heartbeat_seconds):
        log.info("job %s is running on a live worker; ignoring a duplicate delivery", job_id)
        return False
    if _count_attempt(job_id) > MAX_ATTEMPTS:
        lifecycle.fail(job_id, "The workers running this job were lost "
                               f"{MAX_ATTEMPTS} times, so it was given up.", (lifecycle.RUNNING,))
        return False
    log.warning("job %s: its worker was lost; running it again", job_id)
    return lifecycle.transition(job_id, (lifecycle.RUNNING,), state=lifecycle.QUEUED,
                                message="Retrying: the worker running it was lost") is not None


def _previous_worker_gone(job_id: str, heartbeat_seconds: float) -> bool:
    """Wait (at most one heartbeat period) for the previous attempt's heartbeat to lapse."""
    deadline = time.monotonic() + heartbeat_seconds + 1
    while _redis.exists(HEARTBEAT_KEY.format(job_id)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def _count_attempt(job_id: str) -> int:
    key = ATTEMPTS_KEY.format(job_id)
    with _redis.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 7 * 24 * 3600)
        attempts, _ = pipe.execute()
    return int(attempts)
