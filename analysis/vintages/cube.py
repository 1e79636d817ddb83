"""Values as published: for each series a periods × releases matrix on the common time axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.vintages.frames import (
    Axis,
    ReleaseSheet,
    build_axis,
    check_releases,
    column_values,
    numeric_matrix,
)
from analysis.vintages.seriesmap import SeriesLine, SeriesMap
from errors import BadInput

FEW = 3  # series per release up to which columns are read one by one


def aligned(releases: Sequence[ReleaseSheet], series_map: SeriesMap, least: int = 1) -> Axis:
    """The checked releases' common axis; BadInput when the map was built for other releases."""
    check_releases(releases, least)
    if not isinstance(series_map, SeriesMap):
        raise BadInput("The series map must come from match_series on these releases.")
    labels = [str(r.label) for r in releases]
    if series_map.releases and list(series_map.releases) != labels:
        raise BadInput("The series map was built for other releases ("
                       + ", ".join(series_map.releases) + "); match the series again.")
    return build_axis(releases)


def cube(releases: Sequence[ReleaseSheet], axis: Axis,
         lines: Sequence[SeriesLine]) -> np.ndarray:
    """periods × releases × series of float64, NaN where a release lacks the value.

    Each release's frame is read once (its series columns as one array) and scattered into
    the cube with fancy indexing: the cost grows with releases, not with releases × series.
    """
    out = np.full((len(axis.keys), len(releases), len(lines)), np.nan)
    position = {label: r for r, label in enumerate(axis.labels)}
    wanted: list[list[tuple[int, str]]] = [[] for _ in releases]
    for s, line in enumerate(lines):
        for release, column in line.aliases:
            if release in position:
                wanted[position[release]].append((s, column))
    for r, pairs in enumerate(wanted):
        if not pairs:
            continue
        frame = releases[r].frame
        missing = [c for _, c in pairs if c not in frame.columns]
        if missing:
            raise BadInput(f"Release '{axis.labels[r]}' has no column '{missing[0]}'; the "
                           "series map does not fit these releases, match the series again.")
        if len(pairs) <= FEW:  # a column or two: cheaper one by one than as a matrix
            for s, column in pairs:
                out[axis.rows[r], r, s] = column_values(frame, column)
            continue
        matrix = numeric_matrix(frame)
        columns = np.array([matrix.position[c] for _, c in pairs])
        out[axis.rows[r][:, None], r, np.array([s for s, _ in pairs])[None, :]] = \
            matrix.values[:, columns]
    return out


def first_and_latest(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per period (row): the first published value, the latest published value, and the release
    positions they come from (-1 where no release has the period)."""
    finite = np.isfinite(matrix)
    has = finite.any(axis=1)
    first_r = np.where(has, finite.argmax(axis=1), -1)
    last_r = np.where(has, matrix.shape[1] - 1 - finite[:, ::-1].argmax(axis=1), -1)
    rows = np.arange(matrix.shape[0])
    first = np.where(has, matrix[rows, np.maximum(first_r, 0)], np.nan)
    latest = np.where(has, matrix[rows, np.maximum(last_r, 0)], np.nan)
    return first, latest, first_r, last_r
