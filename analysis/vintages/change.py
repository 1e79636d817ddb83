"""`changes`: what one release changed against another (by default the newest against the one
before): periods and series added, renamed and removed, values revised beyond a threshold, and
series rebased (rescaled as a whole by one factor: the index moved to a new base year).

Rebasing is told apart from revision by the ratios latest / previous over the periods both
releases publish: their median (the factor) is at least 2% away from 1, and 90% of the ratios lie
within a tenth of that distance of it (a new base year moves every value by the same factor;
revisions move a few values by different amounts). A rebased series' values are then compared
after dividing the latest ones by the factor, so the revisions listed for it are the ones beyond
the new base (`rebased: true` on each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.results import json_safe
from analysis.vintages.cube import aligned
from analysis.vintages.frames import ReleaseSheet, column_values, unknown_release
from analysis.vintages.revision import percent
from analysis.vintages.seriesmap import SeriesMap
from errors import BadInput

REBASE_MIN_SHIFT = 0.02
REBASE_SPREAD = 0.1
REBASE_SHARE = 0.9


@dataclass(frozen=True, eq=False)
class ChangesResult:
    sheet: str
    previous: str
    latest: str
    periods_added: tuple[str, ...]
    periods_removed: tuple[str, ...]
    series_added: tuple[str, ...]
    series_removed: tuple[str, ...]
    series_renamed: tuple[dict, ...]
    revised: tuple[dict, ...]
    rebased: tuple[dict, ...]
    threshold_pct: float
    series_compared: int

    def to_dict(self) -> dict:
        return json_safe({
            "sheet": self.sheet, "previous": self.previous, "latest": self.latest,
            "threshold_pct": self.threshold_pct, "series_compared": self.series_compared,
            "periods_added": list(self.periods_added),
            "periods_removed": list(self.periods_removed),
            "series_added": list(self.series_added), "series_removed": list(self.series_removed),
            "series_renamed": list(self.series_renamed), "revised": list(self.revised),
            "rebased": list(self.rebased),
        })


def rebasing_factor(old: np.ndarray, new: np.ndarray) -> float | None:
    """The one factor new / old when the whole series was rescaled (see the module docstring)."""
    keep = np.isfinite(old) & np.isfinite(new) & (old != 0)
    if keep.sum() < 4:
        return None
    ratio = new[keep] / old[keep]
    factor = float(np.median(ratio))
    if factor <= 0 or abs(factor - 1) < REBASE_MIN_SHIFT:
        return None
    spread = float(np.quantile(np.abs(ratio / factor - 1), REBASE_SHARE))
    return factor if spread <= REBASE_SPREAD * abs(factor - 1) else None


def _pick(labels: Sequence[str], previous: str | None, latest: str | None) -> tuple[int, int]:
    latest_at = len(labels) - 1 if latest is None else _position(labels, latest)
    if previous is None:
        if latest_at == 0:
            raise BadInput(f"Release '{labels[0]}' is the oldest; there is nothing before it to "
                           "compare with.")
        previous_at = latest_at - 1
    else:
        previous_at = _position(labels, previous)
    if previous_at == latest_at:
        raise BadInput(f"Compare two different releases, not '{labels[latest_at]}' with itself.")
    if previous_at > latest_at:
        raise BadInput(f"Release '{labels[previous_at]}' comes after '{labels[latest_at]}'; "
                       "give the older release as previous and the newer as latest.")
    return previous_at, latest_at


def _position(labels: Sequence[str], name: str) -> int:
    if str(name) not in labels:
        raise unknown_release(str(name), labels)
    return list(labels).index(str(name))


def changes(releases: Sequence[ReleaseSheet], series_map: SeriesMap, previous: str | None = None,
            latest: str | None = None, threshold_pct: float = 1.0) -> ChangesResult:
    """What `latest` changed against `previous` (labels; default: the two newest releases).
    `revised` lists the values that moved by more than `threshold_pct` percent of the previous
    value, largest first; renamed series are listed under their name in `latest`."""
    if not isinstance(threshold_pct, (int, float)) or isinstance(threshold_pct, bool) or \
            not 0 <= threshold_pct < 1e6 or threshold_pct != threshold_pct:
        raise BadInput(f"The revision threshold must be a percentage of 0 or more, "
                       f"not {threshold_pct!r}.")
    axis = aligned(releases, series_map, least=2)
    p, q = _pick(axis.labels, previous, latest)
    old_frame, new_frame = releases[p].frame, releases[q].frame
    old_keys, new_keys = set(axis.rows[p].tolist()), set(axis.rows[q].tolist())
    added = tuple(axis.period_labels[i] for i in sorted(new_keys - old_keys))
    removed = tuple(axis.period_labels[i] for i in sorted(old_keys - new_keys))
    common = np.array(sorted(old_keys & new_keys), dtype=np.int64)
    old_row, new_row = _rows_of(axis.rows[p], common), _rows_of(axis.rows[q], common)
    series_added, series_removed, renamed, revised, rebased = [], [], [], [], []
    compared = 0
    for line in series_map.series:
        columns = dict(line.aliases)
        before, after = columns.get(axis.labels[p]), columns.get(axis.labels[q])
        if before is None and after is None:
            continue
        if before is None:
            series_added.append(line.name)
            continue
        if after is None:
            series_removed.append(before)
            continue
        compared += 1
        if before != after:
            renamed.append({"from": before, "to": after, "series": line.name})
        old = column_values(old_frame, before)[old_row]
        new = column_values(new_frame, after)[new_row]
        factor = rebasing_factor(old, new)
        if factor is not None:
            rebased.append({"series": line.name, "factor": factor,
                            "periods_compared": int((np.isfinite(old) & np.isfinite(new)).sum())})
        scaled = new / factor if factor is not None else new
        change = percent(scaled - old, old)
        moved = np.flatnonzero(np.abs(change) > threshold_pct)
        revised.extend({"series": line.name, "period": axis.period_labels[common[i]],
                        "previous": old[i], "latest": new[i], "change_pct": change[i],
                        "rebased": factor is not None} for i in moved)
    revised.sort(key=lambda r: -abs(r["change_pct"]))
    return ChangesResult(series_map.sheet, axis.labels[p], axis.labels[q], added, removed,
                         tuple(series_added), tuple(series_removed), tuple(renamed),
                         tuple(revised), tuple(rebased), float(threshold_pct), compared)


def _rows_of(rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The frame rows holding the axis positions `wanted` (a frame's rows need not be sorted)."""
    order = np.argsort(rows)
    return order[np.searchsorted(rows[order], wanted)]
