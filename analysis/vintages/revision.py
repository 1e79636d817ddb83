"""`revisions`: how much each release changed each period, and how revisions behave with age.

Definitions (every figure uses them; the tests recompute each one):

- `value[p, r]`: period p as release r published it; releases are in family order, oldest first.
- Revision against the previous release: `vs_previous[p, r] = value[p, r] − value[p, r−1]`
  (None for the first release, or where either release lacks p); in percent,
  `100 · vs_previous / |value[p, r−1]|`.
- Revision against the latest: `vs_latest[p, r] = latest[p] − value[p, r]`, where `latest[p]` is
  the newest published value of p: what was still to come after release r. In percent,
  `100 · vs_latest / |value[p, r]|`. Both keep one sign convention: later minus earlier.
- First publication of p: the oldest release with a value for p, at time `L[first]`, where `L[r]`
  is the last period of release r. Only periods that were new data then count for horizons: p
  must lie after the last period of the release before (history that comes with a newly added
  series, or every period of the family's first release, has no "first estimate").
- Value at horizon h (h periods after first publication): `value[p, r_h]` with r_h the newest
  release whose last period is at most `L[first] + h`; it exists only when some release reaches
  `L[first] + h`. Revision at horizon h: `value[p, r_h] − value[p, first]` (0 when no release
  came out within h periods: the first estimate was then still the one published).
- By horizon, over the periods with a revision at h: `n`; `mean_revision` (the bias);
  `t_stat = mean / (sd / √n)`, sd with n − 1 degrees of freedom (None when n < 2 or sd = 0; the
  revisions of neighbouring periods overlap, so read it as indicative); `t_stat_hac`, the same
  with a Newey-West variance over `hac_lags = h − 1` lags (revisions h periods on of consecutive
  periods share h − 1 releases); `mean_abs_revision`; and
  `mean_abs_share_pct = 100 · mean |revision| / mean |first published value|`.
- Latest revisions ranked: per series, between the two newest releases, the revision of the last
  period both publish (`revision`, `revision_pct`), the mean absolute percent revision over all
  periods both publish, and the largest; series ranked by |revision_pct| (largest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.results import json_safe
from analysis.vintages.cube import aligned, cube, first_and_latest
from analysis.vintages.frames import Axis, ReleaseSheet, json_rows
from analysis.vintages.labels import normalise_series_name
from analysis.vintages.seriesmap import SeriesLine, SeriesMap
from errors import BadInput


def percent(change: np.ndarray, base: np.ndarray) -> np.ndarray:
    """100 · change / |base|, NaN where the base is 0 or missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 * change / np.abs(base)
    out[~np.isfinite(out)] = np.nan
    return out


TABLES = ("values", "vs_previous", "vs_previous_pct", "vs_latest", "vs_latest_pct")


@dataclass(frozen=True, eq=False)
class SeriesRevisions:
    """One series' revisions; arrays are periods × releases (see the module docstring)."""

    series: str
    periods: tuple[str, ...]
    values: np.ndarray
    vs_previous: np.ndarray
    vs_previous_pct: np.ndarray
    vs_latest: np.ndarray
    vs_latest_pct: np.ndarray
    aliases: tuple[str, ...] = ()  # every name the series had in these releases

    def to_dict(self) -> dict:
        """{"series", "periods", "values", "vs_previous", "vs_previous_pct", "vs_latest",
        "vs_latest_pct"}, the tables as lists of rows (one per period, one value per release)."""
        return {"series": self.series, "periods": list(self.periods),
                **{key: json_rows(getattr(self, key)) for key in TABLES}}


@dataclass(frozen=True)
class HorizonRow:
    horizon: int
    n: int
    mean_revision: float | None
    sd: float | None
    t_stat: float | None
    mean_abs_revision: float | None
    mean_abs_share_pct: float | None
    t_stat_hac: float | None = None
    hac_lags: int = 0

    def to_dict(self) -> dict:
        return json_safe(dict(self.__dict__))


@dataclass(frozen=True)
class LatestRevision:
    series: str
    period: str | None
    previous: float | None
    latest: float | None
    revision: float | None
    revision_pct: float | None
    periods_compared: int
    mean_abs_revision_pct: float | None
    largest_revision_pct: float | None
    largest_revision_period: str | None

    def to_dict(self) -> dict:
        return json_safe(dict(self.__dict__))


@dataclass(frozen=True, eq=False)
class RevisionsResult:
    sheet: str
    series: tuple[str, ...]
    releases: tuple[str, ...]
    by_period: tuple[SeriesRevisions, ...]
    by_horizon: tuple[tuple[str, tuple[HorizonRow, ...]], ...]
    latest_ranked: tuple[LatestRevision, ...]
    previous_release: str
    latest_release: str

    def for_series(self, name: str) -> SeriesRevisions:
        """The series called `name` now or in any release (names folded as for matching)."""
        key = normalise_series_name(name) if isinstance(name, str) else None
        for test in (lambda n: n == name, lambda n: normalise_series_name(n) == key):
            for item in self.by_period:
                if any(test(n) for n in (item.series, *item.aliases)):
                    return item
        raise BadInput(f"The revisions hold no series '{name}'; they hold "
                       + ", ".join(f"'{s}'" for s in self.series) + ".")

    def horizons_for(self, name: str) -> tuple[HorizonRow, ...]:
        return dict(self.by_horizon)[self.for_series(name).series]

    def to_dict(self, by_period: bool = True) -> dict:
        """The JSON shape; `by_period=False` leaves out the periods × releases tables (large for
        a whole sheet: series × periods × releases × 4 numbers)."""
        return {
            "sheet": self.sheet, "series": list(self.series), "releases": list(self.releases),
            "sign": "later minus earlier",
            "by_period": [s.to_dict() for s in self.by_period] if by_period else None,
            "by_horizon": [{"series": name, "horizons": [row.to_dict() for row in rows]}
                           for name, rows in self.by_horizon],
            "latest_ranked": [row.to_dict() for row in self.latest_ranked],
            "previous_release": self.previous_release, "latest_release": self.latest_release,
        }


def _by_period(line: SeriesLine, periods: tuple[str, ...],
               matrix: np.ndarray) -> SeriesRevisions:
    previous = np.full_like(matrix, np.nan)
    previous[:, 1:] = matrix[:, 1:] - matrix[:, :-1]
    previous_pct = np.full_like(matrix, np.nan)
    previous_pct[:, 1:] = percent(previous[:, 1:], matrix[:, :-1])
    _, latest, _, _ = first_and_latest(matrix)
    vs_latest = latest[:, None] - matrix
    names = tuple(dict.fromkeys(n for _, n in line.aliases))
    return SeriesRevisions(line.name, periods, matrix, previous, previous_pct, vs_latest,
                           percent(vs_latest, matrix), names)


def horizon_revisions(matrix: np.ndarray, steps: np.ndarray, last_step: np.ndarray,
                      horizons: int) -> tuple[np.ndarray, np.ndarray]:
    """(revisions, first values), both periods × horizons (h = 1..horizons), NaN where a period
    has no revision at h (see the module docstring for which periods and releases count)."""
    first, _, first_r, _ = first_and_latest(matrix)
    rows = np.arange(matrix.shape[0])
    has = first_r >= 0
    before = np.where(first_r > 0, last_step[np.maximum(first_r - 1, 0)], 0)
    eligible = has & (first_r > 0) & (steps > before)
    start = np.where(has, last_step[np.maximum(first_r, 0)], 0)
    out = np.full((matrix.shape[0], horizons), np.nan)
    reach = last_step.max() if len(last_step) else 0
    for h in range(1, horizons + 1):
        target = start + h
        known = last_step[None, :] <= target[:, None]  # periods × releases
        r_h = matrix.shape[1] - 1 - known[:, ::-1].argmax(axis=1)
        ok = eligible & known.any(axis=1) & (reach >= target) & (r_h >= first_r)
        value = matrix[rows, r_h]
        out[:, h - 1] = np.where(ok, value - first, np.nan)
    return out, first


def newey_west_t(values: np.ndarray, lags: int) -> float | None:
    """t statistic of the mean with a Newey-West (Bartlett) long-run variance over `lags`
    autocovariances, with no small-sample factor (as statsmodels' HAC by default): with 0 lags
    it is the usual t with the n-denominator standard deviation."""
    n = len(values)
    if n < 2:
        return None
    e = values - values.mean()
    long_run = e @ e / n
    for j in range(1, min(lags, n - 1) + 1):
        long_run += 2 * (1 - j / (lags + 1)) * (e[j:] @ e[:-j]) / n
    variance = long_run / n
    return float(values.mean() / np.sqrt(variance)) if variance > 0 else None


def _horizon_rows(revision: np.ndarray, first: np.ndarray) -> tuple[HorizonRow, ...]:
    rows = []
    for h in range(revision.shape[1]):
        ok = np.isfinite(revision[:, h]) & np.isfinite(first)
        r, f = revision[ok, h], first[ok]
        n = int(ok.sum())
        if n == 0:
            rows.append(HorizonRow(h + 1, 0, None, None, None, None, None, None, h))
            continue
        mean = float(r.mean())
        sd = float(r.std(ddof=1)) if n > 1 else None
        t = mean / (sd / np.sqrt(n)) if sd else None
        mean_abs = float(np.abs(r).mean())
        scale = float(np.abs(f).mean())
        rows.append(HorizonRow(h + 1, n, mean, sd, t, mean_abs,
                               100 * mean_abs / scale if scale else None,
                               newey_west_t(r, h), h))
    return tuple(rows)


def _latest(name: str, axis: Axis, matrix: np.ndarray) -> LatestRevision:
    a, b = matrix[:, -2], matrix[:, -1]
    both = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if not len(both):
        return LatestRevision(name, None, None, None, None, None, 0, None, None, None)
    pct = percent(b[both] - a[both], a[both])
    at = both[-1]
    biggest = int(np.nanargmax(np.abs(pct))) if np.isfinite(pct).any() else None
    return LatestRevision(
        name, axis.period_labels[at], float(a[at]), float(b[at]), float(b[at] - a[at]),
        float(pct[-1]), len(both), float(np.nanmean(np.abs(pct))) if biggest is not None
        else None, float(pct[biggest]) if biggest is not None else None,
        axis.period_labels[both[biggest]] if biggest is not None else None)


def revisions(releases: Sequence[ReleaseSheet], series_map: SeriesMap, series: str | None = None,
              horizons: int = 12) -> RevisionsResult:
    """Revisions of one series (`series`, any of its names) or of every series of the sheet
    (None) across at least two releases; see the module docstring for every definition."""
    if not isinstance(horizons, int) or isinstance(horizons, bool) or not 1 <= horizons <= 400:
        raise BadInput(f"Horizons must be a whole number of periods from 1 to 400, "
                       f"not {horizons!r}.")
    lines = [series_map.line(series)] if series is not None else list(series_map.series)
    axis = aligned(releases, series_map, least=2)
    values = cube(releases, axis, lines)
    by_period, by_horizon, latest = [], [], []
    for s, line in enumerate(lines):
        matrix = values[:, :, s]
        keep = np.isfinite(matrix).any(axis=1)
        periods = tuple(p for p, k in zip(axis.period_labels, keep, strict=True) if k)
        by_period.append(_by_period(line, periods, matrix[keep]))
        revision, first = horizon_revisions(matrix, axis.steps, axis.last_step, horizons)
        by_horizon.append((line.name, _horizon_rows(revision, first)))
        latest.append(_latest(line.name, axis, matrix))
    ranked = sorted(latest, key=lambda x: (0, -abs(x.revision_pct))
                    if x.revision_pct is not None and np.isfinite(x.revision_pct) else (1, 0.0))
    return RevisionsResult(series_map.sheet, tuple(line.name for line in lines), axis.labels,
                           tuple(by_period), tuple(by_horizon), tuple(ranked), axis.labels[-2],
                           axis.labels[-1])
