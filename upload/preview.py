"""A page of a cleaned sheet as JSON-safe lists: the API's rows endpoint and the preview table."""

from __future__ import annotations

import math

import pandas as pd


def page_of_rows(frame: pd.DataFrame, offset: int, limit: int) -> dict:
    """{"columns", "index", "rows", "total"}: NaN and NaT become None, dates ISO strings."""
    chunk = frame.iloc[offset : offset + limit]
    columns = [_json_column(chunk[name]) for name in chunk.columns]
    rows = (
        [list(values) for values in zip(*columns, strict=True)]
        if columns
        else [[] for _ in range(len(chunk))]
    )
    index = None
    if not isinstance(frame.index, pd.RangeIndex):
        index = [period_label(label) for label in chunk.index]
    return {
        "columns": [str(c) for c in frame.columns],
        "index": index,
        "rows": rows,
        "total": int(len(frame)),
    }


def period_label(value) -> str:
    """A period as people write it; a financial year (a year not ending in December) as
    "2001-02", not as pandas' "2002"."""
    if isinstance(value, pd.Period) and value.freqstr.startswith("Y-") and \
            value.freqstr != "Y-DEC":
        return f"{value.year - 1}-{value.year % 100:02d}"
    return str(value)


def _json_column(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.PeriodDtype):
        return [None if pd.isna(v) else period_label(v) for v in series]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    if pd.api.types.is_float_dtype(series.dtype):
        return [None if not math.isfinite(v) else float(v) for v in series.to_numpy(float)]
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        return [None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in series]
    return [
        None if _missing(v) else (v if isinstance(v, (int, float, bool)) else str(v))
        for v in series
    ]


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
