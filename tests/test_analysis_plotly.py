"""Interactive (Plotly) charts of the time-series analyses: chart.plotly beside chart.png/svg,
its traces equal to statsmodels/pandas on the same series, its panels apart, bad asks refused."""

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import acf, pacf

from analysis.exuberance import exuberance
from analysis.exuberance_cv import simulate
from rendition.charts.analysis_plotly import render_analysis_plotly
from tests.stats_fixtures import dallas
from tests.upload_actions import UploadActions


@pytest.fixture
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def figure(client, dataset, kind, **query) -> dict:
    response = client.get(f"/api/v1/datasets/{dataset['id']}/analyses/{kind}/chart.plotly",
                          query_string={"sheet": "RHPI", "column": "US", **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))  # strict JSON: no NaN
    assert body["format"] == "plotly"
    return body["figure"]


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def values(t: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in t["y"]], dtype=float)


def panels_apart(fig: dict, count: int) -> None:
    """`count` y axes, top to bottom, inside [0, 1] and not overlapping; each trace on one."""
    axes = ["yaxis"] + [f"yaxis{i}" for i in range(2, count + 1)]
    domains = [fig["layout"][a]["domain"] for a in axes]
    assert all(0 <= lo < hi <= 1 for lo, hi in domains)
    assert all(below[1] < above[0] for above, below in zip(domains, domains[1:], strict=False))
    assert {t["yaxis"] for t in fig["data"]} == {"y", *(f"y{i}" for i in range(2, count + 1))}


def test_time_series_charts_as_plotly_equal_statsmodels(client, hpi):
    us = dallas("RHPI")["US"].astype(float)
    raw = us.to_numpy()

    hp = figure(client, hpi, "hp_filter", width=700, height=500)
    cycle, trend = hpfilter(raw, lamb=1600)
    np.testing.assert_allclose(values(trace(hp, "HP trend")), trend, rtol=1e-9)
    np.testing.assert_allclose(values(trace(hp, "cycle")), cycle, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(values(trace(hp, "US")), raw)
    assert trace(hp, "US")["x"][:2] == ["1975-01-01", "1975-04-01"]  # quarters as dates
    assert (hp["layout"]["width"], hp["layout"]["height"]) == (700, 500)
    panels_apart(hp, 2)

    rolling = figure(client, hpi, "rolling_stats", window=8)
    np.testing.assert_allclose(values(trace(rolling, "mean")), us.rolling(8).mean(), rtol=1e-12)
    np.testing.assert_allclose(values(trace(rolling, "standard deviation")),
                               us.rolling(8).std(), rtol=1e-12)
    assert trace(rolling, "mean")["y"][:7] == [None] * 7  # null until the window is full
    panels_apart(rolling, 2)

    correlogram = figure(client, hpi, "acf", nlags=8)
    bars = [t for t in correlogram["data"] if t["type"] == "bar"]
    assert [b["name"] for b in bars] == ["ACF", "PACF"]
    np.testing.assert_allclose(values(bars[0]), acf(raw, nlags=8)[1:], rtol=1e-9)
    np.testing.assert_allclose(values(bars[1]), pacf(raw, nlags=8)[1:], rtol=1e-9)
    panels_apart(correlogram, 2)

    stl = figure(client, hpi, "stl")
    fit = STL(raw, period=4).fit()
    for name in ("trend", "seasonal"):
        np.testing.assert_allclose(values(trace(stl, name)), getattr(fit, name), rtol=1e-9,
                                   atol=1e-9)
    np.testing.assert_allclose(values(trace(stl, "residual")), fit.resid, atol=1e-9)
    panels_apart(stl, 4)


def test_exuberance_as_plotly_shades_each_episode_over_bsadf_and_its_critical_values():
    result = exuberance(dallas("RHPI"), "RHPI", ["US"],
                        lambda t, window, lag, reps: simulate(t, window, lag, reps),
                        reps=100).to_dict()
    [us] = result["columns"]
    fig = render_analysis_plotly(result, "US")
    periods = [pd.Period(p).to_timestamp().strftime("%Y-%m-%d") for p in us["periods"]]
    shaded = [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"]]
    assert shaded and shaded == [
        (periods[us["periods"].index(e["start"])], periods[us["periods"].index(e["end"])])
        for e in us["episodes"]]
    assert all(s["yref"] == "y domain" for s in fig["layout"]["shapes"])  # the top panel
    np.testing.assert_allclose(values(trace(fig, "BSADF")), us["bsadf"])
    critical = trace(fig, "95 % critical value")
    np.testing.assert_allclose(values(critical), us["bsadf_critical"][1])
    assert critical["yaxis"] == "y2" and critical["line"]["dash"] == "dash"
    panels_apart(fig, 2)


@pytest.mark.parametrize("kind, query, status, message", [
    ("hp_filter", {"width": "wide"}, 400, "'width' must be a whole number of pixels"),
    ("hp_filter", {"height": "5000"}, 400, "150 to 2000 high"),
    ("adf", {}, 404, "has no chart"),
    ("hp_filter", {"column": "Atlantis"}, 400, "Atlantis"),
])
def test_bad_plotly_chart_requests_are_refused_with_a_reason(client, hpi, kind, query, status,
                                                             message):
    response = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/{kind}/chart.plotly",
                          query_string={"sheet": "RHPI", "column": "US", **query})
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]


def test_an_unknown_chart_format_names_the_ones_there_are(client, hpi):
    response = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/hp_filter/chart.gif",
                          query_string={"sheet": "RHPI", "column": "US"})
    assert response.status_code == 404
    assert "chart.plotly" in response.get_json()["error"]["message"]
