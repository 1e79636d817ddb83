"""The Celery engine's web side, its configuration, and the heartbeat that finds lost workers.

JSON only (never pickle: a message from Redis must not be able to run code), acks late with
reject-on-worker-lost (a job whose worker dies goes back to the queue), one job per worker
process at a time, and time limits. The job row is the result, so Celery stores none.

A worker that is killed (SIGKILL, OOM) cannot say so. While a job runs, its worker refreshes a
Redis key that expires after JOB_HEARTBEAT_SECONDS; a running job without that key is lost. The
web side checks whenever it reads running jobs (`watch`) and fails them with a message; when Redis
redelivers the message first, the worker that receives it runs the job again (once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from celery import Celery
from flask import Flask

from errors import Unavailable
from jobs import lifecycle
from jobs.settings import setting
from store.models import Job

log = logging.getLogger("quartile.jobs")

RUN_JOB = "quartile.run_job"
QUEUE = "quartile"
HEARTBEAT_KEY = "quartile:jobs:heartbeat:{}"
QUEUE_DOWN = "The job queue (Redis) is not reachable; try again later."
LOST = ("The worker running this job stopped (it was killed or lost its connection), so the "
        "job was given up. Start it again.")


class QueueDown(Unavailable):
    code = "job_queue_unavailable"


def make_celery(redis_url: str, config: Mapping, *, set_as_current: bool = True) -> Celery:
    """A Celery app for Quartile's jobs: the worker's (`jobs.celery_app`) and the web's sender."""
    hard = int(setting(config, "JOB_TIME_LIMIT"))
    celery = Celery("quartile", broker=redis_url, backend=redis_url,
                    set_as_current=set_as_current)
    celery.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=hard,
        # The task is told first (SoftTimeLimitExceeded → failed with a message), then killed.
        task_soft_time_limit=max(1, hard - max(1, min(30, hard // 10))),
        task_ignore_result=True,  # the job row holds the result
        task_default_queue=QUEUE,
        # An unacknowledged job comes back to the queue after this long; it must exceed the
        # time limit, or a long job would run twice.
        broker_transport_options={"visibility_timeout": hard + 300},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return celery


class CeleryEngine:
    name = "celery"

    def __init__(self, app: Flask):
        import redis

        url = app.config.get("REDIS_URL")
        if not url:
            raise ValueError("QUARTILE_JOB_ENGINE=celery needs QUARTILE_REDIS_URL (the broker).")
        self._celery = make_celery(url, app.config, set_as_current=False)
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)

    def ensure_available(self) -> None:
        import redis

        try:
            self._redis.ping()
        except (redis.RedisError, OSError) as exc:
            raise QueueDown(QUEUE_DOWN) from exc

    def submit(self, job: Job) -> None:
        import redis
        from kombu.exceptions import OperationalError

        try:
            self._celery.send_task(RUN_JOB, args=[job.id], task_id=job.id, queue=QUEUE)
        except (OperationalError, redis.RedisError, OSError) as exc:
            lifecycle.fail(job.id, "The job could not be queued: " + QUEUE_DOWN)
            raise QueueDown(QUEUE_DOWN) from exc

    def cancel(self, job_id: str) -> None:
        """Nothing to send: a worker reads the row before it starts a job and at each step."""

    def watch(self, jobs: list[Job]) -> None:
        """Fail the running jobs whose worker has gone silent (see the module's docstring)."""
        import redis

        try:
            reap_lost(self._redis, jobs)
        except (redis.RedisError, OSError) as exc:
            raise QueueDown(QUEUE_DOWN) from exc


def reap_lost(client, jobs: list[Job]) -> int:
    running = [j for j in jobs if j.engine == CeleryEngine.name and j.state == lifecycle.RUNNING]
    if not running:
        return 0
    with client.pipeline(transaction=False) as pipe:
        for job in running:
            pipe.exists(HEARTBEAT_KEY.format(job.id))
        alive = pipe.execute()
    lost = 0
    for job, beating in zip(running, alive, strict=True):
        if not beating and lifecycle.fail(job.id, LOST, (lifecycle.RUNNING,)) is not None:
            log.warning("job %s lost its worker; marked failed", job.id)
            lost += 1
    return lost


class Heartbeat:
    """While a job runs in a worker: its Redis key, refreshed every third of its lifetime.

    Set before the job is claimed and removed after its final state is written, so a running
    row without a key always means a dead worker.
    """

    def __init__(self, client, job_id: str, seconds: float):
        self._client, self._key = client, HEARTBEAT_KEY.format(job_id)
        self._ms = max(100, int(seconds * 1000))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"heartbeat-{job_id}")

    def __enter__(self) -> Heartbeat:
        self._client.set(self._key, "1", px=self._ms)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        import redis

        self._stop.set()
        self._thread.join()
        try:
            self._client.delete(self._key)
        except (redis.RedisError, OSError):
            log.warning("could not remove the heartbeat %s (it expires by itself)", self._key)

    def alive(self) -> bool:
        return bool(self._client.exists(self._key))

    def _loop(self) -> None:
        import redis

        while not self._stop.wait(self._ms / 3000):
            try:
                self._client.set(self._key, "1", px=self._ms)
            except (redis.RedisError, OSError):
                log.warning("could not refresh the heartbeat %s", self._key)
