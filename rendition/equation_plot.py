"""Draw the curves of typed equations: PNG or SVG with matplotlib's object API (never pyplot),
or the compact lines that the browser renderers (equation_plot_interactive) draw.

`plot_equations` is what a solver worker runs for a plot request: compute the curves
(analysis.equations.plotting) and draw them, or reduce them to `plot_lines`. One colour and
one legend entry per input, shown as typed; the solutions of a two-variable system are marked
and labelled where curves cross.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from analysis.equations.plotting import PlotData, plot_data, zero_contour

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
DPI = 100
# SVG sizes are in points and browsers show 96 CSS pixels per inch: drawn at 96 dpi, an SVG
# `width` pixels wide shows `width` pixels wide, like the PNG.
SVG_DPI = 96
FORMATS = ("png", "svg", "lines")
SIGNIFICANT = 6  # digits kept relative to an axis span in `plot_lines`: far below a pixel


def plot_equations(
    equations: list[str],
    x_range: tuple[float, float],
    width: int = 800,
    height: int = 500,
    format: str = "png",
) -> bytes | dict:
    """PNG or SVG bytes (`width` × `height` pixels), or the `plot_lines` dict ("lines")."""
    data = plot_data(equations, x_range)
    if format == "lines":
        return plot_lines(data)
    return render_plot_image(data, width, height, format)


def plot_equations_png(
    equations: list[str], x_range: tuple[float, float], width: int = 800, height: int = 500
) -> bytes:
    """Compute and draw in one call; `width` × `height` pixels exactly."""
    return render_plot_png(plot_data(equations, x_range), width, height)


def render_plot_png(data: PlotData, width: int = 800, height: int = 500) -> bytes:
    return render_plot_image(data, width, height, "png")


def render_plot_svg(data: PlotData, width: int = 800, height: int = 500) -> bytes:
    return render_plot_image(data, width, height, "svg")


def render_plot_image(data: PlotData, width: int, height: int, format: str) -> bytes:
    """"png" or "svg" bytes, `width` × `height` pixels."""
    dpi = SVG_DPI if format == "svg" else DPI
    figure = _draw(data, width, height, dpi)
    out = io.BytesIO()
    metadata = {"Date": None} if format == "svg" else None  # the same plot, the same bytes
    figure.savefig(out, format=format, dpi=dpi, metadata=metadata)
    return out.getvalue()


def _draw(data: PlotData, width: int, height: int, dpi: int) -> Figure:
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.set_xlim(*data.x_range)
    axes.set_ylim(*data.y_range)
    axes.axhline(0, color="#999999", lw=0.8, zorder=0)
    if data.x_range[0] < 0 < data.x_range[1]:
        axes.axvline(0, color="#999999", lw=0.8, zorder=0)
    for curve in data.curves:
        axes.plot(curve.x, curve.y, color=color(curve.group), lw=1.8)
    for curve in data.implicit:
        z = np.ma.masked_invalid(curve.z)
        if z.count() and z.min() <= 0 <= z.max():
            axes.contour(
                curve.x, curve.y, z, levels=[0.0], colors=[color(curve.group)], linewidths=1.8
            )
    for point in data.points:
        axes.plot([point.x], [point.y], "o", color="black", ms=6, zorder=5)
        axes.annotate(
            point.label, (point.x, point.y), textcoords="offset points", xytext=(6, 6), fontsize=9
        )
    handles = [Line2D([], [], color=color(n), lw=1.8) for n in range(len(data.labels))]
    if handles:
        axes.legend(handles, list(data.labels), loc="best", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    return figure


def color(group: int) -> str:
    """The colour of input number `group` (from 0), the same in every renderer."""
    return COLORS[group % len(COLORS)]


def plot_lines(data: PlotData) -> dict:
    """{"x_range", "y_range", "curves": [{"label", "color", "x", "y"}], "points": [...]}.

    What the interactive renderers draw, as plain JSON-safe data, small to pickle and to send:
    one curve per input, in input order (also when none of it is in view, so the legend lists
    every input as the PNG's does): its explicit branches and the zero contour of its implicit
    grid (the grid itself never leaves the worker), joined with None where the line breaks —
    between pieces, at poles, where it is undefined. Floats are rounded to a millionth of the
    axis span. Points keep full precision: they are few, and their coordinates are the answer.
    """
    x_span = data.x_range[1] - data.x_range[0]
    y_span = data.y_range[1] - data.y_range[0]
    pieces: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in data.labels]
    for curve in data.curves:
        pieces[curve.group].append((curve.x, curve.y))
    for grid in data.implicit:
        pieces[grid.group].extend((line[:, 0], line[:, 1]) for line in zero_contour(grid))
    curves = []
    for group, label in enumerate(data.labels):
        xs, ys = _joined(pieces[group])
        curves.append({
            "label": label,
            "color": color(group),
            "x": _rounded(xs, x_span),
            "y": _rounded(ys, y_span),
        })
    return {
        "x_range": [float(v) for v in data.x_range],
        "y_range": [float(v) for v in data.y_range],
        "curves": curves,
        "points": [{"x": float(p.x), "y": float(p.y), "label": p.label} for p in data.points],
    }


def _joined(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Pieces end to end, NaN between them; a run of NaN shrinks to one, none at either end.

    A point is dropped when x or y is undefined, so a branch defined on part of the range
    (sqrt(4 - x^2)) costs nothing outside it, and a pole stays one break.
    """
    gap = np.array([np.nan])
    xs = np.concatenate([part for x, _ in pieces for part in (x, gap)] or [gap])
    ys = np.concatenate([part for _, y in pieces for part in (y, gap)] or [gap])
    defined = np.isfinite(xs) & np.isfinite(ys)
    after_defined = np.concatenate([[False], defined[:-1]])
    keep = defined | after_defined
    xs, ys, defined = xs[keep], ys[keep], defined[keep]
    xs[~defined] = np.nan
    ys[~defined] = np.nan
    end = len(xs) - 1 if len(xs) and not defined[-1] else len(xs)
    return xs[:end], ys[:end]


def _rounded(values: np.ndarray, span: float) -> list[float | None]:
    digits = int(np.clip(SIGNIFICANT - math.floor(math.log10(span)), 0, 15))
    rounded = np.round(np.asarray(values, dtype=float), digits)
    return [float(v) if math.isfinite(v) else None for v in rounded]
