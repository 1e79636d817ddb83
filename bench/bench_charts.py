"""Chart rendering speed and payload size (issue 7).

`.venv/bin/python -m bench.bench_charts`. Render time only: the web layer adds loading the
sheets and the HTTP round trip. Targets: a 180-point PNG line ≤ 60 ms warm; the HPI-vs-RHPI
page ≤ 300 ms (the book's prototype takes ~4.9 s); a 1,000,000-point interactive chart with a
payload ≤ 2 MB; LTTB of 1,000,000 points well under 200 ms.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bench.table import print_table, row, timings
from rendition.charts import ChartSpec, lttb, render_bokeh, render_plotly, render_png, render_svg
from tests.charts_fixtures import dallas_frames

BOOK_PROTOTYPE_MS = 4900.0
PAYLOAD_LIMIT = 2 * 1024 * 1024


def main() -> None:
    frames = dallas_frames("2020Q1")
    line = ChartSpec.from_dict({"kind": "line", "sheet": "HPI", "y": ["Australia"],
                                "options": {"start": "1975Q2"}})  # exactly 180 quarters
    assert len(frames["HPI"].loc["1975Q2":, "Australia"]) == 180
    compare = ChartSpec.from_dict({"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                                   "y": ["Australia", "US", "UK", "Spain"]})
    rng = np.random.default_rng(0)
    signal = np.cumsum(rng.normal(size=1_000_000))
    big_frames = {"big": pd.DataFrame(
        {"signal": signal}, index=pd.date_range("2020-01-01", periods=signal.size, freq="min"))}
    big = ChartSpec.from_dict({"kind": "line", "sheet": "big", "y": ["signal"]})
    x = np.arange(signal.size, dtype=float)

    rows = [
        row("png line, 1 series x 180 points (warm)", timings(lambda: render_png(line, frames),
                                                               40, warmup=3), 60),
        row("svg line, 1 series x 180 points", timings(lambda: render_svg(line, frames), 15),
            None),
    ]
    compare_ms = {}
    for name, render in (("png", render_png), ("bokeh", render_bokeh),
                         ("plotly", render_plotly)):
        ms = timings(lambda render=render: render(compare, frames), 20, warmup=2)
        compare_ms[name] = ms
        rows.append(row(f"HPI vs RHPI 2020Q1, 4 countries, {name}", ms, 300))
    payloads = {}
    for name, render in (("bokeh", render_bokeh), ("plotly", render_plotly)):
        payloads[name] = len(json.dumps(render(big, big_frames)).encode())
        ms = timings(lambda render=render: json.dumps(render(big, big_frames)), 5)
        rows.append(row(f"1,000,000-point line, {name} (render + JSON)", ms, None))
    rows.append(row("lttb 1,000,000 -> 2,000 points", timings(lambda: lttb(x, signal, 2000),
                                                              10), 200))
    print_table(rows)
    for name, size in payloads.items():
        ok = "yes" if size <= PAYLOAD_LIMIT else "NO"
        print(f"payload, 1,000,000-point line, {name}: {size / 1024:.0f} KiB "
              f"(limit {PAYLOAD_LIMIT // 1024} KiB) ok: {ok}")
    for name, ms in compare_ms.items():
        median = float(np.median(ms))
        print(f"HPI vs RHPI {name}: {median:.0f} ms render, "
              f"{BOOK_PROTOTYPE_MS / median:.0f}x faster than the book's ~4.9 s page")


if __name__ == "__main__":
    main()
