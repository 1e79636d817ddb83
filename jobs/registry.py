"""Task kinds: module-level functions registered by name, and the context each one is given.

A task is `fn(ctx, params) -> dict`: `params` and the returned dict are JSON (they travel through
the database and, with Celery, through Redis). Both engines look a task up here by its kind, so a
module that defines tasks must be imported by the web process and by the Celery worker alike
(`jobs.tasks` is; others are listed in `jobs.celery_app.TASK_MODULES`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from errors import BadInput

TaskFunction = Callable[["TaskContext", dict], dict]
Cleanup = Callable[[dict], None]
_TASKS: dict[str, TaskFunction] = {}
_CLEANUPS: dict[str, Cleanup] = {}


class Cancelled(Exception):  # noqa: N818 - a state, not an error: the user asked for it
    """Raised inside a task by `ctx.check_cancelled()` or `ctx.progress()` once the job is over.

    Tasks need not catch it; the engine ends the job quietly. Catch it only to clean up
    (temporary files), then re-raise.
    """


class UnknownKind(BadInput):
    code = "unknown_job_kind"


def task(kind: str, cleanup: Cleanup | None = None) -> Callable[[TaskFunction], TaskFunction]:
    """Register `fn(ctx, params) -> dict` as the task for `kind` (e.g. @task("price_index")).

    `cleanup(params)` runs, in an app context, when a job of this kind ends without its task
    finishing: cancelled before it started, or failed because its server or worker died. The
    task cannot tidy up after itself then (an ingest job's stored upload, for one). It may
    run while a lost worker is still busy with the task, so it must only drop what nothing
    else uses.
    """
    if cleanup is not None:
        _CLEANUPS[kind] = cleanup

    def register(fn: TaskFunction) -> TaskFunction:
        existing = _TASKS.get(kind)
        if existing is not None and existing is not fn and _qualname(existing) != _qualname(fn):
            raise ValueError(f"Two tasks claim the kind {kind!r}: {_qualname(existing)} "
                             f"and {_qualname(fn)}.")
        _TASKS[kind] = fn
        return fn

    return register


def get_task(kind: str) -> TaskFunction:
    try:
        return _TASKS[kind]
    except KeyError:
        raise UnknownKind(f"There is no job of kind {kind!r}. Known kinds: "
                          f"{', '.join(sorted(_TASKS)) or 'none'}.") from None


def cleanup_for(kind: str) -> Cleanup | None:
    return _CLEANUPS.get(kind)


def kinds() -> list[str]:
    return sorted(_TASKS)


def _qualname(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


class TaskContext:
    """What a running task may do: report progress, notice cancellation, know its owner.

    `progress()` writes the job row and publishes an event, so call it at meaningful steps (a few
    per second at most); it also raises `Cancelled` when the job was cancelled meanwhile.
    `check_cancelled()` is cheap enough for loops: it asks the database at most every 0.25 s.
    """

    CHECK_INTERVAL = 0.25

    def __init__(self, job_id: str, owner_id: int, files_dir: Path,
                 report: Callable[[int, str], bool], is_live: Callable[[], bool]):
        self.job_id = job_id
        self.owner_id = owner_id
        self.files_dir = files_dir
        self._report = report
        self._is_live = is_live
        self._percent = -1
        self._message = None
        self._checked_at = 0.0

    def progress(self, percent: float, message: str = "") -> None:
        """Report `percent` (0–100, clamped) done with a short message for the person waiting."""
        value = max(0, min(100, int(percent)))
        text = (message or "")[:500]
        if (value, text) == (self._percent, self._message):
            self.check_cancelled()
            return
        self._percent, self._message = value, text
        if not self._report(value, text):
            raise Cancelled(self.job_id)
        self._checked_at = time.monotonic()

    def check_cancelled(self) -> None:
        """Raise `Cancelled` when the job was cancelled (or given up on) since the last check."""
        now = time.monotonic()
        if now - self._checked_at < self.CHECK_INTERVAL:
            return
        self._checked_at = now
        if not self._is_live():
            raise Cancelled(self.job_id)

    def owner(self):
        """The owning User row (for tasks that create datasets or reports in their name)."""
        from store.db import db
        from store.models import User

        return db.session.get(User, self.owner_id)
