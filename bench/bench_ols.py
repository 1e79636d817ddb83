"""Least squares (issue 15): QR + extended-precision refinement, and what HAC errors add.

Targets: `ols_fit` of y ~ 5 regressors on 1,000,000 generated rows ≤ 1 s (parse, design, QR,
refinement, classical and HC3 errors, diagnostics); Newey-West HAC adds ≤ 20 % to that. The
solver alone (analysis.lstsq.solve) is shown for reference.
"""

from __future__ import annotations

import numpy as np

from analysis.lstsq import solve
from analysis.ols import ols_fit
from bench.bench_stats import million_rows
from bench.table import print_table, row, timings

FORMULA = "y ~ a + b + c + d + e"


def main() -> None:
    big = million_rows()
    X = np.column_stack([np.ones(len(big)), big[list("abcde")].to_numpy()])
    y = big["y"].to_numpy()
    solver = timings(lambda: solve(X, y, ("Intercept", *"abcde")), repeat=5)
    plain = timings(lambda: ols_fit(big, "G", FORMULA), repeat=5)
    hac = timings(lambda: ols_fit(big, "G", FORMULA, cov_type="HAC"), repeat=5)
    median = sorted(plain)[len(plain) // 2]
    print_table([
        row("lstsq.solve (QR + refinement), 1,000,000 × 6", solver, None),
        row("OLS y ~ 5 regressors, 1,000,000 rows", plain, 1000),
        row("OLS with Newey-West HAC, 1,000,000 rows", hac, 1.2 * median),
    ])
    extra = sorted(hac)[len(hac) // 2] / median - 1
    print(f"HAC adds {100 * extra:.0f} % (target ≤ 20 %)")


if __name__ == "__main__":
    main()
