"""Fitting a typed model to a sheet over HTTP, checked against scipy's curve_fit on its data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import curve_fit

from tests.equations_fixtures import module_client, solver_pool
from tests.upload_actions import DATA, UploadActions


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


@pytest.fixture(scope="module")
def client(sqlite_template, tmp_path_factory, pool):
    yield from module_client(sqlite_template, tmp_path_factory, "fit")


@pytest.fixture(scope="module")
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def fit(client, dataset, **body):
    return client.post(f"/api/v1/datasets/{dataset['id']}/analyses/fit", json=body)


def us_series() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """US of the HPI sheet read independently: t in years since 1975Q1, one row a quarter."""
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    rows = raw.iloc[1:]  # the workbook's second row is empty
    y = pd.to_numeric(rows["US"]).to_numpy(float)
    t = np.arange(len(y)) / 4
    return t, y, [str(v).replace(":", "") for v in rows.iloc[:, 0]]


def test_exponential_fit_of_us_equals_curve_fit(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)").get_json()
    t, y, quarters = us_series()
    estimates, cov = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04],
                               ftol=1e-14, xtol=1e-14, gtol=1e-14)
    se = np.sqrt(np.diag(cov))
    got = {p["name"]: p for p in body["parameters"]}
    for k, name in enumerate("ab"):
        assert got[name]["estimate"] == pytest.approx(estimates[k], rel=1e-6)
        assert got[name]["std_error"] == pytest.approx(se[k], rel=1e-6)
        q = stats.t.ppf(0.975, len(y) - 2)
        assert got[name]["ci_low"] == pytest.approx(estimates[k] - q * se[k], rel=1e-6)
        assert got[name]["ci_high"] == pytest.approx(estimates[k] + q * se[k], rel=1e-6)
    residuals = y - estimates[0] * np.exp(estimates[1] * t)
    ssr = residuals @ residuals
    n = len(y)
    assert body["n"] == n == 181 and body["dof"] == 179
    assert body["residual_sd"] == pytest.approx(math.sqrt(ssr / 179), rel=1e-6)
    assert body["r_squared"] == pytest.approx(1 - ssr / ((y - y.mean()) @ (y - y.mean())),
                                              rel=1e-8)
    log_l = -n / 2 * (math.log(2 * math.pi) + math.log(ssr / n) + 1)  # R's logLik.nls
    assert body["aic"] == pytest.approx(2 * 3 - 2 * log_l, rel=1e-8)
    assert body["converged"] is True and body["evaluations"] >= 1 and body["message"]
    assert body["start_method"] == "log-linear least squares"
    assert body["t"]["origin"] == "1975Q1" and "years since 1975Q1" in body["t"]["description"]
    assert body["fitted"][0]["label"] == quarters[0] == "1975Q1"
    last = estimates[0] * np.exp(estimates[1] * t[-1])
    assert body["fitted"][-1]["fitted"] == pytest.approx(last, rel=1e-6)
    assert "<math" not in body["model_mathml"] and "<mi>US</mi>" in body["model_mathml"]


def test_doubling_from_2000q1_solved_exactly(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", solve="US = 2*US(2000Q1)",
               derived=["log(2)/b"], at=["2020Q1"]).get_json()
    t, y, _ = us_series()
    (a, b), cov = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04],
                            ftol=1e-14, xtol=1e-14, gtol=1e-14)
    solved = body["solve"]
    assert solved["variable"] == "t" and solved["method"] == "exact"
    (answer,) = solved["solutions"]
    expected = 25 + math.log(2) / b  # 2000Q1 is 25 years after 1975Q1
    assert answer["value"] == pytest.approx(expected, rel=1e-6)
    assert answer["exact"]["text"] in ("log(2)/b + 25", "25 + log(2)/b")
    quarter = 1975 * 4 + math.floor(expected * 4)
    assert answer["label"] == f"{quarter // 4}Q{quarter % 4 + 1}"
    assert answer["year"] == pytest.approx(1975 + expected, rel=1e-9)
    assert answer["fitted"] == pytest.approx(2 * a * math.exp(b * 25), rel=1e-6)
    (doubling,) = body["derived"]
    assert doubling["value"] == pytest.approx(math.log(2) / b, rel=1e-6)
    assert doubling["std_error"] == pytest.approx(math.log(2) / b**2 * math.sqrt(cov[1, 1]),
                                                  rel=1e-5)
    (point,) = body["at"]
    assert point["label"] == "2020Q1"
    assert point["fitted"] == pytest.approx(a * math.exp(b * 45), rel=1e-6)
    assert point["derivative"] == pytest.approx(a * b * math.exp(b * 45), rel=1e-6)
    assert point["relative_growth"] == pytest.approx(b, rel=1e-6)


def test_value_solve_and_png(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", solve_for="t",
               value=200).get_json()
    t, y, _ = us_series()
    (a, b), _ = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04],
                          ftol=1e-14, xtol=1e-14, gtol=1e-14)
    assert body["solve"]["solutions"][0]["value"] == pytest.approx(math.log(200 / a) / b,
                                                                     rel=1e-6)
    image = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", solve="US = 200",
                plot="png", width=640, height=400)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(image.data[16:20], "big") == 640


def test_backquoted_column_and_start_values(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="`S. Korea` = a*t^b",
               start={"a": 10, "b": 0.5}, bounds={"b": [0, None]}).get_json()
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    y = pd.to_numeric(raw["S. Korea"].iloc[1:]).to_numpy(float)
    t = np.arange(len(y)) / 4
    keep = np.isfinite(y)
    estimates, _ = curve_fit(lambda t, a, b: a * t**b, t[keep], y[keep], p0=[10, 0.5],
                             bounds=([-np.inf, 0], np.inf), ftol=1e-14, xtol=1e-14, gtol=1e-14)
    got = [p["estimate"] for p in body["parameters"]]
    assert got == pytest.approx(list(estimates), rel=1e-6)
    assert body["start_method"] == "given"
    assert body["data"]["col1"] == "S. Korea" and body["response"] == "S. Korea"
    assert "S. Korea" in body["model_text"]


def test_plotly_figure_has_points_curve_band_and_solution(client, hpi):
    response = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", solve="US = 2*US(2000Q1)",
                   plot="plotly")
    assert response.status_code == 200 and response.mimetype == "application/json"
    figure = response.get_json()["figure"]
    names = [trace.get("name") for trace in figure["data"]]
    assert names == [None, "95% confidence band", "data", "fitted", "solution", "reference"]
    low, high, points, curve, marker, reference = figure["data"]
    t, y, _ = us_series()
    assert points["y"] == pytest.approx(list(y)) and points["x"][0] == 1975.0
    assert all(lo < c < hi for lo, c, hi in zip(low["y"], curve["y"], high["y"], strict=True))
    (a, b), _ = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04])
    assert marker["x"][0] == pytest.approx(1975 + 25 + math.log(2) / b, rel=1e-6)
    assert reference["x"] == [2000.0] and reference["text"] == ["2000Q1"]
    assert reference["y"][0] == pytest.approx(a * math.exp(25 * b), rel=1e-6)


def test_fit_page_shows_typeset_model_table_solution_and_plot(client, hpi):
    page = client.get("/equations/fit", query_string={
        "dataset": hpi["id"], "sheet": "HPI", "model": "US = a*exp(b*t)",
        "solve": "US = 2*US(2000Q1)", "derived": "log(2)/b", "at": "2020Q1", "run": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="estimates"' in html and "95% interval" in html and "<math>" in html
    assert "<mn>27.6283</mn>" in html  # the estimate of a, 6 digits, in the fitted model
    assert "Solution of US = 2*US(2000Q1)" in html and "data:image/png;base64," in html
    assert "years since 1975Q1" in html
    bad = client.get("/equations/fit", query_string={
        "dataset": hpi["id"], "sheet": "HPI", "model": "US = 2*UK", "run": "1"})
    assert bad.status_code == 400
    assert "The model has no parameter to fit" in bad.get_data(as_text=True)


def test_dataset_page_offers_fit_a_curve(client, hpi):
    html = client.get(f"/datasets/{hpi['id']}").get_data(as_text=True)
    assert f'href="/equations/fit?dataset={hpi["id"]}"' in html and "Fit a curve" in html


def test_weighted_fit_equals_curve_fit_with_sigma(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", weights="UK").get_json()
    t, y, _ = us_series()
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    w = pd.to_numeric(raw["UK"].iloc[1:]).to_numpy(float)
    estimates, cov = curve_fit(lambda t, a, b: a * np.exp(b * t), t, y, p0=[20, 0.04],
                               sigma=1 / np.sqrt(w), ftol=1e-14, xtol=1e-14, gtol=1e-14)
    got = body["parameters"]
    assert [p["estimate"] for p in got] == pytest.approx(list(estimates), rel=1e-6)
    assert [p["std_error"] for p in got] == pytest.approx(list(np.sqrt(np.diag(cov))), rel=1e-6)


def test_linear_model_starts_from_its_exact_solution_and_svg(client, hpi):
    body = fit(client, hpi, sheet="HPI", model="US = a + b*t + c*t^2").get_json()
    t, y, _ = us_series()
    coefficients = np.polynomial.polynomial.polyfit(t, y, 2)
    assert body["start_method"] == "linear least squares"
    assert [p["estimate"] for p in body["parameters"]] == pytest.approx(list(coefficients),
                                                                        rel=1e-8)
    svg = fit(client, hpi, sheet="HPI", model="US = a + b*t", plot="svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data[:400]


def test_hostile_column_name_is_inert_on_the_page(client):
    name = "<img src=x onerror=alert(1)>"
    content = f"x,{name}\n" + "".join(f"{i},{2 * i + 1 + (i % 3) / 10}\n" for i in range(1, 12))
    dataset = UploadActions(client).upload_bytes(content.encode(), "evil.csv").get_json()
    page = client.get("/equations/fit", query_string={
        "dataset": dataset["id"], "sheet": "evil", "model": f"`{name}` = a + b*x", "run": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[-2000:]
    assert "<img src=x" not in html
    assert "<mi>&lt;img src=x onerror=alert(1)&gt;</mi>" in html
    body = fit(client, dataset, sheet="evil", model=f"`{name}` = a + b*x").get_json()
    assert body["model_text"] == f"{name} = a + b*x" and body["response"] == name


def test_factorial_of_a_parameter_is_fitted_not_a_worker_crash(client, hpi):
    """numpy's factorial refused floats (a 422 "worker_error"); scipy.special's takes them."""
    body = fit(client, hpi, sheet="HPI", model="US = factorial(a)", start={"a": 4}).get_json()
    _, y, _ = us_series()
    assert body["fitted"][0]["fitted"] == pytest.approx(y.mean(), rel=1e-6)


def test_bokeh_item_of_the_fit(client, hpi):
    response = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)", solve="US = 2*US(2000Q1)",
                   plot="bokeh")
    assert response.status_code == 200 and response.mimetype == "application/json"
    item = response.get_json()
    assert item["format"] == "bokeh" and item["figure"]["target_id"] is None
    text = response.get_data(as_text=True)
    assert "95% confidence band" in text and "2000Q1" in text and "VArea" in text


def test_the_list_of_analyses_includes_the_fit_with_its_parameters(client, hpi):
    """GET /api/v1/analyses names every kind a client can run: the registry's and the fit,
    whose parameters are the ones its endpoint takes (issue 18's body)."""
    from analysis.registry import ANALYSES

    listed = {a["kind"]: a for a in client.get("/api/v1/analyses").get_json()["analyses"]}
    assert set(listed) == {*ANALYSES, "fit"}
    fit_entry = listed["fit"]
    assert fit_entry["methods"] == ["POST"] and "Fit" in fit_entry["title"]
    params = {p["name"]: p for p in fit_entry["parameters"]}
    assert set(params) == {"sheet", "model", "start", "bounds", "x", "weights", "solve",
                           "solve_for", "value", "derived", "at", "plot", "width", "height"}
    assert {n for n, p in params.items() if p["required"]} == {"sheet", "model"}
    assert (params["sheet"]["type"], params["model"]["type"]) == ("sheet", "formula")
    assert params["plot"]["choices"] == ["png", "svg", "plotly", "bokeh"]
    assert params["start"]["type"] == "object" and "Start values" in params["start"]["help"]
    # What the list says is what the endpoint does: the required ones are enough, a missing
    # one is a 4xx.
    ok = fit(client, hpi, sheet="HPI", model="US = a*exp(b*t)")
    assert ok.status_code == 200, ok.get_json()
    missing = client.post(f"/api/v1/datasets/{hpi['id']}/analyses/fit", json={"sheet": "HPI"})
    assert missing.status_code in (400, 422) and "model" in missing.get_data(as_text=True)
