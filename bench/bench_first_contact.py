"""First contact (issue 19): `make run` as a user meets it, over HTTP on loopback.

`.venv/bin/python -m bench first_contact` (BENCH_LOAD_SECONDS=60 for the issue's full minute;
20 s by default). Starts gunicorn with gunicorn.conf.py's defaults (one worker per core, warm
start, embedded jobs, events through the database) on a scratch files dir, then measures:

- start-up until every worker says `"ready": true`;
- the first request of each kind after that against its warm median (target ≤ 1.5×), each on
  a fresh upload (the dataset is deleted after each round, so nothing is cached);
- the small-file path: HousingPreferences.csv upload (server time, from Server-Timing), upload +
  FurnishingStatus pie PNG, upload + Price ~ Area scatter with fit line (end to end);
- 50 concurrent users of mixed cached work: p95, throughput, errors;
- memory of the whole app (gunicorn master, workers, forkserver and sandbox pools): RSS summed,
  and PSS (shared pages counted once), idle once warm and peak under load.

Side by side with the book's ch06 reference app: `bench_reference`. The machine is shared:
figures are indicative.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench.load import HOUSING, SCATTER, cached_urls, load, memory_mb, ok
from bench.table import print_table, row

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "5109"))
BASE = f"http://127.0.0.1:{PORT}"
ROUNDS = 10
USERS = 50
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))


# -- the server ------------------------------------------------------------------------------
def start_server(files: Path, port: int = PORT) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTILE_")}
    env.update({"QUARTILE_FILES_DIR": str(files), "QUARTILE_AUTH": "off",
                "QUARTILE_BIND": f"127.0.0.1:{port}", "QUARTILE_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def stop_server(server: subprocess.Popen) -> None:
    """SIGINT to the whole process group (a quick shutdown), SIGKILL if it lingers."""
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def wait_ready(timeout: float = 300, base: str = BASE) -> float:
    """Seconds until /healthz says ready on 8 fresh connections in a row (every worker)."""
    started, in_a_row = time.perf_counter(), 0
    while in_a_row < 8:
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the server did not become ready")
        try:
            ready = requests.get(f"{base}/healthz", timeout=5).json()["ready"]
        except (requests.RequestException, ValueError):
            ready = False
        in_a_row = in_a_row + 1 if ready else 0
        time.sleep(0.05 if ready else 0.2)
    return time.perf_counter() - started


# -- the jobs --------------------------------------------------------------------------------
def server_ms(response: requests.Response) -> float:
    return float(response.headers["Server-Timing"].split("dur=")[1])


def upload(session, content: bytes, name: str) -> requests.Response:
    return ok(session.post(f"{BASE}/api/v1/datasets", files={"file": (name, content)}), 201)


def delete(session, dataset_id: str) -> None:
    """Delete for good: a delete only moves to the trash, and the same bytes uploaded again
    would come back from there instead of being parsed afresh."""
    ok(session.delete(f"{BASE}/api/v1/datasets/{dataset_id}"), 200, 204)
    ok(session.post(f"{BASE}/api/v1/trash/empty"), 200, 204)


def chart(session, dataset_id: str, body: dict) -> requests.Response:
    response = session.post(f"{BASE}/api/v1/charts/preview?format=png",
                            json={"dataset": dataset_id, "sheet": "HousingPreferences", **body})
    return ok(response)


PIE = {"kind": "pie", "x": "FurnishingStatus"}


def job_upload(session, n: int) -> float:
    response = upload(session, HOUSING, "HousingPreferences.csv")
    delete(session, response.json()["id"])
    return server_ms(response)


def job_upload_and(body: dict):
    def run(session, n: int) -> float:
        began = time.perf_counter()
        dataset = upload(session, HOUSING, "HousingPreferences.csv").json()["id"]
        assert chart(session, dataset, body).content[:4] == b"\x89PNG"
        elapsed = (time.perf_counter() - began) * 1000
        delete(session, dataset)
        return elapsed
    return run


def job_equation(session, n: int) -> float:
    began = time.perf_counter()
    ok(session.post(f"{BASE}/api/v1/equations/solve",
                    json={"equations": [f"x**2 - {n + 2}*x + 1"]}))
    return (time.perf_counter() - began) * 1000


def job_describe(session, n: int) -> float:
    """An analysis: describe the sheet of a fresh upload (timed: the analysis request alone).
    Trailing blank lines make each round's bytes, and so its cached results, new."""
    content = HOUSING + b"\n" * (n + 1)
    dataset = upload(session, content, "HousingPreferences.csv").json()["id"]
    began = time.perf_counter()
    ok(session.post(f"{BASE}/api/v1/datasets/{dataset}/analyses/describe",
                    json={"sheet": "HousingPreferences"}))
    elapsed = (time.perf_counter() - began) * 1000
    delete(session, dataset)
    return elapsed


KINDS = [
    ("upload HousingPreferences.csv (server time)", job_upload, 20),
    ("upload + FurnishingStatus pie PNG", job_upload_and(PIE), 45),
    ("upload + Price ~ Area scatter with fit PNG", job_upload_and(SCATTER), 60),
    ("solve x**2 - k*x + 1", job_equation, None),
    ("describe a fresh HousingPreferences.csv", job_describe, None),
]


def first_and_warm(session) -> list[tuple]:
    rows, ratios = [], []
    for name, job, target in KINDS:
        first = job(session, 0)
        warm = [job(session, n) for n in range(1, ROUNDS + 1)]
        rows.append(row(name, warm, target))
        ratio = first / statistics.median(warm)
        ratios.append((name, first, ratio))
    return rows, ratios


# -- main ------------------------------------------------------------------------------------
def main() -> None:
    files = Path(tempfile.mkdtemp(prefix="quartile-bench-"))
    server = start_server(files)
    try:
        ready_s = wait_ready()
        time.sleep(1.0)
        idle_rss, idle_pss = memory_mb([server.pid])
        session = requests.Session()
        # a browser's first page: with QUARTILE_AUTH=off this creates the local user (a password
        # hash, ~90 ms once per installation), which no upload should be charged for
        ok(session.get(f"{BASE}/api/v1/datasets"))
        rows, ratios = first_and_warm(session)
        urls = cached_urls(session, BASE)
        result = load([BASE], urls, LOAD_SECONDS, [server.pid], USERS)
    finally:
        stop_server(server)
        shutil.rmtree(files, ignore_errors=True)
    workers = os.cpu_count()
    print(f"gunicorn.conf.py defaults: {workers} workers; ready {ready_s:.1f} s after start")
    print_table(rows)
    print(f"\n{'first request after ready':<52} {'first ms':>10} {'x warm':>8} {'≤ 1.5':>6}")
    for name, first, ratio in ratios:
        print(f"{name:<52} {first:>10.1f} {ratio:>8.2f} {'yes' if ratio <= 1.5 else 'NO':>6}")
    print(f"\n{USERS} users, mixed cached work, {LOAD_SECONDS:g} s: {result['requests']} "
          f"requests, {result['rps']:.0f}/s (target ≥ 252), p50 {result['p50']:.0f} ms, "
          f"p95 {result['p95']:.0f} ms (target ≤ 200), errors {result['errors']}")
    print(f"memory, whole app: idle warm RSS {idle_rss:.0f} MB / PSS {idle_pss:.0f} MB "
          f"(target ≤ 700); peak under load RSS {result['peak_rss']:.0f} MB / "
          f"PSS {result['peak_pss']:.0f} MB")
    print("(Quartile alone; side by side with the book's app: -m bench reference. The machine "
          "is shared, so figures are indicative)")
    print(json.dumps({"ready_s": ready_s, "idle_rss": idle_rss, "idle_pss": idle_pss,
                      **result}, default=float))


if __name__ == "__main__":
    main()
