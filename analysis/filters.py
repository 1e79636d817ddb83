"""Trend/cycle filters and window statistics of one period series: Hodrick–Prescott, STL,
rolling and expanding mean, sd, min and max.

HP and STL are statsmodels' (reference implementations); this module picks the defaults an
economist expects from the sheet's frequency (λ = 1600 for quarters, 129 600 for months,
6.25 for years — Ravn and Uhlig 2002; STL period 12 for months, 4 for quarters) and says
which it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.tsa.filters.hp_filter import hpfilter
from statsmodels.tsa.seasonal import STL

from analysis.results import json_safe, label, number
from analysis.series_input import clean_series, periods_per_year
from errors import BadInput

HP_LAMBDA = {4: 1600.0, 12: 129600.0, 1: 6.25}
STL_PERIOD = {12: 12, 4: 4}
WINDOW_STATS = ("mean", "sd", "min", "max")


@dataclass(frozen=True)
class Decomposition:
    """Components of one series over its periods: HP (trend, cycle), STL (trend, seasonal,
    residual), rolling/expanding statistics (one component per statistic)."""

    kind: str
    sheet: str
    column: str
    index: tuple[str, ...]
    observed: tuple[float, ...]
    components: dict
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "column": self.column,
                          **self.meta, "index": list(self.index),
                          "observed": list(self.observed),
                          "components": {k: list(v) for k, v in self.components.items()}})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        frame = pd.DataFrame({"period": list(self.index), self.column: list(self.observed),
                              **{k: list(v) for k, v in self.components.items()}})
        return [(f"{self.kind} of {self.column} ({self.sheet})", frame)]


def _numbers(values) -> tuple[float | None, ...]:
    return tuple(number(v) for v in np.asarray(values, dtype="float64"))


def hp_filter(frame: pd.DataFrame, sheet: str, column: str,
              lamb: float | None = None) -> Decomposition:
    """Hodrick–Prescott trend and cycle (cycle = observed - trend)."""
    series = clean_series(frame, sheet, column, 6, "a Hodrick–Prescott filter")
    per_year = periods_per_year(series.index)
    if lamb is None:
        if per_year not in HP_LAMBDA:
            raise BadInput(f"Sheet '{sheet}' has no quarterly, monthly or yearly periods; give "
                           "the smoothing parameter 'lamb' yourself.")
        lamb, why = HP_LAMBDA[per_year], {4: "quarterly", 12: "monthly", 1: "yearly"}[per_year]
    else:
        why = "set by you"
    if not lamb > 0:
        raise BadInput("The smoothing parameter 'lamb' must be positive.")
    cycle, trend = hpfilter(series.to_numpy(), lamb=lamb)
    return Decomposition("hp_filter", sheet, column, tuple(label(p) for p in series.index),
                         _numbers(series), {"trend": _numbers(trend), "cycle": _numbers(cycle)},
                         {"lambda": lamb, "lambda_rule": why})


def stl_decompose(frame: pd.DataFrame, sheet: str, column: str, period: int | None = None,
                  robust: bool = False) -> Decomposition:
    """STL (LOESS) into trend, seasonal and residual; needs at least two full periods."""
    series = clean_series(frame, sheet, column, 8, "an STL decomposition")
    if period is None:
        period = STL_PERIOD.get(periods_per_year(series.index))
        if period is None:
            raise BadInput(f"STL needs monthly or quarterly periods; sheet '{sheet}' has "
                           "neither. Give the seasonal 'period' yourself.")
    if period < 2:
        raise BadInput("The seasonal 'period' must be at least 2.")
    if len(series) < 2 * period:
        raise BadInput(f"STL with period {period} needs at least {2 * period} observations; "
                       f"column '{column}' has {len(series)}.")
    fit = STL(series.to_numpy(), period=period, robust=robust).fit()
    return Decomposition("stl", sheet, column, tuple(label(p) for p in series.index),
                         _numbers(series),
                         {"trend": _numbers(fit.trend), "seasonal": _numbers(fit.seasonal),
                          "residual": _numbers(fit.resid)},
                         {"period": period, "robust": robust})


def window_statistics(frame: pd.DataFrame, sheet: str, column: str, window: int | None = 4,
                      expanding: bool = False) -> Decomposition:
    """Trailing-window (or expanding) mean, sd (n - 1), min and max; None until the window is
    full (an expanding sd needs two values)."""
    series = clean_series(frame, sheet, column, 2, "window statistics")
    if not expanding and (window is None or not 2 <= window <= len(series)):
        raise BadInput(f"'window' must be from 2 to {len(series)} observations.")
    roll = series.expanding(min_periods=1) if expanding else series.rolling(window)
    parts = {"mean": roll.mean(), "sd": roll.std(ddof=1), "min": roll.min(), "max": roll.max()}
    return Decomposition("rolling_stats", sheet, column, tuple(label(p) for p in series.index),
                         _numbers(series), {k: _numbers(v) for k, v in parts.items()},
                         {"window": None if expanding else window, "expanding": expanding})
