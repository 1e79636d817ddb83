"""Typing dates and numbers, and by-period aggregation (issue 21).

Targets: typing a day-first date column and a currency column adds ≤ 15 % to the ingest of the
generated 1,000,000-row CSV (bench_ingest's 12 columns plus those two); by-period aggregation of
1,000,000 transactions ≤ 300 ms. The baseline is the same file with the two columns written so
that they stay text ("x3/12/2016", "x£1,480,000"): the difference is what typing them costs.
Prices are whole thousands of pounds, as most registry prices are (so they repeat); the
in-process rows also time a currency column whose 1,000,000 values are all distinct.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.bench_ingest import CACHE
from bench.table import print_table, row, timings
from sandbox import LimitedPool
from upload.by_period import PeriodRule, period_summary
from upload.coerce import type_column
from upload.pipeline import LIMITS, PRELOAD, ingest_file

N = 1_000_000


def _columns(seed: int = 21) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = pd.date_range("1995-01-01", "2024-12-31", freq="D")
    picked = days[rng.integers(0, len(days), N)]
    dates = (pd.Series(picked.day.astype(str)) + "/" + picked.strftime("%m/%Y")).to_numpy()
    prices = (np.round(rng.lognormal(12.3, 0.6, N) / 1000) * 1000).astype(np.int64)
    money = np.array([f"£{p:,}" for p in prices], dtype=object)
    return {"sale date": dates.astype(object), "price": money}  # "3/12/2016", "£1,480,000"


def typed_csv(text: bool = False) -> Path:
    """bench_ingest's 1,000,000 × 12 CSV plus a day-first date and a currency column; with
    `text`, the two columns are written so that they stay text."""
    path = CACHE / ("rows_1m_typing_text.csv" if text else "rows_1m_typing.csv")
    if not path.exists():
        from bench.bench_ingest import big_csv

        CACHE.mkdir(exist_ok=True)
        frame = pd.read_csv(big_csv())
        for name, values in _columns().items():
            frame[name] = ("x" + pd.Series(values)).to_numpy() if text else values
        frame.to_csv(path, index=False)
    return path


def transactions() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "Date": pd.Timestamp("1995-01-01") + pd.to_timedelta(rng.integers(0, 10957, N),
                                                             unit="D"),
        "Price": np.round(rng.lognormal(12.3, 0.6, N), -3),
        "Type": pd.Series(rng.choice(["D", "S", "T", "F", "O"], N), dtype="str"),
    })


def main() -> None:
    rows = []
    columns = _columns()
    date_text = pd.Series(columns["sale date"], dtype="str")
    money = pd.Series(columns["price"], dtype="str")
    rng = np.random.default_rng(3)
    distinct = pd.Series([f"£{p:,}" for p in rng.permutation(N) + 100_000], dtype="str")
    rows.append(row("type_column: 1,000,000 day-first dates",
                    timings(lambda: type_column(date_text), repeat=3), None))
    rows.append(row("type_column: 1,000,000 £ prices (whole £1,000s)",
                    timings(lambda: type_column(money), repeat=3), None))
    rows.append(row("type_column: 1,000,000 distinct £ prices",
                    timings(lambda: type_column(distinct), repeat=3), None))
    sales = transactions()
    for group in (None, "Type"):
        rule = PeriodRule("sales", "Date", "Price", "M", ("count", "median", "mean"), group)
        label = "by period: 1,000,000 sales → monthly" + (" by type" if group else "")
        rows.append(row(label, timings(lambda rule=rule: period_summary(sales, rule),
                                       repeat=5), 300))
    out = Path(tempfile.mkdtemp(prefix="quartile-bench-"))
    pool = LimitedPool("file parser", size=1, limits=LIMITS, preload=PRELOAD).start()
    typed, plain = typed_csv(), typed_csv(text=True)
    base = timings(lambda: ingest_file(plain, "plain.csv", out, pool=pool), repeat=3)
    both = timings(lambda: ingest_file(typed, "typed.csv", out, pool=pool), repeat=3)
    pool.close()
    rows.append(row("ingest 1,000,000 × 14 CSV, date and £ as text", base, None))
    rows.append(row("ingest 1,000,000 × 14 CSV, date and £ typed", both, None))
    print_table(rows)
    added = np.median(both) / np.median(base) - 1
    print(f"typing the two columns adds {added:.1%} to the ingest (target ≤ 15 %: "
          f"{'yes' if added <= 0.15 else 'NO'})")


if __name__ == "__main__":
    main()
