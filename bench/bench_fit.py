"""Fitting models to data with the solver pool warm: `.venv/bin/python -m bench.bench_fit`.

Targets (issue 18, through HTTP with the Flask test client): a 2-parameter exponential on the
181 quarters of US house prices ≤ 100 ms; a 9-parameter model (three Gaussian peaks) on 1,000
points ≤ 1 s; a fit with a solve and a PNG plot ≤ 300 ms. Then the correct significant digits
(LRE) of every NIST StRD problem in tests/data/nist_nls/, from both published start vectors.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.table import print_table, row, timings
from solver import service
from solver.fit_input import fit_sheet
from tests.nist_nls import MODELS, lre, read_problem

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PEAKS = "y = a1*exp(-(x-m1)^2/s1^2) + a2*exp(-(x-m2)^2/s2^2) + a3*exp(-(x-m3)^2/s3^2)"
TRUTH = {"a1": 5.0, "m1": 2.0, "s1": 0.6, "a2": 3.0, "m2": 5.0, "s2": 1.2, "a3": 4.0,
         "m3": 8.0, "s3": 0.8}


def peaks_csv() -> bytes:
    """1,000 points of three Gaussian peaks with noise (seeded)."""
    rng = np.random.default_rng(18)
    x = np.linspace(0, 10, 1000)
    t = TRUTH
    y = sum(t[f"a{k}"] * np.exp(-((x - t[f"m{k}"]) ** 2) / t[f"s{k}"] ** 2) for k in (1, 2, 3))
    frame = pd.DataFrame({"x": x, "y": y + rng.normal(0, 0.1, x.size)})
    return frame.to_csv(index=False).encode()


def http_rows() -> list[tuple]:
    from app import create_app
    from config import Config

    files = Path(tempfile.mkdtemp(prefix="bench-fit-"))
    app = create_app(Config(FILES_DIR=files, SQLALCHEMY_DATABASE_URI=f"sqlite:///{files / 'b.db'}",
                            AUTH="off", TESTING=True, LOG_LEVEL="WARNING"))
    client = app.test_client()
    service.POOL.start()

    def upload(content: bytes, name: str) -> str:
        response = client.post("/api/v1/datasets", data={"file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        return response.get_json()["id"]

    hpi = upload((DATA / "2020Q1.xlsx").read_bytes(), "2020Q1.xlsx")
    peaks = upload(peaks_csv(), "peaks.csv")

    def post(dataset: str, **body):
        response = client.post(f"/api/v1/datasets/{dataset}/analyses/fit", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    start = {k: v * 1.1 for k, v in TRUTH.items()}
    cases = [
        ("exponential, 2 parameters, 181 points (HTTP)", 100,
         lambda: post(hpi, sheet="HPI", model="US = a*exp(b*t)"), 50),
        ("3 Gaussian peaks, 9 parameters, 1,000 points (HTTP)", 1000,
         lambda: post(peaks, sheet="peaks", model=PEAKS, start=start), 10),
        ("exponential + solve + PNG plot (HTTP)", 300,
         lambda: post(hpi, sheet="HPI", model="US = a*exp(b*t)", solve="US = 2*US(2000Q1)",
                      plot="png"), 30),
    ]
    rows = [row(name, timings(fn, repeat=repeat, warmup=3), target)
            for name, target, fn, repeat in cases]
    print_table(rows)
    return rows


def nist_table() -> None:
    print(f"\n{'NIST StRD problem':<12} {'start':>5} {'LRE estimates':>14} {'LRE s.e.':>9} "
          f"{'evaluations':>12}")
    for name in MODELS:
        problem = read_problem(name)
        frame = pd.DataFrame({"x": problem.x, "y": problem.y})
        for k in (0, 1):
            body = {"model": problem.model,
                    "start": dict(zip(problem.names, problem.starts[k], strict=True))}
            result, _ = fit_sheet(frame, name, body)
            got = result["parameters"]
            est = min(lre(p["estimate"], c) for p, c in zip(got, problem.certified, strict=True))
            se = min(lre(p["std_error"], c)
                     for p, c in zip(got, problem.certified_se, strict=True))
            print(f"{name:<12} {k + 1:>5} {est:>14.1f} {se:>9.1f} {result['evaluations']:>12}")


def main() -> None:
    http_rows()
    nist_table()


if __name__ == "__main__":
    main()
