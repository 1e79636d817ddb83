"""Releases of one publication over time: series matched across releases, vintages, revisions,
the changes between two releases, and whether a new upload looks like the next release.

Pure compute on cleaned sheets (pandas/numpy): no Flask, no database, no file paths. Every
function takes the releases of one sheet oldest first (`ReleaseSheet`s) and, except
`match_series`, the `SeriesMap` that `match_series` made for them.
"""

from analysis.vintages.change import ChangesResult, changes, rebasing_factor
from analysis.vintages.frames import ReleaseSheet
from analysis.vintages.labels import normalise_series_name, release_label_from, release_sort_key
from analysis.vintages.matching import match_series
from analysis.vintages.revision import (
    HorizonRow,
    LatestRevision,
    RevisionsResult,
    SeriesRevisions,
    revisions,
)
from analysis.vintages.seriesmap import MatchEvidence, SeriesLine, SeriesMap
from analysis.vintages.similarity import PROPOSE, Similarity, release_similarity
from analysis.vintages.vintage import VintagesResult, vintages

__all__ = [
    "PROPOSE", "ChangesResult", "HorizonRow", "LatestRevision", "MatchEvidence", "ReleaseSheet",
    "RevisionsResult", "SeriesLine", "SeriesMap", "SeriesRevisions", "Similarity",
    "VintagesResult", "changes", "match_series", "normalise_series_name", "rebasing_factor",
    "release_label_from", "release_similarity", "release_sort_key", "revisions", "vintages",
]
