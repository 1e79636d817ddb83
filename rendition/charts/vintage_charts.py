"""Charts of a publication's releases: the fan of vintages, a revision heat map and revisions by
horizon. PNG or SVG bytes from matplotlib's object API (no pyplot), in the house style of
`render_mpl`: white page, left-aligned bold title, light grid, `mpl_text` on every user string.

They take the result objects of `analysis.vintages` and nothing else.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, MaxNLocator

from analysis.vintages import RevisionsResult, VintagesResult
from errors import BadInput
from rendition.charts.drawing import drawn
from rendition.charts.mpl_layout import (
    PAD_PX,
    TITLE_PT,
    _max_width,
    fit_axes,
    number_axis,
    time_ticks,
)
from rendition.charts.png import canvas_png
from rendition.charts.render_mpl import INK
from rendition.charts.render_mpl import _style as style_axes
from rendition.charts.text import mpl_label, mpl_text, shorten

FORMATS = ("png", "svg")
FIRST = "#d95f02"  # first published: orange
LATEST = "#1f4e9a"  # latest: dark blue
RELEASE = "#9aa7b8"  # every other release: thin blue-grey
MISSING = "#c8c8c8"  # heat map cells with nothing to show: darker than a revision of 0


def _figure(width: int, height: int, layout: str | None = None) -> Figure:
    if not (200 <= width <= 4000 and 150 <= height <= 4000):
        raise BadInput("A chart must be 200 to 4000 pixels wide and 150 to 4000 high.")
    fig = Figure(figsize=(width / 100, height / 100), dpi=100, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadInput(f"Charts come as {' or '.join(FORMATS)}, not {fmt!r}.")
    return fmt


def _encode(fig: Figure, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "svg":  # a fixed salt: the same chart gives the same bytes (element ids)
        with rc_context({"svg.hashsalt": "quartile-vintages"}):
            FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
        return buf.getvalue()
    fig.canvas.draw()
    return canvas_png(fig.canvas)


def _style(ax, title: str, note: str | None = None) -> None:
    """render_mpl's axes style, with a title and an optional note line above the plot."""
    style_axes(ax)
    fits = int(ax.figure.bbox.width / 9.5)
    ax.set_title(mpl_text(shorten(title, fits)), loc="left", fontsize=13, fontweight="bold",
                 color=INK, pad=6 + (11 if note else 0), y=1.0)
    if note:
        ax.annotate(mpl_text(shorten(note, fits + 20)), (0, 1), xycoords="axes fraction",
                    xytext=(0, 4), textcoords="offset points", fontsize=8.5, color="#666666",
                    va="bottom")


def period_times(labels) -> np.ndarray:
    """Period labels ("1975Q1", "2020-03", "2020-03-31") as datetime64 at the period's start."""
    try:
        return np.array([pd.Period(str(p)).start_time for p in labels], dtype="datetime64[ns]")
    except (ValueError, TypeError):
        return pd.to_datetime(list(labels)).to_numpy(dtype="datetime64[ns]")


@drawn
def render_vintage_fan(result: VintagesResult, fmt: str = "png", width: int = 900,
                       height: int = 500, last_periods: int | None = None) -> bytes:
    """Every release as a thin line, the first-published values and the latest highlighted.
    `last_periods` keeps only the newest periods (revisions are easier to see close up)."""
    _check_format(fmt)
    keep = slice(-last_periods, None) if last_periods else slice(None)
    times = period_times(result.periods)[keep]
    values = result.values[keep]
    releases = result.releases
    fig = _figure(width, height)
    ax = fig.add_subplot()
    title = f"{result.series}: {len(releases)} releases"
    _style(ax, title, f"Sheet {result.sheet}, as published in {releases[0]} to "
           f"{releases[-1]}" if result.sheet else None)
    few = len(releases) <= 6
    for r, name in enumerate(releases):
        shade = 0.35 + 0.45 * r / max(len(releases) - 1, 1)
        ax.plot(times, values[:, r], color=RELEASE, alpha=shade, linewidth=0.9,
                label=mpl_label(name) if few else None)
    ax.plot(times, result.first_published[keep], color=FIRST, linewidth=2.0,
            label="First published")
    ax.plot(times, result.latest[keep], color=LATEST, linewidth=2.0, label="Latest")
    number_axis(ax.yaxis)
    if len(times):
        ax.margins(x=0.01)
        time_ticks(ax, times.min(), times.max(), max(3, min(10, width // 80)))
    handles, labels = ax.get_legend_handles_labels()
    if not few:
        handles.insert(0, Line2D([], [], color=RELEASE, linewidth=0.9))
        labels.insert(0, f"Each release ({len(releases)})")
    legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       borderaxespad=0, fontsize=8.5, frameon=False)
    fit_axes(fig, ax, title_lines=2 if result.sheet else 1, legend=legend)
    return _encode(fig, fmt)


@drawn
def render_revision_heatmap(result: RevisionsResult, series: str, fmt: str = "png",
                            against: str = "previous", percent: bool = True,
                            width: int = 900, height: int = 600) -> bytes:
    """Periods (rows) × releases (columns): each release's revision against the previous
    release or against the latest, in percent or in the series' units; diverging colours
    centred on 0 (red up, blue down; the scale stops at the 98th percentile of |revision| so
    one outlier does not wash out the rest), grey where there is no revision to show."""
    _check_format(fmt)
    if against not in ("previous", "latest"):
        raise BadInput(f"Revisions are against 'previous' or 'latest', not {against!r}.")
    table = result.for_series(series)
    matrix = getattr(table, f"vs_{against}" + ("_pct" if percent else ""))
    rows = np.isfinite(matrix).any(axis=1)
    matrix, periods = matrix[rows], [p for p, k in zip(table.periods, rows, strict=True) if k]
    finite = np.abs(matrix[np.isfinite(matrix)])
    top = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    top = top if top > 0 else (float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
    fig = _figure(width, height)
    ax = fig.add_subplot()
    unit = "%" if percent else "units"
    _style(ax, f"{table.series}: revisions against the {against} release ({unit})")
    ax.grid(False)
    ax.set_facecolor(MISSING)
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu_r", aspect="auto",
                      norm=TwoSlopeNorm(0.0, -top, top), interpolation="nearest")
    columns = _index_ticks(ax.xaxis, [shorten(r, 16) for r in result.releases],
                           width // 45, slant=True)
    rows = _index_ticks(ax.yaxis, [shorten(p, 16) for p in periods], height // 18)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar_axes = _place_heatmap(fig, ax, rows, columns)
    bar = fig.colorbar(image, cax=bar_axes, extend="both")
    bar.set_label("Revision (later minus earlier), " + unit, fontsize=9, color=INK)
    bar.ax.tick_params(labelsize=8.5, colors=INK)
    return _encode(fig, fmt)


def _place_heatmap(fig: Figure, ax, rows: list[str], columns: list[str]):
    """Position the heat map and add its colour bar's axes, measuring the few tick labels
    instead of running the constrained-layout engine (several times faster)."""
    renderer = fig.canvas.get_renderer()
    w, h = fig.bbox.width, fig.bbox.height
    left = PAD_PX + _max_width(renderer, rows, 8) + 6
    slant = math.radians(40)
    bottom = PAD_PX + _max_width(renderer, columns, 8) * math.sin(slant) + 14
    top = PAD_PX + TITLE_PT * fig.dpi / 72 * 1.25 + 8
    right = PAD_PX + 100  # colour bar, its numbers and its label
    ax.set_position([left / w, bottom / h, 1 - (left + right) / w, 1 - (top + bottom) / h])
    return fig.add_axes([1 - (right - 14) / w, (bottom + 0.08 * (h - top - bottom)) / h,
                         14 / w, 0.84 * (h - top - bottom) / h])


def _index_ticks(axis, labels: list[str], most: int, slant: bool = False) -> list[str]:
    """At most `most` labelled ticks, evenly spaced over categorical rows or columns; the
    labels shown."""
    n = len(labels)
    step = max(1, int(np.ceil(n / max(most, 2))))
    at = np.arange(0, n, step)
    axis.set_major_locator(FixedLocator(at))
    shown = [mpl_text(labels[i]) for i in at]
    axis.set_ticklabels(shown, fontsize=8)
    if slant:
        for text in axis.get_ticklabels():
            text.set_rotation(40)
            text.set_ha("right")
            text.set_rotation_mode("anchor")
    return shown


@drawn
def render_revisions_by_horizon(result: RevisionsResult, series: str, fmt: str = "png",
                                width: int = 900, height: int = 500) -> bytes:
    """Bars of the mean revision at each horizon (the bias), with ±2 standard errors
    (sd / √n) as whiskers; horizons without revisions are left empty."""
    _check_format(fmt)
    rows = result.horizons_for(series)
    horizons = np.array([r.horizon for r in rows])
    mean = np.array([np.nan if r.mean_revision is None else r.mean_revision for r in rows])
    se = np.array([np.nan if r.sd is None or r.n < 2 else r.sd / np.sqrt(r.n) for r in rows])
    fig = _figure(width, height)
    ax = fig.add_subplot()
    _style(ax, f"{series}: mean revision by horizon",
           "Bars: mean of (value h periods after first publication − first published); "
           "whiskers: ±2 standard errors")
    ax.bar(horizons, np.nan_to_num(mean), color=np.where(mean >= 0, "#c44e52", "#4c72b0"),
           width=0.7, alpha=0.85)
    ok = np.isfinite(se) & np.isfinite(mean)
    ax.errorbar(horizons[ok], mean[ok], yerr=2 * se[ok], fmt="none", ecolor=INK,
                elinewidth=1.1, capsize=4)
    ax.axhline(0, color="#777777", linewidth=0.9)
    ax.set_xlabel("Horizon (periods after first publication)", color=INK, fontsize=10)
    ax.set_ylabel("Mean revision", color=INK, fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(False, axis="x")
    number_axis(ax.yaxis)
    if not ok.any() and not np.isfinite(mean).any():
        ax.text(0.5, 0.5, "No period has been revised yet at these horizons",
                transform=ax.transAxes, ha="center", va="center", color="#666666")
    fit_axes(fig, ax, title_lines=2)
    return _encode(fig, fmt)
