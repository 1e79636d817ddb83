"""A fitted model's plot for the browser: a Plotly figure dict and a Bokeh `json_item`.

They draw the plain dict of analysis.equations.fit_extras.plot_data, as the PNG does
(rendition.fit_plot): data points, the fitted curve, its 95 % confidence band, solutions
(black diamonds) and the fitted values a solve refers to (open circles). This module imports
Bokeh, so it runs in the web server, never in a solver worker. Labels are user text: escaped
for Plotly (`plotly_text`), plain text models for Bokeh.
"""

from __future__ import annotations

import math

from bokeh.core.properties import value
from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, HoverTool, LabelSet, Legend, LegendItem
from bokeh.plotting import figure

from rendition.charts.render_bokeh import TOOLS
from rendition.charts.text import bokeh_text, plotly_text
from rendition.fit_plot import CURVE, MARKER, POINTS

GRID = "#e8e8e8"


def render_fit_plotly(lines: dict, width: int, height: int) -> dict:
    """A Plotly figure {"data", "layout"}: plain dicts for `Plotly.react`."""
    curve, band = lines["curve"], lines["band"]
    data = []
    if band is not None:
        data += [
            {"type": "scatter", "mode": "lines", "x": curve["x"], "y": band["low"],
             "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False},
            {"type": "scatter", "mode": "lines", "x": curve["x"], "y": band["high"],
             "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(214,39,40,0.18)",
             "name": "95% confidence band", "hoverinfo": "skip"},
        ]
    data += [
        {"type": "scatter", "mode": "markers", "x": lines["points"]["x"],
         "y": lines["points"]["y"], "marker": {"color": POINTS, "size": 5}, "name": "data"},
        {"type": "scatter", "mode": "lines", "x": curve["x"], "y": curve["y"],
         "line": {"color": CURVE, "width": 2}, "name": "fitted"},
    ]
    if lines["markers"]:
        data.append({
            "type": "scatter", "mode": "markers+text", "name": "solution",
            "x": [m["x"] for m in lines["markers"]], "y": [m["y"] for m in lines["markers"]],
            "text": [plotly_text(m["label"]) for m in lines["markers"]],
            "textposition": "top left", "marker": {"color": MARKER, "size": 9,
                                                   "symbol": "diamond"}})
    references = lines.get("references", [])
    if references:
        data.append({
            "type": "scatter", "mode": "markers+text", "name": "reference",
            "x": [r["x"] for r in references], "y": [r["y"] for r in references],
            "text": [plotly_text(r["label"]) for r in references],
            "textposition": "bottom right",
            "marker": {"color": "white", "size": 9, "line": {"color": MARKER, "width": 1.5}}})
    layout = {"width": width, "height": height, "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
              "xaxis": {"title": {"text": plotly_text(lines["x_label"])}},
              "yaxis": {"title": {"text": plotly_text(lines["y_label"])}},
              "legend": {"x": 0.01, "y": 0.99}}
    return {"data": data, "layout": layout}


def render_fit_bokeh(lines: dict, width: int, height: int) -> dict:
    """A `bokeh.embed.json_item`; stretches to its container up to `width` pixels."""
    fig = figure(width=width, height=height, max_width=width, sizing_mode="scale_width",
                 tools=TOOLS, toolbar_location="right", title=None)
    fig.xgrid.grid_line_color = fig.ygrid.grid_line_color = GRID
    fig.xaxis.axis_label = bokeh_text(lines["x_label"])
    fig.yaxis.axis_label = bokeh_text(lines["y_label"])
    curve, band = lines["curve"], lines["band"]
    items = []
    if band is not None:
        area = fig.varea(x=curve["x"], y1=_nan(band["low"]), y2=_nan(band["high"]),
                         fill_color=CURVE, fill_alpha=0.18)
        items.append(LegendItem(label=value("95% confidence band"), renderers=[area]))
    dots = fig.scatter(lines["points"]["x"], _nan(lines["points"]["y"]), size=4, color=POINTS)
    line = fig.line(curve["x"], _nan(curve["y"]), line_color=CURVE, line_width=2)
    items += [LegendItem(label=value("data"), renderers=[dots]),
              LegendItem(label=value("fitted"), renderers=[line])]
    fig.add_tools(HoverTool(renderers=[dots], tooltips=[("", "(@x{%.6g}, @y{%.4g})")],
                            formatters={"@x": "printf", "@y": "printf"}))
    solutions = ({"marker": "diamond", "size": 10, "color": MARKER}, (-8, 8, "right"))
    references = ({"size": 8, "fill_color": "white", "line_color": MARKER}, (8, -14, "left"))
    for points, (style, (dx, dy, align)) in ((lines["markers"], solutions),
                                             (lines.get("references", []), references)):
        if points:
            source = ColumnDataSource({"x": [p["x"] for p in points],
                                       "y": [p["y"] for p in points],
                                       "label": [p["label"] for p in points]})
            fig.scatter("x", "y", source=source, **style)
            fig.add_layout(LabelSet(x="x", y="y", text="label", source=source, x_offset=dx,
                                    y_offset=dy, text_align=align, text_font_size="9pt"))
    fig.add_layout(Legend(items=items, location="top_left", background_fill_alpha=0.85,
                          label_text_font_size="9pt"))
    return json_item(fig)


def _nan(values: list) -> list[float]:
    """Bokeh breaks a line at NaN."""
    return [math.nan if v is None else v for v in values]
