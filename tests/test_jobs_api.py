"""`/api/v1/jobs` and `/api/v1/events` through the test client, on the embedded engine."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import jobs
from jobs import events
from tests.auth_actions import AuthActions
from tests.stack_fixtures import GATES, make_app_stopping_jobs, read_sse, wait_for  # noqa: F401
from tests.upload_actions import UploadActions
from web.auth import local_user

# Four items: base prices/quantities and current prices/quantities.
BASKET = {"item": ["bread", "milk", "eggs", "cheese"], "p0": [1.2, 0.8, 2.5, 6.0],
          "q0": [100, 200, 50, 20], "p1": [1.5, 0.9, 3.1, 6.5], "q1": [90, 210, 40, 22]}


def basket_csv() -> bytes:
    lines = [",".join(BASKET)] + [",".join(str(BASKET[c][i]) for c in BASKET) for i in range(4)]
    return ("\n".join(lines) + "\n").encode()


def hand_indices() -> dict:
    p0, q0, p1, q1 = (np.array(BASKET[c], dtype=float) for c in ("p0", "q0", "p1", "q1"))
    laspeyres = 100 * (p1 * q0).sum() / (p0 * q0).sum()
    paasche = 100 * (p1 * q1).sum() / (p0 * q1).sum()
    return {"laspeyres": laspeyres, "paasche": paasche, "fisher": np.sqrt(laspeyres * paasche)}


@pytest.fixture
def basket(client) -> dict:
    response = UploadActions(client).upload_bytes(basket_csv(), "basket.csv")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def job_body(uploaded: dict, **overrides) -> dict:
    return {"kind": "price_index", "dataset": uploaded["id"],
            "sheet": uploaded["sheets"][0]["name"], "p0": "p0", "q0": "q0", "p1": "p1",
            "q1": "q1", **overrides}


def wait_done(client, job_id: str, headers=None) -> dict:
    return wait_for(lambda: (b := client.get(f"/api/v1/jobs/{job_id}", headers=headers)
                             .get_json())["state"] in jobs.FINAL and b, 10, "the job")


def test_price_index_job_returns_the_hand_computed_indices(client, basket):
    response = client.post("/api/v1/jobs", json=job_body(basket))
    assert response.status_code == 202
    queued = response.get_json()
    assert set(queued) >= {"id", "kind", "state", "progress", "message", "result", "error",
                           "created_at", "started_at", "finished_at"}
    assert queued["kind"] == "price_index" and queued["state"] in ("queued", "running", "done")
    done = wait_done(client, queued["id"])
    assert done["state"] == "done" and done["progress"] == 100 and done["error"] is None
    expected = hand_indices()
    for name, value in expected.items():
        assert done["result"][name] == pytest.approx(value, rel=1e-12)
    assert done["result"]["n"] == 4
    assert done["params"] == {"dataset": basket["id"], "sheet": "basket", "p0": "p0",
                              "q0": "q0", "p1": "p1", "q1": "q1"}


def test_without_q1_only_laspeyres_is_computed(client, basket):
    job = client.post("/api/v1/jobs", json=job_body(basket, q1=None)).get_json()
    result = wait_done(client, job["id"])["result"]
    assert result["laspeyres"] == pytest.approx(hand_indices()["laspeyres"], rel=1e-12)
    assert result["paasche"] is None and result["fisher"] is None


@pytest.mark.parametrize("overrides, status, message", [
    ({"q0": "zz"}, 400, "Sheet 'basket' has no column 'zz'."),
    ({"p1": "item"}, 400, "Column 'item' in sheet 'basket' is not numeric (str)"),
    ({"sheet": "Nope"}, 404, "has no sheet named 'Nope'"),
    ({"dataset": "no-such-id"}, 404, "There is no dataset 'no-such-id'."),
    ({"kind": "sleep"}, 422, "kind: Must be one of: price_index."),
])
def test_bad_requests_name_the_problem_and_queue_nothing(client, basket, overrides, status,
                                                         message):
    response = client.post("/api/v1/jobs", json=job_body(basket, **overrides))
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]
    assert client.get("/api/v1/jobs").get_json() == {"jobs": [], "total": 0}


def test_the_list_is_newest_first_and_pages(client, basket):
    ids = [client.post("/api/v1/jobs", json=job_body(basket)).get_json()["id"] for _ in range(3)]
    for job_id in ids:
        wait_done(client, job_id)
    listed = client.get("/api/v1/jobs").get_json()
    assert listed["total"] == 3
    assert [j["id"] for j in listed["jobs"]] == ids[::-1]
    assert [j["id"] for j in client.get("/api/v1/jobs?limit=1&offset=1").get_json()["jobs"]] == \
        [ids[1]]


def test_an_offset_beyond_the_database_s_integers_is_a_422_not_a_500(client):
    """Regression: `offset` had no upper bound, and SQLite cannot bind 5.6e22 (a 500)."""
    response = client.get("/api/v1/jobs?offset=56068178439013713051648")
    assert response.status_code == 422
    assert response.get_json()["error"]["status"] == 422
    assert client.get("/api/v1/jobs").status_code == 200  # nothing else harmed


def test_cancel_answers_the_job_then_409_once_finished(app, client):
    GATES["api-cancel"] = threading.Event()
    with app.app_context():
        job_id = jobs.submit("test_gate", {"gate": "api-cancel"}, local_user()).id
    cancelled = client.delete(f"/api/v1/jobs/{job_id}")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "cancelled"
    again = client.delete(f"/api/v1/jobs/{job_id}")
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == (
        "This job has already finished (cancelled); there is nothing to cancel.")
    GATES["api-cancel"].set()


def test_another_users_job_is_a_404_everywhere(make_app):
    app = make_app(AUTH="on")
    client = app.test_client()
    actions = AuthActions(app, client)
    for name in ("ada", "bob"):
        actions.create_user(name)
    ada = {"Authorization": f"Bearer {actions.token_for('ada')}"}
    bob = {"Authorization": f"Bearer {actions.token_for('bob')}"}
    with app.app_context():
        from web.auth import find_user

        job_id = jobs.submit("test_steps", {"steps": 1}, find_user("ada")).id
    assert wait_done(client, job_id, ada)["state"] == "done"
    for method, path in [("get", ""), ("delete", ""), ("get", "/events")]:
        response = getattr(client, method)(f"/api/v1/jobs/{job_id}{path}", headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["message"] == f"There is no job {job_id!r}."
    assert client.get("/api/v1/jobs", headers=bob).get_json()["total"] == 0
    assert client.get("/api/v1/jobs", headers=ada).get_json()["total"] == 1


def sse_lines(response):
    """Decoded lines of a streamed test-client response."""
    buffer = ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        *lines, buffer = buffer.split("\n")
        yield from lines


def test_the_job_stream_sends_each_change_and_ends_after_the_final_state(app, client):
    import json

    GATES["stream"] = threading.Event()
    with app.app_context():
        job_id = jobs.submit("test_gate", {"gate": "stream"}, local_user()).id
    response = client.get(f"/api/v1/jobs/{job_id}/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    lines = sse_lines(response)
    event, data = read_sse(lines)
    assert event == "job" and json.loads(data)["state"] in ("queued", "running")
    GATES["stream"].set()
    states = []
    while True:
        event, data = read_sse(lines)
        if event is None:
            break
        states.append(json.loads(data)["state"])
    response.close()
    assert states[-1] == "done"
    assert len(states) <= 3  # running (maybe), done; then the stream ends by itself


def test_an_idle_job_stream_sends_heartbeat_comments(make_app):
    app = make_app(SSE_HEARTBEAT_SECONDS=0.1)
    client = app.test_client()
    GATES["idle"] = threading.Event()
    with app.app_context():
        job_id = jobs.submit("test_gate", {"gate": "idle"}, local_user()).id
    response = client.get(f"/api/v1/jobs/{job_id}/events", buffered=False)
    lines = sse_lines(response)
    comments = [line for _, line in zip(range(12), lines, strict=False) if line.startswith(":")]
    GATES["idle"].set()
    response.close()
    assert comments and all(c == ": keep-alive" for c in comments)


def test_user_events_carry_publish_change_and_clean_up(app, client):
    import json

    with app.app_context():
        owner = local_user().id
    broker = events.broker(app)
    response = client.get("/api/v1/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    lines = sse_lines(response)
    assert next(lines) == "retry: 3000"
    assert broker.subscriber_count() == 1

    def publish_soon():
        with app.app_context():
            events.publish_change(owner, "datasets", "ds1")

    threading.Timer(0.1, publish_soon).start()
    assert read_sse(lines) == ("change", json.dumps({"what": "datasets", "id": "ds1"},
                                                    separators=(",", ":")))
    response.close()
    assert broker.subscriber_count() == 0


def test_the_openapi_document_describes_the_job_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/jobs"]) >= {"get", "post"}
    assert set(paths["/api/v1/jobs/{job_id}"]) >= {"get", "delete"}
    stream = paths["/api/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]
    assert "text/event-stream" in stream["content"]
    assert "202" in paths["/api/v1/jobs"]["post"]["responses"]
    assert "409" in paths["/api/v1/jobs/{job_id}"]["delete"]["responses"]
    job = spec["components"]["schemas"]["JobOut"]
    assert set(job["required"]) >= {"id", "kind", "state", "progress", "message", "result",
                                    "error"}
    assert job["properties"]["state"]["enum"] == ["queued", "running", "done", "failed",
                                                  "cancelled"]


def test_jobs_pages_render_and_link(client, basket):
    job = client.post("/api/v1/jobs", json=job_body(basket)).get_json()
    wait_done(client, job["id"])
    library = client.get("/jobs").get_data(as_text=True)
    assert f'/jobs/{job["id"]}' in library and "Price index" in library
    detail = client.get(f"/jobs/{job['id']}").get_data(as_text=True)
    assert f"{hand_indices()['laspeyres']:.4f}" in detail
    assert 'data-state="done"' in detail
    form = client.get(f"/jobs/price-index?dataset={basket['id']}").get_data(as_text=True)
    for column in ("p0", "q0", "p1", "q1"):
        assert f'<option value="{column}" selected>' in form
    assert '<option value="item"' not in form  # text columns are not offered


def test_the_form_starts_a_job_without_javascript(client, basket):
    response = client.post("/jobs/price-index", data=job_body(basket))
    assert response.status_code == 302
    job_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert wait_done(client, job_id)["state"] == "done"
