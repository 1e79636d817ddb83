"""The app on a real S3 server (SeaweedFS): the pages and API through the object store, the
store stopped and started again, two nodes that share only the database and the bucket."""

from __future__ import annotations

import hashlib
import shutil
import time

import pytest

from store.db import db
from store.models import Dataset
from tests.conftest import DATA
from tests.storage_fixtures import stored_keys
from tests.upload_actions import UploadActions
from upload import service

WRITE = "File storage is not reachable right now; nothing was saved. Try again in a minute."
READ = ("File storage is not reachable right now, so this file cannot be read. Try again in "
        "a minute.")


@pytest.fixture
def s3_app(make_app, s3_url):
    return make_app(STORAGE_URL=s3_url)


@pytest.fixture
def stopped_store(seaweed):
    """Stop the session's SeaweedFS for one test; it is back (same port, same data) after."""
    seaweed.stop()
    try:
        yield seaweed
    finally:
        seaweed.start()


def dataset_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Dataset.id)))


def test_a_dataset_lives_in_the_bucket_under_todays_layout(s3_app):
    client = s3_app.test_client()
    dataset = UploadActions(client).dataset("2020Q1.xlsx")
    sha = dataset["sha256"]
    assert stored_keys(s3_app, "blobs/") == [f"blobs/{sha[:2]}/{sha}"]
    sheets = stored_keys(s3_app, f"sheets/{sha}/")
    assert sum(key.endswith("/meta.json") for key in sheets) == 1 and len(sheets) > 2
    with client.get(f"/api/v1/datasets/{dataset['id']}/original") as response:
        assert response.data == (DATA / "2020Q1.xlsx").read_bytes()
    assert client.get("/healthz").get_json()["storage"] is True


def test_the_store_stopped_upload_is_503_and_the_rest_answers(s3_app, stopped_store):
    client = s3_app.test_client()
    started = time.monotonic()
    response = UploadActions(client).upload("HousingPreferences.csv")
    # a clear answer, not a request waiting out retries and timeouts; the bound leaves room for
    # a loaded CI machine (6.4 s seen once under the full suite, ~1 s alone)
    assert time.monotonic() - started < 15
    assert response.status_code == 503
    assert response.get_json()["error"] == {"status": 503, "code": "storage_unavailable",
                                             "message": WRITE}
    assert dataset_count(s3_app) == 0
    assert list((s3_app.config["FILES_DIR"] / "tmp").iterdir()) == []  # no partial upload
    assert client.get("/api/v1/datasets").get_json() == {"datasets": [], "total": 0}
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["storage"] is False
    assert client.get("/datasets").status_code == 200  # the list page


def test_a_cached_sheet_reads_without_the_store_an_uncached_one_is_503(s3_app, seaweed):
    client = s3_app.test_client()
    uploads = UploadActions(client)
    dataset = uploads.dataset("2020Q1.xlsx")
    assert uploads.rows(dataset["id"], "HPI").status_code == 200  # now in memory
    forget_cached_sheets()
    assert uploads.rows(dataset["id"], "RHPI").status_code == 200  # in memory again
    shutil.rmtree(s3_app.extensions["quartile_objects"].cache.root)  # the node loses its cache
    seaweed.stop()
    try:
        assert uploads.rows(dataset["id"], "RHPI").status_code == 200
        response = uploads.rows(dataset["id"], "PDI")
        assert response.status_code == 503
        assert response.get_json()["error"]["message"] == READ
        original = client.get(f"/api/v1/datasets/{dataset['id']}/original")
        assert original.status_code == 503
    finally:
        seaweed.start()
    assert uploads.rows(dataset["id"], "PDI").status_code == 200  # fetched again
    assert uploads.dataset("HousingPreferences.csv")["name"] == "HousingPreferences.csv"


def test_the_store_lost_mid_upload_leaves_no_dataset(s3_app, seaweed, monkeypatch):
    """The original is stored, then the store goes before the parse is: no row, a 503."""
    from upload.store import FileStore

    real = FileStore.commit_parse

    def store_goes_away(self, *args):
        seaweed.stop()
        return real(self, *args)

    monkeypatch.setattr(FileStore, "commit_parse", store_goes_away)
    client = s3_app.test_client()
    try:
        response = UploadActions(client).upload("HousingPreferences.csv")
        assert response.status_code == 503
        assert response.get_json()["error"]["message"] == WRITE
        assert dataset_count(s3_app) == 0
    finally:
        seaweed.start()
    monkeypatch.setattr(FileStore, "commit_parse", real)
    sha = hashlib.sha256((DATA / "HousingPreferences.csv").read_bytes()).hexdigest()
    assert stored_keys(s3_app, f"sheets/{sha}/") == []  # meta.json never written
    assert UploadActions(client).upload("HousingPreferences.csv").status_code == 201


def test_two_nodes_share_only_the_database_and_the_bucket(make_app, s3_url, tmp_path):
    node_a = make_app(STORAGE_URL=s3_url)
    node_b = make_app(STORAGE_URL=s3_url, FILES_DIR=tmp_path / "node-b")
    a, b = node_a.test_client(), node_b.test_client()
    dataset = UploadActions(a).dataset("2020Q1.xlsx")
    listed = b.get("/api/v1/datasets").get_json()
    assert [d["id"] for d in listed["datasets"]] == [dataset["id"]]
    forget_cached_sheets()
    rows_b = UploadActions(b).rows(dataset["id"], "HPI")
    assert rows_b.status_code == 200
    assert rows_b.get_json() == UploadActions(a).rows(dataset["id"], "HPI").get_json()
    with b.get(f"/api/v1/datasets/{dataset['id']}/original") as response:
        assert response.data == (DATA / "2020Q1.xlsx").read_bytes()
    assert b.get(f"/datasets/{dataset['id']}").status_code == 200
    assert b.delete(f"/api/v1/datasets/{dataset['id']}").status_code == 204
    assert b.post("/api/v1/trash/empty").get_json() == {"purged": 1}
    assert a.get(f"/api/v1/datasets/{dataset['id']}").status_code == 404
    assert stored_keys(node_a, "") == []


NODE_B = """
import hashlib, json, sys
from app import create_app
from store.db import db
from store.models import Dataset
from upload.service import load_sheet
from upload.store import FileStore

app = create_app()
with app.app_context():
    dataset = db.session.get(Dataset, sys.argv[1])
    frame = load_sheet(app.config["FILES_DIR"], dataset, sys.argv[2])
    original = FileStore(app.config["FILES_DIR"]).blob_path(dataset.sha256).read_bytes()
    print(json.dumps({"shape": list(frame.shape), "sum": float(frame.sum(numeric_only=True).sum()),
                      "original": hashlib.sha256(original).hexdigest(),
                      "store": app.extensions["quartile_objects"].url}))
"""


def test_another_process_with_its_own_directory_reads_the_same_dataset(make_app, s3_url,
                                                                       database_url, tmp_path):
    import json
    import os
    import subprocess
    import sys

    app = make_app(STORAGE_URL=s3_url)
    dataset = UploadActions(app.test_client()).dataset("2020Q1.xlsx")
    with app.app_context():
        expected = service.load_sheet(app.config["FILES_DIR"], db.session.get(Dataset,
                                      dataset["id"]), "HPI")
    env = {**os.environ, "QUARTILE_FILES_DIR": str(tmp_path / "node-b"),
           "QUARTILE_DATABASE_URL": database_url, "QUARTILE_STORAGE_URL": s3_url,
           "QUARTILE_SECRET_KEY": "test", "QUARTILE_AUTO_MIGRATE": "0"}
    done = subprocess.run([sys.executable, "-c", NODE_B, dataset["id"], "HPI"], env=env,
                          capture_output=True, text=True, timeout=120, check=True,
                          cwd=DATA.parent.parent)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"shape": list(expected.shape),
                    "sum": pytest.approx(float(expected.sum(numeric_only=True).sum())),
                    "original": dataset["sha256"], "store": s3_url}
    assert list((tmp_path / "node-b" / "cache").rglob("*.parquet"))  # read through its cache


def test_bytes_deleted_on_one_node_and_uploaded_again_on_another_are_stored_again(
        make_app, s3_url, tmp_path):
    """Regression: node A's cached copy of a parse made it skip storing the parse again after
    node B had deleted it, and B could not read the new dataset."""
    node_a = make_app(STORAGE_URL=s3_url)
    node_b = make_app(STORAGE_URL=s3_url, FILES_DIR=tmp_path / "node-b")
    a, b = node_a.test_client(), node_b.test_client()
    first = UploadActions(a).dataset("HousingPreferences.csv")
    assert b.delete(f"/api/v1/datasets/{first['id']}").status_code == 204
    assert b.post("/api/v1/trash/empty").get_json() == {"purged": 1}
    assert stored_keys(node_b, "") == []
    again = UploadActions(a).upload("HousingPreferences.csv")  # A still has it all cached
    assert again.status_code == 201
    forget_cached_sheets()
    rows = UploadActions(b).rows(again.get_json()["id"], "HousingPreferences")
    assert rows.status_code == 200 and rows.get_json()["total"] > 0


def test_a_dataset_whose_stored_sheet_is_lost_answers_410_with_a_message_not_a_500(make_app):
    """A row whose objects are gone (a store lost, a database restored without its files)."""
    app = make_app()
    client = app.test_client()
    dataset = UploadActions(client).dataset("2020Q1.xlsx")
    with app.app_context():
        row = db.session.get(Dataset, dataset["id"])
        key = service.sheet_key(app.config["FILES_DIR"], row, "HPI")
        service.objects_for(app.config["FILES_DIR"]).delete(key)
    forget_cached_sheets()
    response = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/HPI/rows")
    assert response.status_code == 410
    assert response.get_json()["error"]["message"] == (
        "The stored copy of sheet 'HPI' of '2020Q1.xlsx' is missing from file storage. Upload "
        "the file again, or ask the administrator to restore the files.")
    page = client.get(f"/datasets/{dataset['id']}?sheet=HPI")
    assert page.status_code == 410 and b"is missing from file storage" in page.data
    # the other sheets still read
    assert client.get(f"/api/v1/datasets/{dataset['id']}/sheets/RHPI/rows").status_code == 200


def forget_cached_sheets() -> None:
    """This process's kept sheets and preview tables gone, as on a node that never read them."""
    from web.datasets import _PREVIEW_PAGES

    service._read_cached.cache_clear()
    _PREVIEW_PAGES.clear()
