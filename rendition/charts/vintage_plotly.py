"""The vintage charts as Plotly figure JSON ({"data", "layout"}), for an interactive page.

Plain dicts (no plotly.graph_objects round trip): the data are JSON lists with null for a
missing value, and every user string (series, release and period names) goes through
`plotly_text`, so Plotly shows it literally. Colours match the PNG/SVG charts.
"""

from __future__ import annotations

import numpy as np

from analysis.vintages import RevisionsResult, VintagesResult
from analysis.vintages.frames import json_rows
from rendition.charts.text import plotly_text as esc
from rendition.charts.vintage_charts import FIRST, LATEST, RELEASE

DIVERGING = "RdBu"  # reversed below: red up, blue down, as in the PNG


def _layout(title: str, **extra) -> dict:
    return {"title": {"text": esc(title), "x": 0, "xanchor": "left"},
            "template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "hovermode": "closest", **extra}


def vintage_fan_plotly(result: VintagesResult) -> dict:
    """One thin line per release (hidden from the legend but for the first), then the
    first-published and latest values in bold."""
    periods = [esc(p) for p in result.periods]
    data = []
    for r, name in enumerate(result.releases):
        data.append({"type": "scatter", "mode": "lines", "name": esc(name), "x": periods,
                     "y": json_rows(result.values[:, r]), "legendgroup": "releases",
                     "showlegend": r == 0, "line": {"color": RELEASE, "width": 1},
                     "opacity": 0.6})
    if data:
        data[0]["name"] = esc(f"Each release ({len(result.releases)})")
    data.append({"type": "scatter", "mode": "lines", "name": "First published", "x": periods,
                 "y": json_rows(result.first_published), "line": {"color": FIRST, "width": 2.5}})
    data.append({"type": "scatter", "mode": "lines", "name": "Latest", "x": periods,
                 "y": json_rows(result.latest), "line": {"color": LATEST, "width": 2.5}})
    return {"data": data, "layout": _layout(f"{result.series}: {len(result.releases)} releases",
                                            xaxis={"type": "category"})}


def revision_heatmap_plotly(result: RevisionsResult, series: str, against: str = "previous",
                            percent: bool = True) -> dict:
    """Periods × releases of revisions, colours centred on 0 (`zmid`)."""
    table = result.for_series(series)
    matrix = getattr(table, f"vs_{'latest' if against == 'latest' else 'previous'}"
                     + ("_pct" if percent else ""))
    finite = np.abs(matrix[np.isfinite(matrix)])
    top = float(np.quantile(finite, 0.98)) if finite.size and finite.max() > 0 else 1.0
    unit = "%" if percent else "units"
    heat = {"type": "heatmap", "z": json_rows(matrix), "x": [esc(r) for r in result.releases],
            "y": [esc(p) for p in table.periods], "colorscale": DIVERGING, "reversescale": True,
            "zmid": 0, "zmin": -top, "zmax": top,
            "colorbar": {"title": {"text": f"Revision, {unit}"}}}
    return {"data": [heat], "layout": _layout(
        f"{table.series}: revisions against the {against} release ({unit})",
        xaxis={"type": "category"}, yaxis={"type": "category", "autorange": "reversed"})}


def revisions_by_horizon_plotly(result: RevisionsResult, series: str) -> dict:
    """Bars of the mean revision by horizon with ±2 standard errors as error bars."""
    rows = result.horizons_for(series)
    se = [2 * r.sd / np.sqrt(r.n) if r.sd is not None and r.n > 1 else None for r in rows]
    bars = {"type": "bar", "x": [r.horizon for r in rows],
            "y": [r.mean_revision for r in rows], "name": "Mean revision",
            "customdata": [r.n for r in rows],
            "hovertemplate": "h=%{x}: %{y:.4g} (n=%{customdata})<extra></extra>",
            "error_y": {"type": "data", "array": se, "visible": True}}
    name = result.for_series(series).series
    return {"data": [bars], "layout": _layout(
        f"{name}: mean revision by horizon", xaxis={"title": {"text": "Horizon (periods)"}},
        yaxis={"title": {"text": "Mean revision"}, "zeroline": True})}
