"""Recipes: saved charts and analysis results re-run on another release, with provenance; a
renamed series followed through the mapping, a missing one named in a 422, never dropped."""

from __future__ import annotations

import pytest

from store.db import db
from store.models import Chart, Recipe
from tests.auth_actions import bearer_headers
from tests.families_fixtures import csv_release, finished, upload_many
from tests.test_families_api import small_family


def _ids(result: dict) -> dict:
    return {d["label"]: d["dataset"] for d in result["datasets"]}


def _sheet_of(client, dataset_id: str) -> str:
    return client.get(f"/api/v1/datasets/{dataset_id}").get_json()["sheets"][0]["name"]


def test_a_saved_chart_reruns_on_the_latest_release_following_a_renamed_series(app, client):
    result = small_family(client)
    ids = _ids(result)
    sheet = _sheet_of(client, ids["2020Q2"])
    chart = client.post("/api/v1/charts", json={"dataset": ids["2020Q2"], "kind": "line",
                                                "sheet": sheet, "y": ["US", "Canada"]})
    assert chart.status_code == 201, chart.get_data(as_text=True)
    with app.app_context():
        recipe = db.session.scalar(db.select(Recipe).where(Recipe.chart_id ==
                                                           chart.get_json()["id"]))
        assert recipe.kind == "chart" and recipe.family_id == result["family"]
        recipe_id = recipe.id
    response = client.post(f"/api/v1/recipes/{recipe_id}/run", json={})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["dataset"] == ids["2020Q4"]
    assert body["spec"]["y"] == ["U.S.", "Canada"]
    assert body["spec"]["sheet"] == _sheet_of(client, ids["2020Q4"])
    assert body["translation"] == {"renamed": {"US": "U.S."}, "missing": []}
    provenance = body["provenance"]
    assert provenance["release"] == "2020Q4" and provenance["recipe"] == recipe_id
    assert provenance["family"]["id"] == result["family"]
    png = client.get(body["links"]["png"])
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    # On a named release instead of the latest:
    middle = client.post(f"/api/v1/recipes/{recipe_id}/run", json={"dataset": ids["2020Q3"]})
    assert middle.get_json()["spec"]["y"] == ["US", "Canada"]


def test_a_series_missing_from_the_release_is_a_422_naming_it(app, client):
    result = small_family(client)
    ids = _ids(result)
    content = csv_release("2021Q1", {"Canada": [1.0] * 9})
    newest = upload_many(client, {"2021Q1.csv": content}, family=result["family"])
    assert newest.status_code == 201
    chart = client.post("/api/v1/charts", json={"dataset": ids["2020Q2"], "kind": "line",
                                                "sheet": _sheet_of(client, ids["2020Q2"]),
                                                "y": ["Canada", "US"]}).get_json()
    with app.app_context():
        recipe_id = db.session.scalar(db.select(Recipe.id).where(Recipe.chart_id == chart["id"]))
        charts_before = db.session.scalar(db.select(db.func.count(Chart.id)))
    response = client.post(f"/api/v1/recipes/{recipe_id}/run", json={})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == (
        "The release '2021Q1' has no series 'US' on sheet '2020Q2' (nor one matched to it); "
        "the recipe cannot run there without dropping it.")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Chart.id))) == charts_before


def test_a_saved_analysis_result_reruns_to_the_same_numbers(client):
    result = small_family(client)
    ids = _ids(result)
    saved = client.post("/api/v1/recipes", json={
        "kind": "analysis", "analysis": "growth", "dataset": ids["2020Q3"],
        "params": {"sheet": _sheet_of(client, ids["2020Q3"]), "columns": ["Canada", "US"]}})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    recipe = saved.get_json()
    assert recipe["result"]["provenance"]["recipe"] == recipe["id"]
    assert recipe["quartile_version"] and recipe["family"] == result["family"]
    # The same release again: the same numbers and the same inputs.
    again = client.post(f"/api/v1/recipes/{recipe['id']}/run",
                        json={"dataset": ids["2020Q3"]}).get_json()
    strip = {"provenance", "translation", "dataset"}
    assert {k: v for k, v in again.items() if k not in strip} == {
        k: v for k, v in recipe["result"].items() if k not in strip}
    for key in ("sha256", "parse_key", "cleaning_digest", "release", "quartile_version"):
        assert again["provenance"][key] == recipe["result"]["provenance"][key]
    # The latest release: US is U.S. there; the growth computed independently.
    latest = client.post(f"/api/v1/recipes/{recipe['id']}/run", json={}).get_json()
    assert latest["translation"]["renamed"] == {"US": "U.S."}
    assert latest["index"][-1] == "2020Q4"
    assert latest["series"]["Canada"][-1] == pytest.approx(100 * (107.0 / 106.0 - 1))
    assert latest["series"]["U.S."][-1] == pytest.approx(100 * (214.0 / 212.0 - 1))
    assert latest["provenance"]["release"] == "2020Q4"


def test_a_saved_vintage_table_reruns_and_gains_the_new_release(client):
    result = small_family(client)
    saved = client.post("/api/v1/recipes", json={"kind": "vintages", "family": result["family"],
                                                 "params": {"series": "Canada"}})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    recipe = saved.get_json()
    assert recipe["result"]["releases"] == ["2020Q2", "2020Q3", "2020Q4"]
    assert recipe["result"]["provenance"]["recipe"] == recipe["id"]
    # The cached answer of the API is not the recipe's: no recipe id leaks into it.
    plain = client.post(f"/api/v1/families/{result['family']}/analyses/vintages",
                        json={"series": "Canada"}).get_json()
    assert plain["provenance"]["recipe"] is None
    same = client.post(f"/api/v1/recipes/{recipe['id']}/run", json={}).get_json()
    assert same["values"] == recipe["result"]["values"]
    assert same["provenance"]["recipe"] == recipe["id"]
    content = csv_release("2021Q1", {"Canada": [100.0, 102.5, 102.0, 103.0, 104.0, 105.0,
                                                106.0, 107.0, 108.0]})
    assert upload_many(client, {"2021Q1.csv": content},
                       family=result["family"]).status_code == 201
    newer = client.post(f"/api/v1/recipes/{recipe['id']}/run", json={}).get_json()
    assert newer["releases"] == ["2020Q2", "2020Q3", "2020Q4", "2021Q1"]
    assert newer["values"][newer["periods"].index("2019Q2")] == [101.0, 101.5, 102.0, 102.5]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"kind": "analysis", "analysis": "nonsense", "params": {}}, 400, None),
    ({"kind": "vintages", "params": {"series": "Canada"}}, 400,
     "A vintages recipe needs `family`."),
    ({"kind": "sideways"}, 422, None),
])
def test_bad_recipes_are_refused_and_nothing_saved(app, client, body, status, message):
    response = client.post("/api/v1/recipes", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    if message:
        assert response.get_json()["error"]["message"] == message
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Recipe.id))) == 0


def test_another_users_recipe_is_404(make_app):
    app = make_app(AUTH="on")
    headers = bearer_headers(app)
    client = app.test_client()
    files = {"2020Q2.csv": csv_release("2020Q2", {"A": [1.0] * 6}),
             "2020Q3.csv": csv_release("2020Q3", {"A": [1.0] * 7})}
    job = finished(client, upload_many(client, files, headers["alice"]), headers["alice"])
    saved = client.post("/api/v1/recipes", headers=headers["alice"], json={
        "kind": "vintages", "family": job["result"]["family"], "params": {"series": "A"}})
    recipe_id = saved.get_json()["id"]
    for method, path in (("get", ""), ("post", "/run"), ("delete", "")):
        response = getattr(client, method)(f"/api/v1/recipes/{recipe_id}{path}", json={},
                                           headers=headers["bob"])
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["message"] == f"There is no recipe {recipe_id!r}."
    assert client.get(f"/api/v1/recipes/{recipe_id}", headers=headers["alice"]).status_code \
        == 200


def test_analysis_results_and_exports_carry_their_provenance(client):
    import hashlib

    content = csv_release("2020Q2", {"Canada": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]})
    dataset = upload_many(client, {"hpi.csv": content}).get_json()
    url = f"/api/v1/datasets/{dataset['id']}/analyses/growth"
    body = client.post(url, json={"sheet": "hpi", "columns": ["Canada"]}).get_json()
    block = body["provenance"]
    assert block["sha256"] == hashlib.sha256(content).hexdigest()
    assert block["sheet"] == "hpi" and block["recipe"] is None and block["release"] is None
    assert len(block["cleaning_digest"]) == 64 and block["parser_version"]
    assert body["series"]["Canada"][1:] == [pytest.approx(100.0)] * 5
    again = client.post(url, json={"sheet": "hpi", "columns": ["Canada"]}).get_json()
    assert again == body  # cached: the same numbers, computed at the same moment
    csv = client.get(f"{url}?sheet=hpi&columns=Canada&format=csv").get_data(as_text=True)
    tail = csv.split("# Provenance\n", 1)[1]
    assert f"sha256,{block['sha256']}" in tail and f"computed_at,{block['computed_at']}" in tail


def test_sheet_exports_carry_their_provenance(client):
    import hashlib
    import io
    import json

    import pandas as pd

    result = small_family(client)
    dataset_id = {d["label"]: d["dataset"] for d in result["datasets"]}["2020Q3"]
    content = csv_release("2020Q3", {"Canada": [100.0, 101.5, 102.0, 103.0, 104.0, 105.0,
                                                106.0], "US": [200.0, 202.0, 204.0, 206.0,
                                                               208.0, 210.0, 212.0]})
    base = f"/api/v1/datasets/{dataset_id}/sheets/2020Q3/export"
    csv = client.get(f"{base}/csv")
    block = json.loads(csv.headers["X-Quartile-Provenance"])
    assert block["sha256"] == hashlib.sha256(content).hexdigest()
    assert block["release"] == "2020Q3" and block["family.id"] == result["family"]
    assert csv.get_data(as_text=True).splitlines()[0].startswith("Quarter,")  # CSV unchanged
    xlsx = client.get(f"{base}/xlsx")
    sheets = pd.read_excel(io.BytesIO(xlsx.data), sheet_name=None)
    assert list(sheets) == ["data", "provenance"]
    rows = dict(zip(sheets["provenance"]["item"], sheets["provenance"]["value"], strict=True))
    assert rows["sha256"] == block["sha256"] and rows["release"] == "2020Q3"
    assert sheets["data"]["Canada"].tolist()[1] == 101.5


def test_a_recipe_without_a_sheet_translates_on_a_workbook_family(app, client):
    """Regression: a report's recipe has no sheet of its own; on releases with several sheets
    its translation once asked the series map for sheet None (a 404)."""
    from store.recipes import record_recipe
    from tests.families_fixtures import real_family
    from web.recipes import translation_for
    from web.version import VERSION

    result = real_family(client)
    with app.test_request_context():
        from store.models import Dataset, Family

        family = db.session.get(Family, result["family"])
        old, new = sorted(family.releases, key=lambda d: d.release_label)
        recipe = record_recipe(old.owner_id, "report", old, None, {"sections": []}, VERSION)
        translation = translation_for(recipe, family, new, None)
        assert translation.sheet is None and translation.to_dict() == {"renamed": {},
                                                                       "missing": []}
        hpi = translation_for(recipe, family, db.session.get(Dataset, new.id), "HPI")
        assert hpi.sheet == "HPI" and hpi.column("Canada") == "Canada" and not hpi.missing
