"""Chart previews right after a fresh upload (issue 19): server time of the four requests.

`.venv/bin/python -m bench chart_preview` (BENCH_ROUNDS, default 20). Starts gunicorn as
`make run` does on a scratch files dir; each round uploads new bytes (the CSV with n trailing
blank lines, the workbook with a new zip comment: bench_reference's fresh_csv/fresh_xlsx), asks
for one preview and deletes the dataset for good, so the sheet is read from Parquet once and no
chart cache can hit. Server time from the Server-Timing header; one untimed round first.
Targets: pie PNG ≤ 15 ms, scatter with fit PNG ≤ 25 ms, 2×2 small multiples PNG ≤ 40 ms, Bokeh
line ≤ 20 ms. The machine is shared: figures are indicative.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import requests

from bench.bench_first_contact import server_ms, start_server, stop_server, wait_ready
from bench.bench_reference import free_port, fresh_csv, fresh_xlsx, ok
from bench.table import print_table, row

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
HOUSING = ("HousingPreferences.csv", fresh_csv)
WORKBOOK = ("2020Q1.xlsx", fresh_xlsx)
JOBS = [  # name, file, format, body, target ms
    ("pie PNG (HousingPreferences)", HOUSING, "png",
     {"sheet": "HousingPreferences", "kind": "pie", "x": "FurnishingStatus"}, 15),
    ("scatter Price ~ Area with fit PNG", HOUSING, "png",
     {"sheet": "HousingPreferences", "kind": "scatter", "x": "Area", "y": ["Price"],
      "options": {"fit": True}}, 25),
    ("2x2 small multiples PNG (RHPI)", WORKBOOK, "png",
     {"sheet": "RHPI", "kind": "small_multiples",
      "y": ["Australia", "Belgium", "Japan", "New Zealand"]}, 40),
    ("Bokeh line (HPI, UK)", WORKBOOK, "bokeh",
     {"sheet": "HPI", "kind": "line", "y": ["UK"]}, 20),
]


def preview_ms(session: requests.Session, base: str, job: tuple, n: int) -> float:
    _, (name, make), fmt, body, _ = job
    upload = ok(session.post(f"{base}/api/v1/datasets", files={"file": (name, make(n))}), 201)
    dataset = upload.json()["id"]
    response = ok(session.post(f"{base}/api/v1/charts/preview?format={fmt}",
                               json={"dataset": dataset, **body}))
    ok(session.delete(f"{base}/api/v1/datasets/{dataset}"), 200, 204)
    ok(session.post(f"{base}/api/v1/trash/empty"), 200, 204)
    return server_ms(response)


def main() -> None:
    files = Path(tempfile.mkdtemp(prefix="quartile-bench-preview-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(files, port)
    rows, mins = [], []
    try:
        wait_ready(base=base)
        session = requests.Session()
        ok(session.get(f"{base}/api/v1/datasets"))  # makes the local user
        n = 0
        for job in JOBS:
            times = []
            for i in range(ROUNDS + 1):
                n += 1
                ms = preview_ms(session, base, job, n)
                times += [ms] if i else []
            rows.append(row(job[0], times, job[4]))
            mins.append((job[0], min(times)))
    finally:
        stop_server(server)
        shutil.rmtree(files, ignore_errors=True)
    print_table(rows)
    print("min ms: " + ", ".join(f"{name} {ms:.1f}" for name, ms in mins))
    print(f"(server time, {ROUNDS} fresh uploads each after one untimed; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: indicative)")


if __name__ == "__main__":
    main()
