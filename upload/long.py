"""Long time series pivoted into columns over a period index, beside the sheet as uploaded.

Statistics offices' exports (INE, Eurostat, the OECD's SDMX files) often come "long": one row
per series and period, the series named by one or more text columns (a region, an index type)
and the number in one column. Growth, CAGR, rolling means and line charts want one column per
series over a period index. `turn_long` recognises the layout and builds that table; the
pipeline stores it as an extra sheet "<sheet> by <period>", as it does for wide tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from upload.clean import CleanSheet
from upload.cleaning_log import CleaningLog, plural, quote_list
from upload.naming import MAX_NAME, tidy_text
from upload.periods import column_labels
from upload.wide import period_table

MIN_PERIODS = 8  # fewer distinct periods is a table with a date column, not a time series
MAX_COLUMNS = 2000  # series × value columns in the pivoted sheet
MAX_VALUE_COLUMNS = 3  # more numbers per row is a table of measurements, not a series store
SEPARATOR = " · "


def turn_long(sheet: str, cleaned: CleanSheet, log: CleaningLog) -> tuple[str, CleanSheet] | None:
    """(suffix, pivoted sheet) when `cleaned` is a long time series, else None.

    Long means: no period index; one column of periods or dates that repeat; one to
    MAX_VALUE_COLUMNS numeric columns; every other column text, and together with the period
    naming each row uniquely (so no number would have to be summed or dropped). A numeric
    column constant within every series (a region code) is a label, not a value.
    """
    frame = cleaned.frame
    if cleaned.index is not None or len(frame) < MIN_PERIODS:
        return None
    # the period column is never a number column, so the value columns are all of these:
    # counted first, as reading every text column for periods costs more
    if not 1 <= sum(map(_is_number, frame.dtypes)) <= MAX_VALUE_COLUMNS:
        return None
    found = _period_column(frame)
    if found is None:
        return None
    period_column, labels = found
    values = [c for c in frame.columns if c != period_column and _is_number(frame[c])]
    dims = [c for c in frame.columns if c != period_column and c not in values]
    if not 1 <= len(values) <= MAX_VALUE_COLUMNS or not dims:
        return None
    if not all(pd.api.types.is_string_dtype(frame[d].dtype) for d in dims):
        return None
    keys = frame[dims].fillna("").astype(str).apply(lambda column: column.str.strip())
    varying = [d for d in dims if keys[d].nunique() > 1]
    if not varying:
        return None
    series_codes, series_keys = pd.factorize(
        pd.MultiIndex.from_frame(keys[varying]) if len(varying) > 1 else keys[varying[0]])
    period_codes, periods = pd.factorize(labels)
    n_series, n_periods = len(series_keys), len(periods)
    if n_periods < MIN_PERIODS:
        return None
    cells = series_codes.astype(np.int64) * n_periods + period_codes
    if len(np.unique(cells)) != len(cells):
        return None  # a series has two numbers for one period: not ours to choose between
    # a number that never changes within a series (a region code, a unit) labels it
    same = frame[values].groupby(series_codes).nunique(dropna=False).le(1).all()
    values = [c for c in values if not same[c]]
    if not values:
        return None
    names = _names(series_keys, len(varying), keys[[d for d in dims if d not in varying]],
                   values)
    if names is None or len(names) > MAX_COLUMNS:
        return None
    grid = np.full((n_periods, n_series * len(values)), np.nan)
    for v, column in enumerate(values):
        numbers = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        grid[period_codes, series_codes * len(values) + v] = numbers
    unit, turned = period_table(grid, pd.Index(periods), names, originals=[None] * len(names))
    log.add(sheet, "long table", _detail(sheet, unit, period_column, varying, values,
                                         len(names), turned.index["start"], turned.index["end"]))
    return f" by {unit}", turned


def _period_column(frame: pd.DataFrame) -> tuple[str, pd.Index] | None:
    """The first column whose every value is a period or date, with those values parsed."""
    for name in frame.columns:
        if _is_number(frame[name]):
            continue  # bare years in a number column are the value more often than the period
        labels = column_labels(frame[name], str(name))
        if labels is not None and not labels.index.isna().any():
            return name, labels.index
    return None


def _is_number(values) -> bool:
    """Is the column (a Series or its dtype) numbers?"""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _names(series_keys, n_varying: int, constant: pd.DataFrame,
           values: list[str]) -> list[str] | None:
    """Column names: the series' varying labels joined; a blank label (INE leaves the region
    empty on national rows) gives way to the first constant label ("Nacional"). Cut to
    MAX_NAME characters like any column name; None unless the names come out unique."""
    fallback = next((tidy_text(constant[c].iloc[0]) for c in constant.columns
                     if tidy_text(constant[c].iloc[0])), "all")
    names = []
    for key in series_keys:
        parts = [p for p in map(tidy_text, key if n_varying > 1 else (key,)) if p]
        base = (SEPARATOR.join(parts) or fallback)[:MAX_NAME].rstrip()
        names.extend([base] if len(values) == 1 else [f"{base}{SEPARATOR}{v}" for v in values])
    return names if len(set(names)) == len(names) else None


def _detail(sheet, unit, period_column, varying, values, n_columns, start, end) -> str:
    named = quote_list(varying, 6)
    numbers = quote_list(values, 3)
    return (f"Each row holds one number of a series for one {unit} (column {period_column!r}), "
            f"the series named by {plural(len(varying), 'column')} ({named}). The sheet "
            f"{sheet + ' by ' + unit!r} holds the same numbers ({numbers}) pivoted: one column "
            f"per series ({n_columns:,}) over a {unit} index from {start} to {end}, as "
            "time-series analyses and charts expect.")
