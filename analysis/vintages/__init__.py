"""Releases of one publication over time: series matched across releases, vintages, revisions,
the changes between two releases, and whether a new upload looks like the next release.

Pure compute on cleaned sheets (pandas/numpy): no Flask, no database, no file paths. Every
function takes the releases of one sheet oldest first (`ReleaseSheet`s) and, except
`match_series`, the `SeriesMap` that `match_series` made for them.
"""

from analysis.vintages.frames import ReleaseSheet
from analysis.vintages.labels import normalise_series_name, release_label_from, release_sort_key
from analysis.vintages.matching import MatchEvidence, SeriesLine, SeriesMap, match_series
from analysis.vintages.vintage import VintagesResult, vintages

__all__ = [
    "MatchEvidence", "ReleaseSheet", "SeriesLine", "SeriesMap", "VintagesResult",
    "match_series", "normalise_series_name", "release_label_from", "release_sort_key",
    "vintages",
]
