"""Equations through the HTTP API with the solver pool warm.

Targets (issue 8): the book's two systems p95 ≤ 150 ms; a hostile input rejected by the parser
≤ 50 ms; 1,000 mixed requests with no worker memory leak (RSS before and after).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import psutil

from bench.table import print_table, row, timings

SYSTEMS = [["5*x-3*y-9", "15*x+3*y+12"], ["x**2-10*y+10", "10*x+5*y-3"]]
HOSTILE = ["__import__('os').system('id')", "9**9**9**9", "(" * 5000 + "x" + ")" * 5000,
           "x.__class__", "lambda: 1"]


def make_client():
    from app import create_app

    files = Path(tempfile.mkdtemp())
    app = create_app({"FILES_DIR": files, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files}/b.db",
                      "AUTH": "off", "TESTING": True})
    return app.test_client()


def worker_rss_mb() -> float:
    from analysis.equations.service import POOL

    return sum(psutil.Process(pid).memory_info().rss for pid in POOL.worker_pids()) / 2**20


def main() -> None:
    client = make_client()
    for system in SYSTEMS:  # warm the pool
        client.post("/api/v1/equations/solve", json={"equations": system})
    rows = []
    for n, system in enumerate(SYSTEMS, start=1):
        ms = timings(lambda s=system: client.post("/api/v1/equations/solve",
                                                  json={"equations": s}), repeat=60)
        rows.append(row(f"book system {n} (HTTP, warm)", ms, 150))
    ms = timings(lambda: client.post("/api/v1/equations/solve",
                                     json={"equations": [random.choice(HOSTILE)]}), repeat=200)
    rows.append(row("hostile input rejected by the parser (HTTP)", ms, 50))
    before = worker_rss_mb()
    mixed = [("solve", {"equations": ["x^2 - 4 = 0"]}),
             ("evaluate", {"expression": "sin(x)^2 + y", "values": {"x": 1, "y": 2}}),
             ("transform", {"action": "differentiate", "expression": "x^3 exp(x)"}),
             ("solve", {"equations": [random.choice(HOSTILE)]}),
             ("solve", {"equations": SYSTEMS[1]})]
    ms = []
    for i in range(1000):
        kind, body = mixed[i % len(mixed)]
        ms.extend(timings(lambda k=kind, b=body: client.post(f"/api/v1/equations/{k}", json=b),
                          repeat=1, warmup=0))
    after = worker_rss_mb()
    rows.append(row("1,000 mixed requests (per request)", ms, None))
    print_table(rows)
    print(f"solver workers' RSS: {before:.0f} MB before, {after:.0f} MB after 1,000 requests")


if __name__ == "__main__":
    main()
