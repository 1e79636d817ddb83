"""`vintages`: one series as published in each release (periods × releases)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.vintages.cube import aligned, cube, first_and_latest
from analysis.vintages.frames import ReleaseSheet, json_rows
from analysis.vintages.seriesmap import SeriesMap


@dataclass(frozen=True, eq=False)
class VintagesResult:
    """`values[p, r]` is period `periods[p]` as release `releases[r]` published it (NaN: that
    release does not have it). `first_published[p]` comes from the oldest release with a value
    for the period, `latest[p]` from the newest. Periods no release has are left out."""

    sheet: str
    series: str
    periods: tuple[str, ...]
    releases: tuple[str, ...]
    values: np.ndarray
    first_published: np.ndarray
    latest: np.ndarray
    first_published_in: tuple[str | None, ...]
    columns: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict:
        return {
            "sheet": self.sheet, "series": self.series, "periods": list(self.periods),
            "releases": list(self.releases), "values": json_rows(self.values),
            "first_published": json_rows(self.first_published),
            "latest": json_rows(self.latest),
            "first_published_in": list(self.first_published_in),
            "columns": [{"release": r, "name": n} for r, n in self.columns],
        }


def vintages(releases: Sequence[ReleaseSheet], series_map: SeriesMap,
             series: str) -> VintagesResult:
    """The vintages of `series` (its name now or any earlier name) across `releases`, oldest
    first. NotFound names the known series when `series` is not one of them."""
    line = series_map.line(series)
    axis = aligned(releases, series_map)
    matrix = cube(releases, axis, [line])[:, :, 0]
    keep = np.isfinite(matrix).any(axis=1)
    matrix = matrix[keep]
    first, latest, first_r, _ = first_and_latest(matrix)
    periods = tuple(p for p, k in zip(axis.period_labels, keep, strict=True) if k)
    return VintagesResult(
        sheet=series_map.sheet, series=line.name, periods=periods, releases=axis.labels,
        values=matrix, first_published=first, latest=latest,
        first_published_in=tuple(axis.labels[r] for r in first_r), columns=line.aliases)
