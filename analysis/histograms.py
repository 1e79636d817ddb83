"""Histograms of numeric columns: the small multiples drawn beside a describe table.

Bins follow numpy's "auto" rule (the larger of Sturges and Freedman–Diaconis, as
`numpy.histogram_bin_edges(values, "auto")`), so a reader can reproduce them with numpy alone.
A column whose spread sits in a few extreme values can make Freedman–Diaconis ask for
thousands of bins; beyond MAX_BINS the range is cut into MAX_BINS equal bins instead, and the
histogram says so (`rule`: "auto" or "equal"). Missing and infinite values are left out.
"""

from __future__ import annotations

import numpy as np

MAX_BINS = 60


def histogram(values: np.ndarray) -> dict | None:
    """{"edges", "counts", "rule"} of a column's finite values (None when it has none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    edges = np.histogram_bin_edges(finite, bins="auto")
    rule = "auto"
    if len(edges) - 1 > MAX_BINS:
        edges, rule = np.histogram_bin_edges(finite, bins=MAX_BINS), "equal"
    counts, _ = np.histogram(finite, bins=edges)
    return {"edges": edges.tolist(), "counts": counts.tolist(), "rule": rule}


def column_histograms(block: np.ndarray, names: list[str]) -> dict[str, dict]:
    """Histogram of each column of a 2-D float array (NaN = missing), keyed by name; columns
    without a finite value are left out."""
    out = {}
    for j, name in enumerate(names):
        found = histogram(block[:, j])
        if found is not None:
            out[name] = found
    return out
