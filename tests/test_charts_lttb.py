"""LTTB downsampling for interactive charts: shape kept, extremes kept, small and fast payloads."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from rendition.charts import ChartSpec, lttb, render_bokeh, render_plotly
from rendition.charts.downsample import THRESHOLD

MB = 1024 * 1024


def reference_lttb(x, y, n_out):
    """Steinarsson's algorithm as published, one point at a time (slow, obviously right)."""
    n = len(x)
    every = (n - 2) / (n_out - 2)
    out, a = [0], 0
    for i in range(n_out - 2):
        lo, hi = int(i * every) + 1, int((i + 1) * every) + 1
        nlo, nhi = hi, min(int((i + 2) * every) + 1, n)
        cx = sum(x[nlo:nhi]) / (nhi - nlo)
        cy = sum(y[nlo:nhi]) / (nhi - nlo)
        best, best_area = lo, -1.0
        for j in range(lo, hi):
            area = abs((x[a] - cx) * (y[j] - y[a]) - (x[a] - x[j]) * (cy - y[a])) / 2
            if area > best_area:
                best, best_area = j, area
        out.append(best)
        a = best
    out.append(n - 1)
    return out


@pytest.mark.parametrize(("n", "n_out", "seed"), [(1000, 100, 0), (997, 50, 1), (5003, 333, 2)])
def test_matches_the_reference_algorithm_plus_extremes(n, n_out, seed):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 100, n))
    y = np.cumsum(rng.normal(size=n))
    kept = lttb(x, y, n_out)
    expected = set(reference_lttb(list(x), list(y), n_out)) | {int(y.argmax()), int(y.argmin())}
    assert list(kept) == sorted(expected)


def test_keeps_first_last_and_spikes_even_in_one_bucket():
    n = 100_000
    y = np.sin(np.linspace(0, 20, n))
    y[40_000], y[40_001] = 50.0, -50.0  # max and min side by side: one LTTB bucket
    y[77_777] = 20.0
    kept = lttb(np.arange(n, dtype=float), y, 500)
    assert kept[0] == 0 and kept[-1] == n - 1
    assert {40_000, 40_001, 77_777} <= set(kept.tolist())
    assert np.all(np.diff(kept) > 0)
    assert 500 <= kept.size <= 502


def test_short_series_is_untouched():
    assert list(lttb(np.arange(10.0), np.arange(10.0), 20)) == list(range(10))


def test_works_on_datetimes():
    x = pd.date_range("2000-01-01", periods=10_000, freq="h").to_numpy()
    y = np.random.default_rng(3).normal(size=x.size)
    kept = lttb(x, y, 1000)
    reference = lttb(np.arange(x.size, dtype=float), y, 1000)  # evenly spaced: same choice
    np.testing.assert_array_equal(kept, reference)


def test_one_million_points_take_well_under_200_ms():
    rng = np.random.default_rng(4)
    y = np.cumsum(rng.normal(size=1_000_000))
    x = np.arange(y.size, dtype=float)
    lttb(x, y, 2000)  # warm
    best = min(_timed(lambda: lttb(x, y, 2000)) for _ in range(3))
    assert best < 0.2


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def million():
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(size=1_000_000))
    y[123_456] = 10_000.0  # a spike the chart must still show
    index = pd.date_range("2020-01-01", periods=y.size, freq="min")
    return {"big": pd.DataFrame({"signal": y}, index=index)}


SPEC = ChartSpec.from_dict({"kind": "line", "sheet": "big", "y": ["signal"]})


def test_plotly_payload_for_a_million_points(million):
    fig = render_plotly(SPEC, million)
    payload = json.dumps(fig, allow_nan=False)
    assert len(payload.encode()) <= 2 * MB
    (trace,) = fig["data"]
    assert 2000 <= len(trace["y"]) <= 2002
    assert max(trace["y"]) == 10_000.0
    assert trace["y"][0] == million["big"]["signal"].iloc[0]
    assert trace["y"][-1] == million["big"]["signal"].iloc[-1]
    assert "downsampled from 1,000,000 points" in fig["layout"]["title"]["subtitle"]["text"]


def test_bokeh_payload_for_a_million_points(million):
    item = render_bokeh(SPEC, million)
    payload = json.dumps(item, allow_nan=False)
    assert len(payload.encode()) <= 2 * MB
    assert "downsampled from 1,000,000 points" in payload


def test_below_the_threshold_nothing_is_dropped():
    y = np.arange(THRESHOLD, dtype=float)
    fig = render_plotly(ChartSpec.from_dict({"kind": "line", "sheet": "s", "y": ["v"]}),
                        {"s": pd.DataFrame({"v": y})})
    assert fig["data"][0]["y"] == list(y)
    assert "subtitle" not in fig["layout"]["title"]


def test_big_scatter_is_sampled_but_fitted_on_everything():
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 10, 50_000)
    y = 3 * x + 1 + rng.normal(size=x.size)
    spec = ChartSpec.from_dict({"kind": "scatter", "sheet": "s", "x": "x", "y": ["y"]})
    fig = render_plotly(spec, {"s": pd.DataFrame({"x": x, "y": y})})
    points = fig["data"][0]
    assert len(points["x"]) == 10_000 and set(points["x"]) <= set(x.tolist())
    fit = next(t for t in fig["data"] if t.get("name", "").startswith("OLS fit"))
    slope, intercept = np.polyfit(x, y, 1)
    np.testing.assert_allclose(fit["y"], intercept + slope * np.asarray(fit["x"]), rtol=1e-9)
    assert "random sample of 10,000 of 50,000 points" in fig["layout"]["title"]["subtitle"]["text"]
