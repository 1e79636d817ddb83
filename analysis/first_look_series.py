"""First-look alerts of a time-series sheet: series that start late, stop early or have gaps.

The sheet's span is from the first to the last period where any numeric column has a value
(trailing empty periods are not held against every series). Series that start or stop at the
same period are one alert, as they usually share a cause (a discontinued survey, a base year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.first_look_text import MAX_NAMED, Alert, Link, count_text, names_text
from analysis.results import label

MAX_CHARTED = 8  # series in the linked line chart


def series_alerts(frame: pd.DataFrame, sheet: str, numeric: list[str]) -> list[Alert]:
    if not numeric:
        return []
    present = np.column_stack([np.isfinite(frame[c].to_numpy(dtype="float64", na_value=np.nan))
                               for c in numeric])
    rows = np.flatnonzero(present.any(axis=1))
    if not len(rows):
        return []
    start, end = int(rows[0]), int(rows[-1])
    periods = frame.index
    firsts, lasts, out = {}, {}, []
    for j, name in enumerate(numeric):
        column = present[:, j]
        if not column.any():
            continue
        first, last = int(np.argmax(column)), len(column) - 1 - int(np.argmax(column[::-1]))
        if first > start:
            firsts.setdefault(first, []).append(name)
        if last < end:
            lasts.setdefault(last, []).append(name)
        gaps = missing_runs(column[first:last + 1])
        if gaps:
            out.append(_gap_alert(sheet, name, [(periods[first + a], periods[first + b - 1],
                                                 b - a) for a, b in gaps]))
    for last, names in sorted(lasts.items()):
        out.append(_edge_alert("stops_early", sheet, names, periods[last], periods[end],
                               end - last))
    for first, names in sorted(firsts.items()):
        out.append(_edge_alert("starts_late", sheet, names, periods[first], periods[start],
                               first - start))
    return out


def missing_runs(present: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of False in a boolean array."""
    edges = np.diff(np.concatenate(([0], (~present).astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def _chart(sheet: str, names: list[str]) -> Link:
    return Link("line chart", "chart", {"kind": "line", "sheet": sheet,
                                        "y": names[:MAX_CHARTED]})


def _edge_alert(kind: str, sheet: str, names: list[str], at, edge, distance: int) -> Alert:
    verb = "stop" if kind == "stops_early" else "start"
    verb = verb + ("s" if len(names) == 1 else "")
    where = "before the sheet's last" if kind == "stops_early" else "after the sheet's first"
    return Alert(kind, "warning" if kind == "stops_early" else "note",
                 "Stops early" if kind == "stops_early" else "Starts late", tuple(names),
                 f"{names_text(names)} {verb} at {label(at)}, {count_text(distance, 'period')} "
                 f"{where} ({label(edge)}).",
                 {"period": label(at), "sheet_period": label(edge), "periods": distance,
                  "count": len(names)}, (_chart(sheet, names),))


def _gap_alert(sheet: str, name: str, runs: list[tuple]) -> Alert:
    missing = sum(length for *_, length in runs)
    spans = [label(a) if length == 1 else f"{label(a)}–{label(b)}" for a, b, length in runs]
    listed = ", ".join(spans[:MAX_NAMED]) + (
        f" and {len(spans) - MAX_NAMED:,} more" if len(spans) > MAX_NAMED else "")
    return Alert("gaps", "warning", "Gaps", (name,),
                 f"{name}: {count_text(missing, 'period')} missing inside the series, in "
                 f"{count_text(len(runs), 'gap')}: {listed}.",
                 {"missing": missing, "gaps": [{"start": label(a), "end": label(b),
                                                "periods": length} for a, b, length in runs]},
                 (_chart(sheet, [name]),))
