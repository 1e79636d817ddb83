"""The Reports page's builder form: it offers every section kind the API takes (time series,
fit, OLS standard errors), posts them as sections, and refuses a wrong field with a message."""

import html
import json
import re

import pytest

from store.db import db
from store.models import Report
from tests.stack_fixtures import make_app_stopping_jobs, wait_for  # noqa: F401
from tests.upload_actions import UploadActions

TIME_SERIES = ("adf", "kpss", "acf", "hp_filter", "stl", "rolling_stats", "exuberance")


@pytest.fixture
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def options(page: str, select_id: str) -> list[tuple[str, str]]:
    """(value, label) of each option of the select `select_id`."""
    body = page.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
    return [(html.unescape(v), html.unescape(label))
            for v, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', body)]


def test_the_form_offers_each_time_series_kind_fit_and_standard_errors(client, hpi):
    page = client.get(f"/reports?dataset={hpi['id']}").get_data(as_text=True)
    for kind in TIME_SERIES:
        offered = options(page, f"{kind}-series")
        assert offered[0] == ("", "— none —")  # included only when a series is chosen
        assert (json.dumps(["RHPI", "US"]), "RHPI: US") in offered
        every = (json.dumps(["RHPI", None]), "RHPI: every series")
        assert (every in offered) == (kind in ("adf", "kpss", "exuberance"))
        assert not any(value.startswith('["Note"') for value, _ in offered)  # no period index
    assert [v for v, _ in options(page, "ols_cov_type")] == [
        "classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster"]
    assert options(page, "ols_cluster")[0] == ("", "— none —")
    assert 'id="exuberance-lag"' in page and 'id="hp_filter-lamb"' in page
    assert 'id="fit_model"' in page and 'id="fit_solve"' in page
    fit_sheet = page.split('id="fit_sheet"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option selected>([^<]+)</option>", fit_sheet) == ["HPI"]


def test_the_form_posts_the_sections_it_shows(client, app, hpi):
    response = client.post("/reports", data={
        "dataset": hpi["id"], "title": "Form sections", "author": "",
        "ols_sheet": "HPI", "ols_formula": "US ~ Canada", "ols_cov_type": "HAC",
        "ols_hac_lags": "3", "ols_cluster": "",
        "adf-series": json.dumps(["RHPI", None]), "adf-regression": "ct",
        "adf-lag_rule": "AIC", "adf-maxlag": "",
        "hp_filter-series": json.dumps(["RHPI", "US"]), "hp_filter-lamb": "1600",
        "rolling_stats-series": "", "rolling_stats-window": "8",  # no series: no section
        "fit_sheet": "HPI", "fit_model": "US = a*exp(b*t)", "fit_start": "a=60, b=0.01",
        "fit_solve": "US = 2*US(2000Q1)", "fit_derived": "log(2)/b; 1/b",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    report_id = response.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        sections = db.session.get(Report, report_id).spec["sections"]
    assert sections == [
        {"type": "ols", "sheet": "HPI", "formula": "US ~ Canada", "cov_type": "HAC",
         "hac_lags": 3},
        {"type": "adf", "sheet": "RHPI", "regression": "ct", "lag_rule": "AIC"},
        {"type": "hp_filter", "sheet": "RHPI", "column": "US", "lamb": "1600"},
        {"type": "fit", "sheet": "HPI", "model": "US = a*exp(b*t)",
         "start": {"a": 60.0, "b": 0.01}, "solve": "US = 2*US(2000Q1)",
         "derived": ["log(2)/b", "1/b"]},
    ]
    # Its numbers were computed before the redirect (a bad one is the form's 4xx); the PDF
    # itself is the browser test's. Deleting the report stops its build.
    job = client.get(f"/api/v1/reports/{report_id}").get_json()["job"]
    assert client.delete(f"/api/v1/reports/{report_id}").status_code == 204
    wait_for(lambda: client.get(f"/api/v1/jobs/{job}").get_json()["state"]
             in ("done", "failed", "cancelled"), 60, "the report's job")


@pytest.mark.parametrize("fields, message", [
    ({"ols_sheet": "HPI", "ols_formula": "US ~ Canada", "ols_cov_type": "cluster"},
     "Clustered standard errors need the column"),
    ({"ols_sheet": "HPI", "ols_formula": "US ~ Canada", "ols_cov_type": "HAC",
      "ols_hac_lags": "three"},
     "Newey–West lags must be a whole number, not &#39;three&#39;"),
    ({"growth_sheet": "HPI", "growth_columns": "US", "growth_periods": "4.5"},
     "Growth periods must be a whole number"),
    ({"hp_filter-series": "RHPI US"}, "Choose the series for Hodrick–Prescott"),
    ({"acf-series": json.dumps(["RHPI", None])}, "runs on one series: choose one"),
    ({"hp_filter-series": json.dumps(["RHPI", "Atlantis"])}, "Atlantis"),
    ({"kpss-series": json.dumps(["RHPI", "US"]), "kpss-regression": "t"},
     "Parameter &#39;regression&#39; must be one of c, ct"),
    ({"fit_model": "US = a*exp(b*t)", "fit_sheet": "HPI", "fit_start": "a: 60"},
     "Write start values as name=number"),
])
def test_a_wrong_field_is_a_4xx_page_that_says_which(client, hpi, fields, message):
    response = client.post("/reports", data={"dataset": hpi["id"], **fields})
    assert 400 <= response.status_code < 500
    page = response.get_data(as_text=True)
    error = page.split("data-error>", 1)[1].split("</div>", 1)[0]
    assert message in error, error
