"""One column of a period-indexed sheet as a clean series for the time-series tools.

Each tool needs the same checks, with messages a person understands: a period index, a numeric
column with values, no gap inside the data (leading and trailing missing periods are dropped:
series often start late), enough observations, and not a constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.results import label, numeric_column, numeric_columns
from analysis.timeseries import period_index
from errors import Unprocessable


def clean_series(frame: pd.DataFrame, sheet: str, name: str, min_obs: int,
                 why: str = "this analysis") -> pd.Series:
    """The column's values from its first to its last present period, as float64."""
    period_index(frame, sheet)
    values = numeric_column(frame, sheet, name)
    present = np.flatnonzero(values.notna().to_numpy())
    trimmed = values.iloc[present[0]:present[-1] + 1]
    gaps = trimmed.isna().to_numpy()
    if gaps.any():
        first = trimmed.index[int(np.argmax(gaps))]
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' has a missing value at "
                            f"{label(first)} inside its data; {why} needs an unbroken series.")
    if len(trimmed) < min_obs:
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' has {len(trimmed)} "
                            f"observations; {why} needs at least {min_obs}.")
    if np.ptp(trimmed.to_numpy()) == 0:
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' is constant "
                            f"({trimmed.iloc[0]:g}); {why} needs a series that varies.")
    return trimmed


def chosen_columns(frame: pd.DataFrame, sheet: str, columns) -> list[str]:
    period_index(frame, sheet)
    return numeric_columns(frame, sheet, columns)


def periods_per_year(index: pd.Index) -> int | None:
    """4 for quarters, 12 for months, 1 for years; None when the frequency is unknown."""
    if isinstance(index, pd.PeriodIndex):
        return {"Q": 4, "M": 12, "Y": 1, "A": 1}.get(index.freqstr[0])
    freq = pd.infer_freq(index) if len(index) >= 3 else None
    if freq:
        return {"Q": 4, "M": 12, "Y": 1, "A": 1}.get(freq.lstrip("B")[0])
    return None
