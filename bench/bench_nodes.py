"""Two app nodes under load (issue 16): `.venv/bin/python -m bench nodes`.

scripts/stack.py's distributed stack: SeaweedFS, a private Redis, a Celery worker and two
gunicorn app nodes with two workers each, every node with its own empty directory, on the
PostgreSQL database of BENCH_POSTGRES_URL, a scratch database that the bench EMPTIES first (its
rows would name objects of an earlier run's object store). 50 concurrent users of mixed cached
work (bench/load.py, the load generator of bench_first_contact) for BENCH_LOAD_SECONDS (60, the
issue's minute): a dataset's JSON, a cached describe of 2020Q1's HPI, a saved chart's PNG, an
equation, a dataset page and /healthz, each user's rounds alternating between the two nodes as a
round-robin load balancer would. Prints p50 and p95 latency (target ≤ 250 ms), throughput and
errors (target 0), and the memory of the nodes.

How it is measured on 2 cores: everything shares the one machine. The load generator (50
threads in this one Python process), the two nodes' four gunicorn workers, the Celery worker,
SeaweedFS, Redis and PostgreSQL all run on the same two cores, so every latency includes the
time a request waited for the load generator's own CPU. The generator's CPU time is printed
next to the figures (its share of the machine): the result is a pessimistic bound for two
2-core nodes, which would have both cores to themselves. The data is read from the object
store once per node (the warm-up round), then served from each node's cache, as in production
after the first request.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.load import cached_urls, load, memory_mb, ok

USERS = 50
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
APP_WORKERS = 2
P95_TARGET_MS = 250.0


def empty(url: str) -> None:
    """Drop every table of the scratch database (scripts/stack.py migrates it again)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    from scripts.stack import DistributedStack, StackError

    database = os.environ.get("BENCH_POSTGRES_URL")
    workdir = Path(tempfile.mkdtemp(prefix="quartile-bench-nodes-"))
    try:
        stack = DistributedStack(workdir, database, app_workers=APP_WORKERS,
                                 settings={"QUARTILE_AUTH": "off",
                                           "QUARTILE_LOG_LEVEL": "WARNING"})
    except StackError:
        print("bench_nodes: not run. Set BENCH_POSTGRES_URL to a scratch PostgreSQL database "
              "(it is emptied), e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench")
        return
    empty(database)
    started = time.perf_counter()
    try:
        stack.start()
        ready_s = time.perf_counter() - started
        bases = [node.url for node in stack.nodes]
        session = requests.Session()
        urls = cached_urls(session, bases[0])
        for method, url, body in urls:  # node B reads the objects once into its cache
            ok(session.request(method, bases[1] + url, json=body))
        pids = [node.process.pid for node in stack.nodes]
        idle_rss, idle_pss = memory_mb(pids)
        cpu_before = time.process_time()
        result = load(bases, urls, LOAD_SECONDS, pids, USERS)
        generator_cpu = time.process_time() - cpu_before
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    cores = os.cpu_count() or 1
    p95_ok = "yes" if result["p95"] <= P95_TARGET_MS else "NO"
    print(f"2 app nodes x {APP_WORKERS} gunicorn workers, Celery worker, SeaweedFS, Redis and "
          f"PostgreSQL on {cores} cores; up and warm {ready_s:.1f} s after start")
    print(f"{USERS} users, mixed cached work, round-robin over both nodes, {LOAD_SECONDS:g} s: "
          f"{result['requests']} requests, {result['rps']:.0f}/s, p50 {result['p50']:.0f} ms, "
          f"p95 {result['p95']:.0f} ms (target ≤ {P95_TARGET_MS:g}: {p95_ok}), "
          f"errors {result['errors']} (target 0)")
    for kind, count in result["error_kinds"].items():
        print(f"  error: {kind} x{count}")
    print(f"the load generator itself used {generator_cpu:.1f} s of CPU in "
          f"{LOAD_SECONDS:g} s ({100 * generator_cpu / (LOAD_SECONDS * cores):.0f}% of the "
          f"machine), taken from the nodes")
    print(f"memory of both nodes: idle RSS {idle_rss:.0f} MB / PSS {idle_pss:.0f} MB; peak under "
          f"load RSS {result['peak_rss']:.0f} MB / PSS {result['peak_pss']:.0f} MB")
    print("the machine is shared: figures are indicative")
    print(json.dumps({"ready_s": ready_s, "generator_cpu_s": generator_cpu, "idle_rss": idle_rss,
                      "idle_pss": idle_pss, **result}, default=float))


if __name__ == "__main__":
    main()
