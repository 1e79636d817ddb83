"""The load generator of the HTTP benches: concurrent users of mixed cached work.

Each user is a thread with its own keep-alive session to each node, cycling through the same
request mix (dataset JSON, a cached analysis, a saved chart's PNG, an equation, a dataset page,
/healthz) as fast as the answers come. With several base URLs, each user sends a round of the
mix to one node, the next round to the next: what a round-robin load balancer does. Used by
bench_first_contact (one server) and bench_nodes (two app nodes).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from pathlib import Path

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


def load(bases: list[str], urls, seconds: float, pids: list[int], users: int = 50) -> dict:
    """`users` threads for `seconds`: requests, errors (not 200, or no answer), throughput,
    p50 and p95 latency in ms, and the peak memory of `pids` and their children."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()  # "<method> <url>: <status or exception>" → how many
    peak = [0.0, 0.0]
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def user(k: int) -> None:
        sessions, mine, n = [requests.Session() for _ in bases], [], k
        while time.perf_counter() < stop:
            method, url, body = urls[n % len(urls)]
            node = (k + n // len(urls)) % len(bases)
            n += 1
            began = time.perf_counter()
            try:
                status = sessions[node].request(method, bases[node] + url, json=body,
                                                timeout=30).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            mine.append((time.perf_counter() - began) * 1000)
            if status != 200:
                with lock:
                    errors[f"{method} {bases[node]}{url}: {status}"] += 1
        with lock:
            latencies.extend(mine)

    def sample() -> None:
        while time.perf_counter() < stop:
            rss, pss = memory_mb(pids)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.5)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    threads.append(threading.Thread(target=sample))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {"requests": len(ordered), "errors": sum(errors.values()),
            "error_kinds": dict(errors), "rps": len(ordered) / elapsed,
            "p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))],
            "peak_rss": peak[0], "peak_pss": peak[1]}
