"""Ingestion: parse, read back, and big generated files, through the real worker pool.

Targets (issue 4): the whole upload of 2020Q1.xlsx ≤ 250 ms server time, so the parse ≤ 150 ms;
reading a stored sheet ≤ 20 ms; a generated 1,000,000-row × 12-column CSV ingested ≤ 3 s with
the worker's peak RSS ≤ 1.5 GB; a generated 200,000-row XLSX: time stated, no target.
Issue 19 (a fresh upload is fast): parse_file of 2020Q1.xlsx ≤ 40 ms and of the 545-row
HousingPreferences.csv ≤ 8 ms, in process with warm imports.
Generated files are cached in the temp directory (they take ~20 s to write the first time).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.table import print_table, row, timings
from sandbox import LimitedPool
from upload.pipeline import LIMITS, PRELOAD, ingest_file, parse_file, read_sheet

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CACHE = Path(tempfile.gettempdir()) / "quartile-bench-ingest"


def big_csv() -> Path:
    """1,000,000 rows × 12 columns: a date, 7 floats, 3 ints, a 4-level category."""
    path = CACHE / "rows_1m.csv"
    if not path.exists():
        n = 1_000_000
        rng = np.random.default_rng(4)
        frame = pd.DataFrame({
            "date": pd.date_range("1990-01-01", periods=n, freq="min").strftime("%Y-%m-%d"),
            **{f"x{i}": rng.normal(size=n).round(6) for i in range(6)},
            **{f"n{i}": rng.integers(0, 100_000, size=n) for i in range(3)},
            "region": rng.choice(["north", "south", "east", "west"], size=n),
            "y": rng.normal(size=n).round(4),
        })
        frame.to_csv(path, index=False)
    return path


def big_xlsx() -> Path:
    """200,000 rows × 12 columns written by xlsxwriter (dates, floats, ints, a category)."""
    import xlsxwriter

    path = CACHE / "rows_200k.xlsx"
    if not path.exists():
        n = 200_000
        rng = np.random.default_rng(5)
        floats, ints = rng.normal(size=(n, 7)), rng.integers(0, 1000, size=(n, 3))
        regions = np.array(["north", "south", "east", "west"])[rng.integers(0, 4, size=n)]
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("data")
        sheet.write_row(0, 0, ["date", "a", "b", "c", "d", "e", "i", "j", "k", "region",
                               "f", "g"])
        date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        start = dt.datetime(1950, 1, 1)
        for r in range(n):
            sheet.write_datetime(r + 1, 0, start + dt.timedelta(hours=r), date_format)
            f = floats[r]
            sheet.write_row(r + 1, 1, [f[0], f[1], f[2], f[3], f[4], int(ints[r, 0]),
                                       int(ints[r, 1]), int(ints[r, 2]), str(regions[r]),
                                       f[5], f[6]])
        book.close()
    return path


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever held."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    CACHE.mkdir(exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="quartile-bench-"))
    workbook = DATA / "2020Q1.xlsx"
    rows = []
    ms = timings(lambda: parse_file(workbook, "2020Q1.xlsx", out), repeat=20)
    rows.append(row("parse_file 2020Q1.xlsx, all sheets (in process)", ms, 40))
    housing = DATA / "HousingPreferences.csv"
    ms = timings(lambda: parse_file(housing, "HousingPreferences.csv", out), repeat=20)
    rows.append(row("parse_file HousingPreferences.csv (in process)", ms, 8))
    pool = LimitedPool("file parser", size=1, limits=LIMITS, preload=PRELOAD).start()
    ms = timings(lambda: ingest_file(workbook, "2020Q1.xlsx", out, pool=pool), repeat=20)
    rows.append(row("ingest 2020Q1.xlsx through the worker pool", ms, 150))
    parsed = parse_file(workbook, "2020Q1.xlsx", out)
    hpi = out / next(s for s in parsed.sheets if s.name == "HPI").parquet
    rows.append(row("read_sheet HPI (Parquet, PeriodIndex)", timings(lambda: read_sheet(hpi),
                                                                     repeat=50), 20))
    csv, xlsx = big_csv(), big_xlsx()
    pool.close()
    fresh = LimitedPool("file parser", size=1, limits=LIMITS, preload=PRELOAD).start()
    ms = timings(lambda: ingest_file(csv, "rows_1m.csv", out, pool=fresh), repeat=3)
    (pid,) = fresh.worker_pids()
    csv_peak = peak_rss_mb(pid)
    rows.append(row("ingest 1,000,000 × 12 CSV through the pool", ms, 3000))
    ms = timings(lambda: ingest_file(xlsx, "rows_200k.xlsx", out, pool=fresh), repeat=2)
    rows.append(row("ingest 200,000 × 12 XLSX through the pool", ms, None))
    fresh.close()
    print_table(rows)
    ok = "yes" if csv_peak <= 1536 else "NO"
    print(f"file parser worker's peak RSS after the 1,000,000-row CSV: {csv_peak:.0f} MB "
          f"(target ≤ 1536 MB: {ok})")


if __name__ == "__main__":
    main()
