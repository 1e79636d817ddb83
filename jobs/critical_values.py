"""Critical values of the exuberance tests as shared background work: start, reuse, run.

`start(...)` returns None when the key is stored already, else the owner's queued or running
job of that key, else a new job for `owner` (Conflict when they have `MAX_ACTIVE` already).
The job simulates with progress and stores the result in the `critical_values` table, so every
node sees it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

import jobs
from analysis.exuberance_cv import DEFAULT_SEED, check_run, simulate
from errors import Conflict
from jobs.lifecycle import ACTIVE
from store import critical_values
from store.db import db
from store.models import Job, User

KIND = "exuberance_cv"
MAX_ACTIVE = 2  # simulations one person may have queued or running at once


def job_params(t: int, window: int, lag: int, reps: int, seed: int = DEFAULT_SEED) -> dict:
    check_run(t, window, lag, reps)
    return {"t": t, "window": window, "lag": lag, "reps": reps, "seed": seed}


def active_jobs(owner_id: int) -> list[Job]:
    """The owner's queued or running simulations (a job is shown to its owner alone; another
    user's run of the same key only makes this one finish at once)."""
    return list(db.session.scalars(select(Job).where(
        Job.kind == KIND, Job.state.in_(ACTIVE), Job.owner_id == owner_id)
        .order_by(Job.created_at)))


def start(t: int, window: int, lag: int, reps: int, owner: User | int) -> Job | None:
    params = job_params(t, window, lag, reps)
    if critical_values.cached(t, window, lag, reps) is not None:
        return None
    owner_id = owner if isinstance(owner, int) else owner.id
    running = active_jobs(owner_id)
    same = next((job for job in running if job.params == params), None)
    if same is not None:
        return same
    if len(running) >= MAX_ACTIVE:
        raise Conflict(f"You already have {len(running)} critical-value simulations queued or "
                       "running; start another when one of them is done.")
    return jobs.submit(KIND, params, owner_id)


def run_simulation(params: dict, progress: Callable[[float, str], None]) -> dict:
    """The task body: simulate (unless stored meanwhile), store, return a short summary."""
    t, window, lag, reps = (int(params[k]) for k in ("t", "window", "lag", "reps"))
    seed = int(params.get("seed", DEFAULT_SEED))
    check_run(t, window, lag, reps)
    stored = critical_values.cached(t, window, lag, reps, seed)
    if stored is None:
        db.session.commit()  # end the read: the simulation takes a while
        progress(1, f"Simulating {reps:,} random walks of {t} observations")
        began = time.perf_counter()
        stored = simulate(t, window, lag, reps, seed, progress=lambda done, total: progress(
            99 * done / total, f"{done:,} of {total:,} replications"))
        critical_values.save(stored, time.perf_counter() - began)
    return {"key": stored.key, "t": t, "window": window, "lag": lag, "reps": reps,
            "sadf": list(stored.sadf), "gsadf": list(stored.gsadf), "levels": [0.9, 0.95, 0.99]}
