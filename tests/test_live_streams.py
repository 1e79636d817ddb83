"""The live chart's WebSocket and SSE streams over real HTTP, and no thread left behind when a
client goes away mid-stream (a closed browser tab)."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import socket
import threading
import time
from urllib.parse import urlencode

import openpyxl
import pytest
import requests
import simple_websocket

import jobs
from jobs import events
from store.db import db
from tests.conftest import DATA, LiveServer
from tests.stack_fixtures import GATES, make_app_stopping_jobs, read_sse, wait_for  # noqa: F401
from web.auth import local_user


@functools.cache
def hpi_series(country: str) -> tuple[list[str], list[float]]:
    """The HPI sheet read cell by cell: quarters "1975:Q1" in column A, countries in row 1."""
    book = openpyxl.load_workbook(DATA / "2020Q1.xlsx", read_only=True, data_only=True)
    rows = list(book["HPI"].iter_rows(values_only=True))
    book.close()
    col = list(rows[0]).index(country)
    quarters = [(r[0], r[col]) for r in rows if isinstance(r[0], str)
                and re.fullmatch(r"\d{4}:Q[1-4]", r[0])]
    return [q.replace(":", "") for q, _ in quarters], [float(v) for _, v in quarters]


@pytest.fixture
def server(make_app):
    live = LiveServer(make_app(SSE_HEARTBEAT_SECONDS=0.2)).start()
    yield live
    live.stop()


@pytest.fixture
def hpi(server) -> str:
    with open(DATA / "2020Q1.xlsx", "rb") as handle:
        response = requests.post(server.url + "/api/v1/datasets",
                                 files={"file": ("2020Q1.xlsx", handle)}, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def query(dataset: str, **more) -> str:
    return urlencode({"dataset": dataset, "sheet": "HPI", "column": "Australia",
                      "interval": 0, **more})


def test_the_websocket_streams_every_point_of_the_series(server, hpi):
    labels, values = hpi_series("Australia")
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/ws/live?{query(hpi)}")
    messages = []
    try:
        while not messages or messages[-1]["type"] != "end":
            messages.append(json.loads(ws.receive(timeout=10)))
    finally:
        with contextlib.suppress(simple_websocket.ConnectionClosed):  # the server closed first
            ws.close()
    meta, points, end = messages[0], messages[1:-1], messages[-1]
    assert meta == {"type": "meta", "dataset": hpi, "sheet": "HPI", "column": "Australia",
                    "n": len(values)}
    assert [p["x"] for p in points] == labels
    assert [p["y"] for p in points] == pytest.approx(values, rel=1e-12)
    assert [p["i"] for p in points] == list(range(len(values)))
    assert end == {"type": "end", "n": len(values)}


def test_sse_streams_the_same_series(server, hpi):
    labels, values = hpi_series("Australia")
    response = requests.get(f"{server.url}/live/stream?{query(hpi)}", stream=True, timeout=10)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    lines = response.iter_lines(decode_unicode=True)
    received = []
    while True:
        event, data = read_sse(lines)
        if event is None:
            break
        received.append((event, json.loads(data)))
    assert received[0] == ("meta", {"dataset": hpi, "sheet": "HPI", "column": "Australia",
                                    "n": len(values)})
    assert [d["x"] for e, d in received if e == "point"] == labels
    assert [d["y"] for e, d in received if e == "point"] == pytest.approx(values, rel=1e-12)
    assert received[-1] == ("end", {"n": len(values)})


@pytest.mark.parametrize("params, message", [
    ({"column": "Atlantis"}, "Sheet 'HPI' has no column 'Atlantis'."),
    ({"interval": "fast"}, "The interval is a whole number of milliseconds."),
])
def test_bad_stream_requests_are_refused_before_streaming(server, hpi, params, message):
    response = requests.get(f"{server.url}/live/stream?{query(hpi, **params)}", timeout=10,
                            headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    refused = websocket_handshake(server, query(hpi, **params))
    assert refused.status_code == 400
    assert message in refused.json()["error"]["message"]


def websocket_handshake(server, params: str, **headers) -> requests.Response:
    """A WebSocket opening handshake sent by hand, to read a refusal's HTTP answer."""
    return requests.get(f"{server.url}/ws/live?{params}", timeout=10, headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Accept": "application/json",
        **headers})


def test_a_websocket_from_another_site_is_refused(server, hpi):
    refused = websocket_handshake(server, query(hpi), Origin="http://evil.example")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "WebSockets are accepted from this site's own pages only.")
    same_site = websocket_handshake(server, query(hpi), Origin=server.url)
    assert same_site.status_code == 101
    same_site.close()


def _open_raw(server, path: str) -> socket.socket:
    """A client that reads the response head and first bytes, then can vanish abruptly."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return sock


def test_clients_that_vanish_mid_stream_leave_no_thread_behind(server, hpi):
    app = server.app
    broker = events.broker(app)
    GATES["leak"] = threading.Event()
    with app.app_context():
        job_id = jobs.submit("test_gate", {"gate": "leak"}, local_user()).id
    # Warm up: one of each, fully read, so lazily started threads already exist.
    requests.get(f"{server.url}/live/stream?{query(hpi)}", timeout=10).close()
    wait_for(lambda: broker.subscriber_count() == 0, 5, "warm-up streams to end")
    time.sleep(0.3)
    before = threading.active_count()

    clients = [_open_raw(server, f"/live/stream?{query(hpi, interval=100)}") for _ in range(3)]
    clients += [_open_raw(server, f"/api/v1/jobs/{job_id}/events") for _ in range(3)]
    clients += [_open_raw(server, "/api/v1/events") for _ in range(3)]
    sockets = [simple_websocket.Client.connect(
        f"ws://127.0.0.1:{server.port}/ws/live?{query(hpi, interval=100)}") for _ in range(3)]
    for ws in sockets:
        assert json.loads(ws.receive(timeout=10))["type"] == "meta"
    wait_for(lambda: broker.subscriber_count() == 6, 5, "six subscriptions")
    assert threading.active_count() >= before + 12  # a server thread per client at least

    for sock in clients:
        sock.close()  # no goodbye: the tab is gone
    for ws in sockets:
        ws.sock.close()
    wait_for(lambda: broker.subscriber_count() == 0, 10, "subscriptions to be closed")
    wait_for(lambda: threading.active_count() <= before, 10,
             f"threads to end ({threading.active_count()} alive, {before} before)")
    GATES["leak"].set()


def test_the_live_page_offers_numeric_columns_only(server, hpi):
    html = requests.get(f"{server.url}/live?dataset={hpi}", timeout=10).text
    assert '<option value="HPI" selected>' in html
    assert '<option value="Australia" selected>' in html
    assert 'data-ws-path="' in html and 'data-sse-path="/live/stream"' in html
    housing = requests.post(server.url + "/api/v1/datasets", timeout=60, files={
        "file": ("h.csv", (DATA / "HousingPreferences.csv").read_bytes())}).json()
    page = requests.get(f"{server.url}/live?dataset={housing['id']}", timeout=10).text
    assert '<option value="Price" selected>' in page
    assert 'value="FurnishingStatus"' not in page


def test_open_streams_hold_no_database_connection(server, hpi):
    """Streams last as long as a page stays open: one holding a database connection would
    let a few dozen open pages exhaust PostgreSQL's pool."""
    app = server.app
    GATES["hold"] = threading.Event()
    with app.app_context():
        job_id = jobs.submit("test_gate", {"gate": "hold"}, local_user()).id
        pool = db.engine.pool
        idle = pool.checkedout()
    clients = [_open_raw(server, "/api/v1/events") for _ in range(3)]
    clients += [_open_raw(server, f"/api/v1/jobs/{job_id}/events") for _ in range(3)]
    clients += [_open_raw(server, f"/live/stream?{query(hpi, interval=100)}") for _ in range(3)]
    try:
        wait_for(lambda: events.broker(app).subscriber_count() == 6, 5, "six subscriptions")
        time.sleep(0.5)  # a few heartbeats and polls of the job row
        assert pool.checkedout() <= min(idle, 1), pool.status()  # the gated job's, at most
    finally:
        for sock in clients:
            sock.close()
        GATES["hold"].set()
