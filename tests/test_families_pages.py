"""The family and recipe pages through the test client: what they show and what their forms do."""

from __future__ import annotations

from tests.families_fixtures import csv_release, upload_many
from tests.test_families_api import small_family


def test_family_pages_show_releases_series_vintages_and_changes(client):
    result = small_family(client)
    family_id = result["family"]
    listing = client.get("/families").get_data(as_text=True)
    assert f"/families/{family_id}" in listing
    page = client.get(f"/families/{family_id}?series=Canada")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Canada: the value as each release published it" in html
    assert "What changed in 2020Q4 (since 2020Q3)" in html
    assert "US → U.S." in html
    assert html.index('value="2020Q2"') < html.index('value="2020Q3"') < html.index(
        'value="2020Q4"')
    assert "101.5" in html  # Canada 2019Q2 as the 2020Q3 release published it
    assert 'id="horizon-table"' in html
    # Asked by its old name, a series is shown under its name now.
    renamed = client.get(f"/families/{family_id}?series=US").get_data(as_text=True)
    assert "U.S.: the value as each release published it" in renamed
    missing = client.get("/families/nope")
    assert missing.status_code == 404 and "There is no family" in missing.get_data(as_text=True)


def test_family_page_forms_relabel_correct_and_join(client):
    result = small_family(client)
    family_id = result["family"]
    ids = {d["label"]: d["dataset"] for d in result["datasets"]}
    response = client.post(f"/families/{family_id}/labels",
                           data={f"label:{ids['2020Q4']}": "2020Q4 final"})
    assert response.status_code == 302
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels[-1] == "2020Q4 final"
    clash = client.post(f"/families/{family_id}/labels", data={f"label:{ids['2020Q3']}": "2020Q2"})
    assert clash.status_code == 409 and "nothing was changed" in clash.get_data(as_text=True)
    sheet = client.get(f"/api/v1/families/{family_id}").get_json()["sheet"]
    fixed = client.post(f"/families/{family_id}/series", data={
        "release": "2020Q4 final", "sheet": sheet, "column": "U.S.", "series": ""})
    assert fixed.status_code == 302
    names = [s["name"] for s in client.get(f"/api/v1/families/{family_id}").get_json()["series"]]
    assert "US" in names and "U.S." in names
    lone = upload_many(client, {"x.csv": csv_release("2021Q1", {"Canada": [1.0] * 9})})
    joined = client.post(f"/families/{family_id}/join", data={"dataset": lone.get_json()["id"]})
    assert joined.status_code == 302
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels[-1] == "2021Q1"


def test_save_and_run_a_recipe_from_the_pages(client):
    result = small_family(client)
    saved = client.post("/recipes/save", data={
        "kind": "vintages", "family": result["family"],
        "params": '{"series": "Canada"}'})
    assert saved.status_code == 302
    recipe_url = saved.headers["Location"]
    page = client.get(recipe_url).get_data(as_text=True)
    assert "Run on the latest release" in page and 'id="result-table"' in page
    ran = client.post(recipe_url + "/run")
    assert ran.status_code == 200
    assert "Result on the latest release" in ran.get_data(as_text=True)
    bad = client.post("/recipes/save", data={"kind": "vintages", "family": result["family"],
                                             "params": "[1, 2"})
    assert bad.status_code == 400 and "not JSON" in bad.get_data(as_text=True)


def test_the_upload_form_without_javascript_sends_releases_to_one_job(client):
    import io

    files = [(io.BytesIO(csv_release("2020Q2", {"A": [1.0] * 6})), "2020Q2.csv"),
             (io.BytesIO(csv_release("2020Q3", {"A": [1.0] * 7})), "2020Q3.csv")]
    page = client.get("/upload").get_data(as_text=True)
    assert 'id="family-choice"' in page and ".zip" in page
    response = client.post("/upload", data={"file": files, "family": "new"},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    from tests.stack_fixtures import wait_for

    job = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                   in ("done", "failed") and b, 30, "job")
    assert job["state"] == "done", job["error"]
    assert [d["label"] for d in job["result"]["datasets"]] == ["2020Q2", "2020Q3"]
    assert client.get(f"/jobs/{job_id}").status_code == 200
