"""Spec + frames -> ChartData: the numbers every renderer draws, and the one place they are checked.

`validate()` is `prepare()` without the result, so the API can refuse a bad spec when it is
posted with exactly the errors a renderer would raise later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from errors import BadInput, Unprocessable
from rendition.charts.chartdata import (
    BarData,
    BoxData,
    BoxStats,
    ChartData,
    Fit,
    HeatmapData,
    HistData,
    LineData,
    PieData,
    ScatterData,
    Series,
)
from rendition.charts.select import (
    MAX_BARS,
    MAX_SERIES,
    apply_range,
    category_column,
    category_labels,
    check_fields,
    check_series_count,
    column,
    frame_for,
    numeric,
    require_values,
    sorted_categories,
    x_values,
)
from rendition.charts.spec import KINDS, ChartSpec

Frames = Mapping[str, pd.DataFrame]
DEFAULT_WIDTH, DEFAULT_HEIGHT = 900, 500
FIT_GRID = 100


def validate(spec: ChartSpec, frames: Frames) -> None:
    """Raise BadInput / Unprocessable (naming the sheet or column) if the spec cannot be drawn."""
    prepare(spec, frames)


def prepare(spec: ChartSpec, frames: Frames) -> ChartData:
    if spec.kind not in KINDS:
        raise BadInput(f"Unknown chart kind {spec.kind!r}; choose one of {', '.join(KINDS)}.")
    check_fields(spec)
    frame = apply_range(frame_for(frames, spec.sheet), spec, spec.sheet)
    title, body, x_label, y_label = _BUILDERS[spec.kind](spec, frame, frames)
    log_y = bool(spec.option("log_y", False))
    if log_y:
        _check_positive(body)
    return ChartData(
        kind=spec.kind,
        title=spec.option("title") or title,
        body=body,
        x_label=x_label,
        y_label=y_label,
        log_y=log_y,
        width=spec.option("width", DEFAULT_WIDTH),
        height=spec.option("height", DEFAULT_HEIGHT),
    )


def _names_title(names: tuple[str, ...], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _line(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    check_series_count(len(spec.y), "series")
    axis = x_values(frame, spec, spec.sheet)
    order = np.argsort(axis.values, kind="stable") if axis.kind == "number" else None
    series = []
    for i, name in enumerate(spec.y):
        y = numeric(frame, name, spec.sheet)
        require_values(y, name, spec.sheet)
        x = axis.values
        if order is not None:
            x, y = x[order], y[order]
        panel = i if spec.kind == "small_multiples" else 0
        series.append(Series(name, x, y, name, spec.sheet, color=i, panel=panel))
    panels = tuple(spec.y) if spec.kind == "small_multiples" else ()
    cols = spec.option("cols") or int(np.ceil(np.sqrt(len(spec.y))))
    body = LineData(tuple(series), axis.kind, axis.freq, panels, min(cols, len(spec.y)))
    title = spec.sheet if panels else f"{spec.sheet}: {_names_title(spec.y)}"
    return title, body, axis.label, None if panels else _y_label(spec.y)


def _y_label(names: tuple[str, ...]) -> str | None:
    return names[0] if len(names) == 1 else None


def _compare(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    sheets = spec.sheet_names()
    if len(sheets) < 2:
        raise BadInput("compare_sheets needs at least two sheets: name them in 'sheets'.")
    check_series_count(len(spec.y) * len(sheets), "series (columns × sheets)")
    series = []
    freq, kind = None, None
    for s, sheet in enumerate(sheets):
        sub = apply_range(frame_for(frames, sheet), spec, sheet)
        axis = x_values(sub, spec, sheet)
        if kind is not None and axis.kind != kind:
            raise Unprocessable(
                f"Sheet {sheet!r} has a different kind of index from sheet {sheets[0]!r}."
            )
        kind, freq = axis.kind, freq or axis.freq
        for i, name in enumerate(spec.y):
            y = numeric(sub, name, sheet)
            require_values(y, name, sheet)
            label = f"{name} — {sheet}"
            series.append(Series(label, axis.values, y, name, sheet, color=i, dash=s % 4))
    series.sort(key=lambda s: s.color)  # legend: Australia — HPI, Australia — RHPI, US — HPI…
    title = f"{' vs '.join(sheets)}: {_names_title(spec.y)}"
    return title, LineData(tuple(series), kind, freq), None, None


def _bar(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    cat = category_column(spec)
    agg = spec.option("agg") or ("sum" if spec.y else "count")
    if agg != "count" and not spec.y:
        raise BadInput(f"Empty selection: a bar chart of {agg}s needs at least one y column.")
    check_series_count(len(spec.y), "series")
    categories, table = _aggregate(spec, frame, cat, agg)
    if len(categories) > MAX_BARS:
        raise Unprocessable(
            f"Too many bars ({len(categories)}); a bar chart shows at most {MAX_BARS}. "
            "Choose a category column with fewer values or a shorter period range."
        )
    series = tuple((label, table[label].to_numpy(dtype="float64")) for label in table.columns)
    what = "Rows" if agg == "count" and not spec.y else _names_title(spec.y)
    by = f" by {cat}" if cat else ""
    title = f"{what}{by} ({agg})" if cat else f"{spec.sheet}: {what}"
    x_label = cat if cat is not None else (None if frame.index.name is None else frame.index.name)
    return title, BarData(categories, series, agg), x_label, _y_label(spec.y)


def _aggregate(spec: ChartSpec, frame: pd.DataFrame, cat: str | None, agg: str):
    """Values per category: (categories in natural order, DataFrame of one column per series)."""
    labels = category_labels(frame, cat, spec.sheet)
    categories = tuple(sorted_categories(frame, cat, spec.sheet))
    if agg == "count" and not spec.y:
        table = labels.value_counts(dropna=True).to_frame("rows")
    else:
        data = pd.DataFrame(
            {name: numeric(frame, name, spec.sheet) for name in spec.y}, index=frame.index
        )
        grouped = data.groupby(labels.to_numpy(), dropna=True, sort=False)
        if agg == "sum":
            table = grouped.sum(min_count=1)
        elif agg == "mean":
            table = grouped.mean()
        else:
            table = grouped.count()
    return categories, table.reindex(list(categories))


def _pie(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    cat = category_column(spec)
    agg = spec.option("agg") or ("sum" if spec.y else "count")
    if cat is None:
        if not spec.y:
            raise BadInput("Empty selection: a pie needs a category column (x) or y columns.")
        if agg == "count":
            raise BadInput("A pie of counts needs a category column (x or group).")
        values = [numeric(frame, n, spec.sheet) for n in spec.y]
        reduce = np.nansum if agg == "sum" else np.nanmean
        labels, vals = tuple(spec.y), np.array([reduce(v) for v in values], dtype="float64")
        title = f"{spec.sheet}: {agg} of {_names_title(spec.y)}"
    else:
        if agg != "count" and len(spec.y) != 1:
            raise BadInput(f"A pie of {agg}s by {cat!r} shows one y column; choose exactly one.")
        if agg == "count" and spec.y:
            raise BadInput("A pie of counts takes no y column; leave y empty or use agg 'sum'.")
        categories, table = _aggregate(spec, frame, cat, agg)
        labels, vals = categories, table.iloc[:, 0].to_numpy(dtype="float64")
        what = "Rows" if agg == "count" else spec.y[0]
        title = f"{what} by {cat} ({agg})"
    keep = np.isfinite(vals)
    labels, vals = tuple(lb for lb, k in zip(labels, keep, strict=True) if k), vals[keep]
    if len(labels) > MAX_SERIES:
        raise Unprocessable(
            f"Too many slices ({len(labels)}); a pie shows at most {MAX_SERIES}. "
            f"Choose a category column with fewer values."
        )
    negative = [lb for lb, v in zip(labels, vals, strict=True) if v < 0]
    if negative:
        source = spec.y[0] if spec.y and cat else ", ".join(spec.y)
        raise Unprocessable(
            f"A pie cannot show negative values: {source} is negative for {negative[0]!r}."
            " Use a bar chart instead."
        )
    if not len(vals) or not vals.sum() > 0:
        raise Unprocessable("Nothing to draw: every slice of the pie is zero or missing.")
    return title, PieData(labels, vals, agg), None, None


def _scatter(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    check_series_count(len(spec.y), "series")
    x_all = numeric(frame, spec.x, spec.sheet, role="x")
    points, fits = [], []
    for i, name in enumerate(spec.y):
        y_all = numeric(frame, name, spec.sheet)
        ok = np.isfinite(x_all) & np.isfinite(y_all)
        if not ok.any():
            raise Unprocessable(f"Columns {spec.x!r} and {name!r} have no rows with both values.")
        x, y = x_all[ok], y_all[ok]
        points.append(Series(name, x, y, name, spec.sheet, color=i))
        fits.append(ols_fit(x, y) if spec.option("fit", True) else None)
    title = f"{_names_title(spec.y)} vs {spec.x}"
    return title, ScatterData(tuple(points), tuple(fits)), spec.x, _y_label(spec.y)


def ols_fit(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> Fit | None:
    """OLS line and the confidence band of the mean response, ŷ ± t·s·√(1/n + (x−x̄)²/Sxx)."""
    n = x.size
    if n < 2:
        return None
    xbar, ybar = x.mean(), y.mean()
    sxx = float(np.sum((x - xbar) ** 2))
    if sxx == 0.0:
        return None
    slope = float(np.sum((x - xbar) * (y - ybar)) / sxx)
    intercept = float(ybar - slope * xbar)
    resid = y - (intercept + slope * x)
    sst = float(np.sum((y - ybar) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / sst if sst > 0 else 1.0
    grid = np.linspace(x.min(), x.max(), FIT_GRID)
    fitted = intercept + slope * grid
    if n < 3:
        return Fit(slope, intercept, r2, n, grid, fitted, None, None)
    s = np.sqrt(np.sum(resid**2) / (n - 2))
    t = stats.t.ppf(0.5 + level / 2, n - 2)
    half = t * s * np.sqrt(1.0 / n + (grid - xbar) ** 2 / sxx)
    return Fit(slope, intercept, r2, n, grid, fitted, fitted - half, fitted + half)


def _hist(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    check_series_count(len(spec.y), "series")
    columns = []
    for name in spec.y:
        v = numeric(frame, name, spec.sheet)
        v = v[np.isfinite(v)]
        if not v.size:
            raise Unprocessable(f"Column {name!r} in sheet {spec.sheet!r} has no values.")
        columns.append((name, v))
    pooled = np.concatenate([v for _, v in columns])
    bins = spec.option("bins")
    if bins is None:
        bins = int(min(max(len(np.histogram_bin_edges(pooled, bins="auto")) - 1, 1), 100))
    edges = np.histogram_bin_edges(pooled, bins=bins)
    counts = tuple((name, np.histogram(v, bins=edges)[0].astype("int64")) for name, v in columns)
    title = f"Distribution of {_names_title(spec.y)}"
    return title, HistData(edges, counts), _y_label(spec.y), "count"


def _box(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    if spec.group is None:
        categories = tuple(spec.y)
        check_series_count(len(categories), "boxes")
        boxes = []
        for name in spec.y:
            v = numeric(frame, name, spec.sheet)
            boxes.append(_box_stats(name, name, v[np.isfinite(v)], spec.sheet))
        title = f"Distribution of {_names_title(spec.y)}"
        return title, BoxData(categories, tuple(spec.y), tuple(boxes), None), None, None
    column(frame, spec.group, spec.sheet)
    categories = tuple(sorted_categories(frame, spec.group, spec.sheet))
    check_series_count(len(categories) * len(spec.y), "boxes (groups × columns)")
    labels = category_labels(frame, spec.group, spec.sheet).to_numpy()
    boxes = []
    for name in spec.y:
        v = numeric(frame, name, spec.sheet)
        for cat in categories:
            part = v[(labels == cat) & np.isfinite(v)]
            if part.size:
                boxes.append(_box_stats(name, cat, part, spec.sheet))
    if not boxes:
        raise Unprocessable(f"No values of {_names_title(spec.y)} in any group of {spec.group!r}.")
    title = f"{_names_title(spec.y)} by {spec.group}"
    body = BoxData(categories, tuple(spec.y), tuple(boxes), spec.group)
    return title, body, spec.group, _y_label(spec.y)


def _box_stats(series: str, category: str, v: np.ndarray, sheet: str) -> BoxStats:
    if not v.size:
        raise Unprocessable(f"Column {series!r} in sheet {sheet!r} has no values.")
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    inside = v[(v >= q1 - 1.5 * iqr) & (v <= q3 + 1.5 * iqr)]
    lo, hi = float(inside.min()), float(inside.max())
    outliers = np.sort(v[(v < lo) | (v > hi)])
    return BoxStats(
        series, category, int(v.size), float(v.mean()), float(q1), float(median), float(q3),
        lo, hi, outliers,
    )


def _heatmap(spec: ChartSpec, frame: pd.DataFrame, frames: Frames):
    check_series_count(len(spec.y), "columns")
    data = pd.DataFrame({name: numeric(frame, name, spec.sheet) for name in spec.y})
    matrix = data.corr(method="pearson").to_numpy(dtype="float64")
    title = f"Correlation of {_names_title(spec.y)} (Pearson)"
    return title, HeatmapData(tuple(spec.y), matrix), None, None


def _check_positive(body) -> None:
    """A log axis cannot show zero or negative values: say which column has them."""
    pairs: list[tuple[str, np.ndarray]] = []
    if isinstance(body, LineData):
        pairs = [(s.label, s.y) for s in body.series]
    elif isinstance(body, ScatterData):
        pairs = [(s.label, s.y) for s in body.points]
    elif isinstance(body, BarData):
        pairs = list(body.series)
    elif isinstance(body, BoxData):
        pairs = [(b.series, np.append(b.outliers, b.whisker_low)) for b in body.boxes]
    elif isinstance(body, HistData):
        return  # counts: empty bins are simply not drawn on a log axis
    for label, values in pairs:
        if np.any(values[np.isfinite(values)] <= 0):
            raise Unprocessable(
                f"A log scale needs positive values, but {label!r} has zero or negative ones."
            )


_BUILDERS: dict[str, Callable] = {
    "line": _line,
    "small_multiples": _line,
    "compare_sheets": _compare,
    "bar": _bar,
    "pie": _pie,
    "scatter": _scatter,
    "hist": _hist,
    "box": _box,
    "heatmap": _heatmap,
}
