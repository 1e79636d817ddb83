"""The chart of a time-series analysis as a Plotly figure {"data", "layout"} of plain dicts.

The same panels as rendition.charts.analysis_charts draws for print, stacked on one shared x
axis (each panel its own y axis, `y`, `y2`, … from the top): exuberance (the series with its
episodes shaded over BSADF against its critical values), acf (ACF and PACF bars with their
bands), hp_filter (observed and trend, then the cycle), stl (observed, trend, seasonal,
residual), rolling_stats (mean with its min–max band, then the sd), describe (one column's
histogram: `series`, else the first) and price_index (the three indices from base to current).
Missing values are null (gaps); periods become dates when they parse; user text is escaped.
"""

from __future__ import annotations

import math

import pandas as pd

from errors import BadInput, NotFound
from rendition.charts.analysis_charts import (
    BLUE,
    CHART_KINDS,
    GREY,
    INDEX_NAMES,
    INDEX_STYLES,
    RED,
    chosen_series,
    histogram_columns,
    index_lines,
)
from rendition.charts.text import plotly_text

BAND = "rgba(127,127,127,0.2)"
SHADE = "rgba(244,199,195,0.8)"


def _x(labels: list) -> list:
    """ISO dates when every label is a period, else the labels as they are."""
    try:
        return [pd.Period(v).to_timestamp().strftime("%Y-%m-%d") for v in labels]
    except (ValueError, TypeError):
        return list(labels)


def _y(values) -> list:
    return [None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v
            for v in values]


def _line(x, y, row: int, name: str, color: str, width: float = 1.4, **extra) -> dict:
    return {"type": "scatter", "mode": "lines", "x": x, "y": _y(y), "name": plotly_text(name),
            "line": {"color": color, "width": width}, "xaxis": "x", "yaxis": _axis(row),
            **extra}


def _band(x, low, high, row: int, name: str) -> list[dict]:
    edge = {"type": "scatter", "mode": "lines", "x": x, "line": {"width": 0},
            "xaxis": "x", "yaxis": _axis(row), "hoverinfo": "skip"}
    return [{**edge, "y": _y(low), "showlegend": False},
            {**edge, "y": _y(high), "fill": "tonexty", "fillcolor": BAND,
             "name": plotly_text(name)}]


def _axis(row: int) -> str:
    return "y" if row == 1 else f"y{row}"


def _exuberance(data: dict, series: str | None) -> tuple[list, list, list[str], list[float]]:
    chosen = chosen_series(data, series)
    periods = list(chosen["periods"])
    x, bx = _x(periods), _x(chosen["bsadf_periods"])
    traces = [_line(x, chosen["values"], 1, chosen["column"], BLUE),
              _line(bx, chosen["bsadf"], 2, "BSADF", BLUE, 1.2)]
    if chosen["bsadf_critical"]:
        level = {"90": 0, "95": 1, "99": 2}[data["significance"]]
        critical = _line(bx, chosen["bsadf_critical"][level], 2,
                         f"{data['significance']} % critical value", RED, 1.0)
        critical["line"]["dash"] = "dash"
        traces.append(critical)
    shapes = [{"type": "rect", "xref": "x", "yref": "y domain", "layer": "below",
               "x0": x[periods.index(e["start"])], "x1": x[periods.index(e["end"])],
               "y0": 0, "y1": 1, "fillcolor": SHADE, "line": {"width": 0}}
              for e in chosen["episodes"]]
    titles = [f"{chosen['column']}: explosive episodes shaded "
              f"({data['significance']} % BSADF critical values)",
              f"BSADF sequence (lag {data['lag']}, window {chosen['window']})"]
    return traces, shapes, titles, [3, 2]


def _acf(data: dict, series: str | None) -> tuple[list, list, list[str], list[float]]:
    rows = data["lags"]
    lags = [r["lag"] for r in rows]
    traces, titles = [], []
    for row, name in enumerate(("acf", "pacf"), start=1):
        band = _y([r[f"{name}_band"] for r in rows])
        traces += _band(lags, [None if b is None else -b for b in band], band, row,
                        f"{round(100 * data['confidence'])} % band ({name.upper()})")
        traces.append({"type": "bar", "x": lags, "y": _y([r[name] for r in rows]),
                       "name": name.upper(), "marker": {"color": BLUE}, "width": 0.35,
                       "xaxis": "x", "yaxis": _axis(row)})
        titles.append(f"{name.upper()} of {data['column']} with "
                      f"{round(100 * data['confidence'])} % band")
    return traces, [], titles, [1, 1]


def _components(data: dict, series: str | None) -> tuple[list, list, list[str], list[float]]:
    x, parts, column = _x(data["index"]), data["components"], data["column"]
    if data["kind"] == "hp_filter":
        traces = [_line(x, data["observed"], 1, column, GREY, 1.0),
                  _line(x, parts["trend"], 1, "HP trend", BLUE, 1.6),
                  _line(x, parts["cycle"], 2, "cycle", RED, 1.0)]
        return traces, [], [f"Hodrick–Prescott trend (λ = {data['lambda']:g})",
                            "Cycle (observed − trend)"], [1, 1]
    if data["kind"] == "stl":
        names = ("observed", "trend", "seasonal", "residual")
        traces = [_line(x, data["observed"] if name == "observed" else parts[name], row, name,
                        GREY if name == "residual" else BLUE, 1.0)
                  for row, name in enumerate(names, start=1)]
        return traces, [], [f"{column} (STL, period {data['period']})", *names[1:]], [1] * 4
    what = "Expanding" if data["expanding"] else f"Rolling ({data['window']} periods)"
    traces = [*_band(x, parts["min"], parts["max"], 1, "min–max"),
              _line(x, data["observed"], 1, column, GREY, 0.8),
              _line(x, parts["mean"], 1, "mean", BLUE),
              _line(x, parts["sd"], 2, "standard deviation", RED, 1.0)]
    return traces, [], [f"{what} statistics of {column}", "Standard deviation"], [3, 2]


def _describe(data: dict, series: str | None) -> tuple[list, list, list[str], list[float]]:
    """One column's histogram as bars over its bins (x: bin centres, width: bin widths)."""
    histograms = data.get("histograms") or {}
    name = series if series is not None else next(iter(histogram_columns(data)), None)
    if name not in histograms:
        raise BadInput(f"The sheet has no numeric column '{name}' with values to draw."
                       if name else "The sheet has no numeric column with values to draw.")
    edges, counts = histograms[name]["edges"], histograms[name]["counts"]
    bars = {"type": "bar", "x": [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)],
            "y": counts, "width": [b - a for a, b in zip(edges, edges[1:], strict=False)],
            "name": plotly_text(name), "marker": {"color": BLUE}, "xaxis": "x", "yaxis": "y"}
    return [bars], [], [f"{name}: {sum(counts)} values in {len(counts)} bins"], [1]


_DASH = {"-": "solid", "--": "dash", ":": "dot"}


def _price_index(data: dict, series: str | None) -> tuple[list, list, list[str], list[float]]:
    periods = ["base period", "current period"]
    traces = []
    for key, values in index_lines(data).items():
        color, style = INDEX_STYLES[key]
        trace = _line(periods, values, 1, INDEX_NAMES[key], color, 1.6, mode="lines+markers")
        trace["line"]["dash"] = _DASH[style]
        traces.append(trace)
    return traces, [], [f"Price indices, {data.get('sheet')} (base = 100)"], [1]


_DRAW = {"exuberance": _exuberance, "acf": _acf, "hp_filter": _components,
         "stl": _components, "rolling_stats": _components, "describe": _describe,
         "price_index": _price_index}
GAP = 0.08  # of the plot's height, between panels


def render_analysis_plotly(data: dict, series: str | None = None, width: int = 900,
                           height: int = 600) -> dict:
    """A Plotly figure of a result dict (`to_dict()`) for `Plotly.react`."""
    draw = _DRAW.get(data.get("kind"))
    if draw is None:
        raise NotFound(f"The analysis {data.get('kind')!r} has no chart; charts exist for "
                       f"{', '.join(CHART_KINDS)}.")
    if not (200 <= width <= 2000 and 150 <= height <= 2000):
        raise BadInput("A chart is 200 to 2000 pixels wide and 150 to 2000 high.")
    traces, shapes, titles, ratios = draw(data, series)
    layout: dict = {"width": width, "height": height, "showlegend": True,
                    "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
                    "legend": {"orientation": "h", "y": -0.08, "traceorder": "normal"},
                    "shapes": shapes, "annotations": [], "xaxis": {"anchor": _axis(len(ratios))}}
    space = 1 - GAP * (len(ratios) - 1)
    top = 1.0
    for row, (ratio, title) in enumerate(zip(ratios, titles, strict=True), start=1):
        bottom = top - space * ratio / sum(ratios)
        name = "yaxis" if row == 1 else f"yaxis{row}"
        layout[name] = {"domain": [max(bottom, 0.0), top], "zeroline": True}
        layout["annotations"].append({
            "text": plotly_text(title), "xref": "paper", "yref": "paper", "x": 0,
            "y": top, "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 12}})
        top = bottom - GAP
    return {"data": traces, "layout": layout}
