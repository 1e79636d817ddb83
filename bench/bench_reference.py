"""Side by side with the book's ch06 reference app (issue 19): the same jobs, over HTTP, on a
fresh upload each time.

`.venv/bin/python -m bench reference [--reference-repo PATH]` (or QUARTILE_REFERENCE_REPO;
default: the local mirror). `bench/reference_app.py` sets the reference up (its own venv with
Quartile's package versions, Julia, realtime and Celery parts left out) and serves it the way the
book does (Flask's threaded server); Quartile runs with `make run`'s defaults (gunicorn,
gunicorn.conf.py). Both start in scratch directories and are warmed by one untimed round of each
job; then rounds alternate between the two, so machine load hits both alike.

Fresh each time: every round uploads new bytes to both apps — the CSV with n trailing blank lines,
the workbook re-zipped with a new zip comment — so Quartile's content-addressed caches (parse,
results, charts) never hit; after each round Quartile's dataset is deleted and the trash emptied.
The reference answers a form post with the HTML page holding the base64 PNG (one request);
Quartile with an upload then the chart or analysis request (two, or a job followed to its PDF).
Target: Quartile ≥ 1× the reference's speed, and ≥ 10× where the reference takes over a second.
The machine is shared: figures are indicative.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import requests

from bench import reference_app
from bench.bench_first_contact import start_server, stop_server, wait_ready

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
HOUSING = (DATA / "HousingPreferences.csv").read_bytes()
WORKBOOK = (DATA / "2020Q1.xlsx").read_bytes()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SLOW_MS = 1000.0  # the reference takes longer than this: Quartile must be ≥ 10× faster


def fresh_csv(n: int) -> bytes:
    return HOUSING + b"\n" * (n + 1)


def fresh_xlsx(n: int) -> bytes:
    """The same workbook with a new zip comment: same cells, new bytes (a new sha256)."""
    source, out = zipfile.ZipFile(io.BytesIO(WORKBOOK)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.comment = f"bench_reference round {n}".encode()
    return out.getvalue()


def ok(response: requests.Response, *statuses: int) -> requests.Response:
    assert response.status_code in (statuses or (200,)), response.text[:300]
    return response


# -- the reference's side: its own forms -------------------------------------------------------
def reference_form(path: str, name: str, make: Callable[[int], bytes], expect: bytes):
    def run(session, base: str, content: bytes) -> None:
        response = ok(session.post(f"{base}/ch06{path}", files={"data_file": (name, content)}))
        assert expect in response.content, response.text[:300]
    return run, make


def reference_solve(session, base: str, n: int) -> None:
    """Its system solver (sympy.solve on two equations); k changes each round, as for Quartile."""
    body = {"polyeqn1": f"5*x-3*y-{9 + n}", "polyeqn2": "15*x+3*y+12"}
    assert b"Solution: {x:" in ok(session.post(f"{base}/ch06/eqn/eqnsystem/solve",
                                               data=body)).content


# -- Quartile's side: its API ------------------------------------------------------------------
class Quartile:
    def __init__(self, base: str):
        self.base, self.session = base, requests.Session()

    def upload(self, content: bytes, name: str) -> str:
        response = self.session.post(f"{self.base}/api/v1/datasets",
                                     files={"file": (name, content)})
        return ok(response, 201).json()["id"]

    def chart(self, dataset: str, body: dict, fmt: str = "png") -> bytes:
        return ok(self.session.post(f"{self.base}/api/v1/charts/preview?format={fmt}",
                                    json={"dataset": dataset, **body})).content

    def describe(self, dataset: str, sheet: str) -> dict:
        return ok(self.session.post(f"{self.base}/api/v1/datasets/{dataset}/analyses/describe",
                                    json={"sheet": sheet})).json()

    def report_pdf(self, dataset: str, n: int) -> bytes:
        """One request builds it (`Prefer: wait`, as a script would ask), one fetches it."""
        report = ok(self.session.post(f"{self.base}/api/v1/reports", headers={
            "Prefer": "wait=60"}, json={
            "dataset": dataset, "title": f"Mean HPI per country {n}",
            "sections": [{"type": "describe", "sheets": ["RHPI"]}]}), 201, 202).json()
        while report["status"] not in ("done", "failed"):
            time.sleep(0.01)
            report = ok(self.session.get(f"{self.base}/api/v1/reports/{report['id']}")).json()
        assert report["status"] == "done", report
        return ok(self.session.get(f"{self.base}/api/v1/reports/{report['id']}.pdf")).content

    def solve(self, n: int) -> None:
        ok(self.session.post(f"{self.base}/api/v1/equations/solve",
                             json={"equations": [f"5*x-3*y-{9 + n}", "15*x+3*y+12"]}))

    def forget(self, dataset: str) -> None:
        """Delete for good, so the next round's upload is parsed afresh."""
        ok(self.session.delete(f"{self.base}/api/v1/datasets/{dataset}"), 200, 204)
        ok(self.session.post(f"{self.base}/api/v1/trash/empty"), 200, 204)


def quartile_chart(name: str, body: dict, fmt: str = "png", expect: bytes = b"\x89PNG"):
    def run(q: Quartile, content: bytes) -> str:
        dataset = q.upload(content, name)
        assert q.chart(dataset, body, fmt).startswith(expect)
        return dataset
    return run


def quartile_describe(q: Quartile, content: bytes) -> str:
    dataset = q.upload(content, "2020Q1.xlsx")
    assert q.describe(dataset, "RHPI")["columns"]
    return dataset


def quartile_pdf(q: Quartile, content: bytes) -> str:
    dataset = q.upload(content, "2020Q1.xlsx")
    assert q.report_pdf(dataset, time.time_ns()).startswith(b"%PDF")
    return dataset


HOUSING_SHEET = {"sheet": "HousingPreferences"}
JOBS = [  # name, reference (form, fresh bytes), Quartile
    ("upload HousingPreferences.csv + pie",
     reference_form("/upload/csv/pie", "Housing.csv", fresh_csv, b"data:image/png"),
     quartile_chart("HousingPreferences.csv",
                    {**HOUSING_SHEET, "kind": "pie", "x": "FurnishingStatus"})),
    ("upload + scatter Price ~ Area with fit line",
     reference_form("/upload/stats/plots", "Housing.csv", fresh_csv, b"data:image/png"),
     quartile_chart("HousingPreferences.csv", {**HOUSING_SHEET, "kind": "scatter", "x": "Area",
                                               "y": ["Price"], "options": {"fit": True}})),
    ("upload 2020Q1.xlsx + describe RHPI",
     reference_form("/upload/xlsx/analysis", "2020Q1.xlsx", fresh_xlsx, b"<table"),
     quartile_describe),
    ("upload 2020Q1.xlsx + 2x2 subplots PNG",
     reference_form("/upload/xlsx/multi/subplot", "2020Q1.xlsx", fresh_xlsx, b"data:image/png"),
     quartile_chart("2020Q1.xlsx", {"sheet": "RHPI", "kind": "small_multiples",
                                    "y": ["Australia", "Belgium", "Japan", "New Zealand"]})),
    ("upload 2020Q1.xlsx + HPI vs RHPI (Belgium) PNG",
     reference_form("/upload/xlsx/rhpi/hpi/plot/belgium", "2020Q1.xlsx", fresh_xlsx,
                    b"data:image/png"),
     quartile_chart("2020Q1.xlsx", {"sheet": "HPI", "sheets": ["RHPI"],
                                    "kind": "compare_sheets", "y": ["Belgium"]})),
    ("upload 2020Q1.xlsx + Bokeh line (UK HPI)",
     reference_form("/bokeh/hpi/line", "2020Q1.xlsx", fresh_xlsx, b"Bokeh"),
     quartile_chart("2020Q1.xlsx", {"sheet": "HPI", "kind": "line", "y": ["UK"]}, "bokeh",
                    b"{")),
    ("upload 2020Q1.xlsx + describe PDF (LaTeX)",
     reference_form("/create/hpi/desc/latex", "2020Q1.xlsx", fresh_xlsx, b"%PDF"),
     quartile_pdf),
]


def timed(fn: Callable, *args) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    began = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - began) * 1000, result


def run_rounds(reference_base: str | None, q: Quartile) -> list[tuple]:
    """Per job: (name, reference ms list or None, Quartile ms list); round 0 is a warm-up."""
    session, results = requests.Session(), []
    jobs = [(name, reference, make, quartile) for name, (reference, make), quartile in JOBS]
    jobs.append(("solve 5x-3y=9+k, 15x+3y=-12", reference_solve, int, Quartile.solve))
    for name, reference, make, quartile in jobs:
        ours, theirs = [], []
        for n in range(ROUNDS + 1):
            content = make(n)
            if reference_base is not None:
                ms, _ = timed(reference, session, reference_base, content)
                theirs += [ms] if n else []
            ms, dataset = timed(quartile, q, content)
            ours += [ms] if n else []
            if dataset is not None:
                q.forget(dataset)
        results.append((name, theirs if reference_base else None, ours))
    return results


def print_results(results: list[tuple], skipped: str | None) -> None:
    print(f"{'job (fresh upload each round)':<48} {'reference':>10} {'Quartile':>10} "
          f"{'ratio':>7} {'target':>7} {'ok':>4}")
    for name, theirs, ours in results:
        mine = statistics.median(ours)
        if theirs is None:
            print(f"{name:<48} {'skipped':>10} {mine:>10.1f}")
            continue
        reference = statistics.median(theirs)
        ratio = reference / mine
        target = 10.0 if reference > SLOW_MS else 1.0
        verdict = "yes" if ratio >= target else "NO"
        print(f"{name:<48} {reference:>10.1f} {mine:>10.1f} {ratio:>6.1f}x {target:>6g}x "
              f"{verdict:>4}")
    if skipped:
        print(f"skipped: {skipped}")
    print(f"(medians in ms of {ROUNDS} rounds after one warm-up, end to end over HTTP on "
          f"loopback; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
          f"indicative)")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench reference")
    parser.add_argument("--reference-repo")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    scratch = Path(tempfile.mkdtemp(prefix="quartile-bench-reference-"))
    servers: list[subprocess.Popen] = []
    reference_base, skipped = None, None
    try:
        try:
            app_dir = reference_app.copy_app(reference_app.reference_repo(args.reference_repo),
                                             scratch)
        except reference_app.ReferenceMissing as missing:
            skipped = str(missing)
        else:
            port = free_port()
            servers.append(reference_app.start(app_dir, reference_app.ensure_venv(), port))
            reference_base = f"http://127.0.0.1:{port}"
        port = free_port()
        (scratch / "quartile").mkdir()
        servers.append(start_server(scratch / "quartile", port))
        quartile = Quartile(f"http://127.0.0.1:{port}")
        wait_ready(base=quartile.base)
        if reference_base is not None:
            reference_app.wait_up(reference_base, servers[0])
        ok(quartile.session.get(f"{quartile.base}/api/v1/datasets"))  # makes the local user
        results = run_rounds(reference_base, quartile)
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(scratch, ignore_errors=True)
    print_results(results, skipped)


if __name__ == "__main__":
    main()
