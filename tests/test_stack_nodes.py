"""Several machines, proven on one (issue 16): scripts/stack.py's two gunicorn app nodes and one
Celery worker, each with its own empty directory, sharing only PostgreSQL, Redis and a real
SeaweedFS S3 server.

The scenario crosses nodes at every step (upload on A; page, analysis, chart on B; a report
built by the worker, downloaded from A; deleted on B, gone on A and in the bucket). Its change
events, published on A and by the worker, reach an event stream open on B: through Redis, which
is why a load balancer needs no sticky sessions. Then the faults: the object store stopped, a
worker killed mid-report, a node killed mid-upload. Tests run in file order on one module-scoped
stack; each leaves it whole again.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import secrets
import signal
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd
import psutil
import pytest
import requests
from sqlalchemy import create_engine, text

from errors import StorageUnavailable
from jobs.celery_engine import LOST
from scripts.launch import ROOT, venv_tool
from scripts.stack import DistributedStack
from scripts.stack import main as stack_main
from tests.conftest import POSTGRES_URL, _truncate_postgres
from tests.stack_fixtures import read_sse, wait_for
from tests.test_reports_api import pdf_text
from tests.upload_actions import DATA

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]
WORKBOOK = (DATA / "2020Q1.xlsx").read_bytes()
HOUSING = (DATA / "HousingPreferences.csv").read_bytes()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, request):
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set QUARTILE_TEST_POSTGRES_URL (app nodes on different "
                    "machines share one database; SQLite cannot be shared)")
    database = request.getfixturevalue("postgres_migrated")
    _truncate_postgres(database)  # rows of earlier tests would name objects of no bucket here
    stack = DistributedStack(
        tmp_path_factory.mktemp("nodes"), database, app_workers=1, threads=8,
        worker_concurrency=2, secret_key="nodes-test-secret",
        settings={"QUARTILE_AUTH": "off", "QUARTILE_WARM_START": "0",
                  "QUARTILE_JOB_HEARTBEAT_SECONDS": "1", "QUARTILE_SSE_HEARTBEAT_SECONDS": "1"})
    stack.start()
    try:
        requests.get(f"{stack.nodes[0].url}/api/v1/datasets", timeout=30).raise_for_status()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def a(stack) -> str:
    return stack.nodes[0].url


@pytest.fixture(scope="module")
def b(stack) -> str:
    return stack.nodes[1].url


def bucket_keys(stack) -> set[str]:
    client = stack.object_store.client(timeout=5)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=stack.object_store.bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def dataset_rows(stack) -> list[tuple[str, str]]:
    """(id, sha256) of every dataset row, read from PostgreSQL itself."""
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT id, sha256 FROM datasets"))]
    finally:
        engine.dispose()


def upload(url: str, content: bytes, name: str) -> requests.Response:
    return requests.post(f"{url}/api/v1/datasets", files={"file": (name, content)}, timeout=60)


def finished_job(url: str, job_id: str, timeout: float = 90) -> dict:
    return wait_for(lambda: (j := requests.get(f"{url}/api/v1/jobs/{job_id}", timeout=10)
                             .json())["state"] in ("done", "failed", "cancelled") and j,
                    timeout, f"job {job_id}", interval=0.2)


def follow_job_events(url: str, job_id: str) -> list[dict]:
    """Every `job` event a stream on `url` sees until the job's final state."""
    seen = []
    with requests.get(f"{url}/api/v1/jobs/{job_id}/events", stream=True, timeout=90) as answer:
        assert answer.status_code == 200
        lines = answer.iter_lines(decode_unicode=True)
        while (event := read_sse(lines))[0] is not None:
            seen.append(json.loads(event[1]))
    return seen


def subscribed_changes(url: str):
    """`GET /api/v1/events` on `url`, returned once the node has subscribed (": connected"),
    with its lines: what another node publishes from here on reaches it only through Redis."""
    answer = requests.get(f"{url}/api/v1/events", stream=True, timeout=30)
    assert answer.status_code == 200
    lines = answer.iter_lines(decode_unicode=True)
    wait_for(lambda: next(lines) == ": connected", 30, "the subscription", interval=0)
    return answer, lines


def sha_keys(keys: set[str], sha256: str) -> set[str]:
    return {key for key in keys if sha256 in key}


@pytest.mark.parametrize("url", [None, "sqlite:////tmp/quartile.sqlite3"])
def test_make_stack_without_postgresql_says_so_and_exits_2(url, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("QUARTILE_DATABASE_URL", raising=False)
    if url:
        monkeypatch.setenv("QUARTILE_DATABASE_URL", url)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert stack_main([]) == 2
    assert "The distributed stack needs PostgreSQL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing left behind


# -- the scenario ----------------------------------------------------------------------------
def test_upload_on_a_is_read_on_b_reported_by_the_worker_and_deleted_everywhere(
        stack, a, b, tmp_path):
    sha = hashlib.sha256(WORKBOOK).hexdigest()
    created = upload(a, WORKBOOK, "2020Q1.xlsx")
    assert created.status_code == 201, created.text
    dataset = created.json()["id"]
    assert sha_keys(bucket_keys(stack), sha), "the original and its sheets are in the bucket"
    assert not list((stack.nodes[1].home / "files").rglob("*.parquet"))  # B has nothing local

    page = requests.get(f"{b}/datasets/{dataset}", timeout=30)
    assert page.status_code == 200 and "2020Q1" in page.text
    described = requests.post(f"{b}/api/v1/datasets/{dataset}/analyses/describe",
                              json={"sheet": "HPI"}, timeout=30)
    assert described.status_code == 200, described.text
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    canada = pd.to_numeric(raw["Canada"], errors="coerce").dropna().to_numpy(float)
    column = next(c for c in described.json()["columns"] if c["name"] == "Canada")
    assert column["count"] == canada.size
    assert column["mean"] == pytest.approx(canada.mean())
    assert column["std"] == pytest.approx(canada.std(ddof=1))

    chart = requests.post(f"{a}/api/v1/charts", json={
        "dataset": dataset, "sheet": "HPI", "kind": "line", "y": ["Canada", "US"]}, timeout=30)
    assert chart.status_code == 201, chart.text
    png = requests.get(f"{b}/api/v1/charts/{chart.json()['id']}.png", timeout=30)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"

    title = f"Built on the worker {secrets.token_hex(3)}"
    stream, changes = subscribed_changes(b)
    with stream:
        queued = requests.post(f"{a}/api/v1/reports", json={
            "dataset": dataset, "title": title,
            "sections": [{"type": "summary"}, {"type": "describe", "sheets": ["HPI"]}]},
            timeout=30)
        assert queued.status_code == 202, queued.text
        report = queued.json()
        heard = []  # changes made on A (queued) and by the worker (done), heard on B
        while not any(c["what"] == "jobs" and c["id"] == report["job"]
                      and c.get("state") == "done" for c in heard):
            event, data = read_sse(changes)
            assert event == "change", (event, heard)
            heard.append(json.loads(data))
        assert {"what": "reports", "id": report["id"]} in heard
    events = follow_job_events(b, report["job"])  # submitted on A, run by the worker, seen on B
    assert events[-1]["state"] == "done", events[-1]
    done = wait_for(lambda: (r := requests.get(f"{b}/api/v1/reports/{report['id']}", timeout=10)
                             .json())["status"] in ("done", "failed") and r, 30, "the report")
    assert done["status"] == "done", done["error"]
    pdf = requests.get(a + done["pdf"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text_of_pdf = pdf_text(pdf.content, tmp_path)
    assert "2020Q1" in text_of_pdf and title in text_of_pdf

    deleted = requests.delete(f"{b}/api/v1/datasets/{dataset}", timeout=30)
    assert deleted.status_code in (200, 204), deleted.text
    assert requests.post(f"{b}/api/v1/trash/empty", timeout=60).status_code in (200, 204)
    assert requests.get(f"{a}/api/v1/datasets/{dataset}", timeout=10).status_code == 404
    assert requests.get(f"{a}/datasets/{dataset}", timeout=10).status_code == 404
    assert requests.get(a + done["pdf"], timeout=10).status_code == 404
    assert sha_keys(bucket_keys(stack), sha) == set()


# -- faults ----------------------------------------------------------------------------------
def test_with_the_object_store_stopped_uploads_answer_503_and_the_rest_works(stack, a, b):
    before = upload(a, HOUSING, "HousingPreferences.csv")
    assert before.status_code == 201, before.text
    rows = dataset_rows(stack)
    stack.object_store.stop()
    try:
        refused = upload(a, b"year,price\n2020,1\n2021,2\n", "during-outage.csv")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == {"status": 503, "code": "storage_unavailable",
                                           "message": StorageUnavailable.WRITE}
        assert dataset_rows(stack) == rows
        listed = requests.get(f"{b}/api/v1/datasets", timeout=10)
        assert listed.status_code == 200
        assert before.json()["id"] in {d["id"] for d in listed.json()["datasets"]}
        health = requests.get(f"{a}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["storage"] is False
        solved = requests.post(f"{b}/api/v1/equations/solve",
                               json={"equations": ["2*x - 4"]}, timeout=30)
        assert solved.status_code == 200 and solved.json()["solutions"][0]["x"]["text"] == "2"
        assert requests.get(f"{b}/datasets", timeout=10).status_code == 200
    finally:
        stack.object_store.start()
    after = upload(b, b"year,price\n2020,1\n2021,2\n", "after-outage.csv")
    assert after.status_code == 201, after.text
    assert requests.get(f"{a}/healthz", timeout=10).json()["storage"] is True


def test_a_worker_killed_mid_report_leaves_a_failed_report_with_a_message(stack, a, b):
    dataset = upload(a, HOUSING, "HousingPreferences.csv").json()["id"]
    queued = requests.post(f"{a}/api/v1/reports", json={
        "dataset": dataset, "title": f"Interrupted {secrets.token_hex(3)}",
        "sections": [{"type": "summary"}, {"type": "ols", "sheet": "HousingPreferences",
                                           "formula": "Price ~ Area"}]}, timeout=30)
    assert queued.status_code == 202, queued.text
    report = queued.json()
    worker = psutil.Process(stack.worker.pid)

    def typesetting() -> bool:
        """The build has reached pdflatex (a pdflatex child alone may be the standby that an
        earlier report left waiting: rendition/latex/standby.py)."""
        job = requests.get(f"{b}/api/v1/jobs/{report['job']}", timeout=10).json()
        return job["message"] == "Typesetting with pdflatex" \
            and "pdflatex" in names(worker.children(recursive=True))

    wait_for(typesetting, 60, "pdflatex to run the report on the worker", interval=0.005)
    stack.stop_worker(signal.SIGKILL)
    try:
        job = finished_job(b, report["job"], timeout=30)
        assert job["state"] == "failed" and job["error"] == LOST
        failed = requests.get(f"{a}/api/v1/reports/{report['id']}", timeout=10).json()
        assert failed["status"] == "failed" and failed["error"] == LOST
        assert requests.get(f"{a}/api/v1/reports/{report['id']}.pdf",
                            timeout=10).status_code == 409
    finally:
        stack.start_worker()


def names(processes: list[psutil.Process]) -> set[str]:
    """The names of those of `processes` still running."""
    found = set()
    for process in processes:
        try:
            found.add(process.name())
        except psutil.NoSuchProcess:  # ended since it was listed
            continue
    return found


def big_csv(rows: int = 300_000) -> bytes:
    rng = np.random.default_rng(16)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)).round(6), columns=list("abcdef"))
    frame.insert(0, "id", np.arange(rows))
    return frame.to_csv(index=False).encode()


def test_a_node_killed_mid_upload_leaves_no_dataset_and_the_sweep_removes_its_orphans(
        stack, a, b):
    content = big_csv()
    sha = hashlib.sha256(content).hexdigest()
    rows = dataset_rows(stack)
    node = stack.nodes[0]
    boundary = secrets.token_hex(8)
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n').encode() + content + \
        f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
    connection.putrequest("POST", "/api/v1/datasets")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    stream = io.BytesIO(body)
    while chunk := stream.read(256 * 1024):  # slowly: about a second on the wire
        connection.send(chunk)
        time.sleep(0.01)
    # The original is stored before the parse (the slow part) begins: kill the node in between.
    wait_for(lambda: sha_keys(bucket_keys(stack), sha), 60, "the original in the bucket",
             interval=0.02)
    stack.stop_node(node, signal.SIGKILL)
    try:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            connection.getresponse()
        connection.close()
        assert dataset_rows(stack) == rows  # no dataset row without its objects
        assert sha_keys(bucket_keys(stack), sha)  # the orphan the sweep is for
        swept = subprocess.run(
            [venv_tool("flask"), "--app", "app", "quartile", "storage", "sweep",
             "--grace-minutes", "0"], env=stack.env(stack.workdir / "sweep"), cwd=ROOT,
            capture_output=True, text=True, timeout=120)
        assert swept.returncode == 0, swept.stdout + swept.stderr
        keys = bucket_keys(stack)
        assert sha_keys(keys, sha) == set()
        assert all(sha_keys(keys, stored) for _, stored in rows)  # what is in use is kept
    finally:
        stack.start_node(node)
