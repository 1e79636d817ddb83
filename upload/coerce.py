"""Give each column one type: numbers, text, dates or booleans — vectorised, and explained.

The rule for numbers (the output contract other modules rely on): a column is numeric when at
least 95% of its non-missing cells read as numbers — real numbers, or text such as "1,234",
"12.5%", "(1,234)", "−3", "$1,234", "1.234,56" (decimal comma). Missing markers ("", " ", "..",
"-", "n/a") become missing; the few cells that are neither become missing too, and are named
in the cleaning log. Numeric columns are float64, except whole numbers with nothing missing,
which are int64 (never the nullable Int64: numpy-based analyses then need no special case).
Percent signs are dropped and the number kept in percent points (12.5% -> 12.5). Text that
starts with a zero ("02134") stays text: it is a code, not a quantity. Text is pandas' string
dtype, stripped of surrounding spaces.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from upload.dates import DateColumn, NotDates, looks_like_date, read_dates, reader_dates
from upload.layout import MISSING_MARKERS, is_number_text
from upload.number_text import has_leading_zeros, parse_numbers, spread_sample
from upload.periods import STR, excel_serial_dates, parse_labels

if TYPE_CHECKING:
    from upload.memo import SheetsMemo

NUMERIC_SHARE = 0.95
_SAFE_INT = 2**53
_OBJECT = np.dtype(object)
_INT64 = np.dtype(np.int64)
# Markers that mean "missing" even in a text column; the others ("x", "s", "c") only count as
# missing inside a numeric column.
_ALWAYS_MISSING = {"", "..", "...", "-", "–", "—", "n/a", "#n/a", "nan", "null"}


@dataclass
class Typed:
    """A typed column and what was done to it, for the cleaning log."""

    series: pd.Series
    kind: str  # "number" | "text" | "date" | "bool" | "empty"
    markers: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)
    percent: bool = False
    thousands: bool = False
    decimal_comma: bool = False
    leading_zeros: bool = False
    currency: bool = False
    marks: pd.Series | None = None  # footnote marks ("p", "*") by row, on the values with one
    dates: object = None  # upload.dates.DateColumn or NotDates: what the log says about dates


def type_column(values: pd.Series, decimal: str = ".",
                memo: SheetsMemo | None = None) -> Typed:
    """The column as numbers, dates, booleans or text (see the module docstring); `memo`
    remembers the text columns of the upload's earlier sheets."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Typed(values, "bool")
    if pd.api.types.is_numeric_dtype(dtype):
        if dtype == _INT64 and len(values):
            ints = values.to_numpy()
            if -_SAFE_INT < ints.min() and ints.max() < _SAFE_INT:
                return Typed(values, "number")  # what the round trip through float64 gives
        return _numbers(values.astype("float64"))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if values.isna().all():
            return Typed(values, "empty")
        found = reader_dates(values)
        return Typed(found.series, "date", dates=found)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return _from_text(values, decimal)
    array = values.to_numpy(dtype=object)
    blank = array == ""
    fast = _plain_floats(array, blank)
    if fast is not None:  # one Series built for the column, not three
        kind = "empty" if np.isnan(fast).all() else "number"
        return Typed(pd.Series(_whole_as_int(fast), index=values.index, name=values.name), kind)
    if memo is not None and (remembered := memo.recall(values, decimal)) is not None:
        return remembered  # the same cells were a text column below: read as they were
    # values.mask(values.eq("")), in numpy
    cells = pd.Series(np.where(blank, np.nan, array), index=values.index, name=values.name)
    inferred = pd.api.types.infer_dtype(cells, skipna=True)
    if inferred == "empty":
        return Typed(pd.Series(np.nan, index=values.index), "empty")
    if inferred in ("floating", "integer", "mixed-integer-float", "decimal"):
        return _numbers(pd.to_numeric(cells).astype("float64"))
    if inferred == "boolean":
        series = cells.astype("bool") if cells.notna().all() else cells.astype("boolean")
        return Typed(series, "bool")
    if inferred in ("datetime", "datetime64", "date"):
        found = reader_dates(cells)
        return Typed(found.series, "date", dates=found)
    if inferred == "string":
        typed = _from_text(cells.astype(STR), decimal)
        if memo is not None:
            memo.keep(values, decimal, typed)
        return typed
    return _mixed(cells, decimal)


def plain_number_columns(body: pd.DataFrame) -> dict[int, Typed]:
    """{position: Typed} for the object columns of `body` that hold numbers and empty cells
    only (or empty cells only), as `type_column` types each of them, in a few numpy steps for
    the whole sheet rather than a dozen per column (a workbook sheet is mostly such columns).
    The other columns are left out, for `type_column`."""
    objects = [j for j, dtype in enumerate(body.dtypes) if dtype == _OBJECT]
    if not objects or not len(body):
        return {}
    if len(objects) < body.shape[1]:
        body = body.iloc[:, objects]
    cells = body.to_numpy(dtype=object).T  # one row of cells per column
    blank = cells == ""
    chosen, out = [], {}
    for k, (column, empty) in enumerate(zip(cells, blank, strict=True)):
        if empty.all():  # every cell "": what type_column makes of it
            out[objects[k]] = Typed(pd.Series(np.nan, index=body.index), "empty")
            continue
        first = column[np.argmin(empty)]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            chosen.append(k)
    floats, chosen = _as_floats(cells, blank, chosen)
    if not chosen:
        return out
    with np.errstate(invalid="ignore"):
        whole = (np.isfinite(floats).all(axis=1) & (np.abs(floats).max(axis=1) < _SAFE_INT)
                 & (floats == np.round(floats)).all(axis=1))
    empty = np.isnan(floats).all(axis=1)
    for row, k in enumerate(chosen):
        values = floats[row].astype("int64") if whole[row] else floats[row]
        out[objects[k]] = Typed(pd.Series(values, index=body.index, name=body.columns[k]),
                                "empty" if empty[row] else "number")
    return out


def _as_floats(cells: np.ndarray, blank: np.ndarray,
               chosen: list[int]) -> tuple[np.ndarray, list[int]]:
    """The chosen rows of `cells` as float64 (blank as NaN), in one step, or row by row when
    one of them holds something else (text such as "n/a"), which is then left out."""
    try:
        return np.where(blank[chosen], np.nan, cells[chosen]).astype("float64"), chosen
    except (TypeError, ValueError):
        pass
    rows, kept = [], []
    for k in chosen:
        try:
            rows.append(np.where(blank[k], np.nan, cells[k]).astype("float64"))
        except (TypeError, ValueError):
            continue
        kept.append(k)
    return (np.array(rows) if rows else np.empty((0, cells.shape[1]))), kept


def _plain_floats(array: np.ndarray, blank: np.ndarray) -> np.ndarray | None:
    """The common workbook case in one numpy step: numbers and empty cells only (float64);
    `blank` is `array == ""`."""
    if blank.all():
        return None
    filled = array[~blank]
    if not isinstance(filled[0], (int, float)) or isinstance(filled[0], bool):
        return None
    try:
        return np.where(blank, np.nan, array).astype("float64")
    except (TypeError, ValueError):
        return None


def _numbers(floats: pd.Series, **notes) -> Typed:
    return Typed(
        whole_numbers_as_int(floats), "number" if floats.notna().any() else "empty", **notes
    )


def whole_numbers_as_int(floats: pd.Series) -> pd.Series:
    """int64 when every value is a whole number and none is missing; float64 otherwise."""
    array = floats.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(_whole_as_int(array), index=floats.index, name=floats.name)


def _whole_as_int(array: np.ndarray) -> np.ndarray:
    if (
        len(array)
        and np.isfinite(array).all()
        and np.abs(array).max() < _SAFE_INT
        and (array == np.round(array)).all()
    ):
        return array.astype("int64")
    return array


def _from_text(text: pd.Series, decimal: str) -> Typed:
    """A column of strings: numbers written as text, ISO dates, or text."""
    text = text.str.strip()
    lowered = pc.utf8_lower(pa.array(text.array))  # text.str.lower(), kept in Arrow
    markers = _lowered_in(lowered, _ALWAYS_MISSING)
    present = ~(text.array.isna() | markers)
    if not present.any():
        return Typed(
            pd.Series(np.nan, index=text.index), "empty", markers=set(text.dropna().unique())
        )
    kept = text.where(present) if markers.any() else text  # the same cells either way
    sample = _spread_values(text, present)
    if share(sample, _looks_numeric) < 0.5:  # clearly not numbers: skip the number parsing
        return _dates_or_text(kept, sample)
    present = pd.Series(present, index=text.index)
    numbers, parsed, notes = parse_numbers(kept, decimal)
    maybe_missing = present & ~parsed & _lowered_in(lowered, MISSING_MARKERS)
    counted = present & ~maybe_missing
    n_counted = int(counted.sum())
    n_parsed = int(parsed.sum())
    if n_counted and n_parsed >= NUMERIC_SHARE * n_counted:
        if has_leading_zeros(text.where(parsed)):
            return Typed(kept, "text", leading_zeros=True)
        markers = set(text[text.notna() & ~present | maybe_missing].unique())
        dropped = list(pd.unique(text[counted & ~parsed]))
        return _numbers(numbers, markers=markers, dropped=[str(d) for d in dropped], **notes)
    return _dates_or_text(kept, sample)


def _lowered_in(lowered: pa.Array | pa.ChunkedArray, values: set[str] | frozenset) -> np.ndarray:
    """`text.str.lower().isin(values)` as pandas computes it (pyarrow's is_in; a missing cell
    is in no set), as a numpy mask."""
    found = pc.is_in(lowered, value_set=pa.array(sorted(values), type=lowered.type))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def share(sample, predicate) -> float:
    """`sample.map(predicate).mean()` over any iterable of values, asking once per distinct
    value: a column of "yes"/"no" costs two calls, not two hundred."""
    counts = Counter(sample)
    total = sum(counts.values())
    if not total:
        return float("nan")
    return sum(n for value, n in counts.items() if predicate(value)) / total


def _spread_values(text: pd.Series, present: np.ndarray, size: int = 200):
    """`spread_sample(text[present])`'s values, without building the Series."""
    where = np.flatnonzero(present)
    if len(where) > size:
        where = where[np.linspace(0, len(where) - 1, size).astype(int)]
    return text.array.take(where).to_numpy()


def _dates_or_text(text: pd.Series, sample: pd.Series) -> Typed:
    """Dates or periods when the column reads as them (upload/dates.py), else text; a column
    that is part numbers, part dates stays text with the reason for the log."""
    if share(sample, looks_like_date) >= 0.3:
        found = read_dates(text)
        if isinstance(found, DateColumn):
            return Typed(found.series, "date", dates=found)
        if isinstance(found, NotDates):
            return Typed(text, "text", dates=found)
    return Typed(text, "text")


def _mixed(cells: pd.Series, decimal: str) -> Typed:
    """Objects of several kinds: numbers with text markers, dates with text, labels..."""
    numeric = pd.to_numeric(cells, errors="coerce")
    present = cells.notna()
    rest = cells[present & numeric.isna()]
    strings = rest[rest.map(lambda v: isinstance(v, str))]
    stamps = rest.map(lambda v: isinstance(v, (dt.date, dt.datetime)))
    if stamps.sum() * 2 >= present.sum() and not numeric.notna().any():
        return _dates_with_text(cells, stamps)
    if len(strings) == len(rest):
        text = strings.astype(STR).str.strip()
        lowered = text.str.lower()
        markers_mask = lowered.isin(MISSING_MARKERS)
        parsed_numbers, parsed, notes = parse_numbers(text.where(~markers_mask), decimal)
        n_counted = int(present.sum()) - int(markers_mask.sum())
        n_numeric = int(numeric.notna().sum()) + int(parsed.sum())
        if n_counted and n_numeric >= NUMERIC_SHARE * n_counted:
            numeric = numeric.copy()
            numeric.loc[parsed_numbers.index] = parsed_numbers
            dropped = [str(d) for d in pd.unique(text[~markers_mask & ~parsed])]
            return _numbers(
                numeric.astype("float64"),
                markers=set(text[markers_mask].unique()),
                dropped=dropped,
                **notes,
            )
    text = cells.map(as_text, na_action="ignore").astype(STR).str.strip()
    return _dates_or_text(text, spread_sample(text.dropna()))


def _dates_with_text(cells: pd.Series, stamps: pd.Series) -> Typed:
    """A workbook column of real dates with some text: the text is read as dates where it
    reads (same rules as a text column), and named in the log where it does not."""
    out = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us]")
    out[stamps.index[stamps]] = pd.to_datetime(cells[stamps.index[stamps]].tolist())
    words = cells[cells.notna() & ~cells.index.isin(stamps.index[stamps])]
    text = words.map(as_text).astype(STR).str.strip()
    text = text[~text.str.lower().isin(MISSING_MARKERS)]
    found = read_dates(text, "date") if len(text) else None
    if isinstance(found, DateColumn) and found.series.dtype.kind == "M":
        out[text.index] = found.series
        found.series = out
        found.n_failed = int(found.series.loc[text.index].isna().sum())
    elif len(text):
        found = DateColumn(out, "workbook", "dates", failed=[str(v) for v in
                                                             pd.unique(text)[:6]],
                           n_failed=len(text))
    return Typed(out, "date", dates=found)


def _looks_numeric(text: str) -> bool:
    return is_number_text(text) or text.lower() in MISSING_MARKERS


def as_text(value: object) -> str:
    """A cell as text the way a spreadsheet shows it: 1980 not 1980.0, dates as ISO."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def apply_override(values: pd.Series, kind: str) -> tuple[pd.Series, int]:
    """The column as the type the user chose; returns (series, cells that became missing)."""
    before = int(values.notna().sum())
    if kind == "text":
        out = values.map(as_text, na_action="ignore").astype(STR)
    elif kind == "category":
        out = values.map(as_text, na_action="ignore").astype(STR).astype("category")
    elif kind == "number":
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            out = values.astype("float64")
        else:
            text = values.map(as_text, na_action="ignore").astype(STR).str.strip()
            out, _, _ = parse_numbers(text)
        out = whole_numbers_as_int(out)
    elif kind.startswith("date"):
        out = _as_dates(values, kind)
    else:
        raise ValueError(kind)
    return out, before - int(out.notna().sum())


def _as_dates(values: pd.Series, kind: str = "date") -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or isinstance(values.dtype,
                                                                       pd.PeriodDtype):
        return values
    if pd.api.types.is_numeric_dtype(values.dtype):
        floats = values.astype("float64")
        if floats.dropna().between(1800, 2100).all() and (floats.dropna() % 1 == 0).all():
            return pd.to_datetime(floats.astype("Int64").astype(STR), format="%Y", errors="coerce")
        serials = excel_serial_dates(floats.where(floats.between(1, 73050)))
        return pd.Series(serials, index=values.index)
    text = values.map(as_text, na_action="ignore").astype(STR).str.strip()
    found = read_dates(text.where(~text.str.lower().isin(MISSING_MARKERS)), kind)
    if isinstance(found, DateColumn):
        return found.series
    labels = parse_labels(text)
    if labels is not None:
        index = labels.index
        stamps = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
        return pd.Series(stamps, index=values.index)
    return pd.to_datetime(text, format="mixed", errors="coerce")
