"""Which column of each release is which series: by the user's word, by name, by values.

Releases are matched oldest to newest. A column of a release joins a series known from the
earlier releases, in this order of trust:

1. the user's override for that release and column (None: "a new series, match nothing");
2. the same name as one of the series' earlier names;
3. the same name after `normalise_series_name` ("U.S." and "US");
4. the same values over the periods both have (at least 4): every relative difference within
   `tolerance` (`largest_difference`), or within it once the whole column is divided by one
   factor further than `tolerance` from 1 (the index moved to a new base year). The closest
   pairs are taken first, each series and column once; a match as the values stand beats a
   rescaled one.

A column that matches nothing starts a new series ("added in" that release). When its values also
agree with a series that went on under another column in the same release, the new series records
`split_from` that series: an aggregate renamed and split into two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.results import available
from analysis.vintages.frames import (
    NumericMatrix,
    ReleaseSheet,
    check_releases,
    index_keys,
    numeric_matrix,
    series_columns,
)
from analysis.vintages.labels import normalise_series_name
from analysis.vintages.seriesmap import MatchEvidence, SeriesLine, SeriesMap
from errors import BadInput

MIN_PERIODS = 4  # fewer shared periods than this never decide a match by values


@dataclass(eq=False)
class _Line:
    """A series while matching: its columns by release position, and the names it answers to
    (as given, and folded by `normalise_series_name`)."""

    columns: dict[int, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    folded: set[str] = field(default_factory=set)
    evidence: list[MatchEvidence] = field(default_factory=list)
    split_from: _Line | None = None

    @property
    def last(self) -> int:
        return max(self.columns)

    def answer_to(self, name: str) -> None:
        self.names.add(name)
        self.folded.add(normalise_series_name(name))

    def answers_to(self, name: str, normalised: bool) -> bool:
        return normalise_series_name(name) in self.folded if normalised else name in self.names


@dataclass(frozen=True)
class _Comparison:
    periods: int
    largest: float | None  # raw largest relative difference
    factor: float | None  # median ratio new / old
    largest_rescaled: float | None

    def score(self, tolerance: float,
              rescale: bool = True) -> tuple[int, float, float | None] | None:
        """(rank, largest difference, factor or None) when the values agree within `tolerance`:
        rank 0 as they are, rank 1 once divided by a factor further than `tolerance` from 1 (a
        new base year). A match as-is always beats a rescaled one."""
        if self.periods < MIN_PERIODS or self.largest is None:
            return None
        if self.largest <= tolerance:
            return 0, self.largest, None
        if rescale and self.largest_rescaled is not None and self.largest_rescaled <= tolerance \
                and abs(self.factor - 1) > tolerance:
            return 1, self.largest_rescaled, self.factor
        return None


class _Matcher:
    def __init__(self, releases: Sequence[ReleaseSheet], tolerance: float):
        self.releases = releases
        self.tolerance = tolerance
        self.lines: list[_Line] = []
        self.keys = [index_keys(r.frame.index) for r in releases]
        self._matrices: dict[int, NumericMatrix] = {}
        self._common: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._pending: list[tuple[_Line, int, str, int, str, str]] = []

    def matrix(self, release: int) -> NumericMatrix:
        if release not in self._matrices:
            self._matrices[release] = numeric_matrix(self.releases[release].frame)
        return self._matrices[release]

    def common(self, old: int, new: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of release `old` and of release `new` holding the same periods."""
        if (old, new) not in self._common:
            _, i_old, i_new = np.intersect1d(self.keys[old], self.keys[new], assume_unique=True,
                                             return_indices=True)
            self._common[(old, new)] = (i_old, i_new)
        return self._common[(old, new)]

    def compare(self, line: _Line, release: int, column: str) -> _Comparison:
        """The line's values where it was last seen against `column` of `release`."""
        old_release = line.last
        i_old, i_new = self.common(old_release, release)
        a = self.matrix(old_release).column(line.columns[old_release])[i_old]
        b = self.matrix(release).column(column)[i_new]
        keep = np.isfinite(a) & np.isfinite(b) & (a != 0)
        a, b = a[keep], b[keep]
        if not len(a):
            return _Comparison(0, None, None, None)
        ratio = b / a
        factor = float(np.median(ratio))
        rescaled = float(np.max(np.abs(ratio / factor - 1))) if factor > 0 else None
        return _Comparison(len(a), float(np.max(np.abs(ratio - 1))), factor, rescaled)

    def join(self, line: _Line, release: int, column: str, by: str | None,
             comparison: _Comparison | None = None) -> None:
        """Add `column` of `release` to the line. The evidence of a match by values is its
        comparison; the other matches' evidence is measured for the whole release at once
        (`record_evidence`)."""
        if by is not None and line.columns:
            old = line.last
            if comparison is not None:
                scored = comparison.score(self.tolerance)
                factor = scored[2] if scored else None
                largest = comparison.largest_rescaled if factor is not None \
                    else comparison.largest
                line.evidence.append(MatchEvidence(
                    str(self.releases[release].label), column, line.columns[old], by,
                    comparison.periods, largest, factor))
            else:
                self._pending.append((line, old, line.columns[old], release, column, by))
        line.columns[release] = column
        line.answer_to(column)

    def record_evidence(self) -> None:
        """Periods compared and largest relative difference of every pending match, one array
        operation per pair of releases."""
        groups: dict[tuple[int, int], list] = {}
        for item in self._pending:
            groups.setdefault((item[1], item[3]), []).append(item)
        self._pending = []
        for (old, new), items in groups.items():
            i_old, i_new = self.common(old, new)
            a = self.matrix(old).values[i_old][:, [self.matrix(old).position[i[2]]
                                                   for i in items]]
            b = self.matrix(new).values[i_new][:, [self.matrix(new).position[i[4]]
                                                   for i in items]]
            keep = np.isfinite(a) & np.isfinite(b) & (a != 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                difference = np.where(keep, np.abs(b / a - 1), -np.inf)
            counts = keep.sum(axis=0)
            largest = difference.max(axis=0) if len(difference) else np.full(len(items), -np.inf)
            for k, (line, _, old_name, _, column, by) in enumerate(items):
                line.evidence.append(MatchEvidence(
                    str(self.releases[new].label), column, old_name, by, int(counts[k]),
                    float(largest[k]) if counts[k] else None))

    def new_line(self, release: int, column: str) -> _Line:
        line = _Line()
        self.join(line, release, column, None)
        self.lines.append(line)
        return line

    def by_name(self, columns: list[str], release: int, free: list[_Line],
                normalised: bool) -> list[str]:
        """Join columns to free lines answering to their name; the columns left over."""
        left = []
        for column in columns:
            key = normalise_series_name(column) if normalised else column
            found = [line for line in free if key in (line.folded if normalised else line.names)]
            if found:
                line = max(found, key=lambda x: x.last)  # the most recently published one
                free.remove(line)
                self.join(line, release, column, "normalised" if normalised else "name")
            else:
                left.append(column)
        return left

    def by_values(self, columns: list[str], release: int, free: list[_Line]) -> list[str]:
        pairs = []
        for column in columns:
            for line in free:
                comparison = self.compare(line, release, column)
                scored = comparison.score(self.tolerance)
                if scored is not None:
                    pairs.append((scored[:2], self.lines.index(line), column, line, comparison))
        pairs.sort(key=lambda p: p[:3])
        left = list(columns)
        for _, _, column, line, comparison in pairs:
            if column in left and line in free:
                free.remove(line)
                left.remove(column)
                self.join(line, release, column, "values", comparison)
        return left

    def split_source(self, release: int, column: str, matched: list[_Line]) -> _Line | None:
        best = None
        for line in matched:
            earlier = [r for r in line.columns if r < release]
            if not earlier:
                continue
            probe = _Line(columns={r: line.columns[r] for r in earlier})
            scored = self.compare(probe, release, column).score(self.tolerance, rescale=False)
            if scored is not None and (best is None or scored[1] < best[0]):
                best = (scored[1], line)
        return best[1] if best else None

    def add_release(self, release: int, override: Mapping[str, str | None]) -> None:
        columns = series_columns(self.releases[release].frame)
        free = list(self.lines)
        for column, target in override.items():
            if target is None:
                self.new_line(release, column)
                continue
            found = [x for x in free if x.answers_to(target, False)] or \
                [x for x in free if x.answers_to(target, True)]
            if found:
                line = max(found, key=lambda x: x.last)
                free.remove(line)
                self.join(line, release, column, "user")
            else:  # the user names a series seen only later: it answers to that name from now on
                self.new_line(release, column).answer_to(target)
        rest = [c for c in columns if c not in override]
        rest = self.by_name(rest, release, free, normalised=False)
        rest = self.by_name(rest, release, free, normalised=True)
        rest = self.by_values(rest, release, free)
        self.record_evidence()
        matched = [x for x in self.lines if release in x.columns and len(x.columns) > 1]
        for column in rest:
            source = self.split_source(release, column, matched)
            self.new_line(release, column).split_from = source


def _check_overrides(releases: Sequence[ReleaseSheet], overrides) -> dict[str, dict]:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise BadInput("Overrides must map a release label to {column: series name or null}.")
    labels = [str(r.label) for r in releases]
    out: dict[str, dict] = {}
    for release_label, mapping in overrides.items():
        if str(release_label) not in labels:
            raise BadInput(f"An override names the release '{release_label}', which is not in "
                           f"the family. Releases: {available(labels)}.")
        if not isinstance(mapping, Mapping):
            raise BadInput(f"The override for release '{release_label}' must map a column name "
                           "to a series name or null.")
        columns = series_columns(releases[labels.index(str(release_label))].frame)
        for column, target in mapping.items():
            if column not in columns:
                raise BadInput(f"Release '{release_label}' has no series column '{column}'. "
                               f"Columns: {available(columns)}.")
            if target is not None and (not isinstance(target, str) or not target.strip()):
                raise BadInput(f"The override for column '{column}' in release "
                               f"'{release_label}' must be a series name or null.")
        targets = [t for t in mapping.values() if t is not None]
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise BadInput(f"In release '{release_label}', two columns are said to be the "
                           f"series '{twice[0]}'; a series has one column per release.")
        out[str(release_label)] = dict(mapping)
    return out


def match_series(releases: Sequence[ReleaseSheet],
                 overrides: Mapping[str, Mapping[str, str | None]] | None = None,
                 tolerance: float = 0.05) -> SeriesMap:
    """The series of one sheet across `releases` (oldest first); see the module docstring.

    `overrides`: {release label: {column in that release: series name or None}}, the user's
    corrections; a series name is any name the series has had (or, for a series seen only in
    later releases, the name it will have there). `tolerance` is a relative difference (0.05 = 5%).
    """
    check_releases(releases)
    if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or \
            not 0 <= tolerance < 1:
        raise BadInput(f"The matching tolerance must be a number from 0 to 1, not {tolerance!r}.")
    checked = _check_overrides(releases, overrides)
    matcher = _Matcher(releases, float(tolerance))
    for position, release in enumerate(releases):
        matcher.add_release(position, checked.get(str(release.label), {}))
    return _series_map(releases, matcher.lines, float(tolerance))


def _series_map(releases: Sequence[ReleaseSheet], lines: list[_Line],
                tolerance: float) -> SeriesMap:
    labels = [str(r.label) for r in releases]
    newest = len(releases) - 1
    sheet = str(releases[-1].sheet)

    def order(line: _Line) -> tuple:
        last = line.last
        position = list(releases[last].frame.columns).index(line.columns[last])
        return (-last, position)

    lines = sorted(lines, key=order)
    names: list[str] = []
    for line in lines:
        name = line.columns[line.last]
        if name in names:  # a new series under an old name (the user said so): say from when
            name = f"{name} (from {labels[min(line.columns)]})"
        names.append(name)
    positions = {id(line): i for i, line in enumerate(lines)}
    out = []
    for line, name in zip(lines, names, strict=True):
        first, last = min(line.columns), line.last
        split = names[positions[id(line.split_from)]] if line.split_from else None
        out.append(SeriesLine(
            name=name, sheet=sheet,
            aliases=tuple((labels[r], line.columns[r]) for r in sorted(line.columns)),
            first_release=labels[first], last_release=labels[last],
            added_in=labels[first] if first > 0 else None,
            last_published_in=labels[last] if last < newest else None,
            evidence=tuple(line.evidence), split_from=split))
    return SeriesMap(sheet, tuple(out), tuple(labels), tolerance)
