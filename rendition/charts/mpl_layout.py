"""Fast, tidy axes for matplotlib: tick choice and margins without the constrained-layout engine.

Constrained layout measures every tick label two or three times per render and AutoDateLocator
runs dateutil rrules on each pass; together they cost more than drawing a 180-point line chart.
For single-axes charts we know what surrounds the axes (title, tick labels, axis labels, an
outside legend), so we measure those few strings once and set the margins directly. Legends go
in an empty corner, or outside on the right within LEGEND_SHARE of the width.
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    Locator,
    LogLocator,
    NullFormatter,
)

from rendition.charts.text import mpl_text, shorten

TICK_PT = 9.0
LABEL_PT = 10.0
TITLE_PT = 13.0
NOTE_PT = 8.5
PAD_PX = 10  # white border around everything
SLANT = 35  # degrees, for crowded category labels
LEGEND_INSIDE_MAX = 6  # more entries than this go in a legend outside the axes
LEGEND_SHARE = 0.3  # of the figure's width, at most, for a legend outside the axes

_YEAR_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500)
_MONTH_STEPS = (1, 2, 3, 6)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def time_ticks(ax: Axes, lo: np.datetime64, hi: np.datetime64, max_ticks: int = 10) -> None:
    """Fixed ticks on whole years (or months for short spans), labelled "1975" / "Mar 2019"."""
    lo_y, hi_y = int(str(lo)[:4]), int(str(hi)[:4])
    if hi_y - lo_y >= 3:
        step = next((s for s in _YEAR_STEPS if (hi_y - lo_y) / s <= max_ticks), _YEAR_STEPS[-1])
        years = np.arange(math.ceil(lo_y / step) * step, hi_y + 1, step)
        stamps = np.array([f"{y:04d}-01-01" for y in years], dtype="datetime64[ns]")
        labels = [str(y) for y in years]
    else:
        first = lo.astype("datetime64[M]")
        months = int((hi.astype("datetime64[M]") - first).astype(int)) + 1
        step = next((s for s in _MONTH_STEPS if months / s <= max_ticks), 12)
        grid = np.arange(first, hi.astype("datetime64[M]") + 1, dtype="datetime64[M]")
        grid = grid[(grid.astype(int) % 12) % step == 0]
        stamps = grid.astype("datetime64[ns]")
        labels = [f"{_MONTHS[int(m) % 12]} {1970 + int(m) // 12}" for m in grid.astype(int)]
    keep = (stamps >= lo) & (stamps <= hi)
    if keep.sum() < 2:  # a span too short for our grid: let matplotlib choose
        locator = mdates.AutoDateLocator(minticks=3, maxticks=max_ticks)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        return
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(stamps[keep])))
    kept = [lb for lb, k in zip(labels, keep, strict=True) if k]
    ax.xaxis.set_major_formatter(FixedFormatter(kept))


class InView(Locator):
    """Another locator's ticks, less those outside the view: matplotlib builds a Tick (five
    artists, ~0.4 ms) for every location a locator gives, drawn or not (a sixth of them)."""

    def __init__(self, inner: Locator):
        self.inner = inner

    def set_axis(self, axis) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self):
        lo, hi = sorted(self.axis.get_view_interval())
        slack = (hi - lo) * 1e-9  # what matplotlib's own test for drawing a tick allows
        return [v for v in self.inner() if lo - slack <= v <= hi + slack]

    def tick_values(self, vmin, vmax):
        return self.inner.tick_values(vmin, vmax)

    def view_limits(self, vmin, vmax):
        return self.inner.view_limits(vmin, vmax)

    def nonsingular(self, v0, v1):
        return self.inner.nonsingular(v0, v1)


def number_axis(axis) -> None:
    """Ticks like 2,000 / 12M instead of matplotlib's "1e7" offset; one unit per axis."""

    def fmt(v: float, _pos: int | None = None) -> str:
        if v == 0:
            return "0"
        top = max(abs(lim) for lim in axis.get_view_interval())
        if top >= 1e6:
            return f"{v / 1e6:,.6g}M"
        if top >= 1e4:
            return f"{v / 1e3:,.6g}k"
        return f"{v:,.6g}"

    axis.set_major_formatter(FuncFormatter(fmt))
    if not isinstance(axis.get_major_locator(), InView):
        axis.set_major_locator(InView(axis.get_major_locator()))


def log_axis(axis) -> None:
    """Plain-number ticks on a log axis (80, 90, 100 or 1, 10, 100), no 10^n mathtext."""
    lo, hi = sorted(abs(v) for v in axis.get_view_interval())
    decades = math.log10(hi / lo) if lo > 0 else 10.0
    subs = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0) if decades < 1 else (
        (1.0, 2.0, 5.0) if decades < 3 else (1.0,))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_minor_formatter(NullFormatter())
    number_axis(axis)


def fit_axes(
    fig: Figure,
    ax: Axes,
    *,
    title_lines: int = 1,
    legend: Legend | None = None,
    slanted: list[str] | None = None,
) -> None:
    """Set the axes' position so its decorations just fit inside the figure.

    Measures the y tick labels, the slanted x tick labels (if `slanted`, at SLANT degrees) and
    an outside legend; everything else has a known height. Call after all artists are added.
    """
    renderer = fig.canvas.get_renderer()
    scale = fig.dpi / 72.0
    width, height = fig.bbox.width, fig.bbox.height
    tick_gap = (3.5 + 3.5) * scale  # tick length + label pad, in points -> px
    y_labels = _tick_labels(ax.yaxis, ax.get_ylim())
    left = PAD_PX + tick_gap + _max_width(renderer, y_labels, TICK_PT)
    if ax.get_ylabel():
        left += LABEL_PT * scale * 1.2 + 4 * scale
    x_tall = TICK_PT * scale * 1.25
    first_reach = 0.0  # how far the first slanted label reaches left of its tick
    if slanted:
        rad = math.radians(SLANT)
        x_tall = _max_width(renderer, slanted, TICK_PT) * math.sin(rad) + x_tall * math.cos(rad)
        first_reach = _max_width(renderer, slanted[:1], TICK_PT) * math.cos(rad)
    bottom = PAD_PX + tick_gap + x_tall
    if ax.get_xlabel():
        bottom += LABEL_PT * scale * 1.2 + 4 * scale
    top = PAD_PX + TITLE_PT * scale * 1.25 + 6 * scale
    top += (title_lines - 1) * NOTE_PT * scale * 1.3
    right = PAD_PX + 8 * scale
    if legend is not None:
        right = PAD_PX + legend.get_window_extent(renderer).width + 8 * scale
    if first_reach:
        x0, x1 = ax.get_xlim()
        ticks = ax.get_xticks()
        frac = (ticks[0] - x0) / (x1 - x0) if len(ticks) and x1 != x0 else 0.0
        left = max(left, PAD_PX + first_reach - frac * (width - left - right))
    _shorten_title(ax, renderer, width - left - PAD_PX)
    ax.set_position([left / width, bottom / height, 1 - (left + right) / width,
                     1 - (top + bottom) / height])


def leave_empty_labels_unplaced(ax: Axes) -> None:
    """An axis places its label on every draw, measuring its tick labels again to clear them,
    also when the label is empty (small multiples have none: ~3 ms for 2 × 2 panels). Give an
    empty one a fixed place, where it draws nothing as before. Call when the axes are done."""
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.label.get_text():
            axis.set_label_coords(0.5, 0.5)


def fit_grid(fig: Figure, axes: list[Axes], cols: int, *, title_pt: float, tick_pt: float,
             x_label: bool) -> None:
    """Place a grid of panels (small multiples) by measuring their y tick labels once.

    Every row keeps room for a panel title above and x tick labels below; each column's left
    margin fits its widest y tick label, so panels in a column line up. Replaces constrained
    layout, which measured every label several times (~100 ms for 2 × 2 panels).
    """
    renderer = fig.canvas.get_renderer()
    scale = fig.dpi / 72.0
    width, height = fig.bbox.width, fig.bbox.height
    rows = -(-len(axes) // cols)
    tick_gap = (3.5 + 3.5) * scale
    top = PAD_PX + TITLE_PT * scale * 1.25 + 4 * scale  # the figure's title
    bottom = PAD_PX + (LABEL_PT * scale * 1.2 + 4 * scale if x_label else 0.0)
    above = title_pt * scale * 1.25 + 6 * scale  # a panel's title and its pad
    below = tick_gap + tick_pt * scale * 1.3  # x tick labels
    right = tick_pt * scale * 1.6  # half of a year label over the last tick, and a gap
    cell_w = (width - 2 * PAD_PX) / cols
    cell_h = (height - top - bottom) / rows
    for _ in range(2):  # the axes' new height can change the y ticks: measure them again
        for c in range(cols):
            column = [ax for ax in axes[c::cols] if ax.get_visible()]
            labels = [lb for ax in column for lb in _tick_labels(ax.yaxis, ax.get_ylim())]
            left = tick_gap + _max_width(renderer, labels, tick_pt)
            for r, ax in enumerate(axes[c::cols]):
                x0 = PAD_PX + c * cell_w + left
                y0 = height - top - (r + 1) * cell_h + below
                ax.set_position([x0 / width, y0 / height, (cell_w - left - right) / width,
                                 (cell_h - above - below) / height])


def _tick_labels(axis, limits) -> list[str]:
    lo, hi = sorted(limits)
    locs = [v for v in axis.get_major_locator()() if lo <= v <= hi]
    formatter = axis.get_major_formatter()
    formatter.set_locs(locs)
    return [formatter(v, i) for i, v in enumerate(locs)]


def _max_width(renderer, labels: list[str], size: float, prop=None) -> float:
    prop = prop or FontProperties(size=size)
    widths = [
        renderer.get_text_width_height_descent(s, prop, ismath="$" in s)[0] for s in labels if s
    ]
    return max(widths, default=0.0)



def emptiest_corner(ax: Axes, xs: list[np.ndarray], ys: list[np.ndarray]) -> str | None:
    """A legend corner with no data under it (a cheap stand-in for loc="best"), or None."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    log = ax.get_yscale() == "log"
    counts = {}
    corners = {"upper left": (0, 1), "upper right": (1, 1), "lower left": (0, 0),
               "lower right": (1, 0)}
    fx = np.concatenate([mdates.date2num(x) if x.dtype.kind == "M" else x for x in xs])
    fy = np.concatenate(ys)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            fy, y0, y1 = np.log10(fy), np.log10(y0), np.log10(y1)
    u = (fx - x0) / ((x1 - x0) or 1.0)
    v = (fy - y0) / ((y1 - y0) or 1.0)
    for name, (cx, cy) in corners.items():
        inside = (np.abs(u - cx) < 0.3) & (np.abs(v - cy) < 0.4)
        counts[name] = int(np.count_nonzero(inside))
    best = min(corners, key=lambda k: counts[k])  # ties: the order above (upper left first)
    return best if counts[best] == 0 else None


def _shorten_title(ax: Axes, renderer, room: float) -> None:
    """Cut the left-aligned title with "…" so it ends inside the figure."""
    title = ax.get_title(loc="left")
    prop = FontProperties(size=TITLE_PT, weight="bold")
    if not title or _max_width(renderer, [title], TITLE_PT, prop) <= room:
        return
    lo, hi = 1, len(title)
    while lo < hi:  # the longest prefix that fits
        mid = (lo + hi + 1) // 2
        if _max_width(renderer, [title[:mid] + "…"], TITLE_PT, prop) <= room:
            lo = mid
        else:
            hi = mid - 1
    cut = title[:lo]
    if cut.endswith("\\"):
        cut = cut[:-1]  # never end on half of an escaped "\\$"
    for child in ax.get_children():  # the left title's Text: keep its font, change the words
        if isinstance(child, Text) and child.get_text() == title:
            child.set_text(cut + "…")
            return


def place_legend(ax: Axes, n_entries: int, points=None, handles=None) -> Legend | None:
    """A legend inside the axes for a few entries; outside on the right (returned) for many.

    `points` = (list of x arrays, list of y arrays) lets the legend avoid the data.
    """
    if n_entries <= 1:
        return None
    kw = {"handles": handles} if handles is not None else {}
    loc = None
    if n_entries <= LEGEND_INSIDE_MAX:
        loc = emptiest_corner(ax, *points) if points else "upper left"
    if loc is not None:
        ax.legend(loc=loc, fontsize=9, frameon=True, framealpha=0.85, edgecolor="#dddddd", **kw)
        return None
    ncols = 1 if n_entries <= 25 else 2
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
                       fontsize=8.5, frameon=False, ncols=ncols, **kw)
    fit_legend(legend, LEGEND_SHARE * ax.figure.bbox.width)
    return legend


def fit_legend(legend: Legend, room: float) -> None:
    """Cut long names until the legend is at most `room` pixels wide (measured, not guessed:
    a thumbnail is 480 pixels, and the plot keeps most of them)."""
    renderer = legend.figure.canvas.get_renderer()
    labels = [t.get_text().replace(r"\$", "$") for t in legend.get_texts()]  # not the escapes
    for _ in range(4):
        width = legend.get_window_extent(renderer).width
        longest = max(len(label) for label in labels)
        if width <= room or longest <= 8:
            return
        keep = max(8, int(longest * room / width) - 1)
        labels = [shorten(label, keep) for label in labels]
        for text, label in zip(legend.get_texts(), labels, strict=True):
            text.set_text(mpl_text(label))
