"""ChartSpec -> PNG or SVG bytes with matplotlib's object API (never pyplot: no global state).

Every string from the data goes through `mpl_text`/`mpl_label`, so `$` never starts mathtext.
The image is exactly width × height pixels (no "tight" bounding box). Single-axes charts are
laid out by `mpl_layout.fit_axes` (fast), pies too, small multiples by `mpl_layout.fit_grid`; the
heatmap uses matplotlib's constrained layout, which handles its colour bar. Each chart draws on
a blank figure copied from a template (`mpl_figures`), on a renderer shared by charts of its
size (`png.share_renderer`).
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator

from rendition.charts.chartdata import (
    BarData,
    BoxData,
    ChartData,
    HeatmapData,
    HistData,
    LineData,
    PieData,
    ScatterData,
    color,
)
from rendition.charts.drawing import draw
from rendition.charts.mpl_figures import blank_figure
from rendition.charts.mpl_layout import (
    PAD_PX,
    SLANT,
    fit_axes,
    fit_grid,
    leave_empty_labels_unplaced,
    log_axis,
    number_axis,
    place_legend,
    time_ticks,
)
from rendition.charts.png import canvas_rows, rows_png, share_renderer
from rendition.charts.prepare import prepare
from rendition.charts.spec import ChartSpec
from rendition.charts.text import mpl_label, mpl_text, shorten

DASHES = ("-", "--", ":", "-.")
GRID = "#e3e3e3"
INK = "#333333"


def render_png(
    spec: ChartSpec,
    frames: Mapping[str, pd.DataFrame],
    width: int | None = None,
    height: int | None = None,
    dpi: int = 100,
) -> bytes:
    """PNG of exactly width × height pixels (defaults: options width/height, else 900 × 500)."""
    data = prepare(spec, frames)
    return rows_png(draw(_draw_rows, data, width, height, dpi))


def _draw_rows(data: ChartData, width: int | None, height: int | None, dpi: int):
    """The figure's pixels, drawn on the shared renderer and copied (in the drawing thread)."""
    with _collector_paused():
        fig = build_figure(data, width, height, dpi)
        fig.canvas.draw()
        rows = canvas_rows(fig.canvas)
        del fig  # garbage before the collector resumes: freed young, in one pass
    return rows


def render_svg(
    spec: ChartSpec,
    frames: Mapping[str, pd.DataFrame],
    width: int | None = None,
    height: int | None = None,
    dpi: int = 100,
) -> bytes:
    """SVG (UTF-8 XML); text is drawn as paths, so no user string appears as SVG markup."""
    return draw(_draw_svg, prepare(spec, frames), width, height, dpi)


def _draw_svg(data: ChartData, width: int | None, height: int | None, dpi: int) -> bytes:
    buf = io.BytesIO()
    with _collector_paused():
        fig = build_figure(data, width, height, dpi)
        FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
        del fig
    return buf.getvalue()


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a figure is built and drawn.

    A figure is some 10,000 objects in reference cycles, made in a few tens of ms: the
    collector ran about every 700 of them (18 times for 2 × 2 small multiples), each time
    scanning the growing figure again and moving it to older generations, where it waited as
    garbage for a full collection. Paused, the figure is made unscanned and, dropped before
    the collector resumes, freed in one young collection (2 × 2 panels: ~6 -> ~2 ms of GC).
    Process-wide; other threads only see their collections happen a few ms later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_figure(data: ChartData, width: int | None, height: int | None, dpi: int) -> Figure:
    w, h = width or data.width, height or data.height
    kind = _DRAW[data.kind]
    grid = (1, 1)
    if data.kind == "small_multiples":
        cols = data.body.cols  # type: ignore[union-attr]
        grid = (-(-len(data.body.panels) // cols), cols)  # type: ignore[union-attr]
    fig = blank_figure(w, h, dpi, layout=kind.layout, grid=grid, ticks=kind.ticks,
                       dress=_house_style if kind.styled else None)
    share_renderer(FigureCanvasAgg(fig))
    kind.draw(fig, data)
    return fig


def _house_style(fig: Figure) -> None:
    """The axes of a blank figure in the house style (the same for every chart, so made once
    with the template: ~0.8 ms an axes, mostly restyling its ticks); small ticks for more
    than four panels."""
    for ax in fig.axes:
        _style(ax)
        if len(fig.axes) > 4:
            ax.tick_params(labelsize=7.5)


def _axes(fig: Figure, data: ChartData) -> Axes:
    ax = fig.axes[0]  # in the house style already (_house_style)
    _title(ax, data)
    if data.x_label:
        ax.set_xlabel(mpl_text(data.x_label), color=INK, fontsize=10)
    if data.y_label:
        ax.set_ylabel(mpl_text(data.y_label), color=INK, fontsize=10)
    if data.log_y:
        ax.set_yscale("log")
    else:
        number_axis(ax.yaxis)
    return ax


def _title(ax: Axes, data: ChartData) -> None:
    pad = 6 + (11 * len(data.notes))
    fits = int(ax.figure.bbox.width / 9.5)  # fit_axes trims further, measuring the text
    # y given: matplotlib then skips measuring every tick label to lift the title over top
    # ticks, which our charts never have (a fifth of a PNG's drawing time)
    ax.set_title(mpl_text(shorten(data.title, fits)), loc="left", fontsize=13,
                 fontweight="bold", color=INK, pad=pad, y=1.0)
    for i, note in enumerate(data.notes):
        ax.annotate(mpl_text(note), (0, 1), xycoords="axes fraction", xytext=(0, 4 + 11 * i),
                    textcoords="offset points", fontsize=8.5, color="#666666", va="bottom")


def _style(ax: Axes) -> None:
    ax.set_facecolor("white")
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(labelsize=9, colors=INK)


def _finish(fig: Figure, ax: Axes, data: ChartData, legend: Legend | None,
            slanted: list[str] | None = None) -> None:
    if data.log_y:
        log_axis(ax.yaxis)
    fit_axes(fig, ax, title_lines=1 + len(data.notes), legend=legend, slanted=slanted)
    leave_empty_labels_unplaced(ax)


def _plot_lines(ax: Axes, series, body: LineData, maxticks: int = 10) -> None:
    for s in series:
        ax.plot(s.x, s.y, color=color(s.color), linestyle=DASHES[s.dash], linewidth=1.6,
                label=mpl_label(s.label))
    ax.margins(x=0.01)
    if body.x_kind == "time":
        xs = [s.x for s in series if s.x.size]
        if xs:
            # a year label with its gap needs about 80 pixels: fewer ticks on a thumbnail
            maxticks = min(maxticks, max(3, int(ax.figure.bbox.width / 80)))
            time_ticks(ax, min(x.min() for x in xs), max(x.max() for x in xs), maxticks)
    else:
        number_axis(ax.xaxis)


def _draw_line(fig: Figure, data: ChartData) -> None:
    body: LineData = data.body  # type: ignore[assignment]
    ax = _axes(fig, data)
    _plot_lines(ax, body.series, body)
    points = ([s.x for s in body.series], [s.y for s in body.series])
    legend = place_legend(ax, len(body.series), points)
    _finish(fig, ax, data, legend)


def _draw_panels(fig: Figure, data: ChartData) -> None:
    body: LineData = data.body  # type: ignore[assignment]
    n, cols = len(body.panels), body.cols
    rows = -(-n // cols)
    axes = fig.axes  # rows × cols, row by row, x shared (build_figure)
    fits = int(fig.bbox.width / 9.5)
    fig.suptitle(mpl_text(shorten(data.title, fits)), x=PAD_PX / fig.bbox.width,
                 y=1 - PAD_PX / fig.bbox.height, ha="left", va="top", fontsize=13,
                 fontweight="bold", color=INK)
    if data.x_label:
        fig.supxlabel(mpl_text(data.x_label), y=PAD_PX / fig.bbox.height, va="bottom",
                      fontsize=10, color=INK)
    small = rows * cols > 4
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_visible(False)
            continue
        size = 10 if small else 11  # the tick labels are small already (_house_style)
        # DejaVu Sans averages about 0.6 em a character; a longer title would run over the
        # title of the panel beside it
        fits_panel = int(0.85 * fig.bbox.width / cols / (0.6 * size * fig.dpi / 72))
        ax.set_title(mpl_text(shorten(body.panels[i], fits_panel)), loc="left", fontsize=size,
                     color=INK, y=1.0)
        _plot_lines(ax, [s for s in body.series if s.panel == i], body, max(3, 12 // cols))
        if data.log_y:
            ax.set_yscale("log")
            log_axis(ax.yaxis)
        else:
            number_axis(ax.yaxis)
        if i + cols >= n:  # the last panel in its column: show its x labels
            ax.xaxis.set_tick_params(labelbottom=True)
    fit_grid(fig, list(axes), cols, title_pt=10 if small else 11, tick_pt=7.5 if small else 9,
             x_label=bool(data.x_label))
    for ax in axes:
        leave_empty_labels_unplaced(ax)


def _draw_bar(fig: Figure, data: ChartData) -> None:
    body: BarData = data.body  # type: ignore[assignment]
    ax = _axes(fig, data)
    k, n = len(body.series), len(body.categories)
    pos = np.arange(n)
    width = 0.8 / k
    for j, (label, values) in enumerate(body.series):
        ax.bar(pos - 0.4 + width * (j + 0.5), values, width=width * 0.95, color=color(j),
               label=mpl_label(label))
    slanted = _category_ticks(ax, body.categories)
    ax.grid(False, axis="x")
    ax.margins(x=0.01)
    tops = np.concatenate([v for _, v in body.series])
    xs = np.tile(pos, k)
    points = ([xs, xs, xs], [tops, tops / 2, tops * 0])  # bars fill down to zero
    _finish(fig, ax, data, place_legend(ax, k, points), slanted)


def _category_ticks(ax: Axes, categories: tuple[str, ...]) -> list[str] | None:
    """One label per category, thinned to about 24; slanted (and returned) when crowded."""
    n = len(categories)
    step = max(1, int(np.ceil(n / 24)))
    ticks = np.arange(0, n, step)
    labels = [mpl_text(shorten(categories[i], 30)) for i in ticks]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    longest = max((len(c) for c in labels), default=0)
    if longest * len(ticks) <= 90:
        ax.set_xticks(ticks, labels)
        return None
    ax.set_xticks(ticks, labels, rotation=SLANT, ha="right", rotation_mode="anchor")
    return labels


def _draw_pie(fig: Figure, data: ChartData) -> None:
    body: PieData = data.body  # type: ignore[assignment]
    ax = fig.axes[0]
    _title(ax, data)
    total = float(body.values.sum())
    show_pct = len(body.values) <= 12

    def pct(p: float) -> str:
        return f"{p:.1f}%" if show_pct and p >= 3 else ""

    wedges, *_ = ax.pie(
        body.values, colors=[color(i) for i in range(len(body.values))], startangle=90,
        counterclock=False, autopct=pct, pctdistance=0.72, labeldistance=None,
        wedgeprops={"edgecolor": "white", "linewidth": 1.2},
        textprops={"fontsize": 9, "color": "white", "fontweight": "bold"},
    )
    labels = [
        mpl_label(f"{lb}  ({_number(v)}, {100 * v / total:.1f}%)")
        for lb, v in zip(body.labels, body.values, strict=True)
    ]
    legend = ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5),
                       fontsize=9, frameon=False, ncols=1 if len(labels) <= 25 else 2)
    # measured once, like the single-axes charts: constrained layout took more than half the
    # time of a small pie
    fit_axes(fig, ax, title_lines=1 + len(data.notes), legend=legend)
    # round, centred in the box beside the legend: widen the x range to the box's shape
    box = ax.get_position(original=True)  # before the equal aspect shrinks it
    ratio = (box.width * fig.bbox.width) / (box.height * fig.bbox.height)
    y0, y1 = ax.get_ylim()
    middle, half = sum(ax.get_xlim()) / 2, (y1 - y0) / 2 * ratio
    ax.set_xlim(middle - half, middle + half)
    ax.set_aspect("equal")
    leave_empty_labels_unplaced(ax)


def _number(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.4g}"


def _draw_scatter(fig: Figure, data: ChartData) -> None:
    body: ScatterData = data.body  # type: ignore[assignment]
    ax = _axes(fig, data)
    total = sum(s.n for s in body.points)
    size, alpha = (14, 0.65) if total <= 2_000 else (5, 0.35)
    entries = 0
    for s, fit in zip(body.points, body.fits, strict=True):
        prefix = f"{s.label}: " if len(body.points) > 1 else ""
        ax.scatter(s.x, s.y, s=size, alpha=alpha, color=color(s.color), linewidths=0,
                   label=mpl_label(s.label), rasterized=s.n > 10_000)
        entries += 1
        if fit is None:
            continue
        if fit.lower is not None:
            ax.fill_between(fit.grid, fit.lower, fit.upper, color=color(s.color), alpha=0.18,
                            linewidth=0, label=mpl_label(f"{prefix}95% CI of the mean"))
            entries += 1
        ax.plot(fit.grid, fit.fitted, color=color(s.color), linewidth=2,
                label=mpl_label(f"{prefix}OLS fit (R² = {fit.r2:.3f})"))
        entries += 1
    number_axis(ax.xaxis)
    points = ([s.x for s in body.points], [s.y for s in body.points])
    _finish(fig, ax, data, place_legend(ax, entries, points))


def _draw_hist(fig: Figure, data: ChartData) -> None:
    body: HistData = data.body  # type: ignore[assignment]
    ax = _axes(fig, data)
    single = len(body.counts) == 1
    for j, (label, counts) in enumerate(body.counts):
        ax.hist(body.edges[:-1], bins=body.edges, weights=counts, color=color(j),
                alpha=0.9 if single else 0.5, edgecolor="white" if single else color(j),
                linewidth=0.6, histtype="bar" if single else "stepfilled",
                label=mpl_label(label))
    number_axis(ax.xaxis)
    if not data.log_y:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    centres = np.tile((body.edges[:-1] + body.edges[1:]) / 2, 3)  # bars fill down to zero
    heights = [np.concatenate([c, c / 2, c * 0]).astype("float64") for _, c in body.counts]
    points = ([centres] * len(body.counts), heights)
    _finish(fig, ax, data, place_legend(ax, len(body.counts), points))


def _draw_box(fig: Figure, data: ChartData) -> None:
    body: BoxData = data.body  # type: ignore[assignment]
    ax = _axes(fig, data)
    grouped = body.group is not None
    k = len(body.series) if grouped else 1
    width = 0.7 / k
    xs, ys = [], []
    for b in body.boxes:
        j = body.series.index(b.series) if grouped else body.categories.index(b.category)
        slot = body.series.index(b.series) if grouped else 0
        pos = body.categories.index(b.category) - 0.35 + width * (slot + 0.5)
        spots = [b.whisker_low, b.q1, b.median, b.q3, b.whisker_high, *b.outliers]
        xs.append(np.full(len(spots), pos))
        ys.append(np.asarray(spots, dtype="float64"))
        stats = {"med": b.median, "q1": b.q1, "q3": b.q3, "whislo": b.whisker_low,
                 "whishi": b.whisker_high, "fliers": b.outliers, "mean": b.mean}
        ax.bxp([stats], positions=[pos], widths=width * 0.85, patch_artist=True,
               boxprops={"facecolor": color(j), "alpha": 0.55, "edgecolor": color(j)},
               medianprops={"color": INK, "linewidth": 1.6},
               whiskerprops={"color": color(j)}, capprops={"color": color(j)},
               flierprops={"marker": "o", "markersize": 3, "markerfacecolor": color(j),
                           "markeredgecolor": "none", "alpha": 0.6}, manage_ticks=False)
    slanted = _category_ticks(ax, body.categories)
    ax.set_xlim(-0.6, len(body.categories) - 0.4)
    ax.grid(False, axis="x")
    legend = None
    if grouped and k > 1:
        handles = [Patch(facecolor=color(j), alpha=0.55, label=mpl_label(name))
                   for j, name in enumerate(body.series)]
        legend = place_legend(ax, k, (xs, ys), handles=handles)
    _finish(fig, ax, data, legend, slanted)


def _draw_heatmap(fig: Figure, data: ChartData) -> None:
    body: HeatmapData = data.body  # type: ignore[assignment]
    ax = fig.axes[0]
    _title(ax, data)
    n = len(body.labels)
    image = ax.imshow(np.ma.masked_invalid(body.matrix), cmap="RdBu_r", vmin=-1, vmax=1,
                      aspect="auto")
    labels = [mpl_text(lb) for lb in body.labels]
    size = 9 if n <= 15 else 7
    ax.set_xticks(np.arange(n), labels, fontsize=size, rotation=SLANT + 5, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(np.arange(n), labels, fontsize=size)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                r = body.matrix[i, j]
                text = "–" if not np.isfinite(r) else f"{r:.2f}"
                ink = "white" if np.isfinite(r) and abs(r) > 0.6 else INK
                ax.text(j, i, text, ha="center", va="center", fontsize=8.5, color=ink)
    fig.colorbar(image, ax=ax, shrink=0.85, label="Pearson r")


class FigureKind(NamedTuple):
    """How a kind of chart is drawn, and the blank figure it is drawn on (mpl_figures)."""

    draw: Callable[[Figure, ChartData], None]
    layout: str | None = None  # matplotlib's layout engine, if any
    # major ticks per axis made in the blank figure: about as many as such charts draw; fewer
    # only means the rest are made while drawing, ~0.5 ms each, and each one not drawn costs
    # ~0.05 ms to copy
    ticks: int = 0
    styled: bool = True  # axes in the house style (_style) from the start


_DRAW: dict[str, FigureKind] = {
    "line": FigureKind(_draw_line, ticks=8),
    "compare_sheets": FigureKind(_draw_line, ticks=8),
    "small_multiples": FigureKind(_draw_panels, ticks=5),
    "bar": FigureKind(_draw_bar, ticks=6),
    "pie": FigureKind(_draw_pie, styled=False),  # no ticks
    "scatter": FigureKind(_draw_scatter, ticks=8),
    "hist": FigureKind(_draw_hist, ticks=8),
    "box": FigureKind(_draw_box, ticks=6),
    # one tick per label, set by the data
    "heatmap": FigureKind(_draw_heatmap, "constrained", styled=False),
}
