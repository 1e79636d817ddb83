"""What every renderer draws: numbers computed once, so PNG, Bokeh and Plotly show the same chart.

All text here (titles, labels, category names) is raw user text. Each renderer makes it safe for
its own output (`rendition.charts.text`), never this layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Series:
    """One line (or point cloud). x: datetime64 / float64; y: float64 with NaN for gaps."""

    label: str
    x: np.ndarray
    y: np.ndarray
    column: str
    sheet: str
    color: int = 0  # index into the shared palette
    dash: int = 0  # 0 solid, 1 dashed, 2 dotted, 3 dash-dot (compare_sheets: one per sheet)
    panel: int = 0  # small multiples: which panel

    @property
    def n(self) -> int:
        return int(self.y.size)


@dataclass(frozen=True)
class LineData:
    series: tuple[Series, ...]
    x_kind: str  # "time" | "number" | "row"
    freq: str | None = None
    panels: tuple[str, ...] = ()  # small multiples: panel titles; empty for one panel
    cols: int = 1


@dataclass(frozen=True)
class BarData:
    categories: tuple[str, ...]
    series: tuple[tuple[str, np.ndarray], ...]  # (label, value per category)
    agg: str


@dataclass(frozen=True)
class PieData:
    labels: tuple[str, ...]
    values: np.ndarray
    agg: str


@dataclass(frozen=True)
class Fit:
    """OLS y = intercept + slope·x with the 95% confidence band of the mean on a grid."""

    slope: float
    intercept: float
    r2: float
    n: int
    grid: np.ndarray
    fitted: np.ndarray
    lower: np.ndarray | None  # None when n < 3 (no residual degrees of freedom)
    upper: np.ndarray | None


@dataclass(frozen=True)
class ScatterData:
    points: tuple[Series, ...]
    fits: tuple[Fit | None, ...]
    sample_of: int | None = None  # set when the points are a sample of this many


@dataclass(frozen=True)
class HistData:
    edges: np.ndarray
    counts: tuple[tuple[str, np.ndarray], ...]  # (label, count per bin)


@dataclass(frozen=True)
class BoxStats:
    """Tukey box: quartiles (linear interpolation), whiskers at the last data within 1.5 IQR."""

    series: str  # the y column
    category: str  # the group value, or the y column when there is no group
    n: int
    mean: float
    q1: float
    median: float
    q3: float
    whisker_low: float
    whisker_high: float
    outliers: np.ndarray


@dataclass(frozen=True)
class BoxData:
    categories: tuple[str, ...]
    series: tuple[str, ...]
    boxes: tuple[BoxStats, ...]
    group: str | None


@dataclass(frozen=True)
class HeatmapData:
    labels: tuple[str, ...]
    matrix: np.ndarray  # Pearson r, NaN where undefined


Body = LineData | BarData | PieData | ScatterData | HistData | BoxData | HeatmapData


@dataclass(frozen=True)
class ChartData:
    kind: str
    title: str
    body: Body
    x_label: str | None = None
    y_label: str | None = None
    log_y: bool = False
    width: int = 900
    height: int = 500
    notes: tuple[str, ...] = field(default_factory=tuple)

    def with_body(self, body: Body, note: str | None = None) -> ChartData:
        notes = self.notes if note is None else (*self.notes, note)
        return replace(self, body=body, notes=notes)


PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]
