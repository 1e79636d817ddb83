"""Analyses over HTTP: the contract's shapes, numbers checked independently, cache, exports."""

import io
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.upload_actions import DATA, UploadActions


@pytest.fixture
def housing(client):
    return UploadActions(client).dataset("HousingPreferences.csv")


@pytest.fixture
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def analyse(client, dataset, kind, **params):
    return client.post(f"/api/v1/datasets/{dataset['id']}/analyses/{kind}", json=params)


def test_ols_price_on_area_equals_numpy(client, housing):
    body = analyse(client, housing, "ols", sheet="HousingPreferences",
                   formula="Price ~ Area").get_json()
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    X = np.column_stack([np.ones(len(frame)), frame["Area"].to_numpy(float)])
    y = frame["Price"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    residuals = y - X @ beta
    sigma2 = residuals @ residuals / (len(y) - 2)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    r2 = 1 - residuals @ residuals / ((y - y.mean()) @ (y - y.mean()))
    assert body["kind"] == "ols" and body["sheet"] == "HousingPreferences"
    assert body["n"] == 545
    assert body["r_squared"] == pytest.approx(r2, rel=1e-10)
    terms = {c["term"]: c for c in body["coefficients"]}
    assert terms["Area"]["estimate"] == pytest.approx(beta[1], rel=1e-10)
    assert terms["Area"]["std_error"] == pytest.approx(se[1], rel=1e-8)
    assert set(terms["Area"]) >= {"term", "estimate", "std_error", "t", "p_value", "ci_low",
                                  "ci_high"}


def test_describe_of_hpi_equals_numpy(client, hpi):
    body = analyse(client, hpi, "describe", sheet="HPI").get_json()
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    canada = pd.to_numeric(raw["Canada"], errors="coerce").dropna().to_numpy(float)
    column = next(c for c in body["columns"] if c["name"] == "Canada")
    assert column["count"] == canada.size
    assert column["mean"] == pytest.approx(canada.mean())
    assert column["std"] == pytest.approx(canada.std(ddof=1))
    assert column["median"] == pytest.approx(np.median(canada))
    assert column["q25"] == pytest.approx(np.percentile(canada, 25))


def test_yoy_growth_checked_from_two_cells(client, hpi):
    body = analyse(client, hpi, "growth", sheet="HPI", columns=["Spain"], periods=4).get_json()
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    raw = raw.dropna(how="all")
    q1_2008 = float(raw.loc[raw.iloc[:, 0] == "2008:Q1", "Spain"].iloc[0])
    q1_2007 = float(raw.loc[raw.iloc[:, 0] == "2007:Q1", "Spain"].iloc[0])
    position = body["index"].index("2008Q1")
    assert body["series"]["Spain"][position] == pytest.approx((q1_2008 / q1_2007 - 1) * 100)
    # the LaTeX export prints every rate with the same decimals, as the page and the PDF do
    spain = pd.to_numeric(raw["Spain"], errors="coerce").to_numpy(float)
    rates = (spain[4:] / spain[:-4] - 1) * 100
    decimals = 3 - int(np.floor(np.log10(np.nanmax(np.abs(rates)))))
    latex = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/growth?sheet=HPI&columns=Spain"
                       "&periods=4&format=tex").get_data(as_text=True)
    shown = f"{(q1_2008 / q1_2007 - 1) * 100:,.{decimals}f}".replace("-", "$-$")
    assert f"2008Q1&{shown}\\\\" in latex


def test_correlation_matches_scipy(client, housing):
    body = analyse(client, housing, "correlation", sheet="HousingPreferences",
                   columns=["Price", "Area"], method="spearman").get_json()
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    rho, p = stats.spearmanr(frame["Price"], frame["Area"])
    assert body["matrix"]["Price"]["Area"] == pytest.approx(rho)
    assert body["p_values"]["Price"]["Area"] == pytest.approx(p)
    assert body["n"]["Price"]["Area"] == 545


def test_ttest_matches_scipy(client, housing):
    body = analyse(client, housing, "ttest", sheet="HousingPreferences", value="Price",
                   group="FurnishingStatus", a="furnished", b="unfurnished").get_json()
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    a = frame.loc[frame.FurnishingStatus == "furnished", "Price"]
    b = frame.loc[frame.FurnishingStatus == "unfurnished", "Price"]
    t, p = stats.ttest_ind(a, b, equal_var=False)
    assert body["statistic"] == pytest.approx(t)
    assert body["p_value"] == pytest.approx(p)
    assert "furnished" in body["reading"]


def test_price_index_by_hand(client):
    content = b"item,p0,q0,p1,q1\nbread,2,10,3,8\nmilk,1,20,1.5,25\ntea,4,5,4,5\n"
    dataset = UploadActions(client).upload_bytes(content, "basket.csv").get_json()
    body = analyse(client, dataset, "price_index", sheet="basket", p0="p0", q0="q0", p1="p1",
                   q1="q1").get_json()
    laspeyres = 100 * (3 * 10 + 1.5 * 20 + 4 * 5) / (2 * 10 + 1 * 20 + 4 * 5)
    paasche = 100 * (3 * 8 + 1.5 * 25 + 4 * 5) / (2 * 8 + 1 * 25 + 4 * 5)
    assert body["laspeyres"] == pytest.approx(laspeyres)
    assert body["paasche"] == pytest.approx(paasche)
    assert body["fisher"] == pytest.approx((laspeyres * paasche) ** 0.5)


@pytest.mark.parametrize(
    ("kind", "params", "status", "phrase"),
    [
        ("ols", {"sheet": "HousingPreferences", "formula": "Price ~ Nope"}, 400, "Nope"),
        ("ols", {"sheet": "HousingPreferences", "formula": "Price ~ log(FurnishingStatus)"},
         400, "FurnishingStatus"),
        ("ols", {"sheet": "HousingPreferences", "formula": "Price ~ Area", "cov_type": "HAC",
                 "hac_lags": 9999}, 400, "hac_lags"),
        ("describe", {"sheet": "Nope"}, 404, "Nope"),
        ("growth", {"sheet": "HousingPreferences", "columns": ["Price"]}, (400, 422), "period"),
        ("nope", {"sheet": "HousingPreferences"}, 404, "nope"),
        ("ols", {"sheet": "HousingPreferences", "formula": "__import__('os')"}, 400, ""),
        ("describe", {"sheet": "HousingPreferences", "extra": 1}, 400, "extra"),
    ],
)
def test_bad_parameters_are_clear_4xx(client, housing, kind, params, status, phrase):
    response = analyse(client, housing, kind, **params)
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.get_data(as_text=True)
    assert phrase in response.get_json()["error"]["message"]


def test_a_repeat_is_served_from_the_cache(client, hpi):
    started = time.perf_counter()
    first = analyse(client, hpi, "describe", sheet="RHPI").get_json()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = analyse(client, hpi, "describe", sheet="RHPI").get_json()
    warm = time.perf_counter() - started
    assert again == first
    assert warm < cold


def test_get_with_query_and_exports(client, housing):
    url = f"/api/v1/datasets/{housing['id']}/analyses/groups"
    query = "sheet=HousingPreferences&value=Price&by=FurnishingStatus"
    body = client.get(f"{url}?{query}").get_json()
    assert body["kind"] == "groups"
    csv = client.get(f"{url}?{query}&format=csv")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("# ")
    table = pd.read_csv(io.StringIO("\n".join(lines[1:])))
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    means = frame.groupby("FurnishingStatus")["Price"].mean()
    mean_column = next(c for c in table.columns if c.lower() == "mean")
    group_column = table.columns[0]
    got = dict(zip(table[group_column], table[mean_column], strict=True))
    for group, mean in means.items():
        assert got[group] == pytest.approx(mean)
    markdown = client.get(f"{url}?{query}&format=md").get_data(as_text=True)
    assert markdown.startswith("### ") and "| --- |" in markdown
    latex = client.get(f"{url}?{query}&format=tex").get_data(as_text=True)
    assert "\\begin{longtable}" in latex


def test_hostile_column_names_are_escaped_in_latex_export(client):
    content = b"\\input{/etc/passwd},y\n1,2\n2,4\n3,7\n"
    dataset = UploadActions(client).upload_bytes(content, "evil.csv").get_json()
    url = f"/api/v1/datasets/{dataset['id']}/analyses/describe?sheet=evil&format=tex"
    latex = client.get(url).get_data(as_text=True)
    assert "\\input{/etc/passwd}" not in latex
    assert "\\textbackslash{}input" in latex


def test_list_of_analyses(client):
    kinds = {a["kind"] for a in client.get("/api/v1/analyses").get_json()["analyses"]}
    assert {"describe", "ols", "correlation", "growth", "ttest", "anova", "chi2",
            "price_index"} <= kinds
