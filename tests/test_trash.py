"""The trash: a deleted dataset, chart or report is absent everywhere until its owner restores
it, byte for byte; it is purged after QUARTILE_TRASH_DAYS, or when an administrator empties it."""

import hashlib
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from store.db import db
from tests.auth_actions import AuthActions
from tests.storage_fixtures import stored
from tests.test_reports_api import built
from tests.upload_actions import DATA, UploadActions
from upload import trash

SCATTER = {"sheet": "HousingPreferences", "kind": "scatter", "x": "Area", "y": ["Price"]}


def sha(client, url: str) -> str:
    with client.get(url) as response:
        assert response.status_code == 200, (url, response.status_code)
        return hashlib.sha256(response.data).hexdigest()


def blob(app, dataset: dict):
    return stored(app, f"blobs/{dataset['sha256'][:2]}/{dataset['sha256']}")


@pytest.fixture
def housing(client):
    return UploadActions(client).dataset("HousingPreferences.csv")


@pytest.fixture
def chart(client, housing):
    response = client.post("/api/v1/charts", json={"dataset": housing["id"], **SCATTER})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_a_deleted_dataset_is_absent_everywhere_and_comes_back_byte_for_byte(client, housing,
                                                                            chart):
    did, cid = housing["id"], chart["id"]
    report = built(client, housing, [{"type": "summary"}])
    sheet = quote("HousingPreferences")
    downloads = [f"/api/v1/datasets/{did}/original",
                 f"/api/v1/datasets/{did}/sheets/{sheet}/export/csv",
                 f"/api/v1/charts/{cid}.png", f"/api/v1/reports/{report['id']}.pdf"]
    before = [sha(client, url) for url in downloads]

    assert client.delete(f"/api/v1/datasets/{did}").status_code == 204
    absent = downloads + [
        f"/api/v1/datasets/{did}", f"/api/v1/datasets/{did}/sheets/{sheet}/rows",
        f"/api/v1/datasets/{did}/analyses/describe?sheet={sheet}", f"/api/v1/charts/{cid}",
        f"/api/v1/reports/{report['id']}", f"/datasets/{did}", f"/charts/{cid}",
        f"/reports/{report['id']}", f"/analyse?dataset={did}", f"/charts/new?dataset={did}",
        f"/api/v1/charts/defaults?dataset={did}"]
    for url in absent:
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/datasets").get_json()["total"] == 0
    assert client.get("/api/v1/charts").get_json()["total"] == 0
    assert client.get("/api/v1/reports").get_json()["reports"] == []
    assert client.delete(f"/api/v1/datasets/{did}").status_code == 404  # not twice

    items = client.get("/api/v1/trash").get_json()
    assert [(i["kind"], i["id"], i["name"]) for i in items] == [
        ("dataset", did, "HousingPreferences.csv")]
    deleted = datetime.fromisoformat(items[0]["deleted_at"])
    assert datetime.fromisoformat(items[0]["purge_at"]) - deleted == timedelta(days=30)

    restored = client.post(f"/api/v1/trash/dataset/{did}/restore")
    assert restored.status_code == 200 and restored.get_json() == {"kind": "dataset", "id": did}
    assert [sha(client, url) for url in downloads] == before
    assert client.get("/api/v1/trash").get_json() == []
    assert client.get("/api/v1/charts").get_json()["total"] == 1
    assert client.post(f"/api/v1/trash/dataset/{did}/restore").status_code == 404


def test_a_chart_of_a_trashed_dataset_is_restored_after_its_dataset(client, housing, chart):
    cid, did = chart["id"], housing["id"]
    png = sha(client, f"/api/v1/charts/{cid}.png")
    assert client.delete(f"/api/v1/charts/{cid}").status_code == 204
    assert client.get(f"/api/v1/charts/{cid}.png").status_code == 404
    assert client.get(f"/api/v1/datasets/{did}").status_code == 200  # nothing else harmed
    assert client.delete(f"/api/v1/datasets/{did}").status_code == 204
    assert {i["kind"] for i in client.get("/api/v1/trash").get_json()} == {"chart", "dataset"}
    conflict = client.post(f"/api/v1/trash/chart/{cid}/restore")
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["message"] == (
        "Its dataset 'HousingPreferences.csv' is in the trash too: restore the dataset first.")
    assert client.post(f"/api/v1/trash/dataset/{did}/restore").status_code == 200
    assert client.get(f"/api/v1/charts/{cid}").status_code == 404  # deleted on its own
    assert client.post(f"/api/v1/trash/chart/{cid}/restore").status_code == 200
    assert sha(client, f"/api/v1/charts/{cid}.png") == png
    assert client.post("/api/v1/trash/nonsense/x/restore").status_code == 404


def test_uploading_the_same_bytes_again_takes_the_dataset_out_of_the_trash(client, housing):
    assert client.delete(f"/api/v1/datasets/{housing['id']}").status_code == 204
    again = UploadActions(client).upload("HousingPreferences.csv")
    assert again.status_code == 200 and again.get_json()["id"] == housing["id"]
    assert client.get("/api/v1/trash").get_json() == []


def test_saving_the_same_chart_again_takes_it_out_of_the_trash(client, housing, chart):
    assert client.delete(f"/api/v1/charts/{chart['id']}").status_code == 204
    again = client.post("/api/v1/charts", json={"dataset": housing["id"], **SCATTER})
    assert again.get_json()["id"] == chart["id"] and again.get_json()["created"] is False
    assert client.get("/api/v1/trash").get_json() == []


def test_items_are_purged_with_their_bytes_after_the_trash_period(make_app, tmp_path):
    app = make_app(TRASH_DAYS=30)
    client = app.test_client()
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    assert client.delete(f"/api/v1/datasets/{housing['id']}").status_code == 204
    with app.app_context():  # 29 days on: still there
        assert trash.purge_expired(app.config["FILES_DIR"], 30,
                                   now=datetime.now().astimezone() + timedelta(days=29)) == 0
    assert blob(app, housing).exists()
    # QUARTILE_TRASH_DAYS=0: the next start purges it (the same files and database)
    later = make_app(TRASH_DAYS=0).test_client()
    assert not blob(app, housing).exists()
    assert later.get("/api/v1/trash").get_json() == []
    assert later.post(f"/api/v1/trash/dataset/{housing['id']}/restore").status_code == 404


def test_a_purge_racing_another_skips_what_the_other_purged(app, client, housing,
                                                           monkeypatch):
    assert client.delete(f"/api/v1/datasets/{housing['id']}").status_code == 204
    real = trash.delete_dataset

    def purged_meanwhile(files_dir, dataset):  # another worker got there first
        with db.engine.begin() as other:
            other.execute(db.text("DELETE FROM datasets WHERE id = :id"), {"id": dataset.id})
        return real(files_dir, dataset)

    monkeypatch.setattr(trash, "delete_dataset", purged_meanwhile)
    with app.app_context():
        assert trash.empty(app.config["FILES_DIR"]) == 0  # not an error, and not counted
    assert client.get("/api/v1/trash").get_json() == []


def test_the_purge_command_for_cron(app, client, housing):
    assert client.delete(f"/api/v1/datasets/{housing['id']}").status_code == 204
    runner = app.test_cli_runner()
    swept = "Swept 0 unreferenced object(s) older than 60 minutes.\n"
    assert runner.invoke(args=["quartile", "purge-trash"]).output == (
        "Purged 0 item(s) from the trash.\n" + swept)
    assert blob(app, housing).exists()
    assert runner.invoke(args=["quartile", "purge-trash", "--all"]).output == (
        "Purged 1 item(s) from the trash.\n" + swept)
    assert not blob(app, housing).exists()


def test_the_trash_is_its_owners_and_only_an_administrator_empties_it(make_app):
    app = make_app(AUTH="on")
    auth = AuthActions(app, app.test_client())
    auth.create_user("root", admin=True)
    auth.create_user("ada")
    auth.create_user("bob")
    headers = {n: {"Authorization": f"Bearer {auth.token_for(n)}"} for n in ("root", "ada", "bob")}
    client = app.test_client()
    dataset = UploadActions(client, headers["ada"]).dataset("HousingPreferences.csv")
    url = f"/api/v1/datasets/{dataset['id']}"
    assert client.post(f"{url}/shares", json={"username": "bob"},
                       headers=headers["ada"]).status_code == 200
    assert client.get(url, headers=headers["bob"]).status_code == 200
    assert client.delete(url, headers=headers["bob"]).status_code == 403  # read-only for bob
    assert client.delete(url, headers=headers["ada"]).status_code == 204
    assert client.get(url, headers=headers["bob"]).status_code == 404
    assert client.get("/api/v1/trash", headers=headers["bob"]).get_json() == []
    assert client.post(f"/api/v1/trash/dataset/{dataset['id']}/restore",
                       headers=headers["bob"]).status_code == 404
    assert client.post("/api/v1/trash/empty", headers=headers["ada"]).status_code == 404
    assert blob(app, dataset).exists()
    emptied = client.post("/api/v1/trash/empty", headers=headers["root"])
    assert emptied.status_code == 200 and emptied.get_json() == {"purged": 1}
    assert not blob(app, dataset).exists()
    assert client.get("/api/v1/trash", headers=headers["ada"]).get_json() == []
    with app.app_context():
        from store.models import Dataset

        assert db.session.get(Dataset, dataset["id"]) is None


def test_the_trash_page_lists_and_restores(client, housing):
    form = client.post(f"/datasets/{housing['id']}/delete", follow_redirects=True)
    assert "Moved HousingPreferences.csv to the trash" in form.get_data(as_text=True)
    page = client.get("/trash").get_data(as_text=True)
    assert f'data-trash-item="dataset/{housing["id"]}"' in page
    assert "Empty every trash" in page  # the local user is an administrator
    done = client.post(f"/trash/dataset/{housing['id']}/restore", follow_redirects=True)
    assert "Restored dataset &#39;HousingPreferences.csv&#39;." in done.get_data(as_text=True)
    assert client.get(f"/datasets/{housing['id']}").status_code == 200
    with client.get(f"/api/v1/datasets/{housing['id']}/original") as original:
        assert original.data == (DATA / "HousingPreferences.csv").read_bytes()
