"""Laspeyres, Paasche and Fisher price indices from price/quantity columns of one sheet.

Each row is one item: p0/q0 base-period price and quantity, p1/q1 current ones. Rows with any
used value missing are left out (counted in `n_dropped`). Without q1 only Laspeyres is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.results import json_safe, numeric_column, table
from errors import Unprocessable

FORMULA_TEXT = {
    "laspeyres": "Laspeyres = 100 × Σ(p1·q0) / Σ(p0·q0)",
    "paasche": "Paasche = 100 × Σ(p1·q1) / Σ(p0·q1)",
    "fisher": "Fisher = √(Laspeyres × Paasche)",
}
FORMULA_LATEX = {
    "laspeyres": r"P_L = 100 \cdot \frac{\sum_i p_{1i} q_{0i}}{\sum_i p_{0i} q_{0i}}",
    "paasche": r"P_P = 100 \cdot \frac{\sum_i p_{1i} q_{1i}}{\sum_i p_{0i} q_{1i}}",
    "fisher": r"P_F = \sqrt{P_L \cdot P_P}",
}


@dataclass(frozen=True)
class PriceIndex:
    sheet: str
    columns: dict
    n: int
    n_dropped: int
    laspeyres: float
    paasche: float | None
    fisher: float | None
    kind: str = "price_index"

    def to_dict(self) -> dict:
        used = [k for k in FORMULA_TEXT if getattr(self, k) is not None]
        return json_safe({"kind": self.kind, "sheet": self.sheet, "columns": self.columns,
                          "n": self.n, "n_dropped": self.n_dropped,
                          "laspeyres": self.laspeyres, "paasche": self.paasche,
                          "fisher": self.fisher,
                          "formula": {k: FORMULA_TEXT[k] for k in used},
                          "formula_latex": {k: FORMULA_LATEX[k] for k in used}})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        rows = [{"index": k, "value": getattr(self, k), "formula": FORMULA_TEXT[k]}
                for k in FORMULA_TEXT]
        return [(f"Price indices ({self.sheet}, n = {self.n})", table(json_safe(rows)))]


def price_index(frame: pd.DataFrame, sheet: str, p0: str, q0: str, p1: str,
                q1: str | None = None) -> PriceIndex:
    """Laspeyres always; Paasche and Fisher when current quantities `q1` are given."""
    names = {"p0": p0, "q0": q0, "p1": p1, **({"q1": q1} if q1 else {})}
    data = {role: numeric_column(frame, sheet, col).to_numpy() for role, col in names.items()}
    keep = np.logical_and.reduce([np.isfinite(v) for v in data.values()])
    n = int(keep.sum())
    if n == 0:
        raise Unprocessable(f"No row of sheet '{sheet}' has all of "
                            f"{', '.join(names.values())}.")
    v = {role: arr[keep] for role, arr in data.items()}
    base = float(v["p0"] @ v["q0"])
    if base == 0:
        raise Unprocessable(f"Σ {p0}·{q0} is zero; the Laspeyres index is undefined.")
    laspeyres = 100.0 * float(v["p1"] @ v["q0"]) / base
    paasche = fisher = None
    if "q1" in v:
        base1 = float(v["p0"] @ v["q1"])
        if base1 == 0:
            raise Unprocessable(f"Σ {p0}·{q1} is zero; the Paasche index is undefined.")
        paasche = 100.0 * float(v["p1"] @ v["q1"]) / base1
        if laspeyres * paasche < 0:
            raise Unprocessable("Laspeyres and Paasche have opposite signs; the Fisher index "
                                "is undefined (check for negative prices or quantities).")
        fisher = float(np.sqrt(laspeyres * paasche))
    return PriceIndex(sheet=sheet, columns=names, n=n, n_dropped=len(frame) - n,
                      laspeyres=laspeyres, paasche=paasche, fisher=fisher)
