"""t for a fit: a sheet's period index as years since its first period, and back.

Quarters step 0.25 and months 1/12 exactly (pandas ordinals); dates count days / 365.25. The
`timing` dict travels with a fit request: its "periods" part goes to the worker, which labels
solutions with fit_problem.period_label (no pandas there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.equations.fit_problem import DAYS_PER_YEAR, PER_YEAR
from analysis.results import label
from analysis.timeseries import parse_period


def years_since_start(index: pd.Index) -> np.ndarray:
    """Years since the first row: quarters step 0.25, months 1/12; dates by days / 365.25."""
    if isinstance(index, pd.PeriodIndex) and index.freqstr[0] in PER_YEAR:
        ordinals = np.asarray(index.asi8, dtype="float64")
        return (ordinals - ordinals[0]) / PER_YEAR[index.freqstr[0]]
    days = _days(index)
    return (days - days[0]) / DAYS_PER_YEAR


def _days(index: pd.Index) -> np.ndarray:
    if isinstance(index, pd.PeriodIndex):
        index = index.start_time
    if index.tz is not None:
        index = index.tz_localize(None)
    return np.asarray((index - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1), dtype=float)


def period_timing(frame: pd.DataFrame) -> dict:
    index = frame.index
    first = index[0]
    if isinstance(index, pd.PeriodIndex) and index.freqstr[0] in PER_YEAR:
        freq = index.freqstr[0]
        periods = (freq, int(index.asi8[0]))
        start = first.start_time
    else:
        start = first.start_time if isinstance(first, pd.Period) else first
        periods = ("D", int(_days(index[:1])[0]))
    start = start.tz_localize(None) if start.tz is not None else start
    length = 366 if start.is_leap_year else 365
    origin_year = start.year + (start.day_of_year - 1) / length
    return {"origin": label(first), "periods": periods, "origin_year": float(origin_year),
            "index": index}


def time_of(when, timing: dict) -> float:
    """t of a period as typed (its start), even outside the data."""
    period = parse_period(when)
    index = timing["index"]
    freq, origin = timing["periods"]
    if freq in PER_YEAR:
        return (period.asfreq(index.freq, how="start").ordinal - origin) / PER_YEAR[freq]
    day = (period.start_time - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return (day - origin) / DAYS_PER_YEAR
