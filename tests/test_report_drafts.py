""""Add to report": a result of the Analyse page (or a saved chart) becomes a section of the
user's draft report in one POST, and the built PDF carries its numbers and its chart."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from store.db import db
from store.models import Report
from tests.latex_fixtures import sig4, squash
from tests.test_reports_api import finished, pdf_bytes, pdf_text
from tests.upload_actions import DATA, UploadActions


@pytest.fixture
def housing(client):
    return UploadActions(client).dataset("HousingPreferences.csv")


def add(client, dataset, kind, **params):
    return client.post("/reports/drafts/sections", data={
        "dataset": dataset["id"], "analysis": kind, "params": json.dumps(params)})


def draft_id(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return re.fullmatch(r"/reports/([\w-]+)", response.headers["Location"]).group(1)


def test_results_gather_in_one_draft_and_build_into_a_pdf(client, app, housing, tmp_path):
    corr = add(client, housing, "correlation", sheet="HousingPreferences",
               columns=["Price", "Area", "Bedrooms"], method="spearman")
    first = draft_id(corr)
    again = draft_id(add(client, housing, "describe", sheet="HousingPreferences"))
    assert again == first  # the same draft
    twice = draft_id(add(client, housing, "describe", sheet="HousingPreferences"))
    assert twice == first
    page = client.get(f"/reports/{first}").get_data(as_text=True)
    assert page.count("data-section=") == 2  # the second describe was already in
    assert "Correlation" in page and 'data-status="draft"' in page
    with app.app_context():
        sections = db.session.get(Report, first).spec["sections"]
    assert [s["type"] for s in sections] == ["analysis", "analysis"]
    assert sections[0]["kind"] == "correlation" and sections[0]["params"]["method"] == "spearman"

    built = client.post(f"/reports/{first}/build", data={"title": "Housing at a glance"})
    report = draft_id(built)
    assert report != first
    assert client.get(f"/reports/{first}").status_code == 404  # the draft is gone
    assert finished(client, report)["status"] == "done"
    text = squash(pdf_text(pdf_bytes(client, report), tmp_path))
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    rho = stats.spearmanr(frame["Price"], frame["Area"]).statistic
    assert squash("Housing at a glance") in text
    assert "Spearman" in text or "spearman" in text
    assert sig4(rho) in text
    assert sig4(frame["Area"].mean()) in text  # the describe table
    assert squash("Distributions: HousingPreferences") in text  # its histograms


def test_a_dedicated_section_for_ols_and_growth(client, app):
    hpi = UploadActions(client).dataset("2020Q1.xlsx")
    ols = draft_id(add(client, hpi, "ols", sheet="HPI", formula="US ~ Canada",
                       cov_type="HC3"))
    draft_id(add(client, hpi, "growth", sheet="HPI", columns=["US"], periods="4"))
    with app.app_context():
        sections = db.session.get(Report, ols).spec["sections"]
    assert sections == [
        {"type": "ols", "sheet": "HPI", "formula": "US ~ Canada", "cov_type": "HC3"},
        {"type": "growth", "sheet": "HPI", "columns": ["US"], "periods": 4}]
    every = client.post("/api/v1/reports/drafts/sections", json={
        "dataset": hpi["id"], "kind": "growth", "params": {"sheet": "RHPI", "periods": 4}})
    assert every.status_code == 200, every.get_data(as_text=True)
    rhpi = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="RHPI", engine="calamine")
    numeric = [c for c in rhpi.columns[1:] if pd.to_numeric(rhpi[c], errors="coerce").notna().any()]
    assert every.get_json()["sections"][-1]["columns"] == numeric


@pytest.mark.parametrize(("params", "status", "phrase"), [
    ({"sheet": "HousingPreferences", "columns": ["Nope"]}, 400, "Nope"),
    ({"sheet": "Atlantis"}, 404, "Atlantis"),
])
def test_a_bad_result_is_a_clear_4xx_and_no_draft(client, app, housing, params, status, phrase):
    response = add(client, housing, "correlation", **params)
    assert response.status_code == status
    assert phrase in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_bad_form_values_are_refused(client, housing):
    response = client.post("/reports/drafts/sections", data={
        "dataset": housing["id"], "analysis": "describe", "params": "{nope"})
    assert response.status_code == 400 and "not JSON" in response.get_data(as_text=True)
    response = add(client, housing, "nope", sheet="HousingPreferences")
    assert response.status_code == 404 and "nope" in response.get_data(as_text=True)


def test_a_section_can_be_removed_and_a_built_report_is_no_draft(client, housing):
    draft = draft_id(add(client, housing, "describe", sheet="HousingPreferences"))
    add(client, housing, "groups", sheet="HousingPreferences", value="Price",
        by="FurnishingStatus")
    assert client.post(f"/reports/{draft}/sections/3/remove").status_code == 404
    client.post(f"/reports/{draft}/sections/1/remove")
    page = client.get(f"/reports/{draft}").get_data(as_text=True)
    assert page.count("data-section=") == 1 and "Group summary: HousingPreferences" in page
    report = draft_id(client.post(f"/reports/{draft}/build"))
    finished(client, report)
    response = client.post(f"/reports/{report}/sections/1/remove")
    assert response.status_code == 409 and "no longer a draft" in response.get_data(as_text=True)


def test_a_saved_chart_is_added_by_its_id(client, housing):
    chart = client.post("/api/v1/charts", json={
        "dataset": housing["id"], "kind": "scatter", "sheet": "HousingPreferences",
        "x": "Area", "y": ["Price"]}).get_json()
    page = client.get(f"/charts/{chart['id']}").get_data(as_text=True)
    assert 'id="add-to-report"' in page
    draft = draft_id(client.post("/reports/drafts/sections", data={
        "dataset": housing["id"], "chart": chart["id"]}))
    assert "Chart: " in client.get(f"/reports/{draft}").get_data(as_text=True)


def test_the_analyse_page_offers_add_to_report_with_its_parameters(client, housing):
    html = client.get(f"/analyse?dataset={housing['id']}&kind=correlation"
                      "&sheet=HousingPreferences&columns=Price&columns=Area&run=1"
                      ).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/reports/drafts/sections">(.*?)</form>',
                     html, re.S).group(1)
    params = json.loads(re.search(r'name="params" value="([^"]+)"', form).group(1)
                        .replace("&#34;", '"'))
    assert params["columns"] == ["Price", "Area"] and 'value="correlation"' in form
    np.testing.assert_equal(params["sheet"], "HousingPreferences")


def test_the_api_adds_to_the_same_draft_and_says_what_it_did(client, housing):
    url = "/api/v1/reports/drafts/sections"
    body = {"dataset": housing["id"], "kind": "groups",
            "params": {"sheet": "HousingPreferences", "value": "Price", "by": "Stories"}}
    first = client.post(url, json=body)
    assert first.status_code == 200, first.get_data(as_text=True)
    draft = first.get_json()
    assert draft["status"] == "draft" and draft["added"] and draft["pdf"] is None
    assert draft["sections"] == [{"type": "analysis", "kind": "groups",
                                  "params": body["params"]}]
    again = client.post(url, json=body).get_json()
    assert again["id"] == draft["id"] and not again["added"]
    bad = client.post(url, json={**body, "params": {**body["params"], "by": "Nope"}})
    assert bad.status_code == 400 and "Nope" in bad.get_json()["error"]["message"]
    nothing = client.post(url, json={"dataset": housing["id"]})
    assert nothing.status_code == 400 and "`kind`" in nothing.get_json()["error"]["message"]
    listed = client.get("/api/v1/reports").get_json()["reports"]
    assert [r["status"] for r in listed] == ["draft"]
    test = client.post(url, json={"dataset": housing["id"], "kind": "ttest", "params": {
        "sheet": "HousingPreferences", "value": "Price", "group": "Mainroad", "a": "yes",
        "b": "no"}}).get_json()
    assert test["sections"][-1] == {"type": "ttest", "sheet": "HousingPreferences",
                                    "value": "Price", "group": "Mainroad", "a": "yes", "b": "no"}


def test_a_draft_goes_to_the_trash_like_a_report(client, housing):
    draft = draft_id(add(client, housing, "describe", sheet="HousingPreferences"))
    response = client.post(f"/reports/{draft}/delete")
    assert response.status_code == 302
    assert client.get(f"/reports/{draft}").status_code == 404
    trash = client.get("/api/v1/trash").get_json()
    assert draft in str(trash)
    fresh = draft_id(add(client, housing, "describe", sheet="HousingPreferences"))
    assert fresh != draft  # a trashed draft is not added to
