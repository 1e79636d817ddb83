"""Draw a fitted model: data points, the fitted curve, its 95 % confidence band, solutions.

Input is the plain dict of analysis.equations.fit_extras.plot_data (lists of floats, None for
a gap). PNG and SVG are drawn in a solver worker with matplotlib's object API (never pyplot),
as rendition.equation_plot does; the Plotly figure is plain dicts, built in the web server
from the same dict (no plotly import). Labels are column names and our own numbers: escaped
for Plotly with `plotly_text`; matplotlib draws them as text (math mode is switched off).
"""

from __future__ import annotations

import io

import numpy as np

POINTS = "#1f77b4"
CURVE = "#d62728"
BAND = "#d62728"
MARKER = "#000000"
DPI = 100
SVG_DPI = 96


def render_fit_image(lines: dict, width: int, height: int, format: str) -> bytes:
    """PNG or SVG bytes, `width` × `height` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = SVG_DPI if format == "svg" else DPI
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    # fixed margins in pixels, not a constrained layout: it would double the drawing time
    figure.subplots_adjust(left=70 / width, right=1 - 15 / width, bottom=50 / height,
                           top=1 - 15 / height)
    axes = figure.subplots()
    curve, band = lines["curve"], lines["band"]
    x = np.asarray(curve["x"], dtype=float)
    if band is not None:
        axes.fill_between(x, _array(band["low"]), _array(band["high"]), color=BAND, alpha=0.18,
                          lw=0, label="95% confidence band")
    axes.plot(lines["points"]["x"], _array(lines["points"]["y"]), "o", color=POINTS, ms=3.5,
              label="data")
    axes.plot(x, _array(curve["y"]), color=CURVE, lw=1.8, label="fitted")
    for point in lines.get("references", []):
        axes.plot([point["x"]], [point["y"]], "o", mfc="white", mec=MARKER, ms=7, zorder=5)
        axes.annotate(point["label"], (point["x"], point["y"]), textcoords="offset points",
                      xytext=(8, -12), fontsize=9)
    for marker in lines["markers"]:
        axes.plot([marker["x"]], [marker["y"]], "D", color=MARKER, ms=6, zorder=5)
        axes.annotate(marker["label"], (marker["x"], marker["y"]), textcoords="offset points",
                      xytext=(-8, 8), ha="right", fontsize=9)
    axes.legend(loc="best", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.set_xlabel(lines["x_label"])
    axes.set_ylabel(lines["y_label"])
    for text in (axes.xaxis.label, axes.yaxis.label):
        text.set_parse_math(False)
    out = io.BytesIO()
    metadata = {"Date": None} if format == "svg" else None
    figure.savefig(out, format=format, dpi=dpi, metadata=metadata)
    return out.getvalue()


def render_fit_plotly(lines: dict, width: int, height: int) -> dict:
    """A Plotly figure {"data", "layout"} of the same plot (in the server: imports Bokeh via
    rendition.charts.text, which a worker must not)."""
    from rendition.charts.text import plotly_text

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


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)
