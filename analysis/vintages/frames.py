"""Releases of one sheet, checked and aligned on one time axis.

Every vintage analysis works on the same arrays: the union of the releases' periods (sorted), and
for each series a periods × releases matrix of the values as published (NaN where a release does
not have the period or the series). Building them is integer work on the index's int64 view
(`index_keys`: period ordinals or nanoseconds), so 36 releases align in about a millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.results import available, label
from errors import BadInput


@dataclass(frozen=True)
class ReleaseSheet:
    """One sheet of one release, as cleaned by Quartile: a DataFrame with a PeriodIndex (or a
    DatetimeIndex) and one numeric column per series. Text columns are not series and are ignored.
    `sheet` is the sheet's name (the same in every release of a family)."""

    label: str
    frame: pd.DataFrame
    sheet: str = ""


@dataclass(frozen=True)
class Axis:
    """The common time axis of a run of releases.

    `keys` are the union of the releases' index values as int64 (period ordinals, or nanoseconds
    for dates), sorted; `steps` counts periods along it (ordinals for periods; positions for
    dates, whose spacing may vary); `last_step[r]` is the step of release r's last period and
    `rows[r]` the axis position of each row of release r's frame.
    """

    index: pd.Index
    keys: np.ndarray
    steps: np.ndarray
    rows: tuple[np.ndarray, ...]
    last_step: np.ndarray
    labels: tuple[str, ...]
    period_labels: tuple[str, ...] = field(repr=False)


def _is_series_dtype(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def series_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a release that are series: the numeric ones, in sheet order."""
    return [c for c, dtype in frame.dtypes.items() if _is_series_dtype(dtype)]


@dataclass(frozen=True, eq=False)
class NumericMatrix:
    """A release's series columns as one rows × columns float64 array (NaN for missing), and
    each column's position: read once per call, not column by column (a DataFrame column
    lookup costs about as much as the arithmetic on it)."""

    position: dict[str, int]
    values: np.ndarray

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.position[name]]


def numeric_matrix(frame: pd.DataFrame) -> NumericMatrix:
    columns = series_columns(frame)
    part = frame if len(columns) == frame.shape[1] else frame[columns]
    values = part.to_numpy(dtype="float64", na_value=np.nan)
    return NumericMatrix({c: i for i, c in enumerate(columns)}, values)


def check_releases(releases: Sequence[ReleaseSheet], least: int = 1) -> None:
    """BadInput unless there are `least` releases with unique labels, each indexed by periods or
    dates of one kind and frequency, with unique periods and column names."""
    if not isinstance(releases, Sequence) or isinstance(releases, (str, bytes)):
        raise BadInput("Releases must be a list of release sheets, oldest first.")
    if len(releases) < least:
        raise BadInput(f"This needs at least {least} releases of the sheet; "
                       f"the family has {len(releases)}.")
    seen: set[str] = set()
    kinds: set[str] = set()
    for release in releases:
        if not isinstance(release, ReleaseSheet) or not isinstance(release.frame, pd.DataFrame):
            raise BadInput("Each release must be a ReleaseSheet holding a DataFrame.")
        name = str(release.label)
        if name in seen:
            raise BadInput(f"Two releases are labelled '{name}'; give each release its own label.")
        seen.add(name)
        index = release.frame.index
        where = f"Release '{name}'" + (f", sheet '{release.sheet}'," if release.sheet else "")
        if isinstance(index, pd.PeriodIndex):
            kinds.add(f"periods of frequency {index.freqstr}")
        elif isinstance(index, pd.DatetimeIndex):
            kinds.add("dates")
        else:
            raise BadInput(f"{where} has no date or period index (its rows are numbered), so it "
                           "cannot be compared across releases; vintages need a sheet whose "
                           "first column holds dates or periods such as 2020Q1.")
        if len(index) == 0:
            raise BadInput(f"{where} has no rows.")
        if index.hasnans:
            raise BadInput(f"{where} has rows without a period.")
        if not index.is_unique:
            twice = index[index.duplicated()][0]
            raise BadInput(f"{where} has the period {label(twice)} on more than one row.")
        if not release.frame.columns.is_unique:
            raise BadInput(f"{where} has two columns with the same name.")
    if len(kinds) > 1:
        raise BadInput("The releases are indexed differently (" + ", ".join(sorted(kinds)) +
                       "); every release of a sheet must have the same kind of period.")


def index_keys(index: pd.Index) -> np.ndarray:
    """The index as int64: period ordinals, or nanoseconds for dates (whatever unit pandas
    chose for them, so that releases read differently still line up)."""
    if isinstance(index, pd.DatetimeIndex):
        index = index.as_unit("ns")
    return np.asarray(index.asi8, dtype=np.int64)


def build_axis(releases: Sequence[ReleaseSheet]) -> Axis:
    """The union time axis of checked releases (see `Axis`)."""
    raw = [index_keys(r.frame.index) for r in releases]
    keys = np.unique(np.concatenate(raw)) if raw else np.empty(0, np.int64)
    first = releases[0].frame.index
    if isinstance(first, pd.PeriodIndex):
        index: pd.Index = pd.PeriodIndex.from_ordinals(keys, freq=first.freq)
        steps = keys
    else:
        index = pd.DatetimeIndex(keys.view("datetime64[ns]"))
        steps = np.arange(len(keys), dtype=np.int64)
    rows = tuple(np.searchsorted(keys, r) for r in raw)
    last_step = np.array([steps[p].max() if len(p) else np.iinfo(np.int64).min for p in rows],
                         dtype=np.int64)
    return Axis(index, keys, steps, rows, last_step, tuple(str(r.label) for r in releases),
                tuple(label(p) for p in index))


def json_rows(values: np.ndarray) -> list:
    """A float array as (nested) lists with None for NaN/inf: JSON-safe like
    `results.json_safe`, but one C-level pass instead of a Python call per number (a sheet's
    revisions are ~10^6 numbers)."""
    out = np.asarray(values, dtype="float64").astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def column_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing values."""
    return frame[column].to_numpy(dtype="float64", na_value=np.nan)


def period_position(axis: Axis, period: str) -> int:
    """The axis position of a period label ("2020Q1"), or BadInput naming the range."""
    try:
        return axis.period_labels.index(str(period))
    except ValueError:
        pass
    try:
        if isinstance(axis.index, pd.PeriodIndex):
            key = pd.Period(str(period), freq=axis.index.freq).ordinal
        else:
            key = pd.Timestamp(str(period)).value
    except (ValueError, TypeError):
        key = None
    found = np.flatnonzero(axis.keys == key) if key is not None else []
    if len(found):
        return int(found[0])
    span = f"{axis.period_labels[0]} to {axis.period_labels[-1]}" if axis.period_labels else "none"
    raise BadInput(f"No release has the period '{period}'; the releases cover {span}.")


def unknown_release(name: str, labels: Sequence[str]) -> BadInput:
    return BadInput(f"There is no release '{name}'. Releases: {available(labels)}.")
