"""Sensible first charts for a dataset page, chosen from column names and types only.

Works on metadata, not data, so the page can offer charts without loading every sheet:
`frames_meta` maps sheet name -> {"index": "period" | "datetime" | "range" | …, "columns": …}
where "columns" is a list of {"name", "dtype", optional "distinct", "count", "magnitude"} (or a
{name: dtype} dict).
`sheet_meta(frame)` builds that shape from a DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rendition.charts.spec import ChartSpec

MAX_DEFAULTS = 8
LINE_SERIES = 5
PANELS = 4
COMPARE_SERIES = 3
HEATMAP_COLUMNS = 8
PIE_MAX_DISTINCT = 12
PAIR_COLUMNS = 30  # the most correlated pair is sought among the first 30 numeric columns


def sheet_meta(frame: pd.DataFrame) -> dict[str, Any]:
    """The metadata `default_charts` reads, from a cleaned frame (distinct counts included)."""
    if isinstance(frame.index, pd.PeriodIndex):
        index = "period"
    elif isinstance(frame.index, pd.DatetimeIndex):
        index = "datetime"
    else:
        index = "range"
    counts = frame.notna().sum()
    magnitudes = _magnitudes(frame)
    columns = []
    for name in frame.columns:
        column = {"name": str(name), "dtype": str(frame[name].dtype),
                  "distinct": int(frame[name].nunique(dropna=True)),
                  "count": int(counts[name])}
        if name in magnitudes:
            column["magnitude"] = magnitudes[name]
        columns.append(column)
    return {"index": index, "rows": int(len(frame)), "columns": columns,
            "pair": most_correlated_pair(frame)}


def most_correlated_pair(frame: pd.DataFrame) -> list[str] | None:
    """[x, y]: the two numeric columns with the largest |Pearson r| (y the earlier column, as a
    response usually comes first); None under two numeric columns or no defined r."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])][:PAIR_COLUMNS]
    if len(numeric) < 2:
        return None
    r = frame[numeric].astype("float64").corr().abs().to_numpy(copy=True)
    r[np.tril_indices_from(r)] = np.nan
    if not np.isfinite(r).any():
        return None
    i, j = np.unravel_index(np.nanargmax(r), r.shape)
    return [str(numeric[j]), str(numeric[i])]


def builder_hints(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Where the chart builder starts on a sheet: the scatter's [x, y] (the most correlated
    pair) and the pie's category (as the dataset page's pie chooses it)."""
    return {"scatter": meta.get("pair"), "category": _category(_split(meta)[1])}


def _magnitudes(frame: pd.DataFrame) -> dict[Any, float]:
    """Each numeric column's typical size as log10(median |x|) over its non-zero values, to
    two decimals; none for text, or for a column of zeros and gaps. All columns at once: per
    column, pandas' overhead made a 266-column sheet cost a tenth of a second."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    if not numeric:
        return {}
    sizes = frame[numeric].astype("float64").abs()
    medians = sizes.where(sizes > 0).median()
    return {c: round(math.log10(float(m)), 2) for c, m in medians.items() if m > 0}


def default_charts(
    frames_meta: Mapping[str, Mapping[str, Any]], dataset: str | int | None = None
) -> list[ChartSpec]:
    """A few charts worth showing first, most useful first, at most MAX_DEFAULTS.

    Period/date-indexed sheets: a line of the first few numeric columns on the scale of the
    first (given "magnitude" in the metadata, as `sheet_meta` gives it), small multiples, and
    a comparison of the first two such sheets on their shared columns (HPI vs RHPI). Tables:
    a histogram of the first numeric column, a pie of counts of the first text column with
    3-12 values (else 2), a box plot of that number by that category, a scatter of the first
    two numeric columns and a correlation heatmap.
    """
    specs: list[ChartSpec] = []
    timed = [s for s, m in frames_meta.items() if m.get("index") in ("period", "datetime")]
    for sheet, meta in frames_meta.items():
        numeric, text = _split(meta)
        if not numeric:
            continue
        if sheet in timed:
            specs.append(_spec("line", sheet, _same_scale(meta, numeric)[:LINE_SERIES], dataset))
            if sheet == timed[0] and len(numeric) >= 2:
                specs.append(_spec("small_multiples", sheet, numeric[:PANELS], dataset))
            if sheet == timed[0]:
                specs.extend(_compare(frames_meta, timed, dataset))
            continue
        specs.extend(_table(sheet, numeric, text, dataset, meta.get("pair")))
    return specs[:MAX_DEFAULTS]


def _compare(frames_meta, timed: list[str], dataset) -> list[ChartSpec]:
    if len(timed) < 2:
        return []
    first, second = timed[0], timed[1]
    other = set(_split(frames_meta[second])[0])
    shared = [c for c in _split(frames_meta[first])[0] if c in other][:COMPARE_SERIES]
    if not shared:
        return []
    return [_spec("compare_sheets", first, shared, dataset, sheets=(first, second))]


def _table(sheet: str, numeric: list[str], text: list[tuple[str, int | None, int | None]],
           dataset, pair: list[str] | None = None):
    out = [_spec("hist", sheet, numeric[:1], dataset)]
    category = _category(text)
    if category is not None:
        out.append(_spec("pie", sheet, [], dataset, x=category))
        out.append(_spec("box", sheet, numeric[:1], dataset, group=category))
    if len(numeric) >= 2:
        x, y = pair or (numeric[1], numeric[0])  # the most correlated pair when it is known
        out.append(_spec("scatter", sheet, [y], dataset, x=x))
    if len(numeric) >= 3:
        out.append(_spec("heatmap", sheet, numeric[:HEATMAP_COLUMNS], dataset))
    return out


def _same_scale(meta: Mapping[str, Any], numeric: list[str]) -> list[str]:
    """The numeric columns whose typical size is within a factor of ten of the first's: an
    index, a price in pounds and a percentage change on one axis would leave two of them flat
    along zero."""
    columns = meta.get("columns", [])
    if isinstance(columns, Mapping):
        return numeric
    magnitudes = {str(c["name"]): c.get("magnitude") for c in columns}
    first = magnitudes.get(numeric[0])
    if first is None:
        return numeric
    return [n for n in numeric if magnitudes.get(n) is None or abs(magnitudes[n] - first) < 1]


def _category(text: list[tuple[str, int | None, int | None]]) -> str | None:
    """First text column with 3-12 distinct values, else the first with 2 (yes/no); each value
    on two rows or more on average (a label on one row each is a name, not a category)."""
    for low in (3, 2):
        for name, distinct, count in text:
            if distinct is None or not low <= distinct <= PIE_MAX_DISTINCT:
                continue
            if count is None or count >= 2 * distinct:
                return name
    return None


def _split(meta: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, int | None, int | None]]]:
    """(numeric column names, [(text column name, distinct count, non-blank count)]); the
    counts are None when the metadata lacks them."""
    columns = meta.get("columns", [])
    if isinstance(columns, Mapping):
        columns = [{"name": k, "dtype": v} for k, v in columns.items()]
    numeric, text = [], []
    for col in columns:
        kind = _kind(str(col.get("dtype", "")))
        if kind == "numeric":
            numeric.append(str(col["name"]))
        elif kind == "text":
            text.append((str(col["name"]), col.get("distinct"), col.get("count")))
    return numeric, text


def _kind(dtype: str) -> str:
    d = dtype.lower()
    if d.startswith("bool"):
        return "bool"
    if any(t in d for t in ("datetime", "period", "timedelta", "date")):
        return "time"
    if any(t in d for t in ("int", "float", "decimal", "double", "number")):
        return "numeric"
    return "text"


def _spec(kind: str, sheet: str, y: list[str], dataset, *, x: str | None = None,
          group: str | None = None, sheets: tuple[str, ...] | None = None) -> ChartSpec:
    return ChartSpec(kind=kind, sheet=sheet, y=tuple(y), x=x, group=group, sheets=sheets,
                     options={}, dataset=dataset)
