"""Time-series analyses over HTTP: exuberance with its critical-value job and shared cache,
the charts, the limits and the bad inputs, and the OpenAPI document."""

import numpy as np
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter

from store.db import db
from store.models import CriticalValueSet, Job
from tests.stack_fixtures import make_app_stopping_jobs  # noqa: F401  (jobs end with the test)
from tests.stats_fixtures import dallas
from tests.test_jobs_api import wait_done
from tests.test_reports_api import build, built, pdf_bytes, pdf_text
from tests.upload_actions import UploadActions
from web.auth import local_user


@pytest.fixture
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def analyse(client, dataset, kind, **params):
    return client.post(f"/api/v1/datasets/{dataset['id']}/analyses/{kind}", json=params)


def test_exuberance_starts_one_shared_job_then_dates_the_us_boom(app, client, hpi):
    params = {"sheet": "RHPI", "columns": ["US", "UK"], "replications": 100}
    first = analyse(client, hpi, "exuberance", **params)
    assert first.status_code == 200
    body = first.get_json()
    assert body["critical_values_ready"] is False
    assert body["missing_critical_values"] == [{"t": 181, "window": 26, "lag": 1, "reps": 100}]
    [job] = body["critical_value_jobs"]
    assert job["kind"] == "exuberance_cv"
    done = wait_done(client, job["id"])
    assert done["state"] == "done", done
    with app.app_context():
        row = db.session.get(CriticalValueSet, done["result"]["key"])
        assert (row.t, row.min_window, row.lag, row.reps) == (181, 26, 1, 100)
    again = analyse(client, hpi, "exuberance", **params).get_json()
    assert again["critical_values_ready"] is True and "critical_value_jobs" not in again
    us = next(c for c in again["columns"] if c["column"] == "US")
    assert us["gsadf_critical"] == done["result"]["gsadf"]
    assert any(e["start"] <= "2003Q1" and e["end"] >= "2005Q4" for e in us["episodes"])
    cached = client.get("/api/v1/critical-values/exuberance",
                        query_string={"t": 181, "lag": 1, "replications": 100}).get_json()
    assert cached["gsadf"] == us["gsadf_critical"] and len(cached["bsadf"][1]) == 181 - 26 + 1
    exported = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/exuberance",
                          query_string={**params, "columns": "US", "format": "csv"})
    assert "US,181," in exported.get_data(as_text=True)


@pytest.mark.parametrize("payload, message", [
    ({"t": 10}, "samples of 20 to 2000 observations, not 10"),
    ({"t": 181, "replications": 10_000_000}, "Replications must be from 100 to 100,000, not "
                                             "10,000,000"),
    ({"t": 181, "lag": 30}, "The ADF lag must be from 0 to 12, not 30"),
])
def test_absurd_critical_value_jobs_are_refused_with_the_limits(client, payload, message):
    response = client.post("/api/v1/critical-values/exuberance", json=payload)
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
    assert client.get("/api/v1/jobs").get_json()["total"] == 0  # nothing queued


def test_exuberance_refuses_absurd_replications_before_any_job(client, hpi):
    response = analyse(client, hpi, "exuberance", sheet="RHPI", replications=10_000_000)
    assert response.status_code == 400
    assert "Replications must be from 100 to 100,000" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/jobs").get_json()["total"] == 0


def test_critical_values_not_simulated_are_a_404_saying_how_to_start(client):
    response = client.get("/api/v1/critical-values/exuberance", query_string={"t": 50})
    assert response.status_code == 404
    assert "POST the same parameters" in response.get_json()["error"]["message"]


def test_hp_filter_over_http_and_its_chart(client, hpi):
    body = analyse(client, hpi, "hp_filter", sheet="RHPI", column="US").get_json()
    _, trend = hpfilter(dallas("RHPI")["US"].to_numpy(), lamb=1600)
    np.testing.assert_allclose(body["components"]["trend"], trend, rtol=1e-10)
    base = f"/api/v1/datasets/{hpi['id']}/analyses/hp_filter/chart"
    png = client.get(f"{base}.png", query_string={"sheet": "RHPI", "column": "US"})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    svg = client.get(f"{base}.svg", query_string={"sheet": "RHPI", "column": "US"})
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


KINDS = [("acf", {"column": "US"}), ("stl", {"column": "US"}),
         ("rolling_stats", {"column": "US"}), ("adf", {"columns": ["US"]}),
         ("kpss", {"columns": ["US"]})]


def test_each_time_series_kind_answers_over_http(client, hpi):
    for kind, params in KINDS:
        response = analyse(client, hpi, kind, sheet="RHPI", **params)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["kind"] == kind


BAD = [
    ("adf", {"sheet": "HousingPreferences", "columns": ["Price"]}, "has no period index"),
    ("acf", {"sheet": "RHPI", "column": "US", "nlags": 400}, "'nlags' must be from 1 to 89"),
    ("hp_filter", {"sheet": "RHPI", "column": "US", "lamb": "smooth"},
     "Parameter 'lamb' must be a number"),
    ("exuberance", {"sheet": "RHPI", "columns": ["US"], "r0": 0.03}, "The minimum window of 5 "
     "observations (r0 × T) is too short for an ADF regression with 1 lag(s)"),
]


def test_bad_time_series_input_is_a_4xx_with_a_reason(client, hpi):
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    for kind, params, message in BAD:
        dataset = housing if params["sheet"] == "HousingPreferences" else hpi
        response = analyse(client, dataset, kind, **params)
        assert response.status_code == 400
        assert message in response.get_json()["error"]["message"]
    assert client.get("/api/v1/jobs").get_json()["total"] == 0


def test_an_analysis_without_a_chart_has_none(client, hpi):
    response = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/adf/chart.png",
                          query_string={"sheet": "RHPI"})
    assert response.status_code == 404
    assert "has no chart" in response.get_json()["error"]["message"]


def test_the_openapi_document_lists_the_new_kinds_and_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/critical-values/exuberance" in spec["paths"]
    assert "/api/v1/datasets/{dataset_id}/analyses/{kind}/chart.{fmt}" in spec["paths"]
    kinds = {a["kind"] for a in client.get("/api/v1/analyses").get_json()["analyses"]}
    assert kinds >= {"adf", "kpss", "acf", "hp_filter", "stl", "exuberance"}


def test_time_series_report_sections_wait_for_critical_values_then_typeset(client, hpi,
                                                                           tmp_path):
    sections = [{"type": "hp_filter", "sheet": "RHPI", "column": "US"},
                {"type": "exuberance", "sheet": "RHPI", "columns": ["US"],
                 "replications": 120, "series": "US"}]  # not in the result cache
    early = build(client, hpi, sections)
    assert early.status_code == 409
    assert "critical values are not simulated yet" in early.get_json()["error"]["message"]
    job = client.post("/api/v1/critical-values/exuberance",
                      json={"t": 181, "replications": 120}).get_json()
    assert wait_done(client, job["id"])["state"] == "done"
    report = built(client, hpi, sections)
    text = pdf_text(pdf_bytes(client, report["id"]), tmp_path)
    assert "Hodrick" in text and "Cycle" not in text  # the chart is an image, not text
    assert "Exuberance test (GSADF)" in text and "1997Q" in text


def test_the_analyse_page_shows_the_chart_and_says_what_is_wrong(client, hpi):
    page = client.get("/analyse", query_string={"dataset": hpi["id"], "kind": "hp_filter",
                                                "sheet": "RHPI", "column": "US", "run": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"/api/v1/datasets/{hpi['id']}/analyses/hp_filter/chart.png?" in html
    assert "Chart of the hodrick–prescott trend and cycle" in html
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    bad = client.get("/analyse", query_string={"dataset": housing["id"], "kind": "exuberance",
                                               "sheet": "HousingPreferences", "run": "1"})
    assert bad.status_code == 400
    assert "has no period index (dates or quarters as rows)" in bad.get_data(as_text=True)
    assert 'id="analysis-chart"' not in bad.get_data(as_text=True)


def test_a_person_runs_at_most_two_simulations_at_once(app, client):
    with app.app_context():
        owner = local_user().id
        for t in (40, 41):  # two queued jobs, as if the engine were busy
            db.session.add(Job(kind="exuberance_cv", owner_id=owner, state="queued",
                               params={"t": t, "window": 20, "lag": 1, "reps": 100,
                                       "seed": 20150101}))
        db.session.commit()
    response = client.post("/api/v1/critical-values/exuberance",
                           json={"t": 50, "replications": 100})
    assert response.status_code == 409
    assert "already have 2 critical-value simulations" in response.get_json()["error"]["message"]


def test_correlation_and_growth_have_charts_with_the_numbers(client):
    """Issue 17: a chart with every result: correlation as a heat map with r written in each
    cell, growth as lines of the rates."""
    import re

    import pandas as pd

    from tests.upload_actions import DATA

    housing = UploadActions(client).dataset("HousingPreferences.csv")
    url = f"/api/v1/datasets/{housing['id']}/analyses/correlation/chart.svg"
    svg = client.get(url, query_string={"sheet": "HousingPreferences",
                                        "columns": ["Price", "Area", "Bedrooms"]})
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    r = pd.read_csv(DATA / "HousingPreferences.csv")[["Price", "Area", "Bedrooms"]].corr()
    written = set(re.findall(r"<!-- (-?\d\.\d\d) -->", svg.get_data(as_text=True)))
    assert {f"{r.loc['Price', 'Area']:.2f}", f"{r.loc['Area', 'Bedrooms']:.2f}"} <= written
    hpi = UploadActions(client).dataset("2020Q1.xlsx")
    png = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/growth/chart.png",
                     query_string={"sheet": "HPI", "columns": ["Canada"], "periods": 4})
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    svg = client.get(f"/api/v1/datasets/{hpi['id']}/analyses/growth/chart.svg",
                     query_string={"sheet": "HPI", "columns": ["Canada"], "periods": 4})
    assert "<!-- Canada: growth year on year, % -->" in svg.get_data(as_text=True)  # names it
