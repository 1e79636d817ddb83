"""First look (issue 17), pure compute: the alerts of a sheet, CPU time.

Target: a 1,000,000-row sheet of 12 numeric and 3 text columns (one of them an id with a
million distinct values) ≤ 1 s of CPU; the 2020Q1 workbook's four sheets ≤ 50 ms. The dataset
page caches the result per stored parse, so this is paid once per sheet.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from analysis.first_look import first_look
from bench.table import print_table, row, timings
from tests.stats_fixtures import dallas_workbook


def million_rows() -> pd.DataFrame:
    rng = np.random.default_rng(17)
    n = 1_000_000
    x = rng.normal(size=n)
    columns = {"x": x, "y": 2 * x + rng.normal(scale=0.1, size=n),
               "price": np.exp(rng.normal(12, 1, size=n)),
               "gappy": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
               "rooms": rng.integers(1, 6, n).astype(float),
               **{f"z{i}": rng.normal(size=n) for i in range(7)},
               "city": rng.choice(["Leeds", "York", "Hull", "Bath"], n),
               "flag": np.where(rng.random(n) < 0.97, "no", "yes"),
               "id": np.char.add("id", np.arange(n).astype(str))}
    return pd.DataFrame(columns)


def main() -> None:
    book = dallas_workbook()
    big = million_rows()
    cpu = time.process_time
    print_table([
        row("first look, 4 sheets of 2020Q1 (CPU)",
            timings(lambda: [first_look(f, s) for s, f in book.items()], repeat=20,
                    clock=cpu), 50),
        row("first look, 1,000,000 rows x 15 columns (CPU)",
            timings(lambda: first_look(big, "big"), repeat=5, clock=cpu), 1000),
    ])


if __name__ == "__main__":
    main()
