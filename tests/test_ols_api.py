"""OLS over HTTP: Newey-West and clustered errors, the regression charts (PNG), the page and the
report section that show them."""

import io
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from PIL import Image

from analysis.ols import ols_fit
from rendition.latex.sections import OlsSection, render_section
from tests.upload_actions import DATA, UploadActions

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def housing(client):
    return UploadActions(client).dataset("HousingPreferences.csv")


def test_newey_west_through_the_api_equals_statsmodels(client, housing):
    body = client.post(f"/api/v1/datasets/{housing['id']}/analyses/ols", json={
        "sheet": "HousingPreferences", "formula": "Price ~ Area + Bedrooms",
        "cov_type": "HAC", "hac_lags": 4}).get_json()
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    X = sm.add_constant(frame[["Area", "Bedrooms"]].to_numpy(float))
    ref = sm.OLS(frame["Price"].to_numpy(float), X).fit(cov_type="HAC", use_t=True,
                                                       cov_kwds={"maxlags": 4})
    assert body["cov_type"] == "HAC" and body["hac_lags"] == 4
    assert [c["std_error"] for c in body["coefficients"]] == pytest.approx(ref.bse, rel=1e-9)
    assert "std_error_hc3" in body["coefficients"][0]


def test_options_are_listed_for_the_form(client):
    specs = {s["kind"]: s for s in client.get("/api/v1/analyses").get_json()["analyses"]}
    params = {p["name"]: p for p in specs["ols"]["parameters"]}
    assert params["cov_type"]["choices"] == ["classical", "HC0", "HC1", "HC2", "HC3", "HAC",
                                             "cluster"]
    assert params["cov_type"]["default"] == "classical"
    assert not params["hac_lags"]["required"] and "floor(4" in params["hac_lags"]["help"]
    assert params["cluster"]["type"] == "column"


def test_regression_charts_are_pngs_and_bad_ones_404(client, housing):
    query = urlencode({"sheet": "HousingPreferences", "formula": "Price ~ Area",
                       "cov_type": "HC1"})
    base = f"/api/v1/datasets/{housing['id']}/analyses/ols/chart"
    for which in ("fit", "residuals"):
        response = client.get(f"{base}/{which}.png?{query}")
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.data.startswith(PNG)
        assert Image.open(io.BytesIO(response.data)).size == (720, 420)
    missing = client.get(f"{base}/qq.png?{query}")
    assert missing.status_code == 404 and "fit, residuals" in missing.get_json()["error"]["message"]
    bad = client.get(f"{base}/fit.png?sheet=HousingPreferences&formula=Price~Nope")
    assert bad.status_code == 400 and "Nope" in bad.get_json()["error"]["message"]


def test_the_page_shows_options_notes_and_charts(client, housing):
    query = urlencode({"dataset": housing["id"], "kind": "ols", "sheet": "HousingPreferences",
                       "formula": "Price ~ Area + FurnishingStatus", "cov_type": "HAC",
                       "run": "1"})
    html = client.get(f"/analyse?{query}").get_data(as_text=True)
    assert 'id="p-cov_type"' in html and 'id="p-hac_lags"' in html and 'id="p-cluster"' in html
    assert '<option value="HAC" selected>' in html
    assert 'data-chart="fit"' in html and 'data-chart="residuals"' in html
    assert "treated as categorical" in html and "Newey-West standard errors with" in html


def test_report_section_carries_the_charts():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40)}).assign(y=lambda f: 2 * f.x + 1
                                                            + rng.normal(size=40))
    result = ols_fit(frame, "S", "y ~ x", cov_type="HAC")
    from rendition.charts.regression import render_regression

    images = tuple(render_regression(result.fit, result.response, w) for w in ("fit",
                                                                                 "residuals"))
    assets = {}
    rendered = render_section(OlsSection(result.to_dict(), images=images), assets)
    assert sorted(assets) == ["chart-1.png", "chart-2.png"]
    assert rendered.body.count(r"\includegraphics") == 2
    assert "HAC" in rendered.body
