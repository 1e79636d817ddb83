"""The vintage analyses by kind, like `analysis.registry.ANALYSES` but over a family's releases.

The web layer loads the releases of the sheet named by the `sheet` parameter (oldest first) and
their series map, then calls `VINTAGE_ANALYSES[kind].run(releases, series_map, params)` with the
JSON body; `parameters` describe the form fields and the OpenAPI schema (`to_dict()`). A missing,
unknown or mistyped parameter is a BadInput naming it, as for every other analysis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.registry import AnalysisSpec, Parameter
from analysis.vintages.change import changes
from analysis.vintages.frames import ReleaseSheet
from analysis.vintages.revision import revisions
from analysis.vintages.seriesmap import SeriesMap
from analysis.vintages.vintage import vintages
from errors import BadInput

SHEET = Parameter("sheet", "sheet", help="The sheet, as named in every release of the family.")


def _percent(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out) or out < 0:
        raise BadInput(f"Parameter 'threshold_pct' must be a percentage of 0 or more, "
                       f"not {value!r}.")
    return out


@dataclass(frozen=True)
class VintageAnalysis:
    kind: str
    title: str
    parameters: tuple[Parameter, ...]
    compute: Callable[[Sequence[ReleaseSheet], SeriesMap, dict], Any]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title,
                "parameters": [p.to_dict() for p in self.parameters]}

    def validate(self, params: dict | None) -> dict:
        """Known parameters only, each coerced, defaults filled in (the registry's rules)."""
        return AnalysisSpec(self.kind, self.title, self.parameters, self.compute,
                            ()).validate(params)

    def run(self, releases: Sequence[ReleaseSheet], series_map: SeriesMap,
            params: dict | None) -> Any:
        return self.compute(releases, series_map, self.validate(params))


VINTAGE_ANALYSES: dict[str, VintageAnalysis] = {a.kind: a for a in (
    VintageAnalysis("vintages", "Vintages of a series", (
        SHEET, Parameter("series", "string",
                         help="The series (its name in any release, e.g. US or U.S.)."),
    ), lambda r, m, v: vintages(r, m, v["series"])),
    VintageAnalysis("revisions", "Revisions", (
        SHEET, Parameter("series", "string", required=False,
                         help="One series; every series of the sheet when omitted."),
        Parameter("horizons", "int", False, 12,
                  help="Periods after first publication to measure revisions at (1 to 400)."),
    ), lambda r, m, v: revisions(r, m, v["series"], v["horizons"])),
    VintageAnalysis("changes", "What changed between two releases", (
        SHEET, Parameter("previous", "string", required=False,
                         help="The older release's label; the one before `latest` by default."),
        Parameter("latest", "string", required=False,
                  help="The newer release's label; the newest release by default."),
        Parameter("threshold_pct", "string", False, "1",
                  help="List values revised by more than this percentage (default 1)."),
    ), lambda r, m, v: changes(r, m, v["previous"], v["latest"], _percent(v["threshold_pct"]))),
)}
