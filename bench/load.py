"""The load generator of the HTTP benches: concurrent users of mixed cached work.

Each user is a thread (spread over a few client processes) with its own keep-alive connection
to each node, cycling through the same request mix (dataset JSON, a cached analysis, a saved
chart's PNG, an equation, a dataset page, /healthz) as fast as the answers come. With several
base URLs, each user sends a round of the mix to one node, the next round to the next: what a
round-robin load balancer does. Used by bench_first_contact (one server) and bench_nodes (two
app nodes).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
HOUSING = (DATA / "HousingPreferences.csv").read_bytes()
WORKBOOK = (DATA / "2020Q1.xlsx").read_bytes()
SCATTER = {"kind": "scatter", "x": "Area", "y": ["Price"], "options": {"fit": True}}


def ok(response: requests.Response, *statuses: int) -> requests.Response:
    assert response.status_code in (statuses or (200,)), response.text[:300]
    return response


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(RSS summed, PSS summed) in MB over the processes and all their descendants."""
    rss = pss = 0
    for pid in pids:
        try:
            top = psutil.Process(pid)
            processes = [top, *top.children(recursive=True)]
        except psutil.Error:
            continue
        for process in processes:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss / 2**20, pss / 2**20


def cached_urls(session, base: str) -> list[tuple[str, str, dict | None]]:
    """Upload the data through `base`, save a chart, and request each URL of the mix once (so
    the load is cached work on that node; other nodes fill their caches in the first round)."""
    def upload(content: bytes, name: str) -> str:
        answer = session.post(f"{base}/api/v1/datasets", files={"file": (name, content)})
        return ok(answer, 200, 201).json()["id"]  # 200: these bytes were uploaded before

    dataset = upload(HOUSING, "HousingPreferences.csv")
    workbook = upload(WORKBOOK, "2020Q1.xlsx")
    saved = ok(session.post(f"{base}/api/v1/charts", json={
        "dataset": dataset, "sheet": "HousingPreferences", **SCATTER}), 201).json()["id"]
    urls = [("GET", f"/api/v1/datasets/{dataset}", None),
            ("POST", f"/api/v1/datasets/{workbook}/analyses/describe", {"sheet": "HPI"}),
            ("GET", f"/api/v1/charts/{saved}.png", None),
            ("POST", "/api/v1/equations/solve", {"equations": ["5*x-3*y-9", "15*x+3*y+12"]}),
            ("GET", f"/datasets/{dataset}", None),
            ("GET", "/healthz", None)]
    for method, url, body in urls:
        ok(session.request(method, base + url, json=body))
    return urls


def load(bases: list[str], urls, seconds: float, pids: list[int], users: int = 50,
         processes: int | None = None) -> dict:
    """`users` concurrent users for `seconds`: requests, errors (not 200, or no answer),
    throughput, p50 and p95 latency in ms, and the peak memory of `pids` and their children.

    The users are threads spread over `processes` client processes (one per core by default),
    each with a plain keep-alive `http.client` connection per node: the generator shares the
    cores with the server, and fifty threads of `requests` in one interpreter spent more CPU,
    and waited longer for their own GIL, than the server took to answer (which inflated the
    latencies it measured). BENCH_LOAD_CLIENT=requests measures the old way, for comparison.
    """
    processes = processes or int(os.environ.get("BENCH_LOAD_PROCESSES") or os.cpu_count() or 1)
    deadline = time.monotonic() + seconds
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    groups = [list(range(users))[i::processes] for i in range(processes)]
    clients = [context.Process(target=_client_process, args=(bases, urls, deadline, group,
                                                             results)) for group in groups]
    peak = [0.0, 0.0]
    began = time.monotonic()
    for client in clients:
        client.start()
    while time.monotonic() < deadline:
        rss, pss = memory_mb(pids)
        peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        time.sleep(0.5)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    for _ in clients:
        mine, theirs = results.get(timeout=seconds + 60)
        latencies.extend(mine)
        errors.update(theirs)
    for client in clients:
        client.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {"requests": len(ordered), "errors": sum(errors.values()),
            "error_kinds": dict(errors), "rps": len(ordered) / elapsed,
            "p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "peak_rss": peak[0], "peak_pss": peak[1]}


def _client_process(bases: list[str], urls, deadline: float, group: list[int],
                    results) -> None:
    """One client process: a thread per user of `group`; puts (latencies, errors) when done."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    send = _requests_user if os.environ.get("BENCH_LOAD_CLIENT") == "requests" else _plain_user

    def user(k: int) -> None:
        mine, failed = send(bases, urls, deadline, k)
        with lock:
            latencies.extend(mine)
            errors.update(failed)

    threads = [threading.Thread(target=user, args=(k,)) for k in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, errors))


def _mix(bases: list[str], urls, k: int):
    """The user's endless sequence of (node index, method, url, body): round after round of the
    mix, each round on the next node (what a round-robin load balancer does)."""
    n = k
    while True:
        method, url, body = urls[n % len(urls)]
        yield (k + n // len(urls)) % len(bases), method, url, body
        n += 1


def _plain_user(bases: list[str], urls, deadline: float, k: int):
    """One user on plain keep-alive connections (reopened when the server closes one)."""
    targets = [urlsplit(base) for base in bases]
    connections: list[http.client.HTTPConnection | None] = [None] * len(bases)
    mine: list[float] = []
    failed: Counter[str] = Counter()
    for node, method, url, body in _mix(bases, urls, k):
        if time.monotonic() >= deadline:
            break
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        began = time.perf_counter()
        try:
            if connections[node] is None:
                connections[node] = http.client.HTTPConnection(
                    targets[node].hostname, targets[node].port, timeout=30)
            connections[node].request(method, targets[node].path + url, payload, headers)
            response = connections[node].getresponse()
            response.read()
            status = response.status
            if response.will_close:
                connections[node].close()
                connections[node] = None
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            connections[node].close()
            connections[node] = None
        mine.append((time.perf_counter() - began) * 1000)
        if status != 200:
            failed[f"{method} {bases[node]}{url}: {status}"] += 1
    return mine, failed


def _requests_user(bases: list[str], urls, deadline: float, k: int):
    """One user with a `requests` session per node (the generator before stop 16)."""
    sessions = [requests.Session() for _ in bases]
    mine: list[float] = []
    failed: Counter[str] = Counter()
    for node, method, url, body in _mix(bases, urls, k):
        if time.monotonic() >= deadline:
            break
        began = time.perf_counter()
        try:
            status = sessions[node].request(method, bases[node] + url, json=body,
                                            timeout=30).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        mine.append((time.perf_counter() - began) * 1000)
        if status != 200:
            failed[f"{method} {bases[node]}{url}: {status}"] += 1
    return mine, failed
