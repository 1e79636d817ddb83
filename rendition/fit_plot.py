"""Draw a fitted model: data points, the fitted curve, its 95 % confidence band, solutions.

Input is the plain dict of analysis.equations.fit_extras.plot_data (lists of floats, None for
a gap). PNG and SVG are drawn in a solver worker with matplotlib's object API (never pyplot),
as rendition.equation_plot does; labels (column names, periods) are drawn as text, math mode
off. The Plotly and Bokeh figures of the same dict are in fit_plot_interactive (web server).
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


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)
