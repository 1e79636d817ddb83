"""Equation plots for the browser: a Plotly figure dict and a Bokeh `json_item`.

They draw the `plot_lines` dict a solver worker makes (rendition.equation_plot): one polyline
per input with None breaks, rounded floats, the crossing points. The split keeps each library
where it already is: the worker has sympy, numpy and contourpy but does not import Bokeh (it
imports pandas: ~230 MB of address space, a lot beside the worker's 512 MB limit); the web
server has Bokeh loaded for the charts and must never import sympy. This module imports
neither sympy nor matplotlib, and Plotly's figure is plain dicts (no plotly import).

Colours and legend entries are the PNG's (one per input, as typed); solutions are black dots
labelled "(x, y)"; the axes span exactly the PlotData ranges, with zero lines. Labels are user
text: escaped for Plotly (`plotly_text`); for Bokeh, legend `value(...)`s and tooltip labels,
which are drawn on the canvas or set as DOM text, never parsed as HTML or TeX.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bokeh.core.properties import value
from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, HoverTool, LabelSet, Legend, LegendItem, Span
from bokeh.plotting import figure

from rendition.charts.render_bokeh import TOOLS
from rendition.charts.text import bokeh_text, plotly_text, shorten

if TYPE_CHECKING:
    from analysis.equations.plotting import PlotData

PLOTLY_NUMBER = ",.4~g"
ZERO_AXIS = "#999999"
GRID = "#e8e8e8"
LEGEND_LABEL = 40  # characters of an input shown in a legend (the caption has it whole)
# Where a legend may go, in matplotlib's "best" order: (Bokeh location, Plotly x, Plotly y).
CORNERS = {
    "top_right": (1, 1),
    "top_left": (0, 1),
    "bottom_left": (0, 0),
    "bottom_right": (1, 0),
}


def _lines(data: PlotData | dict) -> dict:
    if isinstance(data, dict):
        return data
    from rendition.equation_plot import plot_lines  # a worker (or a notebook) with sympy

    return plot_lines(data)


def legend_corner(lines: dict) -> str:
    """The corner whose legend-sized box covers the fewest drawn points (like matplotlib's
    loc="best", which the PNG uses): curves stay visible under the legend."""
    (a, b), (low, high) = lines["x_range"], lines["y_range"]
    width = min(0.6, 0.1 + 0.012 * max((len(_label(c)) for c in lines["curves"]), default=0))
    height = min(0.9, 0.05 + 0.06 * len(lines["curves"]))
    xs = [u for c in lines["curves"] for u in c["x"]] + [p["x"] for p in lines["points"]]
    ys = [v for c in lines["curves"] for v in c["y"]] + [p["y"] for p in lines["points"]]
    inside = [((u - a) / (b - a), (v - low) / (high - low))
              for u, v in zip(xs, ys, strict=True) if u is not None and v is not None]

    def covered(corner: str) -> int:
        right, top = CORNERS[corner]
        return sum(1 for u, v in inside
                   if (u >= 1 - width if right else u <= width)
                   and (v >= 1 - height if top else v <= height))

    return min(CORNERS, key=covered)  # the first of equals: min keeps the order


def _label(curve: dict) -> str:
    return shorten(curve["label"], LEGEND_LABEL)


def _label_on_left(lines: dict) -> list[bool]:
    """A solution's label goes left of its dot near the right edge, so it is not cut off."""
    a, b = lines["x_range"]
    return [p["x"] > a + 0.75 * (b - a) for p in lines["points"]]


def render_plot_plotly(data: PlotData | dict, width: int = 800, height: int = 500) -> dict:
    """A Plotly figure {"data", "layout"} for `Plotly.react(div, data, layout)`.

    Takes PlotData or the `plot_lines` dict made from it. Plain JSON (None breaks lines; no
    typed arrays), readable by any client.
    """
    lines = _lines(data)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": plotly_text(_label(curve)),
            "x": curve["x"],
            "y": curve["y"],
            "line": {"color": curve["color"], "width": 2, "simplify": False},
            "connectgaps": False,
            "hovertemplate": f"(%{{x:{PLOTLY_NUMBER}}}, %{{y:{PLOTLY_NUMBER}}})",
        }
        for curve in lines["curves"]
    ]
    points = lines["points"]
    if points:
        traces.append({
            "type": "scatter",
            "mode": "markers+text",
            "name": "Solutions",
            "x": [p["x"] for p in points],
            "y": [p["y"] for p in points],
            "text": [plotly_text(p["label"]) for p in points],
            "textposition": ["top left" if left else "top right"
                             for left in _label_on_left(lines)],
            "textfont": {"size": 11},
            "marker": {"color": "black", "size": 8},
            "showlegend": False,
            "hovertemplate": "%{text}<extra>solution</extra>",
        })
    axis = {
        "zeroline": True,
        "zerolinecolor": ZERO_AXIS,
        "zerolinewidth": 1,
        "gridcolor": GRID,
        "linecolor": "#444444",
        "mirror": True,
        "showline": True,
        "hoverformat": PLOTLY_NUMBER,
    }
    layout = {
        "width": width,
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 45},
        "xaxis": {**axis, "range": lines["x_range"], "title": {"text": "x", "standoff": 6}},
        "yaxis": {**axis, "range": lines["y_range"], "title": {"text": "y", "standoff": 6}},
        "showlegend": True,
        "legend": _plotly_legend(legend_corner(lines)),
        "hovermode": "closest",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
    }
    return {"data": traces, "layout": layout}


def _plotly_legend(corner: str) -> dict:
    right, top = CORNERS[corner]
    return {
        "x": 0.99 if right else 0.01,
        "y": 0.99 if top else 0.01,
        "xanchor": "right" if right else "left",
        "yanchor": "top" if top else "bottom",
        "bgcolor": "rgba(255,255,255,0.85)",
        "bordercolor": "#cccccc",
        "borderwidth": 1,
        "font": {"size": 11},
    }


def render_plot_bokeh(data: PlotData | dict, width: int = 800, height: int = 500) -> dict:
    """A `bokeh.embed.json_item` for `Bokeh.embed.embed_item(item, target_id)`.

    Takes PlotData or the `plot_lines` dict. The plot stretches to its container's width up
    to `width` pixels, keeping its shape. Needs BokehJS of the installed Bokeh version.
    """
    lines = _lines(data)
    (a, b), (low, high) = lines["x_range"], lines["y_range"]
    fig = figure(width=width, height=height, max_width=width, sizing_mode="scale_width",
                 x_range=(a, b), y_range=(low, high), tools=TOOLS,
                 toolbar_location="right", title=None)
    fig.xgrid.grid_line_color = fig.ygrid.grid_line_color = GRID
    fig.xaxis.axis_label, fig.yaxis.axis_label = bokeh_text("x"), bokeh_text("y")
    fig.add_layout(Span(location=0, dimension="width", line_color=ZERO_AXIS, line_width=1))
    if a < 0 < b:
        fig.add_layout(Span(location=0, dimension="height", line_color=ZERO_AXIS, line_width=1))
    items = []
    for curve in lines["curves"]:
        source = ColumnDataSource({"x": _nan(curve["x"]), "y": _nan(curve["y"])})
        line = fig.line("x", "y", source=source, line_color=curve["color"], line_width=2)
        fig.add_tools(HoverTool(renderers=[line], line_policy="nearest", tooltips=[
            (curve["label"], "(@x{%.4g}, @y{%.4g})")],
            formatters={"@x": "printf", "@y": "printf"}))
        items.append(LegendItem(label=value(_label(curve)), renderers=[line]))
    points = lines["points"]
    if points:
        left = _label_on_left(lines)
        source = ColumnDataSource({
            "x": [p["x"] for p in points], "y": [p["y"] for p in points],
            "label": [p["label"] for p in points],
            "align": ["right" if on_left else "left" for on_left in left],
            "dx": [-6 if on_left else 6 for on_left in left],
        })
        dots = fig.scatter("x", "y", source=source, size=8, color="black")
        fig.add_layout(LabelSet(x="x", y="y", text="label", source=source, x_offset="dx",
                                y_offset=6, text_align="align", text_font_size="9pt"))
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[("solution", "@label")]))
    if items:
        fig.add_layout(Legend(items=items, location=legend_corner(lines), click_policy="hide",
                              background_fill_alpha=0.85, label_text_font_size="9pt"))
    return json_item(fig)


def _nan(values: list[float | None]) -> list[float]:
    """Bokeh breaks a line at NaN (sent as {"type": "number", "value": "nan"})."""
    return [math.nan if v is None else v for v in values]
