"""Make big series small enough for a browser: LTTB for lines, a fixed sample for point clouds.

Interactive renderers send every point to the page, so a 1,000,000-point series would be tens of
megabytes of JSON. Above `THRESHOLD` points a line keeps `TARGET` points chosen by
largest-triangle-three-buckets (Steinarsson 2013), which preserves the visual shape, plus the
global maximum and minimum so no spike is lost; the chart says so in a note. PNG/SVG renderers
draw everything (matplotlib simplifies paths itself).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rendition.charts.chartdata import BoxData, ChartData, LineData, ScatterData

THRESHOLD = 5_000  # points per series above which interactive charts are reduced
TARGET = 2_000  # points kept per reduced line
MAX_SCATTER = 10_000  # points kept per scatter series
MAX_OUTLIERS = 1_000  # outlier markers kept per box


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices (sorted) of the points LTTB keeps, plus the global argmax/argmin of y.

    x must be increasing and both arrays finite. The first and last points are always kept.
    The result has n_out points, or up to two more when an extreme was not chosen by LTTB.
    """
    n = int(x.size)
    if n_out >= n or n_out < 3:
        return np.arange(n)
    if x.dtype.kind == "M":  # datetimes -> offsets from the first, in the array's unit
        ticks = x.view("int64")
        xf = (ticks - ticks[0]).astype("float64")
    else:
        xf = x.astype("float64") - float(x[0])  # offsets keep precision for large x
    yf = y.astype("float64")
    every = (n - 2) / (n_out - 2)
    # bucket i (0 .. n_out-3) covers [bounds[i], bounds[i+1]); the last point is its own bucket
    bounds = (np.floor(np.arange(n_out - 1) * every) + 1).astype(np.int64)
    bounds[-1] = n - 1  # exact, whatever the float rounding above
    starts = np.append(bounds[:-1], n - 1)
    sizes = np.diff(np.append(starts, n))
    avg_x = np.add.reduceat(xf, starts) / sizes  # mean of each bucket, the last point last
    avg_y = np.add.reduceat(yf, starts) / sizes
    out = np.empty(n_out, dtype=np.int64)
    out[0], out[-1] = 0, n - 1
    a = 0
    for i in range(n_out - 2):
        lo, hi = bounds[i], bounds[i + 1]
        ax, ay = xf[a], yf[a]
        cx, cy = avg_x[i + 1], avg_y[i + 1]
        # twice the triangle area (a, p, c), up to sign; the constant term is irrelevant for argmax
        area = np.abs((ax - cx) * (yf[lo:hi] - ay) - (ax - xf[lo:hi]) * (cy - ay))
        a = lo + int(area.argmax())
        out[i + 1] = a
    extremes = np.array([int(yf.argmax()), int(yf.argmin())])
    return np.union1d(out, extremes)


def reduce_for_interactive(
    data: ChartData, threshold: int = THRESHOLD, target: int = TARGET
) -> ChartData:
    """The same chart with long lines reduced and a note saying from how many points."""
    body = data.body
    if isinstance(body, LineData):
        biggest = max((s.n for s in body.series), default=0)
        if biggest <= threshold:
            return data
        series = tuple(_reduce_series(s, threshold, target) for s in body.series)
        note = f"downsampled from {biggest:,} points (LTTB, {target:,} kept per series)"
        return data.with_body(replace(body, series=series), note)
    if isinstance(body, ScatterData):
        biggest = max((s.n for s in body.points), default=0)
        if biggest <= MAX_SCATTER:
            return data
        rng = np.random.default_rng(0)  # a fixed sample: the same spec gives the same chart
        points = []
        for s in body.points:
            if s.n > MAX_SCATTER:
                keep = np.sort(rng.choice(s.n, MAX_SCATTER, replace=False))
                s = replace(s, x=s.x[keep], y=s.y[keep])
            points.append(s)
        note = (
            f"showing a random sample of {MAX_SCATTER:,} of {biggest:,} points; "
            "the fit uses all of them"
        )
        return data.with_body(replace(body, points=tuple(points), sample_of=biggest), note)
    if isinstance(body, BoxData):
        if all(b.outliers.size <= MAX_OUTLIERS for b in body.boxes):
            return data
        boxes = tuple(
            replace(b, outliers=_thin_sorted(b.outliers, MAX_OUTLIERS)) for b in body.boxes
        )
        note = f"outlier markers thinned to {MAX_OUTLIERS:,} per box"
        return data.with_body(replace(body, boxes=boxes), note)
    return data


def _reduce_series(s, threshold: int, target: int):
    if s.n <= threshold:
        return s
    ok = np.isfinite(s.y)
    if s.x.dtype.kind == "f":
        ok &= np.isfinite(s.x)
    elif s.x.dtype.kind == "M":
        ok &= ~np.isnat(s.x)
    x, y = s.x[ok], s.y[ok]
    keep = lttb(x, y, target)
    return replace(s, x=x[keep], y=y[keep])


def _thin_sorted(values: np.ndarray, n: int) -> np.ndarray:
    if values.size <= n:
        return values
    return values[np.linspace(0, values.size - 1, n).round().astype(np.int64)]
