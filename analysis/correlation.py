"""Correlation matrices (Pearson, Spearman, Kendall) with pairwise-complete n and p-values.

Each pair uses the rows where both columns are present, so `n` differs between pairs when data
are missing. p-values are two-sided from scipy.stats. The diagonal has r = 1 and p = None
(a column's correlation with itself is not a test). A pair with fewer than 3 common rows, or a
column that is constant over a pair's rows, is an error naming the columns: r would be undefined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.results import json_safe, numeric_column, numeric_columns
from errors import BadInput, Unprocessable

METHODS = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}


@dataclass(frozen=True)
class Correlation:
    sheet: str
    method: str
    columns: tuple[str, ...]
    matrix: dict
    p_values: dict
    n: dict
    kind: str = "correlation"

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "method": self.method,
                          "columns": list(self.columns), "matrix": self.matrix,
                          "p_values": self.p_values, "n": self.n})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        cols = list(self.columns)
        out = []
        for title, data in ((f"{self.method} correlation", self.matrix),
                            ("p-values", self.p_values), ("pairwise n", self.n)):
            frame = pd.DataFrame([[data[r][c] for c in cols] for r in cols], columns=cols)
            frame.insert(0, "column", cols)
            out.append((title, frame))
        return out


def _nearly_constant(v: np.ndarray) -> bool:
    """scipy's own test (NearConstantInputWarning): ||v - mean|| < eps^0.75 · |mean|."""
    mean = v.mean()
    return bool(np.linalg.norm(v - mean) < np.finfo(float).eps ** 0.75 * abs(mean))


def correlation(frame: pd.DataFrame, sheet: str, columns: list[str] | None = None,
                method: str = "pearson") -> Correlation:
    """Pairwise correlation of numeric columns; None/[] means every numeric column."""
    if method not in METHODS:
        raise BadInput(f"Unknown correlation method '{method}'; use one of "
                       f"{', '.join(METHODS)}.")
    names = numeric_columns(frame, sheet, columns)
    if len(names) < 2:
        raise BadInput("A correlation needs at least two different numeric columns.")
    data = {c: numeric_column(frame, sheet, c).to_numpy() for c in names}
    present = {c: np.isfinite(v) for c, v in data.items()}
    test = METHODS[method]
    matrix = {c: {} for c in names}
    p_values = {c: {} for c in names}
    n = {c: {} for c in names}
    for i, a in enumerate(names):
        matrix[a][a], p_values[a][a], n[a][a] = 1.0, None, int(present[a].sum())
        for b in names[i + 1:]:
            both = present[a] & present[b]
            count = int(both.sum())
            if count < 3:
                rows = "1 row" if count == 1 else f"{count} rows"
                raise Unprocessable(f"Columns '{a}' and '{b}' of sheet '{sheet}' share only "
                                    f"{rows} with values; a correlation needs 3.")
            x, y = data[a][both], data[b][both]
            for name, v in ((a, x), (b, y)):
                if np.ptp(v) == 0:
                    raise Unprocessable(f"Column '{name}' of sheet '{sheet}' is constant over "
                                        f"the rows it shares with the other column; its "
                                        "correlation is undefined.")
                if method == "pearson" and _nearly_constant(v):
                    raise Unprocessable(f"Column '{name}' of sheet '{sheet}' is nearly constant "
                                        "(its variation is below float precision relative to "
                                        "its mean); a Pearson correlation would be "
                                        "unreliable. Try Spearman or Kendall.")
            result = test(x, y)
            r, p = float(result.statistic), float(result.pvalue)
            matrix[a][b] = matrix[b][a] = r
            p_values[a][b] = p_values[b][a] = p
            n[a][b] = n[b][a] = count
    return Correlation(sheet=sheet, method=method, columns=tuple(names), matrix=matrix,
                       p_values=p_values, n=n)
