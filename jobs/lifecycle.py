"""A job row's states, changed only by conditional updates, each change published as an event.

queued → running → done | failed | cancelled, and queued → cancelled | failed. Every transition is
`UPDATE … WHERE state IN (allowed)`, so two actors never both win: a cancel that lands while the
task finishes leaves the job cancelled, and a late worker never revives a job the watchdog or the
start-up recovery has failed. The row is the truth; events only tell open pages to look.
"""

from __future__ import annotations

import logging
import os
import socket

from sqlalchemy import select, update

from errors import Conflict
from jobs import events
from jobs.registry import cleanup_for
from store.db import db, utcnow
from store.models import Job

log = logging.getLogger("quartile.jobs")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINAL = frozenset({DONE, FAILED, CANCELLED})
ACTIVE = (QUEUED, RUNNING)
RESTARTED = "The server restarted while this job was running."


def job_dict(job: Job) -> dict:
    """The job as the API returns it and the pages render it (one dict, used twice)."""
    return {**job.to_dict(), "params": job.params or {}}


def create(kind: str, params: dict, owner_id: int, engine: str) -> Job:
    job = Job(kind=kind, params=params, owner_id=owner_id, engine=engine, state=QUEUED,
              progress=0, message="Waiting for a worker")
    db.session.add(job)
    db.session.commit()
    _announce(job)
    return job


def transition(job_id: str, allowed: tuple[str, ...], **values) -> Job | None:
    """Apply `values` if the job is in one of `allowed` states; the fresh row, or None."""
    result = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state.in_(allowed)).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    job = db.session.get(Job, job_id, populate_existing=True)
    _announce(job)
    return job


def claim(job_id: str, message: str = "Started") -> Job | None:
    """Queued → running for exactly one caller, however many processes try (the UPDATE is
    conditional); the row records which process runs it."""
    return transition(job_id, (QUEUED,), state=RUNNING, started_at=utcnow(), progress=0,
                      message=message, error=None, claimed_by=this_process())


def this_process() -> str:
    """"host:pid", as a job's claimed_by names the process that runs it."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def report(job_id: str, percent: int, message: str) -> bool:
    """Progress of a running job; False when it is no longer running (cancelled, given up)."""
    return transition(job_id, (RUNNING,), progress=percent, message=message) is not None


def finish(job_id: str, state: str, *, result: dict | None = None, error: str | None = None,
           message: str = "") -> Job | None:
    values = {"state": state, "finished_at": utcnow(), "message": message[:500], "error": error}
    if state == DONE:
        values.update(progress=100, result=result)
    return transition(job_id, (RUNNING,), **values)


def fail(job_id: str, error: str, allowed: tuple[str, ...] = ACTIVE) -> Job | None:
    """Fail a job from outside its task (a dead server or worker, a queue that was down);
    the kind's cleanup then tidies up after it, since its task never will."""
    job = transition(job_id, allowed, state=FAILED, error=error, finished_at=utcnow(),
                     message="Failed")
    if job is not None:
        tidy_up(job)
    return job


def tidy_up(job: Job) -> None:
    """Run the cleanup its kind registered (see registry.task) for a job whose task will not
    finish. A cleanup that fails is logged: it must never stop a watchdog or a start-up."""
    cleanup = cleanup_for(job.kind)
    if cleanup is None:
        return
    try:
        cleanup(dict(job.params or {}))
    except Exception:  # noqa: BLE001 - logged in full; the job's state is already final
        log.exception("cleanup of %s job %s failed", job.kind, job.id)


def cancel(job_id: str) -> Job:
    """Cancel a queued or running job. A running task stops at its next progress report."""
    job = transition(job_id, ACTIVE, state=CANCELLED, finished_at=utcnow(),
                     message="Cancelled")
    if job is None:
        current = db.session.get(Job, job_id, populate_existing=True)
        state = current.state if current is not None else "gone"
        raise Conflict(f"This job has already finished ({state}); there is nothing to cancel.",
                       code="job_finished")
    return job


def is_running(job_id: str) -> bool:
    state = db.session.scalar(select(Job.state).where(Job.id == job_id))
    db.session.commit()  # end the read transaction: SQLite writers must not wait for us
    return state == RUNNING


def fail_left_behind(engine: str, reason: str) -> int:
    """Mark `engine`'s queued/running jobs failed (its process died). Returns how many."""
    ids = db.session.scalars(
        select(Job.id).where(Job.engine == engine, Job.state.in_(ACTIVE))
    ).all()
    count = sum(1 for job_id in ids if fail(job_id, reason) is not None)
    if count:
        log.warning("marked %d %s job(s) failed: %s", count, engine, reason)
    return count


def _announce(job: Job) -> None:
    data = job_dict(job)
    events.publish_quietly(events.job_topic(job.id), data)
    events.publish_quietly(
        events.user_topic(job.owner_id),
        {"what": "jobs", "id": job.id, "state": job.state, "progress": job.progress,
         "message": job.error or job.message},
    )
