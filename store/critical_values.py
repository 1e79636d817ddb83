"""The shared cache of exuberance critical values: one row per simulation key, for every node.

A simulation is deterministic for its key, so two nodes that compute the same key at once store
the same numbers; the second insert is simply dropped.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from analysis.exuberance_cv import DEFAULT_SEED, CriticalValues, cache_key
from store.db import db
from store.models import CriticalValueSet


def cached(t: int, window: int, lag: int, reps: int,
           seed: int = DEFAULT_SEED) -> CriticalValues | None:
    row = db.session.get(CriticalValueSet, cache_key(t, window, lag, reps, seed))
    return CriticalValues.from_dict(row.data) if row is not None else None


def save(values: CriticalValues, seconds: float | None = None) -> None:
    if db.session.get(CriticalValueSet, values.key) is not None:
        return
    db.session.add(CriticalValueSet(key=values.key, t=values.t, min_window=values.window,
                                    lag=values.lag, reps=values.reps, seed=values.seed,
                                    data=values.to_dict(), seconds=seconds))
    try:
        db.session.commit()
    except IntegrityError:  # another node stored the same key meanwhile: same numbers
        db.session.rollback()
