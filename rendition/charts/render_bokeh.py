"""ChartSpec -> Bokeh `json_item` dict, for `Bokeh.embed.embed_item(item, target)` on the page.

Text safety: titles and axis labels are `PlainText` models (never parsed as TeX), legend labels
are `value(...)` strings drawn on the canvas, and hover tooltips use the list form, whose labels
become DOM text and whose value templates name only our own data-source columns ("@x", "@y",
"@label") — Bokeh HTML-escapes the values it substitutes. No Div or other HTML model is used,
so the page needs only bokeh.min.js. Long series are reduced first (`downsample`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from bokeh.core.properties import value
from bokeh.embed import json_item
from bokeh.layouts import gridplot
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    NumeralTickFormatter,
    Title,
)
from bokeh.palettes import RdBu11
from bokeh.plotting import figure
from bokeh.settings import settings
from bokeh.transform import dodge

from rendition.charts.bokeh_defaults import use_quick_defaults
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
from rendition.charts.downsample import reduce_for_interactive
from rendition.charts.prepare import prepare
from rendition.charts.spec import ChartSpec
from rendition.charts.text import bokeh_text

DASHES = ("solid", "dashed", "dotted", "dashdot")
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
NUMBER = "0,0.[000]"
LEGEND_INSIDE_MAX = 6

# Bokeh checks every model of a document on each json_item (~3 ms of a ~30 ms line chart) and
# only logs what it finds. The charts' documents get the same checks in test_charts_bokeh, so
# requests skip them. Process-wide (Bokeh has no per-document switch): the equation and fit
# plots' json_item skip them too.
settings.perform_document_validation.set_value(False)
use_quick_defaults()  # the same models and JSON without Bokeh's repeated work on defaults


def render_bokeh(spec: ChartSpec, frames: Mapping[str, pd.DataFrame]) -> dict:
    """The chart as a JSON-safe dict from `bokeh.embed.json_item` (target chosen by the page)."""
    data = reduce_for_interactive(prepare(spec, frames))
    return json_item(_BUILD[data.kind](data))


def _figure(data: ChartData, *, width: int | None = None, height: int | None = None,
            title: bool = True, **kw) -> figure:
    fig = figure(width=width or data.width, height=height or data.height, tools=TOOLS,
                 title=None, toolbar_location="right", **kw)
    if title:
        _titles(fig, data.title, data.notes)
    fig.xgrid.grid_line_color = "#e8e8e8"
    fig.ygrid.grid_line_color = "#e8e8e8"
    fig.outline_line_color = None
    if data.x_label:
        fig.xaxis.axis_label = bokeh_text(data.x_label)
    if data.y_label:
        fig.yaxis.axis_label = bokeh_text(data.y_label)
    return fig


def _titles(fig: figure, title: str, notes: tuple[str, ...]) -> None:
    """Notes first: each Title added "above" goes on top of the previous one."""
    for note in reversed(notes):
        fig.add_layout(Title(text=bokeh_text(note), text_font_size="9pt", text_color="#666666",
                             text_font_style="italic"), "above")
    fig.add_layout(Title(text=bokeh_text(title), text_font_size="13pt"), "above")


def _y_numbers(fig: figure, log: bool) -> None:
    if not log:
        fig.yaxis.formatter = NumeralTickFormatter(format=NUMBER)


def _legend(fig: figure, items: list[tuple[str, list]]) -> None:
    if len(items) <= 1:
        return
    legend = Legend(items=[LegendItem(label=value(label), renderers=renderers)
                           for label, renderers in items],
                    click_policy="hide", label_text_font_size="9pt")
    if len(items) <= LEGEND_INSIDE_MAX:
        legend.location = "top_left"
        legend.background_fill_alpha = 0.8
        fig.add_layout(legend)
    else:
        fig.add_layout(legend, "right")


def _when(x: np.ndarray, freq: str | None) -> list[str]:
    """Hover text for time x: "1975Q1" for quarterly periods, else the date."""
    index = pd.DatetimeIndex(x)
    if freq:
        return [str(p) for p in index.to_period(freq)]
    return list(index.strftime("%Y-%m-%d"))


def _lines(fig: figure, series, body: LineData) -> list[tuple[str, list]]:
    items = []
    renderers = []
    for s in series:
        source = {"x": s.x, "y": s.y, "label": [s.label] * s.n}
        if body.x_kind == "time":
            source["when"] = _when(s.x, body.freq)
        r = fig.line("x", "y", source=ColumnDataSource(source), line_color=color(s.color),
                     line_dash=DASHES[s.dash], line_width=2)
        items.append((s.label, [r]))
        renderers.append(r)
    x_tip = ("period", "@when") if body.x_kind == "time" else ("x", "@x{" + NUMBER + "}")
    fig.add_tools(HoverTool(renderers=renderers, line_policy="nearest",
                            tooltips=[("series", "@label"), x_tip,
                                      ("value", "@y{" + NUMBER + "}")]))
    return items


def _line(data: ChartData):
    body: LineData = data.body  # type: ignore[assignment]
    if body.panels:
        return _panels(data, body)
    fig = _figure(data, x_axis_type="datetime" if body.x_kind == "time" else "linear",
                  y_axis_type="log" if data.log_y else "linear")
    _y_numbers(fig, data.log_y)
    if body.x_kind != "time":
        fig.xaxis.formatter = NumeralTickFormatter(format=NUMBER)
    _legend(fig, _lines(fig, body.series, body))
    return fig


def _panels(data: ChartData, body: LineData):
    n, cols = len(body.panels), body.cols
    rows = -(-n // cols)
    figs, x_range = [], None
    for i, name in enumerate(body.panels):
        kw = {"x_range": x_range} if x_range is not None else {}
        fig = _figure(data, width=max(200, data.width // cols),
                      height=max(150, data.height // rows), title=False,
                      x_axis_type="datetime" if body.x_kind == "time" else "linear",
                      y_axis_type="log" if data.log_y else "linear", **kw)
        x_range = fig.x_range
        fig.add_layout(Title(text=bokeh_text(name), text_font_size="10pt"), "above")
        if i == 0:
            _titles(fig, data.title, data.notes)
        _y_numbers(fig, data.log_y)
        if body.x_kind != "time":
            fig.xaxis.formatter = NumeralTickFormatter(format=NUMBER)
        _lines(fig, [s for s in body.series if s.panel == i], body)
        figs.append(fig)
    return gridplot(figs, ncols=cols, toolbar_location="right")


def _bar(data: ChartData):
    body: BarData = data.body  # type: ignore[assignment]
    cats = list(body.categories)
    fig = _figure(data, x_range=FactorRange(*cats),
                  y_axis_type="log" if data.log_y else "linear")
    _y_numbers(fig, data.log_y)
    k = len(body.series)
    width = 0.8 / k
    items = []
    for j, (label, values) in enumerate(body.series):
        source = ColumnDataSource({"cat": cats, "v": values, "label": [label] * len(cats)})
        offset = -0.4 + width * (j + 0.5)
        r = fig.vbar(x=dodge("cat", offset, range=fig.x_range), top="v", width=width * 0.95,
                     source=source, color=color(j), bottom=_bar_bottom(data, values))
        items.append((label, [r]))
    fig.add_tools(HoverTool(tooltips=[("series", "@label"), ("category", "@cat"),
                                      ("value", "@v{" + NUMBER + "}")]))
    fig.xgrid.grid_line_color = None
    _slant(fig, cats)
    _legend(fig, items)
    return fig


def _bar_bottom(data: ChartData, values: np.ndarray) -> float:
    if not data.log_y:
        return 0.0
    finite = values[np.isfinite(values)]
    return float(finite.min()) / 2 if finite.size else 1.0


def _slant(fig: figure, labels: list[str]) -> None:
    if max((len(c) for c in labels), default=0) * len(labels) > 90:
        fig.xaxis.major_label_orientation = 0.7


def _pie(data: ChartData):
    body: PieData = data.body  # type: ignore[assignment]
    share = body.values / body.values.sum()
    ends = np.cumsum(share) * 2 * np.pi
    starts = np.concatenate([[0.0], ends[:-1]])
    # clockwise from 12 o'clock, like the PNG
    source = ColumnDataSource({
        "label": list(body.labels), "value": body.values, "pct": share * 100,
        "start": np.pi / 2 - ends, "end": np.pi / 2 - starts,
        "color": [color(i) for i in range(len(body.labels))],
    })
    fig = _figure(data, match_aspect=True)
    r = fig.wedge(x=0, y=0, radius=1.0, start_angle="start", end_angle="end", color="color",
                  line_color="white", source=source)
    items = [LegendItem(label=value(lb), renderers=[r], index=i)
             for i, lb in enumerate(body.labels)]
    fig.add_layout(Legend(items=items, label_text_font_size="9pt"), "right")
    fig.add_tools(HoverTool(renderers=[r], tooltips=[
        ("category", "@label"), ("value", "@value{" + NUMBER + "}"), ("share", "@pct{0.0}%")]))
    fig.axis.visible = False
    fig.grid.grid_line_color = None
    return fig


def _scatter(data: ChartData):
    body: ScatterData = data.body  # type: ignore[assignment]
    fig = _figure(data, y_axis_type="log" if data.log_y else "linear")
    _y_numbers(fig, data.log_y)
    fig.xaxis.formatter = NumeralTickFormatter(format=NUMBER)
    total = sum(s.n for s in body.points)
    size, alpha = (6, 0.6) if total <= 2_000 else (3, 0.35)
    items, dots = [], []
    several = len(body.points) > 1
    for s, fit in zip(body.points, body.fits, strict=True):
        src = ColumnDataSource({"x": s.x, "y": s.y, "label": [s.label] * s.n})
        r = fig.scatter("x", "y", source=src, size=size, alpha=alpha, color=color(s.color))
        dots.append(r)
        items.append((s.label, [r]))
        if fit is None:
            continue
        prefix = f"{s.label}: " if several else ""
        if fit.lower is not None:
            band = fig.varea(x=fit.grid, y1=fit.lower, y2=fit.upper, fill_color=color(s.color),
                             fill_alpha=0.2)
            items.append((f"{prefix}95% CI of the mean", [band]))
        line = fig.line(fit.grid, fit.fitted, line_color=color(s.color), line_width=2.5)
        items.append((f"{prefix}OLS fit (R² = {fit.r2:.3f})", [line]))
    x_name = data.x_label or "x"
    fig.add_tools(HoverTool(renderers=dots, tooltips=[
        ("series", "@label"), (x_name, "@x{" + NUMBER + "}"), ("value", "@y{" + NUMBER + "}")]))
    _legend(fig, items)
    return fig


def _hist(data: ChartData):
    body: HistData = data.body  # type: ignore[assignment]
    fig = _figure(data, y_axis_type="log" if data.log_y else "linear")
    fig.xaxis.formatter = NumeralTickFormatter(format=NUMBER)
    single = len(body.counts) == 1
    items = []
    for j, (label, counts) in enumerate(body.counts):
        src = ColumnDataSource({"left": body.edges[:-1], "right": body.edges[1:],
                                "count": counts, "label": [label] * counts.size})
        bottom = 0.5 if data.log_y else 0
        r = fig.quad(left="left", right="right", top="count", bottom=bottom, source=src,
                     fill_color=color(j), fill_alpha=0.85 if single else 0.45,
                     line_color="white" if single else color(j))
        items.append((label, [r]))
    fig.add_tools(HoverTool(tooltips=[("series", "@label"), ("from", "@left{" + NUMBER + "}"),
                                      ("to", "@right{" + NUMBER + "}"), ("count", "@count")]))
    _legend(fig, items)
    return fig


def _box(data: ChartData):
    body: BoxData = data.body  # type: ignore[assignment]
    cats = list(body.categories)
    fig = _figure(data, x_range=FactorRange(*cats),
                  y_axis_type="log" if data.log_y else "linear")
    _y_numbers(fig, data.log_y)
    grouped = body.group is not None
    k = len(body.series) if grouped else 1
    width = 0.7 / k
    items, bodies = [], []
    for j, name in enumerate(body.series if grouped else [None]):
        boxes = [b for b in body.boxes if not grouped or b.series == name]
        offset = -0.35 + width * (j + 0.5)
        src = ColumnDataSource({
            "cat": [b.category for b in boxes], "q1": [b.q1 for b in boxes],
            "median": [b.median for b in boxes], "q3": [b.q3 for b in boxes],
            "lo": [b.whisker_low for b in boxes], "hi": [b.whisker_high for b in boxes],
            "n": [b.n for b in boxes], "label": [b.series for b in boxes],
            "color": [color(j if grouped else cats.index(b.category)) for b in boxes],
        })
        x = dodge("cat", offset, range=fig.x_range)
        fig.segment(x0=x, x1=x, y0="lo", y1="q1", source=src, line_color="color")
        fig.segment(x0=x, x1=x, y0="q3", y1="hi", source=src, line_color="color")
        r = fig.vbar(x=x, width=width * 0.85, top="q3", bottom="q1", source=src,
                     fill_color="color", fill_alpha=0.55, line_color="color")
        bodies.append(r)
        fig.rect(x=x, y="median", width=width * 0.85, height=0.001, height_units="screen",
                 source=src, line_color="#333333", line_width=2)
        out_x = [b.category for b in boxes for _ in b.outliers]
        out_y = np.concatenate([b.outliers for b in boxes]) if boxes else np.array([])
        if len(out_x):
            fig.scatter(x=dodge("x", offset, range=fig.x_range), y="y", size=4, alpha=0.6,
                        color=color(j) if grouped else "#666666",
                        source=ColumnDataSource({"x": out_x, "y": out_y}))
        if grouped and name is not None:
            items.append((name, [r]))
    tips = [("series", "@label"), ("group", "@cat"), ("n", "@n")] + [
        (name, "@" + field + "{" + NUMBER + "}")
        for name, field in (("upper whisker", "hi"), ("Q3", "q3"), ("median", "median"),
                            ("Q1", "q1"), ("lower whisker", "lo"))
    ]
    fig.add_tools(HoverTool(renderers=bodies, tooltips=tips))
    fig.xgrid.grid_line_color = None
    _slant(fig, cats)
    _legend(fig, items)
    return fig


def _heatmap(data: ChartData):
    body: HeatmapData = data.body  # type: ignore[assignment]
    labels = list(body.labels)
    n = len(labels)
    rows = [labels[i] for i in range(n) for _ in range(n)]
    cols = [labels[j] for _ in range(n) for j in range(n)]
    r_values = body.matrix.ravel()
    mapper = LinearColorMapper(palette=list(RdBu11), low=-1, high=1,  # blue -1 .. red +1
                               nan_color="#f0f0f0")
    fig = _figure(data, x_range=FactorRange(*labels), y_range=FactorRange(*reversed(labels)))
    src = ColumnDataSource({
        "row": rows, "col": cols, "r": r_values,
        "text": ["–" if not np.isfinite(v) else f"{v:.2f}" for v in r_values],
        "ink": ["white" if np.isfinite(v) and abs(v) > 0.6 else "#333333" for v in r_values],
    })
    fig.rect(x="col", y="row", width=1, height=1, source=src, line_color="white",
             fill_color={"field": "r", "transform": mapper})
    if n <= 12:
        fig.text(x="col", y="row", text="text", source=src, text_align="center",
                 text_baseline="middle", text_font_size="9pt", text_color="ink")
    fig.add_layout(ColorBar(color_mapper=mapper, title="Pearson r"), "right")
    fig.add_tools(HoverTool(tooltips=[("row", "@row"), ("column", "@col"),
                                      ("r", "@r{0.000}")]))
    fig.xaxis.major_label_orientation = 0.7
    fig.grid.grid_line_color = None
    fig.axis.axis_line_color = None
    return fig


_BUILD: dict[str, Callable[[ChartData], object]] = {
    "line": _line,
    "compare_sheets": _line,
    "small_multiples": _line,
    "bar": _bar,
    "pie": _pie,
    "scatter": _scatter,
    "hist": _hist,
    "box": _box,
    "heatmap": _heatmap,
}
