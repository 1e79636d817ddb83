"""Big uploads as background jobs: `POST /api/v1/datasets?background=true`, the upload form
above QUARTILE_BACKGROUND_UPLOAD_MB, failures and cancellation that leave nothing behind."""

from __future__ import annotations

import io
import threading

import pandas as pd
import pytest

import jobs
from store.db import db
from store.models import Dataset, Job
from tests.stack_fixtures import GATES, make_app_stopping_jobs, wait_for  # noqa: F401
from tests.test_datasets_bad_input import corrupt_zip
from tests.upload_actions import DATA, UploadActions
from upload.store import FileStore
from web.auth import local_user


def upload_in_background(client, content: bytes, filename: str):
    return client.post("/api/v1/datasets?background=true", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), filename)})


def final(client, job_id: str) -> dict:
    return wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                    in jobs.FINAL and b, 30, f"job {job_id}")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(model.id)))


def test_a_background_upload_is_a_job_whose_result_is_the_dataset(client):
    content = (DATA / "2020Q1.xlsx").read_bytes()
    response = upload_in_background(client, content, "2020Q1.xlsx")
    assert response.status_code == 202, response.get_data(as_text=True)
    queued = response.get_json()
    assert queued["kind"] == "ingest" and queued["state"] in ("queued", "running", "done")
    done = final(client, queued["id"])
    assert done["state"] == "done", done["error"]
    assert done["progress"] == 100
    assert done["result"]["name"] == "2020Q1.xlsx" and done["result"]["created"] is True
    dataset = client.get(f"/api/v1/datasets/{done['result']['dataset']}").get_json()
    assert done["result"]["sheets"] == len(dataset["sheets"])
    hpi = next(s for s in dataset["sheets"] if s["name"] == "HPI")
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", engine="calamine")
    assert hpi["n_rows"] == raw.iloc[:, 0].astype(str).str.match(r"^\d{4}:Q[1-4]$").sum()
    assert hpi["index"]["kind"] == "period" and hpi["index"]["start"] == "1975Q1"
    rows = UploadActions(client).rows(dataset["id"], "HPI", limit=1).get_json()
    canada = rows["columns"].index("Canada")
    assert rows["rows"][0][canada] == pytest.approx(float(raw["Canada"].iloc[1]))
    # The same bytes again, either way, are the same dataset: 200, no second job.
    again = upload_in_background(client, content, "copy.xlsx")
    assert again.status_code == 200 and again.get_json()["id"] == dataset["id"]
    assert UploadActions(client).upload_bytes(content, "copy.xlsx").get_json()["id"] == \
        dataset["id"]


def test_a_bad_file_fails_its_job_with_the_upload_message_and_leaves_nothing(client, app):
    earlier = UploadActions(client).dataset("HousingPreferences.csv")
    content = corrupt_zip()
    synchronous = UploadActions(client).upload_bytes(content, "broken.xlsx")
    assert synchronous.status_code in (400, 415, 422)
    response = upload_in_background(client, content, "broken.xlsx")
    assert response.status_code == 202
    failed = final(client, response.get_json()["id"])
    assert failed["state"] == "failed"
    assert failed["error"] == synchronous.get_json()["error"]["message"]
    assert count(app, Dataset) == 1
    import hashlib

    store = FileStore(app.config["FILES_DIR"])
    assert not store.has_blob(hashlib.sha256(content).hexdigest())
    assert client.get(f"/api/v1/datasets/{earlier['id']}").status_code == 200


def test_an_ingest_cancelled_before_it_ran_drops_the_stored_bytes(make_app):
    app = make_app(JOB_WORKERS=1)
    client = app.test_client()
    GATES["ingest-queue"] = threading.Event()
    with app.app_context():  # the one worker thread is busy: the ingest waits in the queue
        blocker = jobs.submit("test_gate", {"gate": "ingest-queue"}, local_user().id).id
    content = (DATA / "2011Q2.xlsx").read_bytes()
    response = upload_in_background(client, content, "2011Q2.xlsx")
    assert response.status_code == 202 and response.get_json()["state"] == "queued"
    job = response.get_json()
    with app.app_context():
        sha256 = db.session.get(Job, job["id"]).params["sha256"]
    store = FileStore(app.config["FILES_DIR"])
    assert store.has_blob(sha256)
    assert client.delete(f"/api/v1/jobs/{job['id']}").get_json()["state"] == "cancelled"
    assert not store.has_blob(sha256)
    GATES["ingest-queue"].set()
    assert final(client, blocker)["state"] == "done"
    assert final(client, job["id"])["state"] == "cancelled"
    assert count(app, Dataset) == 0


def test_the_upload_form_parses_big_files_in_a_job(make_app):
    app = make_app(BACKGROUND_UPLOAD_BYTES=1000)
    client = app.test_client()
    content = (DATA / "HousingPreferences.csv").read_bytes()
    assert len(content) > 1000
    response = client.post("/upload", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "HousingPreferences.csv")})
    assert response.status_code == 302
    job_id = response.location.rsplit("/", 1)[-1]
    assert response.location.endswith(f"/jobs/{job_id}")
    done = final(client, job_id)
    assert done["kind"] == "ingest" and done["state"] == "done", done["error"]
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'/datasets/{done["result"]["dataset"]}"' in page
    assert "Open HousingPreferences.csv" in page
    # A small file on the same form is parsed in the request, as before.
    small = client.post("/upload", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"a,b\n1,2\n3,4\n"), "small.csv")})
    assert "/datasets/" in small.location


def test_background_upload_needs_the_queue_when_it_is_celery(make_app):
    app = make_app(JOB_ENGINE="celery", REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    response = upload_in_background(client, b"a,b\n1,2\n", "tiny.csv")
    assert response.status_code == 503
    assert "job queue" in response.get_json()["error"]["message"].lower()
    assert count(app, Dataset) == 0 and count(app, Job) == 0
    synchronous = UploadActions(client).upload_bytes(b"a,b\n1,2\n", "tiny.csv")
    assert synchronous.status_code == 201  # uploads without background=true keep working


@pytest.mark.browser
def test_the_upload_page_follows_a_background_parse_to_the_dataset(make_app, page):
    import re

    from tests.conftest import LiveServer

    server = LiveServer(make_app(WTF_CSRF_ENABLED=True, BACKGROUND_UPLOAD_BYTES=1000)).start()
    try:
        p = page.page
        p.goto(server.url + "/upload")
        statuses = []
        p.expose_function("seen", lambda text: statuses.append(text))  # each status shown
        p.evaluate("""() => new MutationObserver(() => document.querySelectorAll(
            '#upload-list .small').forEach(s => window.seen(s.textContent))).observe(
            document.getElementById('upload-list'), {subtree: true, childList: true,
            characterData: true})""")
        with p.expect_navigation(url=re.compile(r"/datasets/[\w-]+$"), timeout=30_000):
            p.set_input_files("#file-input", str(DATA / "2020Q1.xlsx"))
        assert p.locator("h1").inner_text() == "2020Q1.xlsx"
        assert any(s.startswith("Parsing 2020Q1.xlsx") for s in statuses), statuses
        assert any(s.startswith("Ready: ") and s.endswith("sheet(s)") for s in statuses)
        page.check_accessibility()
    finally:
        server.stop()


@pytest.mark.browser
def test_a_background_parse_can_be_cancelled_from_the_upload_page(make_app, page):
    from tests.conftest import LiveServer

    app = make_app(WTF_CSRF_ENABLED=True, BACKGROUND_UPLOAD_BYTES=1000, JOB_WORKERS=1)
    server = LiveServer(app).start()
    GATES["upload-page"] = threading.Event()
    try:
        with app.app_context():  # the one worker thread is busy: the parse waits in the queue
            jobs.submit("test_gate", {"gate": "upload-page"}, local_user().id)
        p = page.page
        p.goto(server.url + "/upload")
        p.set_input_files("#file-input", str(DATA / "2011Q2.xlsx"))
        cancel = p.get_by_role("button", name="Cancel parsing 2011Q2.xlsx")
        cancel.wait_for(timeout=15_000)
        page.check_accessibility()
        cancel.click()
        p.locator("#upload-list .text-danger").wait_for(timeout=10_000)
        assert p.locator("#upload-list .text-danger").inner_text() == "The upload was cancelled."
        assert cancel.count() == 0 and p.url.endswith("/upload")
        assert count(app, Dataset) == 0
    finally:
        GATES["upload-page"].set()
        server.stop()


def test_a_restart_fails_a_left_behind_ingest_and_drops_its_bytes(make_app):
    app = make_app()
    store = FileStore(app.config["FILES_DIR"])
    sha256, size = store.put_stream(io.BytesIO((DATA / "2011Q2.xlsx").read_bytes()))
    with app.app_context():
        job = Job(kind="ingest", owner_id=local_user().id, engine="embedded", state="queued",
                  params={"sha256": sha256, "size": size, "filename": "2011Q2.xlsx",
                          "options": None})
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    app.extensions[jobs.EXTENSION].shutdown()  # the server dies with the parse still queued
    restarted = make_app()
    with restarted.app_context():
        left = db.session.get(Job, job_id)
        assert (left.state, left.error) == ("failed", jobs.lifecycle.RESTARTED)
    assert not store.has_blob(sha256)
    assert count(restarted, Dataset) == 0
