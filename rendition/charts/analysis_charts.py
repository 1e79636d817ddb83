"""The chart that goes with a time-series analysis result, as PNG or SVG (matplotlib object API).

- exuberance: the price series with its explosive episodes shaded, over the BSADF sequence
  against its critical-value sequence (one series of the result, chosen by name);
- acf: ACF and PACF bars with their confidence bands;
- hp_filter: observed and trend, then the cycle; stl: observed, trend, seasonal, residual;
- rolling_stats: observed with the window mean and min–max band, then the window sd;
- describe: a histogram per numeric column (`series` picks one; else small multiples of the
  first MAX_HISTOGRAMS); price_index: Laspeyres, Paasche and Fisher from base (100) to current.

Results are taken as their `to_dict()` (the API shape), so a report builder holding only JSON
can draw them too. Periods become dates on the x axis when they parse, else positions.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from errors import BadInput, NotFound
from rendition.charts import drawing
from rendition.charts.text import mpl_label, mpl_text

CHART_KINDS = ("exuberance", "acf", "hp_filter", "stl", "rolling_stats", "growth",
               "correlation", "describe", "price_index")
MAX_HISTOGRAMS = 24  # small multiples beside a describe table
INDEX_NAMES = {"laspeyres": "Laspeyres", "paasche": "Paasche", "fisher": "Fisher"}
INDEX_STYLES = {"laspeyres": ("#1f5fa8", "-"), "paasche": ("#c0392b", "--"),
                "fisher": ("#2e7d32", ":")}
MAX_WRITTEN_IN = 12  # coefficients are written in the cells up to 12 × 12
MAX_GROWTH_LINES = 8
BLUE, RED, GREY, SHADE = "#1f5fa8", "#c0392b", "#7f7f7f", "#f4c7c3"
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def has_chart(kind: str) -> bool:
    return kind in CHART_KINDS


def _x(labels: list[str]):
    try:
        return pd.PeriodIndex([pd.Period(v) for v in labels]).to_timestamp()
    except (ValueError, TypeError):
        return np.arange(len(labels))


def _values(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype="float64")


def _style(ax, title: str) -> None:
    ax.set_title(mpl_text(title), fontsize=10, loc="left", color="#333333")
    ax.grid(True, color="#e3e3e3", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def chosen_series(data: dict, series: str | None) -> dict:
    """The exuberance result's series named `series` (the first when None)."""
    columns = data["columns"]
    chosen = next((c for c in columns if c["column"] == series), None) if series else columns[0]
    if chosen is None:
        raise BadInput(f"The result has no series '{series}'. Series: "
                       f"{', '.join(c['column'] for c in columns)}.")
    return chosen


def _exuberance(fig: Figure, data: dict, series: str | None) -> None:
    chosen = chosen_series(data, series)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    periods = list(chosen["periods"])
    x = _x(periods)
    top.plot(x, _values(chosen["values"]), color=BLUE, linewidth=1.4,
             label=mpl_label(chosen["column"]))
    for episode in chosen["episodes"]:
        lo, hi = periods.index(episode["start"]), periods.index(episode["end"])
        top.axvspan(x[lo], x[hi], color=SHADE, alpha=0.8, linewidth=0)
    _style(top, f"{chosen['column']}: explosive episodes shaded "
                f"({data['significance']} % BSADF critical values)")
    top.legend(fontsize=8, frameon=False, loc="upper left")
    bx = _x(chosen["bsadf_periods"])
    bottom.plot(bx, _values(chosen["bsadf"]), color=BLUE, linewidth=1.2, label="BSADF")
    if chosen["bsadf_critical"]:
        level = {"90": 0, "95": 1, "99": 2}[data["significance"]]
        bottom.plot(bx, _values(chosen["bsadf_critical"][level]), color=RED, linewidth=1.0,
                    linestyle="--", label=f"{data['significance']} % critical value")
    _style(bottom, f"BSADF sequence (lag {data['lag']}, window {chosen['window']})")
    bottom.legend(fontsize=8, frameon=False, loc="upper left")


def _acf(fig: Figure, data: dict, series: str | None) -> None:
    rows = data["lags"]
    lags = np.array([r["lag"] for r in rows])
    for ax, name in zip(fig.subplots(2, 1, sharex=True), ("acf", "pacf"), strict=True):
        values = _values([r[name] for r in rows])
        band = _values([r[f"{name}_band"] for r in rows])
        ax.bar(lags, values, width=0.35, color=BLUE)
        ax.fill_between(lags, -band, band, color=GREY, alpha=0.2, step="mid", linewidth=0)
        ax.axhline(0, color="#333333", linewidth=0.8)
        _style(ax, f"{name.upper()} of {data['column']} with "
                   f"{round(100 * data['confidence'])} % band")
    ax.set_xlabel("lag", fontsize=9)


def _components(fig: Figure, data: dict, series: str | None) -> None:
    x = _x(data["index"])
    parts = data["components"]
    observed = _values(data["observed"])
    if data["kind"] == "hp_filter":
        top, bottom = fig.subplots(2, 1, sharex=True)
        top.plot(x, observed, color=GREY, linewidth=1.0, label=mpl_label(data["column"]))
        top.plot(x, _values(parts["trend"]), color=BLUE, linewidth=1.6, label="HP trend")
        _style(top, f"Hodrick–Prescott trend (λ = {data['lambda']:g})")
        top.legend(fontsize=8, frameon=False)
        bottom.plot(x, _values(parts["cycle"]), color=RED, linewidth=1.0)
        bottom.axhline(0, color="#333333", linewidth=0.6)
        _style(bottom, "Cycle (observed − trend)")
    elif data["kind"] == "stl":
        names = ("observed", "trend", "seasonal", "residual")
        for ax, name in zip(fig.subplots(4, 1, sharex=True), names, strict=True):
            ax.plot(x, observed if name == "observed" else _values(parts[name]),
                    color=BLUE if name != "residual" else GREY, linewidth=1.0)
            _style(ax, f"{name} (STL, period {data['period']})" if name == "observed" else name)
    else:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        top.fill_between(x, _values(parts["min"]), _values(parts["max"]), color=GREY, alpha=0.2,
                         linewidth=0, label="min–max")
        top.plot(x, observed, color=GREY, linewidth=0.8, label=mpl_label(data["column"]))
        top.plot(x, _values(parts["mean"]), color=BLUE, linewidth=1.4, label="mean")
        what = "Expanding" if data["expanding"] else f"Rolling ({data['window']} periods)"
        _style(top, f"{what} statistics of {data['column']}")
        top.legend(fontsize=8, frameon=False)
        bottom.plot(x, _values(parts["sd"]), color=RED, linewidth=1.0)
        _style(bottom, "Standard deviation")


def _growth(fig: Figure, data: dict, series: str | None) -> None:
    """A line per column (the first MAX_GROWTH_LINES) of the growth rates, with the zero line."""
    x = _x(data["index"])
    ax = fig.subplots()
    names = list(data["series"])[:MAX_GROWTH_LINES]
    for name in names:
        ax.plot(x, _values(data["series"][name]), linewidth=1.2, label=mpl_label(name))
    ax.axhline(0, color="#333333", linewidth=0.7)
    ax.set_ylabel("%", fontsize=9)
    more = f" (first {len(names)} of {len(data['series'])} columns)" \
        if len(data["series"]) > len(names) else ""
    what = " ".join(filter(None, ["growth", data.get("comparison")])) + ", %"
    # one series: name it ("Canada: growth year on year, %"), as a chart alone must say
    _style(ax, f"{names[0]}: {what}" if len(names) == 1 else f"G{what[1:]}{more}")
    if len(names) > 1:
        ax.legend(fontsize=8, frameon=False, ncols=min(len(names), 4))


def _correlation(fig: Figure, data: dict, series: str | None) -> None:
    """A heat map of the coefficients from −1 (red) to 1 (blue), each written in its cell."""
    names = list(data["columns"])
    r = np.array([[np.nan if data["matrix"][a][b] is None else data["matrix"][a][b]
                   for b in names] for a in names], dtype="float64")
    ax = fig.subplots()
    image = ax.imshow(r, cmap="RdBu", vmin=-1, vmax=1)
    labels = [mpl_label(n) for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), labels, fontsize=8)
    if len(names) <= MAX_WRITTEN_IN:
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(r[i, j]):
                    ax.text(j, i, f"{r[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if abs(r[i, j]) > 0.5 else "#222222")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(mpl_text(f"{str(data.get('method', '')).capitalize()} correlation"),
                 fontsize=10, loc="left", color="#333333")


def histogram_columns(data: dict) -> list[str]:
    """The numeric columns of a describe result that have a histogram, in sheet order, at
    most MAX_HISTOGRAMS (the page says when there are more)."""
    histograms = data.get("histograms") or {}
    return [c["name"] for c in data.get("columns", []) if c["name"] in histograms][
        :MAX_HISTOGRAMS]


def _describe(fig: Figure, data: dict, series: str | None) -> None:
    """One histogram (`series`) or small multiples, four to a row."""
    histograms = data.get("histograms") or {}
    if series is not None and series not in histograms:
        raise BadInput(f"The sheet has no numeric column '{series}' with values to draw.")
    names = [series] if series is not None else histogram_columns(data)
    if not names:
        raise BadInput("The sheet has no numeric column with values to draw.")
    per_row = min(4, len(names))
    axes = fig.subplots(-(-len(names) // per_row), per_row, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        h = histograms[name]
        ax.stairs(h["counts"], h["edges"], fill=True, color=BLUE, alpha=0.85)
        if max(abs(h["edges"][0]), abs(h["edges"][-1])) >= 1e4:  # 2M, not 0.2 × 1e7
            ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        _style(ax, name)
        ax.set_ylabel("count", fontsize=8)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)


def index_lines(data: dict) -> dict[str, list[float]]:
    """Each price index defined in a price_index result, from 100 in the base period to its
    value in the current one."""
    return {key: [100.0, data[key]] for key in INDEX_NAMES if data.get(key) is not None}


def _price_index(fig: Figure, data: dict, series: str | None) -> None:
    ax = fig.subplots()
    periods = ["base period", "current period"]
    for key, values in index_lines(data).items():
        color, style = INDEX_STYLES[key]
        ax.plot(periods, values, color=color, linestyle=style, marker="o", linewidth=1.6,
                label=f"{INDEX_NAMES[key]} {values[1]:.2f}")
    ax.axhline(100, color=GREY, linewidth=0.7)
    ax.set_ylabel("index (base = 100)", fontsize=9)
    _style(ax, f"Price indices, {data.get('sheet')} (n = {data.get('n')})")
    ax.legend(fontsize=8, frameon=False, loc="best")


_DRAW = {"exuberance": _exuberance, "acf": _acf, "hp_filter": _components,
         "stl": _components, "rolling_stats": _components, "growth": _growth,
         "correlation": _correlation, "describe": _describe, "price_index": _price_index}


def render_analysis_chart(data: dict, fmt: str = "png", series: str | None = None,
                          width: int = 900, height: int = 600, dpi: int = 100) -> bytes:
    """The chart of a result dict (`to_dict()`), as PNG or SVG bytes."""
    draw = _DRAW.get(data.get("kind"))
    if draw is None:
        raise NotFound(f"The analysis {data.get('kind')!r} has no chart; charts exist for "
                       f"{', '.join(CHART_KINDS)}.")
    if fmt not in FORMATS:
        raise BadInput(f"A chart is png or svg, not {fmt!r}.")
    if not (100 <= width <= 4000 and 80 <= height <= 4000):
        raise BadInput("A chart is 100 to 4000 pixels wide and 80 to 4000 high.")
    return drawing.draw(_draw_chart, draw, data, series, fmt, width, height, dpi)


def _draw_chart(draw, data: dict, series: str | None, fmt: str, width: int, height: int,
                dpi: int) -> bytes:
    buf = io.BytesIO()
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white",
                 layout="constrained")
    draw(fig, data, series)
    if fmt == "png":
        FigureCanvasAgg(fig).print_png(buf)
    else:
        FigureCanvasSVG(fig).print_svg(buf, metadata={"Date": None})
    return buf.getvalue()
