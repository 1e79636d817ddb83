"""Statistics layer (issue 6), pure compute with no HTTP.

Targets: describe every sheet of 2020Q1 warm ≤ 50 ms; OLS with 5 regressors on 1,000,000
generated rows ≤ 2 s (parse, design matrix, checks, fit, HC3, diagnostics).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.describe import describe_workbook
from analysis.ols import ols_fit
from analysis.registry import ANALYSES
from bench.table import print_table, row, timings
from tests.stats_fixtures import dallas_workbook, housing


def million_rows() -> pd.DataFrame:
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1_000_000, 5))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d", "e"])
    frame["y"] = x @ np.array([1.0, -2.0, 0.5, 3.0, 0.0]) + rng.normal(size=len(frame))
    return frame


def main() -> None:
    book = dallas_workbook()
    rows = [row("describe all sheets of 2020Q1 (warm)", timings(lambda: describe_workbook(book),
                                                             repeat=50), 50)]
    big = million_rows()
    rows.append(row("OLS y ~ 5 regressors, 1,000,000 rows",
                    timings(lambda: ols_fit(big, "G", "y ~ a + b + c + d + e"), repeat=5), 2000))
    house = housing()
    rows.append(row("OLS Price ~ Area + Bedrooms + C(FurnishingStatus)",
                    timings(lambda: ols_fit(house, "H",
                                            "Price ~ Area + Bedrooms + C(FurnishingStatus)"),
                            repeat=30), None))
    load = {**book, "Housing": house}.__getitem__
    rows.append(row("correlation kendall, all 26 HPI columns",
                    timings(lambda: ANALYSES["correlation"].run(
                        load, {"sheet": "HPI", "method": "kendall"}), repeat=5), None))
    rows.append(row("growth y/y, all HPI columns",
                    timings(lambda: ANALYSES["growth"].run(load, {"sheet": "HPI", "periods": 4}),
                            repeat=30), None))
    print_table(rows)


if __name__ == "__main__":
    main()
