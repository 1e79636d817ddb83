"""The series map: which column is which series in each release, with the evidence.

`match_series` (in `matching`) builds it; every vintage analysis reads it. It is plain data with a
JSON shape (`to_dict`, `from_dict`), so the web layer can keep it between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analysis.results import available, json_safe
from analysis.vintages.labels import normalise_series_name
from errors import BadInput, NotFound

BY = ("user", "name", "normalised", "values")


@dataclass(frozen=True)
class MatchEvidence:
    """Why the column `name` of `release` was taken for the series it had been `matched_to`
    (its name in the release where it was last seen). `largest_difference` is the largest
    |new − old| / |old| over the `periods_compared` (after dividing by `factor` when the match
    is a rescaled one), None when no period could be compared."""

    release: str
    name: str
    matched_to: str
    by: str
    periods_compared: int
    largest_difference: float | None
    factor: float | None = None

    def to_dict(self) -> dict:
        return json_safe({"release": self.release, "name": self.name,
                          "matched_to": self.matched_to, "by": self.by,
                          "periods_compared": self.periods_compared,
                          "largest_difference": self.largest_difference, "factor": self.factor})


@dataclass(frozen=True)
class SeriesLine:
    """One series across the releases. `name` is its name in the newest release that has it;
    `aliases` pairs each release that has it with the column's name there."""

    name: str
    sheet: str
    aliases: tuple[tuple[str, str], ...]
    first_release: str
    last_release: str
    added_in: str | None
    last_published_in: str | None
    evidence: tuple[MatchEvidence, ...] = ()
    split_from: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "sheet": self.sheet,
                "aliases": [{"release": r, "name": n} for r, n in self.aliases],
                "first_release": self.first_release, "last_release": self.last_release,
                "added_in": self.added_in, "last_published_in": self.last_published_in,
                "evidence": [e.to_dict() for e in self.evidence], "split_from": self.split_from}


@dataclass(frozen=True)
class SeriesMap:
    """The series of one sheet across a family's releases (`releases`: labels, oldest first)."""

    sheet: str
    series: tuple[SeriesLine, ...]
    releases: tuple[str, ...] = ()
    tolerance: float = 0.05

    def names(self) -> list[str]:
        return [s.name for s in self.series]

    def line(self, series_name: str) -> SeriesLine:
        """The series called `series_name` now, or once (an alias), or NotFound naming them."""
        if not isinstance(series_name, str) or not series_name.strip():
            raise BadInput(f"A series name must be a non-empty string, not {series_name!r}.")
        for line in self.series:
            if line.name == series_name:
                return line
        for test in (lambda n: n == series_name,
                     lambda n: normalise_series_name(n) == normalise_series_name(series_name)):
            found = [s for s in self.series if any(test(n) for _, n in s.aliases)]
            if len(found) == 1:
                return found[0]
        where = f" in sheet '{self.sheet}'" if self.sheet else ""
        raise NotFound(f"No series '{series_name}'{where}. Series: {available(self.names())}.")

    def columns_for(self, series_name: str) -> dict[str, str]:
        """Release label → the series' column name in that release (releases that have it)."""
        return dict(self.line(series_name).aliases)

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "releases": list(self.releases),
                "tolerance": self.tolerance, "series": [s.to_dict() for s in self.series]}

    @classmethod
    def from_dict(cls, data: Mapping) -> SeriesMap:
        """The map back from its `to_dict()` (to keep it, e.g. in a database, between runs);
        BadInput when the dict is not one."""
        try:
            lines = tuple(SeriesLine(
                name=s["name"], sheet=s["sheet"],
                aliases=tuple((a["release"], a["name"]) for a in s["aliases"]),
                first_release=s["first_release"], last_release=s["last_release"],
                added_in=s["added_in"], last_published_in=s["last_published_in"],
                evidence=tuple(MatchEvidence(**e) for e in s["evidence"]),
                split_from=s.get("split_from")) for s in data["series"])
            return cls(data["sheet"], lines, tuple(data.get("releases", ())),
                       float(data.get("tolerance", 0.05)))
        except (KeyError, TypeError, ValueError) as problem:
            raise BadInput(f"This is not a series map ({problem!r} is missing or wrong).") \
                from problem
