"""JSON safety and column checks shared by every statistics module.

Results leave `analysis/` as plain dicts for the JSON API: NaN and infinities become None (JSON has
no NaN), numpy scalars become Python numbers. The column helpers raise `BadInput`/`Unprocessable`
with a message that names the sheet and column, so no analysis ever returns a silent `nan`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from errors import BadInput, Unprocessable

# Beyond this, squares and sums of squares overflow float64 (about 1.8e308) on ordinary sheets.
MAX_ABS = 1e100


def number(value: Any) -> float | None:
    """A finite Python float, or None for missing/NaN/inf (JSON cannot carry NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def json_safe(obj: Any) -> Any:
    """Recursively turn numpy/pandas values into JSON-safe Python values.

    Cached results are turned into JSON on every request, so the plain types that make up
    most of a result (exact str, float, int, bool, None, dict, list) are recognised by their
    type first; subclasses and numpy/pandas values take the general path below."""
    kind = type(obj)
    if kind is float:
        return obj if math.isfinite(obj) else None
    if kind is str or kind is int or kind is bool or obj is None:
        return obj
    if kind is dict:
        return {k if type(k) is str else str(k): json_safe(v) for k, v in obj.items()}
    if kind is list:
        return [json_safe(v) for v in obj]
    return _json_safe_general(obj)


def _json_safe_general(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return number(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (pd.Period, pd.Timestamp, datetime, date)):
        return label(obj)
    return obj


def label(value: Any) -> str:
    """How a period or row label is shown: "1975Q1", "2020-01", "2020-03-31"."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)


def available(names: Iterable[str], limit: int = 12) -> str:
    items = [f"'{n}'" for n in names]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def column(frame: pd.DataFrame, sheet: str, name: Any) -> pd.Series:
    """The column `name` of `sheet`, or BadInput naming it and what exists."""
    if not isinstance(name, str) or not name:
        raise BadInput(f"A column name must be a non-empty string, not {name!r}.")
    if name not in frame.columns:
        raise BadInput(
            f"Sheet '{sheet}' has no column '{name}'. Columns: {available(frame.columns)}."
        )
    return frame[name]


def is_numeric(series: pd.Series) -> bool:
    """Numbers, not booleans or text: what a mean or a regression can use."""
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def check_magnitudes(values: np.ndarray, index: pd.Index, sheet: str, name: Any) -> None:
    """Unprocessable naming the column and a row when a value is infinite or beyond ±1e100.

    Such values make sums and squares overflow (or an inf turns every statistic into nan): we
    say so instead of answering with a silent null.
    """
    bad = np.abs(values) > MAX_ABS  # inf included, NaN (missing) not
    if bad.any():
        first = int(np.argmax(bad))
        what = "an infinite value" if np.isinf(values[first]) else \
            f"a value beyond ±{MAX_ABS:g} ({values[first]:g})"
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' has {what} at row "
                            f"{label(index[first])}; correct or rescale it before analysing.")


def numeric_column(frame: pd.DataFrame, sheet: str, name: Any) -> pd.Series:
    """The column as float64 (missing as NaN); a 4xx when it is text, all missing or infinite."""
    series = column(frame, sheet, name)
    if not is_numeric(series):
        raise BadInput(
            f"Column '{name}' in sheet '{sheet}' is not numeric ({series.dtype}); "
            "choose a column of numbers."
        )
    array = series.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(array).all():
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' has no values (all missing).")
    check_magnitudes(array, frame.index, sheet, name)
    return pd.Series(array, index=frame.index, name=name)


def numeric_columns(frame: pd.DataFrame, sheet: str, names: Any) -> list[str]:
    """Validated numeric column names; None or [] means every numeric column of the sheet."""
    if names is None or (isinstance(names, (list, tuple)) and not names):
        chosen = [c for c in frame.columns if is_numeric(frame[c])]
        if not chosen:
            raise BadInput(f"Sheet '{sheet}' has no numeric columns.")
        return chosen
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)):
        raise BadInput("'columns' must be a list of column names.")
    seen: list[str] = []
    for name in names:
        numeric_column(frame, sheet, name)
        if name not in seen:
            seen.append(name)
    return seen


def holds_whole_numbers(series: pd.Series) -> bool:
    """True when every present value is a whole number small enough to be an exact integer
    (so "3.0" can be shown as the category "3"); infinities and huge values are not."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return bool(np.all(np.isfinite(values) & (np.abs(values) < 2.0**53)
                       & (values == np.round(values))))


def group_column(frame: pd.DataFrame, sheet: str, name: Any, max_levels: int = 200) -> pd.Series:
    """A column usable to split rows into groups: text, boolean or whole numbers.

    Values are returned as strings (missing stays missing) so that levels chosen in a form match.
    """
    series = column(frame, sheet, name)
    if pd.api.types.is_float_dtype(series.dtype):
        check_magnitudes(series.to_numpy(dtype="float64", na_value=np.nan), frame.index, sheet,
                         name)
        if not holds_whole_numbers(series):
            raise BadInput(
                f"Column '{name}' in sheet '{sheet}' holds continuous numbers; "
                "choose a categorical column to group by."
            )
        series = series.astype("Int64")
    levels = series.astype("string")
    if levels.notna().sum() == 0:
        raise Unprocessable(f"Column '{name}' in sheet '{sheet}' has no values (all missing).")
    if levels.nunique(dropna=True) > max_levels:
        raise BadInput(
            f"Column '{name}' in sheet '{sheet}' has more than {max_levels} distinct values; "
            "choose a categorical column to group by."
        )
    return levels


def table(rows: list[dict], columns: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame for `tables()` exports: rows of JSON-safe dicts."""
    frame = pd.DataFrame(rows, columns=columns)
    return frame
