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
    bins, rule = len(edges) - 1, "auto"
    if bins > MAX_BINS:
        bins, rule = MAX_BINS, "equal"
    # equal bins over the same range: numpy's fast path, the same edges and counts
    counts, edges = np.histogram(finite, bins=bins, range=(edges[0], edges[-1]))
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
