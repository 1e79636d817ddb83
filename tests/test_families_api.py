"""`/api/v1/families`: bulk upload into one family, releases in order, series matched across
releases, labels and corrections, vintages through the API checked against the workbooks' cells,
and every bad input answered with its status and message, harming nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import db
from store.models import Dataset, Family, SeriesCorrection
from tests.auth_actions import bearer_headers
from tests.families_fixtures import csv_release, finished, real_family, upload_many
from tests.vintages_fixtures import raw_cells
from upload import trash

CANADA_2011 = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]


def small_family(client) -> dict:
    """Three CSV releases (2020Q2, 2020Q3, 2020Q4 with one quarter more each) uploaded at once,
    `US` renamed `U.S.` in the newest, Canada's 2019Q2 revised in each release."""
    files = {
        "2020Q2.csv": csv_release("2020Q2", {"Canada": CANADA_2011, "US": [
            200.0, 202.0, 204.0, 206.0, 208.0, 210.0]}),
        "2020Q3.csv": csv_release("2020Q3", {"Canada": [100.0, 101.5, 102.0, 103.0, 104.0,
                                                          105.0, 106.0],
                                            "US": [200.0, 202.0, 204.0, 206.0, 208.0, 210.0,
                                                   212.0]}),
        "2020Q4.csv": csv_release("2020Q4", {"Canada": [100.0, 102.0, 102.0, 103.0, 104.0,
                                                          105.0, 106.0, 107.0],
                                            "U.S.": [200.0, 202.0, 204.0, 206.0, 208.0, 210.0,
                                                     212.0, 214.0]}),
    }
    # Uploaded newest first: the order is the labels', not the upload's.
    job = finished(client, upload_many(client, dict(reversed(list(files.items())))))
    assert job["state"] == "done", job["error"]
    return job["result"]


def test_several_files_are_one_background_job_and_one_family_in_label_order(client):
    result = small_family(client)
    assert result["problems"] == []
    assert sorted(d["label"] for d in result["datasets"]) == ["2020Q2", "2020Q3", "2020Q4"]
    families = client.get("/api/v1/families").get_json()
    assert len(families) == 1 and families[0]["id"] == result["family"]
    releases = families[0]["releases"]
    assert [r["label"] for r in releases] == ["2020Q2", "2020Q3", "2020Q4"]
    assert [r["last_period"] for r in releases] == ["2020Q2", "2020Q3", "2020Q4"]
    by_label = {d["label"]: d["dataset"] for d in result["datasets"]}
    assert [r["dataset"] for r in releases] == [by_label[r] for r in ("2020Q2", "2020Q3",
                                                                       "2020Q4")]
    dataset = client.get(f"/api/v1/datasets/{by_label['2020Q3']}").get_json()
    assert dataset["family"] == {"id": result["family"], "name": families[0]["name"]}
    assert dataset["release"] == "2020Q3" and dataset["last_period"] == "2020Q3"


def test_the_family_maps_a_renamed_series_with_its_evidence(client):
    family_id = small_family(client)["family"]
    detail = client.get(f"/api/v1/families/{family_id}").get_json()
    assert detail["sheet"] is not None
    us = next(s for s in detail["series"] if s["name"] == "U.S.")
    assert [(a["release"], a["name"]) for a in us["aliases"]] == [
        ("2020Q2", "US"), ("2020Q3", "US"), ("2020Q4", "U.S.")]
    assert us["first_release"] == "2020Q2" and us["last_release"] == "2020Q4"
    renamed = next(e for e in us["evidence"] if e["release"] == "2020Q4")
    assert renamed["by"] in ("normalised", "values")
    assert len(detail["series"]) == 2


def test_vintages_of_a_series_through_the_api_are_the_published_values(client):
    family_id = small_family(client)["family"]
    response = client.post(f"/api/v1/families/{family_id}/analyses/vintages",
                           json={"series": "Canada"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["releases"] == ["2020Q2", "2020Q3", "2020Q4"]
    assert body["periods"][:2] == ["2019Q1", "2019Q2"] and body["periods"][-1] == "2020Q4"
    row = body["values"][body["periods"].index("2019Q2")]
    assert row == [101.0, 101.5, 102.0]
    assert body["values"][body["periods"].index("2020Q4")] == [None, None, 107.0]
    provenance = body["provenance"]
    assert [r["release"] for r in provenance["releases"]] == ["2020Q2", "2020Q3", "2020Q4"]
    assert all(len(r["sha256"]) == 64 for r in provenance["releases"])
    assert provenance["family"]["id"] == family_id and provenance["quartile_version"]


def test_vintages_of_the_real_releases_match_the_workbooks_cells(client):
    family_id = real_family(client)["family"]
    detail = client.get(f"/api/v1/families/{family_id}?sheet=HPI").get_json()
    assert [r["label"] for r in detail["releases"]] == ["2011Q2", "2020Q1"]
    body = client.post(f"/api/v1/families/{family_id}/analyses/vintages",
                       json={"sheet": "HPI", "series": "Canada"}).get_json()
    old, new = raw_cells("2011Q2", "HPI"), raw_cells("2020Q1", "HPI")
    checked = 0
    for period, values in zip(body["periods"], body["values"], strict=True):
        for release_cells, value in ((old, values[0]), (new, values[1])):
            expected = release_cells.get((period, "Canada"))
            if expected is None:
                assert value is None, period
            else:
                assert value == pytest.approx(expected, rel=1e-12), period
                checked += 1
    assert checked > 2 * 140  # 1975Q1…2011Q2 in both, …2020Q1 in the newer one
    assert body["first_published"][body["periods"].index("2019Q4")] == pytest.approx(
        new[("2019Q4", "Canada")])
    # Revisions of the newer release against the older: the difference of the two cells.
    revised = client.post(f"/api/v1/families/{family_id}/analyses/revisions",
                          json={"sheet": "HPI", "series": "Japan"}).get_json()
    japan = revised["by_period"][0]
    assert japan["series"] == "Japan"
    compared = 0
    for period, row in zip(japan["periods"], japan["vs_previous"], strict=True):
        if (period, "Japan") in old and (period, "Japan") in new:
            expected = new[(period, "Japan")] - old[(period, "Japan")]
            assert row[1] == pytest.approx(expected, abs=1e-9), period
            compared += 1
    assert compared > 140


def test_relabel_and_rename_and_swap_labels(client):
    result = small_family(client)
    family_id = result["family"]
    ids = {d["label"]: d["dataset"] for d in result["datasets"]}
    response = client.patch(f"/api/v1/families/{family_id}", json={
        "name": "Dallas Fed HPI", "releases": {ids["2020Q2"]: "2020Q3", ids["2020Q3"]: "2020Q2"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == "Dallas Fed HPI"
    assert [(r["label"], r["dataset"]) for r in body["releases"]] == [
        ("2020Q2", ids["2020Q3"]), ("2020Q3", ids["2020Q2"]), ("2020Q4", ids["2020Q4"])]


def test_two_releases_claiming_one_label_are_refused_and_nothing_changes(app, client):
    result = small_family(client)
    family_id, ids = result["family"], {d["label"]: d["dataset"] for d in result["datasets"]}
    response = client.patch(f"/api/v1/families/{family_id}",
                            json={"releases": {ids["2020Q2"]: "2020Q4"}})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "Two releases would be labelled '2020Q4' (2020Q2.csv and 2020Q4.csv); nothing was "
        "changed.")
    # An upload that claims a label the family has: 409, no dataset, no stored bytes.
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count(Dataset.id)))
    content = csv_release("2021Q1", {"Canada": [1.0] * 9})
    response = upload_many(client, {"2021Q1.csv": content}, family=family_id, release="2020Q3")
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == (
        "The family 'small' already has a release labelled '2020Q3' (2020Q3.csv); nothing was "
        "changed. Give this release another label.".replace("'small'", repr(
            client.get(f"/api/v1/families/{family_id}").get_json()["name"])))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Dataset.id))) == before
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels == ["2020Q2", "2020Q3", "2020Q4"]


def test_one_upload_joins_a_family_as_a_release(client):
    family_id = small_family(client)["family"]
    content = csv_release("2021Q1", {"Canada": [float(n) for n in range(9)]})
    response = upload_many(client, {"latest.csv": content}, family=family_id)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["release"] == "2021Q1" and body["family"]["id"] == family_id
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels == ["2020Q2", "2020Q3", "2020Q4", "2021Q1"]


def test_a_correction_of_the_mapping_wins(app, client):
    family_id = small_family(client)["family"]
    detail = client.get(f"/api/v1/families/{family_id}").get_json()
    response = client.put(f"/api/v1/families/{family_id}/series", json={
        "release": "2020Q4", "sheet": detail["sheet"], "column": "U.S.", "series": None})
    assert response.status_code == 200, response.get_data(as_text=True)
    names = {s["name"]: s for s in response.get_json()["series"]}
    assert names["U.S."]["added_in"] == "2020Q4"
    assert names["US"]["last_published_in"] == "2020Q3"
    # and back: the user says U.S. is the US series after all
    response = client.put(f"/api/v1/families/{family_id}/series", json={
        "release": "2020Q4", "sheet": detail["sheet"], "column": "U.S.", "series": "US"})
    us = next(s for s in response.get_json()["series"] if s["name"] == "U.S.")
    assert next(e for e in us["evidence"] if e["release"] == "2020Q4")["by"] == "user"
    # Deleting the release moves it to the trash: it leaves the family, its corrections wait
    # with it (a restore brings both back), and they go when the trash is emptied.
    release = next(r for r in detail["releases"] if r["label"] == "2020Q4")
    assert client.delete(f"/api/v1/datasets/{release['dataset']}").status_code == 204
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels == ["2020Q2", "2020Q3"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SeriesCorrection.id))) == 1
        trash.empty(Path(app.config["FILES_DIR"]))
        assert db.session.scalar(db.select(db.func.count(SeriesCorrection.id))) == 0
        assert db.session.get(Family, family_id) is not None
    labels = [r["label"] for r in client.get(f"/api/v1/families/{family_id}").get_json()[
        "releases"]]
    assert labels == ["2020Q2", "2020Q3"]


@pytest.mark.parametrize(("path", "body", "status", "message"), [
    ("analyses/vintages", {}, 400,
     "vintages needs `series`, the series to follow across releases."),
    ("analyses/nonsense", {"series": "Canada"}, 404,
     "There is no family analysis 'nonsense'. Available: vintages, revisions, changes."),
    ("series", {"release": "1999Q1", "sheet": "x", "column": "Canada", "series": None}, 404,
     None),
])
def test_bad_family_requests(client, path, body, status, message):
    family_id = small_family(client)["family"]
    response = client.post(f"/api/v1/families/{family_id}/{path}", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    if message is not None:
        assert response.get_json()["error"]["message"] == message
    assert len(client.get("/api/v1/families").get_json()[0]["releases"]) == 3


def test_an_unknown_series_names_the_known_ones(client):
    family_id = small_family(client)["family"]
    response = client.post(f"/api/v1/families/{family_id}/analyses/vintages",
                           json={"series": "Atlantis"})
    assert response.status_code in (400, 404)
    message = response.get_json()["error"]["message"]
    assert "Atlantis" in message and "Canada" in message


def test_another_users_family_is_404(make_app):
    app = make_app(AUTH="on")
    headers = bearer_headers(app)
    client = app.test_client()
    files = {"2020Q2.csv": csv_release("2020Q2", {"Canada": CANADA_2011}),
             "2020Q3.csv": csv_release("2020Q3", {"Canada": [*CANADA_2011, 106.0]})}
    job = finished(client, upload_many(client, files, headers["alice"]), headers["alice"])
    family_id = job["result"]["family"]
    message = f"There is no family {family_id!r}."
    for method, path, body in (("get", "", None), ("patch", "", {"name": "x"}),
                               ("delete", "", None),
                               ("post", "/analyses/vintages", {"series": "Canada"})):
        response = getattr(client, method)(f"/api/v1/families/{family_id}{path}", json=body,
                                           headers=headers["bob"])
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["message"] == message
    assert client.get("/api/v1/families", headers=headers["bob"]).get_json() == []
    own = client.get(f"/api/v1/families/{family_id}", headers=headers["alice"])
    assert own.status_code == 200 and own.get_json()["name"] != "x"
    # Bob cannot upload into Alice's family either.
    response = upload_many(client, {"new.csv": csv_release("2020Q2", {"A": [1.0] * 6})},
                           headers["bob"], family=family_id)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == message


def test_revisions_changes_and_charts_of_a_family(client):
    family_id = small_family(client)["family"]
    body = client.post(f"/api/v1/families/{family_id}/analyses/revisions",
                       json={"series": "Canada"}).get_json()
    canada = body["by_period"][0]
    row = canada["vs_previous"][canada["periods"].index("2019Q2")]
    assert row == [None, pytest.approx(101.5 - 101.0), pytest.approx(102.0 - 101.5)]
    latest = canada["vs_latest"][canada["periods"].index("2019Q2")]
    assert latest == [pytest.approx(1.0), pytest.approx(0.5), 0.0]
    changed = client.post(f"/api/v1/families/{family_id}/analyses/changes", json={}).get_json()
    assert (changed["previous"], changed["latest"]) == ("2020Q3", "2020Q4")
    assert changed["periods_added"] == ["2020Q4"]
    assert [(r["from"], r["to"]) for r in changed["series_renamed"]] == [("US", "U.S.")]
    assert changed["provenance"]["family"]["id"] == family_id
    with_threshold = client.post(f"/api/v1/families/{family_id}/analyses/changes", json={
        "previous": "2020Q2", "latest": "2020Q4", "threshold_pct": 0.5}).get_json()
    assert [(r["series"], r["period"]) for r in with_threshold["revised"]] == [
        ("Canada", "2019Q2")]
    assert with_threshold["revised"][0]["change_pct"] == pytest.approx(100 * 1.0 / 101.0)
    for chart in ("fan", "heatmap", "horizons"):
        png = client.get(f"/api/v1/families/{family_id}/charts/{chart}.png?series=Canada")
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG"), chart
        svg = client.get(f"/api/v1/families/{family_id}/charts/{chart}.svg?series=Canada")
        assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data[:2000], chart
    missing = client.get(f"/api/v1/families/{family_id}/charts/fan.png")
    assert missing.status_code in (400, 422)
    wrong = client.get(f"/api/v1/families/{family_id}/charts/pie.png?series=Canada")
    assert wrong.status_code == 404
    assert wrong.get_json()["error"]["message"] == (
        "Charts are fan, heatmap, horizons as png, svg or json (Plotly).")
    figure = client.get(f"/api/v1/families/{family_id}/charts/fan.json?series=Canada")
    assert figure.mimetype == "application/json"
    assert {"data", "layout"} <= set(figure.get_json())


def test_an_upload_like_a_family_release_is_proposed_and_can_join(client):
    family_id = small_family(client)["family"]
    content = csv_release("2021Q1", {"Canada": [100.0, 102.0, 102.0, 103.0, 104.0, 105.0,
                                                106.0, 107.0, 108.0],
                                     "U.S.": [200.0 + 2 * n for n in range(9)]})
    response = upload_many(client, {"hpi-2021Q1.csv": content})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["family"] is None
    proposed = body["proposed_family"]
    assert proposed["id"] == family_id and proposed["label"] == "2021Q1"
    assert proposed["similarity"]["score"] >= 0.6
    joined = client.post(f"/api/v1/families/{family_id}/releases",
                         json={"dataset": body["id"]})
    assert joined.status_code == 201, joined.get_data(as_text=True)
    assert [r["label"] for r in joined.get_json()["releases"]][-1] == "2021Q1"
    # Something else entirely is proposed nothing.
    other = upload_many(client, {"people.csv": b"name,age\nada,36\nbob,41\n"}).get_json()
    assert other["proposed_family"] is None


def test_with_no_family_an_upload_is_not_read_again_to_propose_one(app, client):
    """Proposing a family compares sheets, but only when the owner has a family: the sheets
    of this upload are deleted from storage, and the proposal still answers (None) instead of
    failing to read them."""
    from store.objects import objects_for
    from upload import families
    from upload.service import _read_cached
    from upload.store import FileStore

    response = upload_many(client, {"hpi-2021Q1.csv": csv_release("2021Q1", {
        "Canada": [100.0 + n for n in range(9)]})})
    assert response.status_code == 201 and response.get_json()["proposed_family"] is None
    with app.app_context():
        dataset = db.session.get(Dataset, response.get_json()["id"])
        assert any(s["index"] for s in dataset.meta["sheets"])  # a sheet a family could match
        prefix = FileStore.parse_prefix(dataset.sha256, dataset.parse_key)
        assert objects_for(Path(app.config["FILES_DIR"])).delete_prefix(prefix) > 0
        _read_cached.cache_clear()
        assert families.propose_family(Path(app.config["FILES_DIR"]), dataset.owner_id,
                                       dataset) is None
