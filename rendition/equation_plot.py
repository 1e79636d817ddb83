"""Draw the curves of typed equations as a PNG, with matplotlib's object API (never pyplot).

`plot_equations_png` is what a solver worker runs for a plot request: compute the curves
(analysis.equations.plotting) and draw them. One colour and one legend entry per input, shown
as typed; the solutions of a two-variable system are marked and labelled where curves cross.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis.equations.plotting import PlotData, plot_data

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
DPI = 100


def plot_equations_png(
    equations: list[str], x_range: tuple[float, float], width: int = 800, height: int = 500
) -> bytes:
    """Compute and draw in one call; `width` × `height` pixels exactly."""
    return render_plot_png(plot_data(equations, x_range), width, height)


def render_plot_png(data: PlotData, width: int = 800, height: int = 500) -> bytes:
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.set_xlim(*data.x_range)
    axes.set_ylim(*data.y_range)
    axes.axhline(0, color="#999999", lw=0.8, zorder=0)
    if data.x_range[0] < 0 < data.x_range[1]:
        axes.axvline(0, color="#999999", lw=0.8, zorder=0)
    for curve in data.curves:
        axes.plot(curve.x, curve.y, color=_color(curve.group), lw=1.8)
    for curve in data.implicit:
        z = np.ma.masked_invalid(curve.z)
        if z.count() and z.min() <= 0 <= z.max():
            axes.contour(
                curve.x, curve.y, z, levels=[0.0], colors=[_color(curve.group)], linewidths=1.8
            )
    for point in data.points:
        axes.plot([point.x], [point.y], "o", color="black", ms=6, zorder=5)
        axes.annotate(
            point.label, (point.x, point.y), textcoords="offset points", xytext=(6, 6), fontsize=9
        )
    handles = [Line2D([], [], color=_color(n), lw=1.8) for n in range(len(data.labels))]
    if handles:
        axes.legend(handles, list(data.labels), loc="best", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _color(group: int) -> str:
    return COLORS[group % len(COLORS)]
