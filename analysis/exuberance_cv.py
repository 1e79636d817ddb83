"""Monte-Carlo critical values of the SADF, GSADF and BSADF statistics (Phillips, Shi and Yu 2015).

Under the null the series is a random walk with an asymptotically negligible drift, as PSY
simulate it: y_t = y_{t-1} + 1/T + ε_t, ε_t ~ N(0, 1), T observations. Each replication gives
the full-sample ADF, the SADF, the GSADF and the BSADF sequence (one value per end point);
their 90/95/99 % quantiles across replications are the critical values. A run is fixed by
(T, minimum window, lag, replications, seed): the same key always gives the same numbers,
whatever the batching (each batch draws from its own child of one `SeedSequence`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.rolling_adf import min_window_for, sup_statistics, window_tstats
from errors import BadInput

LEVELS = (0.90, 0.95, 0.99)
MIN_T, MAX_T = 20, 2000
MIN_REPS, MAX_REPS, DEFAULT_REPS = 100, 100_000, 2000
DEFAULT_SEED = 20150101
MAX_LAG = 12
# Window regressions (windows × replications) one simulation may cost: about 3 minutes on one
# core (T = 181 with 2,000 replications is 2.4e7). A bigger run would hold a worker for hours.
MAX_WORK = 2.5e8


def default_window(t: int) -> int:
    """PSY's minimum window: ⌊(0.01 + 1.8/√T)·T⌋ observations."""
    return int(math.floor((0.01 + 1.8 / math.sqrt(t)) * t))


def window_from(t: int, r0: float | None, lag: int) -> int:
    """The minimum window in observations for a sample of `t` and a fraction `r0` (None: PSY's
    rule); BadInput when it leaves too few observations for the ADF regression or exceeds T."""
    window = default_window(t) if r0 is None else int(math.floor(r0 * t))
    if r0 is not None and not 0 < r0 < 1:
        raise BadInput(f"The minimum window fraction r0 must be between 0 and 1, not {r0}.")
    needed = min_window_for(lag)
    if window < needed:
        raise BadInput(f"The minimum window of {window} observations (r0 × T) is too short for "
                       f"an ADF regression with {lag} lag(s); it needs at least {needed}.")
    if window >= t:
        raise BadInput(f"The minimum window of {window} observations leaves no room in a "
                       f"sample of {t}.")
    return window


def check_limits(t: int, reps: int, lag: int) -> None:
    """BadInput stating the limits when a sample size, a number of replications or a lag is
    absurd."""
    if not MIN_T <= t <= MAX_T:
        raise BadInput(f"Critical values are simulated for samples of {MIN_T} to {MAX_T} "
                       f"observations, not {t}.")
    if not MIN_REPS <= reps <= MAX_REPS:
        raise BadInput(f"Replications must be from {MIN_REPS:,} to {MAX_REPS:,}, not {reps:,}.")
    if not 0 <= lag <= MAX_LAG:
        raise BadInput(f"The ADF lag must be from 0 to {MAX_LAG}, not {lag}.")


def check_run(t: int, window: int, lag: int, reps: int) -> None:
    """BadInput stating the limits when a simulation is absurd (or unanswerable)."""
    check_limits(t, reps, lag)
    if not min_window_for(lag) <= window < t:
        raise BadInput(f"The minimum window must be from {min_window_for(lag)} to {t - 1} "
                       f"observations, not {window}.")
    starts = t - window + 1
    windows = starts * (starts + 1) // 2
    if windows * reps > MAX_WORK:
        raise BadInput(f"{reps:,} replications of {windows:,} window regressions each exceed "
                       f"the {MAX_WORK:,.0f} a simulation may run; use at most "
                       f"{int(MAX_WORK // windows):,} replications for T = {t}.")


@dataclass(frozen=True)
class CriticalValues:
    """Quantiles at `LEVELS` of each statistic; `bsadf[i][j]` is level i at end point
    window-1+j (0-based), i.e. one sequence per level, T - window + 1 long."""

    t: int
    window: int
    lag: int
    reps: int
    seed: int
    adf: tuple[float, ...]
    sadf: tuple[float, ...]
    gsadf: tuple[float, ...]
    bsadf: tuple[tuple[float, ...], ...]

    @property
    def key(self) -> str:
        return cache_key(self.t, self.window, self.lag, self.reps, self.seed)

    def to_dict(self) -> dict:
        return {"t": self.t, "window": self.window, "lag": self.lag, "reps": self.reps,
                "seed": self.seed, "levels": list(LEVELS), "adf": list(self.adf),
                "sadf": list(self.sadf), "gsadf": list(self.gsadf),
                "bsadf": [list(row) for row in self.bsadf]}

    @classmethod
    def from_dict(cls, data: dict) -> CriticalValues:
        return cls(t=int(data["t"]), window=int(data["window"]), lag=int(data["lag"]),
                   reps=int(data["reps"]), seed=int(data["seed"]), adf=tuple(data["adf"]),
                   sadf=tuple(data["sadf"]), gsadf=tuple(data["gsadf"]),
                   bsadf=tuple(tuple(row) for row in data["bsadf"]))


def cache_key(t: int, window: int, lag: int, reps: int, seed: int = DEFAULT_SEED) -> str:
    return f"psy:T={t}:window={window}:lag={lag}:reps={reps}:seed={seed}"


def simulate_null(t: int, reps: int, seed: int) -> np.ndarray:
    """(reps, t) random walks with drift 1/T, drawn batch-independently (see module doc)."""
    rng = np.random.default_rng(seed)
    return np.cumsum(1.0 / t + rng.standard_normal((reps, t)), axis=1)


def _batch_size(t: int, window: int) -> int:
    starts = t - window + 1
    return max(1, min(64, int(4e6 // (starts * starts + starts * t))))


def simulate(t: int, window: int, lag: int = 1, reps: int = DEFAULT_REPS,
             seed: int = DEFAULT_SEED,
             progress: Callable[[int, int], None] | None = None) -> CriticalValues:
    """Run the simulation; `progress(done, reps)` is called after each batch (it may raise to
    stop the run, e.g. a cancelled job)."""
    check_run(t, window, lag, reps)
    size = _batch_size(t, window)
    seeds = np.random.SeedSequence(seed).spawn(math.ceil(reps / size))
    adf, sadf, gsadf = (np.empty(reps) for _ in range(3))
    bsadf = np.empty((reps, t - window + 1))
    for n, child in enumerate(seeds):
        lo, hi = n * size, min(reps, (n + 1) * size)
        stats = sup_statistics(window_tstats(simulate_null(t, hi - lo, child), lag, window))
        adf[lo:hi], sadf[lo:hi], gsadf[lo:hi] = stats["adf"], stats["sadf"], stats["gsadf"]
        bsadf[lo:hi] = stats["bsadf"]
        if progress is not None:
            progress(hi, reps)

    def quantiles(values: np.ndarray) -> np.ndarray:
        return np.nanquantile(values, LEVELS, axis=0)

    return CriticalValues(t=t, window=window, lag=lag, reps=reps, seed=seed,
                          adf=tuple(map(float, quantiles(adf))),
                          sadf=tuple(map(float, quantiles(sadf))),
                          gsadf=tuple(map(float, quantiles(gsadf))),
                          bsadf=tuple(tuple(map(float, row)) for row in quantiles(bsadf)))
