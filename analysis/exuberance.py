"""Exuberance (bubble) tests of Phillips, Shi and Yu (2015): SADF, GSADF and BSADF date-stamping.

For every column of a period-indexed sheet: the ADF t-statistic of every window of at least
r0·T observations (constant, fixed lag k; see `analysis.rolling_adf`), the SADF (sup over
windows starting at the first observation), the GSADF (sup over all windows) and the BSADF
sequence (for each end period, the sup over the windows that end there). A period is explosive
when its BSADF exceeds the BSADF critical value for that end period; an *episode* is a run of
such periods at least `min_duration` long (PSY suggest log(T) periods). "Exuberant now" means
the last period is explosive.

Critical values come from Monte-Carlo simulation (`analysis.exuberance_cv`), once per
(T, window, lag, replications): `lookup(t, window, lag, reps)` returns them or None. A series
whose values are missing is still reported (statistics, no verdict) with the key it waits for,
so the caller can start the simulation and ask again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.exuberance_cv import (
    DEFAULT_REPS,
    LEVELS,
    MAX_LAG,
    CriticalValues,
    check_run,
    window_from,
)
from analysis.results import json_safe, label, table
from analysis.rolling_adf import sup_statistics, window_tstats
from analysis.series_input import chosen_columns, clean_series
from errors import BadInput

Lookup = Callable[[int, int, int, int], CriticalValues | None]
SIGNIFICANCE = {"90": 0, "95": 1, "99": 2}


@dataclass(frozen=True)
class SeriesExuberance:
    column: str
    periods: tuple[str, ...]       # the series' periods (leading/trailing missing dropped)
    values: tuple[float, ...]
    window: int
    sadf: float
    gsadf: float
    bsadf: tuple[float, ...]       # one per end period from periods[window - 1]
    critical: CriticalValues | None
    episodes: tuple[dict, ...]
    exuberant_now: bool | None

    @property
    def t(self) -> int:
        return len(self.periods)

    def to_dict(self) -> dict:
        cv = self.critical
        return json_safe({
            "column": self.column, "t": self.t, "window": self.window,
            "start": self.periods[0], "end": self.periods[-1],
            "sadf": self.sadf, "gsadf": self.gsadf,
            "sadf_critical": list(cv.sadf) if cv else None,
            "gsadf_critical": list(cv.gsadf) if cv else None,
            "exuberant_now": self.exuberant_now, "episodes": list(self.episodes),
            "periods": list(self.periods), "values": list(self.values),
            "bsadf_periods": list(self.periods[self.window - 1:]),
            "bsadf": list(self.bsadf),
            "bsadf_critical": [list(row) for row in cv.bsadf] if cv else None,
        })


@dataclass(frozen=True)
class ExuberanceResult:
    sheet: str
    lag: int
    r0: float | None
    reps: int
    level: str
    min_duration: int | None
    series: tuple[SeriesExuberance, ...]
    missing: tuple[dict, ...] = field(default_factory=tuple)  # critical values still to simulate

    kind = "exuberance"

    def to_dict(self) -> dict:
        return json_safe({
            "kind": self.kind, "sheet": self.sheet, "lag": self.lag, "r0": self.r0,
            "replications": self.reps, "significance": self.level,
            "levels": list(LEVELS), "min_duration": self.min_duration,
            "critical_values_ready": not self.missing,
            "missing_critical_values": list(self.missing),
            "reading": self.reading(),
            "columns": [s.to_dict() for s in self.series],
        })

    def reading(self) -> str:
        if self.missing:
            return ("The statistics are computed; their Monte-Carlo critical values are still "
                    "being simulated (once for everyone). Run the analysis again when the job "
                    "is done.")
        now = [s.column for s in self.series if s.exuberant_now]
        some = [s.column for s in self.series if s.episodes]
        return (f"{len(some)} of {len(self.series)} series had explosive episodes "
                f"(GSADF date-stamping at {self.level} %); exuberant in the last period: "
                f"{', '.join(now) if now else 'none'}.")

    def summary_rows(self) -> list[dict]:
        rows = []
        for s in self.series:
            cv = s.critical.gsadf if s.critical else (None, None, None)
            rows.append({
                "column": s.column, "T": s.t, "GSADF": s.gsadf, "cv 90%": cv[0],
                "cv 95%": cv[1], "cv 99%": cv[2],
                "exuberant now": None if s.exuberant_now is None else
                ("yes" if s.exuberant_now else "no"),
                "episodes": "; ".join(f"{e['start']}–{e['end']}" for e in s.episodes) or "—",
            })
        return rows

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f"GSADF exuberance test ({self.sheet}, lag {self.lag})",
                 table(self.summary_rows()))]


def episodes_from(exceeds: np.ndarray, periods: tuple[str, ...], offset: int,
                  min_duration: int) -> list[dict]:
    """Runs of True in `exceeds` at least `min_duration` long, as start–end periods
    (`offset` = the period of exceeds[0]); the end is the last explosive period."""
    runs, start = [], None
    for i, flag in enumerate([*exceeds.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= min_duration:
                runs.append({"start": periods[offset + start], "end": periods[offset + i - 1],
                             "periods": i - start, "ongoing": i == len(exceeds)})
            start = None
    return runs


def default_min_duration(t: int) -> int:
    """PSY's minimum duration of an episode: log(T) periods, rounded."""
    return max(1, round(math.log(t)))


def test_series(values: np.ndarray, periods: tuple[str, ...], column: str, lag: int,
                window: int, critical: CriticalValues | None, level: int,
                min_duration: int | None) -> SeriesExuberance:
    """The tests on one clean series (no missing values)."""
    stats = sup_statistics(window_tstats(values, lag, window))
    bsadf = stats["bsadf"]
    episodes, now = (), None
    if critical is not None:
        threshold = np.asarray(critical.bsadf[level])
        exceeds = np.nan_to_num(bsadf, nan=-np.inf) > threshold
        duration = min_duration or default_min_duration(len(values))
        episodes = tuple(episodes_from(exceeds, periods, window - 1, duration))
        now = bool(exceeds[-1])
    return SeriesExuberance(column=column, periods=periods, values=tuple(map(float, values)),
                            window=window, sadf=float(stats["sadf"]),
                            gsadf=float(stats["gsadf"]), bsadf=tuple(map(float, bsadf)),
                            critical=critical, episodes=episodes, exuberant_now=now)


def exuberance(frame: pd.DataFrame, sheet: str, columns, lookup: Lookup, lag: int = 1,
               r0: float | None = None, reps: int = DEFAULT_REPS, level: str = "95",
               min_duration: int | None = None) -> ExuberanceResult:
    """SADF/GSADF with BSADF date-stamping for each chosen column (all numeric when None)."""
    if not 0 <= lag <= MAX_LAG:
        raise BadInput(f"'lag' must be from 0 to {MAX_LAG}, not {lag}.")
    if min_duration is not None and min_duration < 1:
        raise BadInput("'min_duration' must be at least 1 period.")
    names = chosen_columns(frame, sheet, columns)
    out, missing = [], {}
    for name in names:
        series = clean_series(frame, sheet, name, 20, "an exuberance test")
        t = len(series)
        window = window_from(t, r0, lag)
        check_run(t, window, lag, reps)
        critical = lookup(t, window, lag, reps)
        if critical is None:
            missing[(t, window)] = {"t": t, "window": window, "lag": lag, "reps": reps}
        out.append(test_series(series.to_numpy(), tuple(label(p) for p in series.index), name,
                               lag, window, critical, SIGNIFICANCE[level], min_duration))
    return ExuberanceResult(sheet=sheet, lag=lag, r0=r0, reps=reps, level=level,
                            min_duration=min_duration, series=tuple(out),
                            missing=tuple(missing.values()))
