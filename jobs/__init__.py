"""Background jobs: one interface, two engines (QUARTILE_JOB_ENGINE = embedded | celery).

Job rows (store.models.Job) are the truth: kind, params, owner, state (queued → running → done |
failed | cancelled), progress 0–100 with a message, a JSON result or an error. Every change is
published as an event (`jobs.events`), which the pages' progress bars follow over SSE.

- embedded (default): a thread pool in the web process; nothing else to run. Jobs left running
  when the process died are marked failed at the next start-up.
- celery: a Celery worker (`make worker`) with Redis as broker; jobs survive a web restart, and
  a job whose worker is killed is run again once or marked failed, never left "running".

Adding a job kind (a report build, a big ingest)::

    # in jobs/tasks.py, or a module listed in jobs.celery_app.TASK_MODULES
    from jobs import TaskContext, task

    @task("report")
    def build_report(ctx: TaskContext, params: dict) -> dict:
        # params: what submit() was given (JSON); ctx.owner_id, ctx.files_dir, ctx.owner()
        for n, section in enumerate(sections, 1):
            ctx.progress(100 * n / len(sections), f"Section {n}")   # raises Cancelled
            ctx.check_cancelled()                                   # cheap; call in loops
        return {"report": report_id, "pdf": url}                   # JSON; becomes job.result

    # in a view, after checking the request (a QuartileError for bad input, before queueing):
    job = jobs.submit("report", {"report": report.id}, current_user)
    return jobs.job_dict(job), 202      # a page shows its progress: /jobs/<id>, or
                                        # templates/jobs/_progress.html + static/js/jobs.js

Raise a QuartileError inside a task for a failure the user should read (it becomes job.error);
any other exception fails the job with a generic message and is logged. Tasks run inside an app
context, so `db.session` and `current_app` work; they must not rely on `request` or
`current_user`. `jobs.events.publish_change(owner_id, "datasets", id)` tells open pages that
something changed (call it after an upload or a report build).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app

from errors import BadInput
from jobs import events, lifecycle
from jobs.events import publish_change
from jobs.lifecycle import FINAL, STATES, job_dict
from jobs.registry import Cancelled, TaskContext, get_task, task
from store.db import db
from store.models import Job, User

EXTENSION = "quartile_jobs"
ENGINES = ("embedded", "celery")
T = TypeVar("T")
WAIT_POLL_SECONDS = 0.5  # `wait` re-reads the row this often when no event comes

__all__ = [
    "FINAL",
    "STATES",
    "Cancelled",
    "TaskContext",
    "cancel",
    "engine",
    "init_app",
    "job_dict",
    "publish_change",
    "reread",
    "submit",
    "task",
    "wait",
    "watch",
]


def init_app(app: Flask) -> None:
    """Start the events broker and the configured engine; recover after a dead embedded engine."""
    import importlib

    import jobs.tasks  # noqa: F401  (registers the shipped kinds)
    from jobs.settings import extra_task_modules

    for module in extra_task_modules(app.config):  # kinds a deployment (or the tests) adds
        importlib.import_module(module)
    events.init_app(app)
    name = app.config.get("JOB_ENGINE", "embedded")
    if name not in ENGINES:
        raise ValueError(f"QUARTILE_JOB_ENGINE={name!r}: use one of {', '.join(ENGINES)}.")
    if name == "celery":
        from jobs.celery_engine import CeleryEngine
        from jobs.embedded import hold_engine_lock

        hold_engine_lock(app).close()  # only to fail jobs a dead embedded engine left behind
        app.extensions[EXTENSION] = CeleryEngine(app)
    else:
        from jobs.embedded import EmbeddedEngine

        app.extensions[EXTENSION] = EmbeddedEngine(app)


def engine(app: Flask | None = None):
    """The app's engine: `.name`, `.ensure_available()`, `.submit(job)`, `.cancel(id)`,
    `.watch(jobs)`."""
    return (app or current_app).extensions[EXTENSION]


def submit(kind: str, params: dict, owner: User | int) -> Job:
    """Queue a job of a registered `kind` for `owner`; returns its row (state "queued").

    Check the parameters before calling (raise BadInput and friends): a job should fail only
    for reasons that appear while it runs. Raises Unavailable when the queue is down.
    """
    get_task(kind)  # an unknown kind is the caller's mistake: say so now, not in the job
    if not isinstance(params, dict):
        raise BadInput("Job parameters are a JSON object.")
    chosen = engine()
    chosen.ensure_available()
    owner_id = owner if isinstance(owner, int) else owner.id
    job = lifecycle.create(kind, params, owner_id, chosen.name)
    chosen.submit(job)
    return job


def cancel(job_id: str) -> Job:
    """Cancel a queued or running job (Conflict when it has finished). Check ownership first."""
    job = lifecycle.cancel(job_id)
    engine().cancel(job_id)
    if job.started_at is None:  # it never ran (a running task tidies up after itself)
        lifecycle.tidy_up(job)
    return job


def wait(job_id: str, seconds: float) -> str | None:
    """Block up to `seconds` until the job has ended (an API client's `Prefer: wait`); its
    state then, or None once it is gone. Follows the job's events, and re-reads the row
    between them, so a missed event or a lost worker costs a poll, never the whole wait."""
    deadline = time.monotonic() + seconds
    with events.subscribe([events.job_topic(job_id)], timeout=seconds) as subscription:
        while True:
            state = reread(job_id, lambda job: job.state)
            remaining = deadline - time.monotonic()
            if state is None or state in FINAL or remaining <= 0:
                return state
            subscription.get(min(remaining, WAIT_POLL_SECONDS))


def reread(job_id: str, view: Callable[[Job], T]) -> T | None:
    """`view` of the job's row read anew (given up on if its worker is lost), taken before the
    read is ended, so that a long wait or stream holds no snapshot and its next read sees the
    worker's commits; None once the row is gone."""
    job = db.session.get(Job, job_id, populate_existing=True)
    seen = view(watch([job])[0]) if job is not None else None
    db.session.commit()
    return seen


def watch(rows: list[Job]) -> list[Job]:
    """Give up on running jobs whose worker is gone, before showing them. Returns `rows`."""
    engine().watch(rows)
    return rows
