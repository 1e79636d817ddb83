"""Equations with the solver pool warm: `.venv/bin/python -m bench.bench_equations`.

Targets (issue 8, through HTTP): the book's two systems p95 ≤ 150 ms; a hostile input rejected
by the parser ≤ 50 ms; 1,000 mixed requests with no worker memory leak. Here the pool path is
measured directly (the web layer adds its own overhead on top, so the aim is p95 ≤ 80 ms), then
the same two cases once more through the Flask test client. The "ok" column compares p95.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import psutil

from analysis.equations.parser import check
from bench.table import print_table, row, timings
from errors import QuartileError
from solver import service

SYSTEMS = [["5*x-3*y-9", "15*x+3*y+12"], ["x**2-10*y+10", "10*x+5*y-3"]]
HOSTILE = [
    "__import__('os').system('id')",
    "9**9**9**9",
    "(" * 1000 + "x" + ")" * 1000,
    "x.__class__",
    "lambda: 1",
    "factorial(10**10)",
    "x" * 1_000_000,
]
MIXED = [
    lambda: service.solve_equations(SYSTEMS[0]),
    lambda: service.solve_equations(SYSTEMS[1]),
    lambda: service.solve_equations(["x^2 + 1 = 0"], domain="complex"),
    lambda: service.evaluate_expression("sin(x)^2 + y", {"x": 1, "y": 2.5}),
    lambda: service.transform_expression("differentiate", "x^3 exp(x)"),
    lambda: service.transform_expression("integrate", "x sin(x)"),
    lambda: service.numeric_solve(["cos(x) = x"], None, {"x": 1}),
    lambda: service.solve_equations([random.choice(HOSTILE)]),  # refused by the parser
    lambda: service.evaluate_expression("x/0", {}),  # refused by the worker's exact checks
    lambda: service.plot_equations(["x^2", "2x + 1"], [-3, 3], 400, 300),
]


def p95_row(name: str, ms: list[float], target: float | None) -> tuple:
    name, median, p95, target, _ = row(name, ms, target)
    ok = "" if target is None else ("yes" if p95 <= target else "NO")
    return name, median, p95, target, ok


def worker_rss_mb() -> dict[int, float]:
    return {
        pid: psutil.Process(pid).memory_info().rss / 2**20 for pid in service.POOL.worker_pids()
    }


def wait_for_idle_workers(size: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(service.POOL.worker_pids()) < size and time.monotonic() < deadline:
        time.sleep(0.05)


def call(fn) -> None:
    try:
        fn()
    except QuartileError:
        pass  # hostile inputs are refused: that is the point


def pool_rows() -> list[tuple]:
    service.POOL.start()
    wait_for_idle_workers(service.POOL.size)
    rows = []
    for n, system in enumerate(SYSTEMS, start=1):
        ms = timings(lambda s=system: service.solve_equations(s), repeat=100, warmup=5)
        rows.append(p95_row(f"book system {n} (pool, warm)", ms, 80))
    parser_ms = timings(lambda: call(lambda: check(random.choice(HOSTILE))), repeat=500)
    rows.append(p95_row("hostile input refused by the parser", parser_ms, 50))
    entry_ms = timings(
        lambda: call(lambda: service.solve_equations([random.choice(HOSTILE)])), repeat=500
    )
    rows.append(p95_row("hostile input via solve_equations", entry_ms, 50))

    for i in range(200):  # fill sympy's and matplotlib's caches first: growth there is no leak
        call(MIXED[i % len(MIXED)])
    wait_for_idle_workers(service.POOL.size)
    before, replaced = worker_rss_mb(), service.POOL.replaced
    ms = []
    for i in range(1000):
        task = MIXED[i % len(MIXED)]
        ms.extend(timings(lambda f=task: call(f), repeat=1, warmup=0))
    wait_for_idle_workers(service.POOL.size)
    after = worker_rss_mb()
    rows.append(p95_row("1,000 mixed requests (per request)", ms, None))
    print_table(rows)
    print(
        f"hostile refusals in µs, median/max: parser {_us(parser_ms)}, "
        f"solve_equations {_us(entry_ms)}"
    )
    print(
        "solver workers' RSS (MB) after 200 warm-up requests → after 1,000 more: "
        + ", ".join(
            f"pid {pid}: {before[pid]:.0f} → {after.get(pid, float('nan')):.0f}"
            for pid in sorted(before)
        )
        + f"; workers replaced meanwhile: {service.POOL.replaced - replaced}"
    )
    return rows


def _us(ms: list[float]) -> str:
    ordered = sorted(ms)
    return f"{ordered[len(ordered) // 2] * 1000:.0f}/{ordered[-1] * 1000:.0f}"


def http_rows() -> list[tuple]:
    from app import create_app
    from config import Config

    files = Path(tempfile.mkdtemp(prefix="bench-equations-"))
    app = create_app(
        Config(
            FILES_DIR=files,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{files / 'bench.sqlite3'}",
            AUTH="off",
            TESTING=True,
            LOG_LEVEL="WARNING",
        )
    )
    client = app.test_client()
    rows = []
    for n, system in enumerate(SYSTEMS, start=1):
        ms = timings(
            lambda s=system: client.post("/api/v1/equations/solve", json={"equations": s}),
            repeat=100,
            warmup=5,
        )
        rows.append(p95_row(f"book system {n} (HTTP test client, warm)", ms, 150))
    ms = timings(
        lambda: client.post(
            "/api/v1/equations/solve", json={"equations": [random.choice(HOSTILE)]}
        ),
        repeat=200,
    )
    rows.append(p95_row("hostile input refused (HTTP test client)", ms, 50))
    for chosen in ("png", "plotly", "bokeh"):  # the book's nonlinear system, plotted
        body = {"equations": SYSTEMS[1], "x_range": [-25, 5], "format": chosen}
        ms = timings(lambda b=body: client.post("/api/v1/equations/plot", json=b), repeat=30,
                     warmup=3)
        rows.append(p95_row(f"plot book system 2 as {chosen} (HTTP)", ms, None))
    print_table(rows)
    return rows


def main() -> None:
    pool_rows()
    print()
    http_rows()


if __name__ == "__main__":
    main()
