"""Draw curves of typed equations with matplotlib's object API (never pyplot)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.equations.plotting import PlotData, plot_data

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def plot_equations_png(
    equations: list[str], x_range: tuple[float, float], width: int = 800, height: int = 500
) -> bytes:
    """Compute and draw in one call: what the solver's worker runs for a plot request."""
    return render_plot_png(plot_data(equations, x_range), width, height)


def render_plot_png(data: PlotData, width: int = 800, height: int = 500, dpi: int = 100) -> bytes:
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    handles = []
    for n, curve in enumerate(data.curves):
        (line,) = axes.plot(
            curve.x, curve.y, color=COLORS[n % len(COLORS)], lw=1.8, label=curve.label
        )
        handles.append(line)
    for n, implicit in enumerate(data.implicit, start=len(data.curves)):
        color = COLORS[n % len(COLORS)]
        if np.isfinite(implicit.z).any():
            axes.contour(implicit.x, implicit.y, implicit.z, levels=[0], colors=[color])
        handles.append(axes.plot([], [], color=color, label=implicit.label)[0])
    for x, y, label in data.points:
        axes.plot([x], [y], "o", color="black", ms=6, zorder=5)
        axes.annotate(label, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9)
    axes.set_xlim(*data.x_range)
    _set_y_limits(axes, data)
    axes.axhline(0, color="#999", lw=0.8)
    if data.x_range[0] < 0 < data.x_range[1]:
        axes.axvline(0, color="#999", lw=0.8)
    axes.grid(True, alpha=0.3)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    if handles:
        axes.legend(loc="best", fontsize=9)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _set_y_limits(axes, data: PlotData) -> None:
    """Clip to the bulk of the values so one pole does not flatten every curve."""
    values = [c.y[np.isfinite(c.y)] for c in data.curves]
    values += [np.array([y for _, y, _ in data.points])] if data.points else []
    values = [v for v in values if v.size]
    if not values:
        return
    allv = np.concatenate(values)
    low, high = np.percentile(allv, [2, 98])
    for _, y, _ in data.points:
        low, high = min(low, y), max(high, y)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = 0.08 * (high - low)
    axes.set_ylim(low - pad, high + pad)
