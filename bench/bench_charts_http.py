"""Charts through HTTP (issue 7): what a user waits for, not just the drawing.

`.venv/bin/python -m bench.bench_charts_http`. Through the Flask test client: a PNG line of one
180-point series, uncached (a new spec each time: validation + drawing) and cached; the
HPI-vs-RHPI chart page for 2020Q1 with its chart data (the book's prototype takes ~4.9 s).
Through a live server and Chromium: a 1,000,000-point series as Bokeh and Plotly — the payload
size and the time from navigation until the plot is drawn.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from werkzeug.serving import make_server

from app import create_app
from bench.table import print_table, row, timings
from rendition.charts import ChartSpec, render_png
from store.db import db
from store.models import Dataset
from upload.service import load_sheet
from web.chart_render import CACHE

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
BOOK_PROTOTYPE_MS = 4900.0
PAYLOAD_LIMIT = 2 * 1024 * 1024
INTERACTIVE_LIMIT_MS = 2000.0
CHROMIUM = "/usr/bin/chromium"


def make_app(files: Path):
    return create_app({
        "FILES_DIR": files, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{files / 'bench.sqlite3'}",
        "TESTING": True, "WTF_CSRF_ENABLED": False, "AUTH": "off", "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    })


def forget_renders(files: Path) -> None:
    """Cold cache: neither the in-memory copy nor the file under FILES_DIR/charts."""
    CACHE.clear()
    shutil.rmtree(files / "charts", ignore_errors=True)


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response


def save(client, body: dict) -> str:
    return ok(client.post("/api/v1/charts", json=body), 201).get_json()["id"]


def big_csv(n: int = 1_000_000) -> bytes:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq="min"),
                          "signal": np.cumsum(rng.normal(size=n)).round(4)})
    return frame.to_csv(index=False).encode()


def http_rows(app, client, files: Path) -> tuple[list, dict]:
    workbook = ok(client.post("/api/v1/datasets", data={
        "file": ((DATA / "2020Q1.xlsx").open("rb"), "2020Q1.xlsx")}), 201).get_json()["id"]
    line = {"dataset": workbook, "sheet": "HPI", "kind": "line", "y": ["Australia"],
            "options": {"start": "1975Q2"}}  # 1975Q2-2020Q1: 180 quarters
    figure = ok(client.post("/api/v1/charts/preview?format=plotly", json=line)).get_json()
    assert len(figure["data"][0]["y"]) == 180
    line_id = save(client, line)
    counter = iter(range(10**6))

    def new_spec_png():
        body = {**line, "options": {**line["options"], "title": f"Australia {next(counter)}"}}
        ok(client.post("/api/v1/charts/preview?format=png", json=body))

    def saved_png_cold():
        forget_renders(files)
        ok(client.get(f"/api/v1/charts/{line_id}.png"))

    spec = ChartSpec.from_dict({k: v for k, v in line.items() if k != "dataset"})
    frames = {"HPI": load_sheet(files, db.session.get(Dataset, workbook), "HPI")}
    rows = [
        row("png line 180 points, render_png alone (no HTTP)",
            timings(lambda: render_png(spec, frames), 30, 3), 60),
        row("png line 180 points, new spec (validate + draw)", timings(new_spec_png, 30, 3), 60),
        row("png line 180 points, saved chart, cache cleared", timings(saved_png_cold, 30, 3),
            60),
        row("png line 180 points, cached", timings(
            lambda: ok(client.get(f"/api/v1/charts/{line_id}.png")), 50, 3), 60),
    ]
    compare = save(client, {"dataset": workbook, "sheet": "HPI", "sheets": ["RHPI"],
                            "kind": "compare_sheets", "y": ["Australia", "US", "UK", "Spain"]})
    page_ms = {}
    for renderer, data_url in (("png", f"/api/v1/charts/{compare}.png"),
                               ("plotly", f"/api/v1/charts/{compare}.plotly.json"),
                               ("bokeh", f"/api/v1/charts/{compare}.bokeh.json")):
        def page(cold: bool, renderer=renderer, data_url=data_url):
            if cold:
                forget_renders(files)
            ok(client.get(f"/charts/{compare}?renderer={renderer}"))
            ok(client.get(data_url))

        cold = timings(lambda page=page: page(True), 15, 2)
        page_ms[renderer] = cold
        rows.append(row(f"HPI vs RHPI page + {renderer} data, uncached", cold, 300))
        rows.append(row(f"HPI vs RHPI page + {renderer} data, cached",
                        timings(lambda page=page: page(False), 30, 2), 300))
    return rows, page_ms


def browser_rows(app, client, files: Path) -> tuple[list, dict]:
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    big = ok(client.post("/api/v1/datasets", data={"file": (io.BytesIO(big_csv()), "big.csv")}),
             201).get_json()
    ingest_s = time.perf_counter() - started
    sheet = big["sheets"][0]["name"]
    chart = save(client, {"dataset": big["id"], "sheet": sheet, "kind": "line",
                          "y": ["signal"]})
    payloads = {}
    for renderer in ("bokeh", "plotly"):
        body = ok(client.get(f"/api/v1/charts/{chart}.{renderer}.json")).data
        payloads[renderer] = len(body)
    def png_cold():
        forget_renders(files)
        ok(client.get(f"/api/v1/charts/{chart}.png"))

    rows = [row("1M-point line, png, uncached (for comparison)", timings(png_cold, 3), None)]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/charts/{chart}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            for renderer in ("bokeh", "plotly"):
                target = f"{url}?renderer={renderer}"
                forget_renders(files)
                first = [drawn_ms(browser, target)]  # nothing cached anywhere
                fresh = [drawn_ms(browser, target) for _ in range(5)]  # new browser profile
                context = browser.new_context()
                warm = [drawn_ms(context, target) for _ in range(6)][1:]  # JS in browser cache
                context.close()
                label = f"1M-point line, {renderer} page drawn"
                rows.append(row(f"{label}, all cold", first, INTERACTIVE_LIMIT_MS))
                rows.append(row(f"{label}, new browser", fresh, INTERACTIVE_LIMIT_MS))
                rows.append(row(f"{label}, JS cached", warm, INTERACTIVE_LIMIT_MS))
            browser.close()
    finally:
        server.shutdown()
    print(f"(ingesting the 1,000,000-row CSV took {ingest_s:.1f} s; not a chart cost; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return rows, payloads


def drawn_ms(browser_or_context, url: str) -> float:
    """Navigation start until the chart is drawn (charts.js sets data-state=ready).

    Given the browser, a new profile (empty cache) per visit; given a context, its cache.
    """
    is_browser = hasattr(browser_or_context, "new_context")
    context = browser_or_context.new_context() if is_browser else None
    page = (context or browser_or_context).new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#chart-holder[data-state=ready]", timeout=30_000)
    elapsed = (time.perf_counter() - started) * 1000
    page.close()
    if context is not None:
        context.close()
    return elapsed


def main() -> None:
    files = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    try:
        app = make_app(files)
        client = app.test_client()
        with app.app_context():
            rows, page_ms = http_rows(app, client, files)
        more, payloads = browser_rows(app, client, files)
        print_table(rows + more)
        for name, size in payloads.items():
            verdict = "yes" if size <= PAYLOAD_LIMIT else "NO"
            print(f"payload, 1,000,000-point line, {name}: {size / 1024:.0f} KiB "
                  f"(limit {PAYLOAD_LIMIT // 1024} KiB) ok: {verdict}")
        for renderer, ms in page_ms.items():
            median = statistics.median(ms)
            print(f"HPI vs RHPI page + {renderer} data, uncached: {median:.0f} ms, "
                  f"{BOOK_PROTOTYPE_MS / median:.0f}x faster than the book's ~4.9 s page")
    finally:
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    main()
