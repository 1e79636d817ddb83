"""Run one job to a final state: the same code under the embedded engine and in a Celery worker.

Called inside an app context. The task's own failures become a failed job with a message for a
person (a QuartileError's message as it is; anything else named and logged with its traceback),
never an exception escaping into the thread pool or the Celery worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

from flask import current_app

from errors import QuartileError
from jobs import lifecycle
from jobs.registry import Cancelled, TaskContext, get_task
from store.db import db
from store.models import Job

log = logging.getLogger("quartile.jobs")


def run_job(job_id: str, *, guard: contextlib.AbstractContextManager | None = None,
            time_limit_errors: tuple[type[BaseException], ...] = ()) -> str | None:
    """Claim a queued job and run its task. Returns the final state, or None when the job was
    not queued (cancelled before it started, or already taken by someone else).

    `guard` wraps the run (the Celery engine's heartbeat); `time_limit_errors` are the
    exceptions that mean the engine's time limit struck.
    """
    job = db.session.get(Job, job_id)
    if job is None:
        log.warning("job %s does not exist (deleted with its owner?)", job_id)
        return None
    kind, params, owner_id = job.kind, dict(job.params or {}), job.owner_id
    with guard or contextlib.nullcontext():
        if lifecycle.claim(job_id) is None:
            return None
        context = TaskContext(
            job_id, owner_id, Path(current_app.config["FILES_DIR"]),
            report=lambda percent, message: lifecycle.report(job_id, percent, message),
            is_live=lambda: lifecycle.is_running(job_id),
        )
        return _run_task(job_id, kind, params, context, time_limit_errors)


def _run_task(job_id: str, kind: str, params: dict, context: TaskContext,
              time_limit_errors: tuple[type[BaseException], ...]) -> str:
    try:
        result = get_task(kind)(context, params)
        payload = _json_result(kind, result)
    except Cancelled:
        db.session.rollback()
        return _final_state(job_id)
    except QuartileError as exc:  # a bad parameter, an unknown kind, a non-JSON result
        db.session.rollback()
        return _finish(job_id, lifecycle.FAILED, error=exc.message)
    except time_limit_errors:
        db.session.rollback()
        return _finish(job_id, lifecycle.FAILED,
                       error="The job ran longer than its time limit and was stopped.")
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, kind)
        db.session.rollback()
        return _finish(job_id, lifecycle.FAILED,
                       error=f"The job stopped with an unexpected error "
                             f"({type(exc).__name__}: {exc}). It has been logged.")
    return _finish(job_id, lifecycle.DONE, result=payload, message="Done")


def _json_result(kind: str, result: object) -> dict:
    """The task's result as plain JSON (a dict, no NaN), or a QuartileError saying it is not."""
    if not isinstance(result, dict):
        raise QuartileError(f"The {kind!r} task returned {type(result).__name__}, not a dict.")
    try:
        return json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise QuartileError(f"The {kind!r} task returned a result that is not JSON: {exc}.") \
            from None


def _finish(job_id: str, state: str, **fields) -> str:
    fields.setdefault("message", "Failed")
    if lifecycle.finish(job_id, state, **fields) is None:
        return _final_state(job_id)  # cancelled or given up on meanwhile: that state stands
    return state


def _final_state(job_id: str) -> str:
    job = db.session.get(Job, job_id, populate_existing=True)
    db.session.commit()
    return job.state if job is not None else lifecycle.FAILED
