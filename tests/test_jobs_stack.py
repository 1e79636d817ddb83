"""Jobs on the real stack: a private redis-server, a Celery worker (prefork) and gunicorn.

Faults from issue 10: a worker's pool process killed mid-job (the job is retried to done), the
whole worker killed (the job is failed with a message, never left running), Redis stopped (job
endpoints answer 503 while uploads, analyses and equations keep working), and 20 concurrent SSE
clients on gunicorn. Tests run in file order: the last two kill the worker and stop Redis.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
import requests

import jobs
from analysis.exuberance_cv import default_window, simulate
from app import create_app
from jobs.celery_engine import LOST, QUEUE_DOWN
from rendition.latex.tables import format_number
from store.db import db
from store.models import Job, Report
from tests.stack_fixtures import make_stack, read_sse, stop_process, wait_for
from tests.stack_fixtures import stored_job as row
from tests.test_jobs_api import basket_csv, hand_indices
from tests.test_reports_api import pdf_text
from tests.upload_actions import DATA, UploadActions
from web.auth import local_user

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, sqlite_template):
    stack = make_stack(tmp_path_factory.mktemp("jobs-stack"), sqlite_template)
    try:
        stack.start_worker()
        yield stack
    finally:
        stack.stop_worker()
        stack.redis.stop()


@pytest.fixture(scope="module")
def web(stack):
    """The test process's own app on the stack (Celery engine), like one more web server."""
    app = create_app(stack.app_settings())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def submit(app, kind: str, params: dict) -> str:
    with app.app_context():
        return jobs.submit(kind, params, local_user()).id


def pids(stack, marker: str) -> list[int]:
    path = stack.files_dir / marker
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_price_index_through_celery_matches_the_hand_computation(stack, web):
    client = web.test_client()
    basket = UploadActions(client).upload_bytes(basket_csv(), "basket.csv").get_json()
    response = client.post("/api/v1/jobs", json={
        "kind": "price_index", "dataset": basket["id"], "sheet": "basket",
        "p0": "p0", "q0": "q0", "p1": "p1", "q1": "q1"})
    assert response.status_code == 202
    job_id = response.get_json()["id"]
    done = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                    in jobs.FINAL and b, 60, "the Celery job")
    assert done["state"] == "done", done
    for name, value in hand_indices().items():
        assert done["result"][name] == pytest.approx(value, rel=1e-12)
    assert row(web, job_id).engine == "celery"


def test_a_report_job_through_celery_reaches_done_with_its_pdf(stack, web, tmp_path):
    client = web.test_client()
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    response = client.post("/api/v1/reports", json={
        "dataset": housing["id"], "title": "Built by Celery",
        "sections": [{"type": "summary"}, {"type": "ols", "sheet": "HousingPreferences",
                                           "formula": "Price ~ Area"}]})
    assert response.status_code == 202, response.get_data(as_text=True)
    report = response.get_json()
    done = wait_for(lambda: (b := client.get(f"/api/v1/reports/{report['id']}").get_json())
                    ["status"] in ("done", "failed") and b, 60, "the report built by Celery")
    assert done["status"] == "done", done["error"]
    assert row(web, report["job"]).engine == "celery"
    # The task marks the report done just before the worker marks its job done.
    wait_for(lambda: row(web, report["job"]).state == "done", 10, "the report's job")
    with client.get(done["pdf"]) as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        text = pdf_text(pdf.data, tmp_path)
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    slope = np.polyfit(frame["Area"], frame["Price"], 1)[0]
    assert "Built by Celery" in text and format_number(float(slope)) in text


def test_exuberance_critical_values_simulated_by_celery_are_shared_through_the_database(
        stack, web):
    """The exuberance_cv job in a prefork worker stores exactly what this process simulates
    with the same seed: the numbers every node reads back from the table."""
    client = web.test_client()
    response = client.post("/api/v1/critical-values/exuberance",
                           json={"t": 60, "replications": 100})
    assert response.status_code == 202, response.get_data(as_text=True)
    job_id = response.get_json()["id"]
    done = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                    in jobs.FINAL and b, 60, "the Celery critical-value job")
    assert done["state"] == "done", done
    assert row(web, job_id).engine == "celery"
    stored = client.get("/api/v1/critical-values/exuberance",
                        query_string={"t": 60, "replications": 100}).get_json()
    local = simulate(60, default_window(60), 1, 100)
    assert stored["gsadf"] == list(local.gsadf) and stored["bsadf"][1] == list(local.bsadf[1])


def test_a_big_upload_is_parsed_by_the_celery_worker(stack, web):
    client = web.test_client()
    content = (DATA / "2011Q2.xlsx").read_bytes()
    response = client.post("/api/v1/datasets?background=true",
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "2011Q2.xlsx")})
    assert response.status_code == 202, response.get_data(as_text=True)
    job_id = response.get_json()["id"]
    done = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                    in jobs.FINAL and b, 60, "the Celery ingest")
    assert done["state"] == "done", done["error"]
    assert row(web, job_id).engine == "celery"
    dataset = client.get(f"/api/v1/datasets/{done['result']['dataset']}").get_json()
    raw = pd.read_excel(DATA / "2011Q2.xlsx", sheet_name="HPI ", engine="calamine")  # sic
    hpi = next(s for s in dataset["sheets"] if s["name"] == "HPI")
    assert hpi["n_rows"] == raw.iloc[:, 0].astype(str).str.match(r"^\d{4}:Q[1-4]$").sum()


def test_a_celery_job_survives_a_web_restart(stack, web):
    first = create_app(stack.app_settings())
    job_id = submit(first, "test_steps", {"steps": 10, "delay": 0.05, "marker": "restart"})
    with first.app_context():
        db.engine.dispose()
    del first  # the web server goes away; the job is in the database and Redis
    second = create_app(stack.app_settings()).test_client()
    done = wait_for(lambda: (b := second.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                    in jobs.FINAL and b, 30, "the job to finish")
    assert done["state"] == "done" and done["result"]["steps"] == 10
    assert pids(stack, "restart") and os.getpid() not in pids(stack, "restart")


def test_twenty_sse_clients_on_gunicorn_all_see_the_final_event(stack, web):
    process, url = stack.start_gunicorn(workers=1, threads=24)
    try:
        wait_for(lambda: _healthy(url), 60, "gunicorn's workers", interval=0.2)
        job_id = submit(web, "test_steps", {"steps": 20, "delay": 0.1})
        results: list[tuple[int, dict | None]] = []
        lock = threading.Lock()

        def follow():
            seen, final = 0, None
            with requests.get(f"{url}/api/v1/jobs/{job_id}/events", stream=True,
                              timeout=30) as response:
                lines = response.iter_lines(decode_unicode=True)
                while True:
                    event, data = read_sse(lines)
                    if event is None:
                        break
                    seen += 1
                    final = json.loads(data)
            with lock:
                results.append((seen, final))

        clients = [threading.Thread(target=follow) for _ in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(60)
        assert len(results) == 20
        assert all(final is not None and final["state"] == "done" for _, final in results)
        assert all(final["result"]["steps"] == 20 for _, final in results)
        assert all(seen >= 2 for seen, _ in results)  # progress came live, not just the end
    finally:
        stop_process(process)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not accepting yet, or accepted but no worker yet
        return False


def test_a_killed_pool_process_is_retried_to_done(stack, web):
    job_id = submit(web, "test_steps", {"steps": 10, "delay": 0.1, "marker": "child"})
    wait_for(lambda: pids(stack, "child") and row(web, job_id).progress >= 10, 30,
             "the job to be under way")
    os.kill(pids(stack, "child")[0], signal.SIGKILL)
    final = wait_for(lambda: (j := row(web, job_id)).state in jobs.FINAL and j, 30,
                     "the redelivered job to finish")
    assert final.state == "done", (final.state, final.error)
    started_by = pids(stack, "child")
    assert len(started_by) == 2 and started_by[0] != started_by[1]


def test_a_killed_worker_leaves_a_failed_job_with_a_message(stack, web):
    client = web.test_client()
    job_id = submit(web, "test_steps", {"steps": 100, "delay": 0.1, "marker": "killed"})
    wait_for(lambda: row(web, job_id).state == "running" and row(web, job_id).progress > 0, 30,
             "the job to be running")
    stack.stop_worker(signal.SIGKILL)
    started = time.monotonic()
    final = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}").get_json())["state"]
                     != "running" and b, 10, "the lost job to be given up")
    assert time.monotonic() - started < 5  # about one heartbeat period
    assert final["state"] == "failed"
    assert final["error"] == LOST
    assert row(web, job_id).state == "failed"  # stored, not just answered


def test_with_redis_stopped_jobs_answer_503_and_the_rest_works(stack, web):
    client = web.test_client()
    with web.app_context():  # a finished job from before the outage (no worker is running now)
        job = Job(kind="test_steps", params={}, owner_id=local_user().id, engine="celery",
                  state="done", progress=100, result={"steps": 1})
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    stack.redis.stop()
    try:
        for method, path in [("get", "/api/v1/jobs"), ("post", "/api/v1/jobs"),
                             ("get", f"/api/v1/jobs/{job_id}"),
                             ("delete", f"/api/v1/jobs/{job_id}"),
                             ("get", f"/api/v1/jobs/{job_id}/events")]:
            response = getattr(client, method)(path, json={} if method == "post" else None)
            assert response.status_code == 503, (method, path)
            assert response.get_json()["error"]["message"] == QUEUE_DOWN, (method, path)
        page = client.get("/jobs")
        assert page.status_code == 503 and "Redis" in page.get_data(as_text=True)
        assert client.get("/healthz").get_json()["redis"] is False
        uploaded = UploadActions(client).upload_bytes(basket_csv().replace(b"cheese", b"butter"),
                                                  "after-outage.csv")
        assert uploaded.status_code == 201
        dataset = uploaded.get_json()["id"]
        rows = client.get(f"/api/v1/datasets/{dataset}/sheets/after-outage/rows")
        assert rows.status_code == 200 and len(rows.get_json()["rows"]) == 4
        described = client.post(f"/api/v1/datasets/{dataset}/analyses/describe",
                                json={"sheet": "after-outage"})
        assert described.status_code == 200, described.get_data(as_text=True)
        solved = client.post("/api/v1/equations/solve", json={"equations": ["2*x - 4"]})
        assert solved.status_code == 200
        assert solved.get_json()["solutions"][0]["x"]["text"] == "2"
        # Work that needs the queue says so, and leaves nothing half-made behind.
        with web.app_context():
            reports_before = db.session.scalar(db.select(db.func.count(Report.id)))
        report = client.post("/api/v1/reports", json={"dataset": dataset,
                                                      "sections": [{"type": "summary"}]})
        assert report.status_code == 503
        assert report.get_json()["error"]["message"] == QUEUE_DOWN
        background = client.post("/api/v1/datasets?background=true",
                                 content_type="multipart/form-data",
                                 data={"file": (io.BytesIO(b"a,b\n1,2\n"), "queued.csv")})
        assert background.status_code == 503
        with web.app_context():
            assert db.session.scalar(db.select(db.func.count(Report.id))) == reports_before
    finally:
        stack.redis.start()
