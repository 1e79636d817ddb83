"""Summaries of one numeric column split by a categorical one (Price by FurnishingStatus).

Rows where either column is missing are left out and counted in `n_dropped`. `share` is the
group's share of the column's total (percent of the sum); `count_share` is its share of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.results import group_column, is_numeric, json_safe, numeric_column, table
from errors import Unprocessable

GROUP_KEYS = ("group", "count", "count_share", "mean", "median", "std", "min", "max", "sum",
              "share")


@dataclass(frozen=True)
class GroupSummary:
    sheet: str
    value: str
    by: str
    n: int
    n_dropped: int
    total: float
    groups: tuple[dict, ...]
    kind: str = "groups"

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "value": self.value,
                          "by": self.by, "n": self.n, "n_dropped": self.n_dropped,
                          "total": self.total, "groups": list(self.groups)})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        frame = table(list(self.groups), list(GROUP_KEYS)).rename(columns={"group": self.by})
        return [(f"{self.value} by {self.by}", frame)]


def group_summary(frame: pd.DataFrame, sheet: str, value: str, by: str) -> GroupSummary:
    """Count, mean, median, std (ddof=1), min, max, sum and share of total for each group."""
    values = numeric_column(frame, sheet, value)
    levels = group_column(frame, sheet, by)
    keep = values.notna().to_numpy() & levels.notna().to_numpy()
    if not keep.any():
        raise Unprocessable(f"No row of sheet '{sheet}' has both '{value}' and '{by}'.")
    data = pd.DataFrame({"v": values.to_numpy()[keep], "g": levels.to_numpy()[keep]})
    grouped = data.groupby("g", sort=True)["v"]
    stats = grouped.agg(["count", "mean", "median", "std", "min", "max", "sum"])
    if is_numeric(frame[by]):  # whole-number groups in numeric order: 2 before 10
        stats = stats.sort_index(key=lambda idx: idx.astype("int64"))
    n = int(keep.sum())
    total = float(data["v"].sum())
    rows = []
    for level, s in stats.iterrows():
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100.0 * s["sum"] / total if total != 0 else None
        rows.append({"group": str(level), "count": int(s["count"]),
                     "count_share": 100.0 * s["count"] / n, "mean": s["mean"],
                     "median": s["median"], "std": s["std"] if s["count"] > 1 else None,
                     "min": s["min"], "max": s["max"], "sum": s["sum"], "share": share})
    return GroupSummary(sheet=sheet, value=value, by=by, n=n, n_dropped=len(frame) - n,
                        total=total, groups=tuple(json_safe(rows)))
