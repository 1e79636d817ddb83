"""NIST StRD linear-regression datasets and an exact rational least-squares reference.

The data files in tests/data/nist/ are NIST's published values (see tests/data/SOURCES.md);
Wampler1-4 and NoInt1/2 are generated here from their published definitions. `exact_ols`
solves the normal equations in exact rational arithmetic on the decimal data as written (which is
how NIST certified its values) and gives every estimate, standard error, residual SD and R² to 30
digits; the published certified values are kept beside it as a second, independent check.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

NIST = Path(__file__).parent / "data" / "nist"


def _solve(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    """Gauss-Jordan elimination in exact rationals: a⁻¹ b (a square, nonsingular)."""
    k = len(a)
    m = [row[:] + rhs[:] for row, rhs in zip(a, b, strict=True)]
    for c in range(k):
        pivot = next(r for r in range(c, k) if m[r][c] != 0)
        m[c], m[pivot] = m[pivot], m[c]
        inv = 1 / m[c][c]
        m[c] = [v * inv for v in m[c]]
        for r in range(k):
            if r != c and m[r][c] != 0:
                f = m[r][c]
                m[r] = [v - f * w for v, w in zip(m[r], m[c], strict=True)]
    return [row[k:] for row in m]


def _sqrt(value: Fraction) -> float:
    with localcontext() as ctx:
        ctx.prec = 40
        return float((Decimal(value.numerator) / Decimal(value.denominator)).sqrt())


def exact_ols(columns: list[list[str]], y: list[str], intercept: bool) -> dict:
    """Certified-quality values of OLS on decimal strings (columns of regressors)."""
    X = [[Fraction(v) for v in col] for col in columns]
    if intercept:
        X = [[Fraction(1)] * len(y), *X]
    Y = [Fraction(v) for v in y]
    n, k = len(Y), len(X)
    xtx = [[sum(a * b for a, b in zip(X[i], X[j], strict=True)) for j in range(k)]
           for i in range(k)]
    xty = [[sum(a * b for a, b in zip(X[i], Y, strict=True))] for i in range(k)]
    inv = _solve(xtx, [[Fraction(int(i == j)) for j in range(k)] for i in range(k)])
    beta = [sum(inv[i][j] * xty[j][0] for j in range(k)) for i in range(k)]
    resid = [Y[t] - sum(beta[i] * X[i][t] for i in range(k)) for t in range(n)]
    ssr = sum(e * e for e in resid)
    mean = sum(Y) / n if intercept else Fraction(0)
    sst = sum((v - mean) ** 2 for v in Y)
    s2 = ssr / (n - k)
    return {"beta": [float(b) for b in beta],
            "se": [_sqrt(s2 * inv[i][i]) for i in range(k)],
            "sd": _sqrt(s2), "r2": float(1 - ssr / sst)}


def read(name: str) -> pd.DataFrame:
    """A NIST data file as decimal strings (columns y, x...)."""
    return pd.read_csv(NIST / f"{name}.csv", dtype=str)


def wampler(number: int) -> pd.DataFrame:
    """Wampler1-4 from their definitions; Wampler5 from the file. x = 0..20, exact integers."""
    x = np.arange(21)
    if number == 1:
        y = sum(x**p for p in range(6))
    elif number == 2:
        # 1 + 0.1x + ... + 0.00001x⁵: exact decimals with at most 5 places
        values = [sum(Fraction(int(v) ** p, 10**p) for p in range(6)) for v in x]
        return pd.DataFrame({"y": [f"{Decimal(v.numerator) / Decimal(v.denominator):f}"
                                   for v in values], "x": [str(v) for v in x]})
    else:
        base = sum(x**p for p in range(6))
        noise = read("wampler5")["y"].astype(np.int64).to_numpy() - base  # 10,000·e
        y = base + noise // {3: 10_000, 4: 100, 5: 1}[number]
    return pd.DataFrame({"y": [str(int(v)) for v in y], "x": [str(int(v)) for v in x]})


def noint(number: int) -> pd.DataFrame:
    if number == 1:
        return pd.DataFrame({"y": [str(v) for v in range(130, 141)],
                             "x": [str(v) for v in range(60, 71)]})
    return pd.DataFrame({"y": ["3", "4", "4"], "x": ["4", "5", "6"]})


def longley() -> pd.DataFrame:
    """statsmodels' copy of Longley (1967): TOTEMP on GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR."""
    from statsmodels.datasets import longley as data

    frame = data.load_pandas().data
    return frame.map(lambda v: repr(float(v)).removesuffix(".0"))
