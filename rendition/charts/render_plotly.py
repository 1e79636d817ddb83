"""ChartSpec -> Plotly figure JSON (a dict), for `Plotly.newPlot(div, fig.data, fig.layout)`.

Plotly reads a subset of HTML and entities in names, titles, axis labels, category labels and
annotations, so every user string goes through `plotly_text` (&, <, > as entities, which
Plotly shows literally). No hovertemplate contains user text. Data are plain JSON lists (NaN ->
null), not base64 typed arrays, so the API's JSON is readable by any client. Long series are
reduced first (`downsample`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from bokeh.palettes import RdBu11
from plotly.subplots import make_subplots

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
from rendition.charts.text import plotly_text as esc

DASHES = ("solid", "dash", "dot", "dashdot")
NUMBER = ",.4~g"
# d3-time-format: Plotly supports %q (quarter) in hover formats.
HOVER_DATES = {"Q": "%Y Q%q", "M": "%b %Y", "Y": "%Y", "A": "%Y"}
DIVERGING = [[i / 10, c] for i, c in enumerate(RdBu11)]  # blue (-1) .. red (+1), like the PNG


def render_plotly(spec: ChartSpec, frames: Mapping[str, pd.DataFrame]) -> dict:
    """The figure as a JSON-safe dict {"data": [...], "layout": {...}}."""
    data = reduce_for_interactive(prepare(spec, frames))
    fig = _BUILD[data.kind](data)
    return json.loads(fig.to_json())


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, "float64")]


def _xs(x: np.ndarray) -> list:
    if x.dtype.kind == "M":
        return list(np.datetime_as_string(x.astype("datetime64[ns]"), unit="D"))
    return _floats(x)


def _layout(fig: go.Figure, data: ChartData, **kw) -> go.Figure:
    title = {"text": esc(data.title), "x": 0.01, "xanchor": "left", "font": {"size": 17}}
    if data.notes:
        title["subtitle"] = {"text": esc("; ".join(data.notes)), "font": {"size": 11}}
    fig.update_layout(
        template="plotly_white", width=data.width, height=data.height, title=title,
        margin={"l": 60, "r": 20, "t": 80 if data.notes else 60, "b": 50},
        legend={"font": {"size": 11}}, **kw,
    )
    if data.x_label:
        fig.update_xaxes(title_text=esc(data.x_label))
    if data.y_label:
        fig.update_yaxes(title_text=esc(data.y_label))
    fig.update_yaxes(type="log" if data.log_y else "linear", hoverformat=NUMBER)
    return fig


def _line_traces(series, body: LineData) -> list[go.Scatter]:
    return [
        go.Scatter(x=_xs(s.x), y=_floats(s.y), mode="lines", name=esc(s.label),
                   line={"color": color(s.color), "dash": DASHES[s.dash], "width": 2})
        for s in series
    ]


def _time_axes(fig: go.Figure, body: LineData) -> None:
    if body.x_kind == "time":
        fmt = HOVER_DATES.get((body.freq or "")[:1], "%Y-%m-%d")
        fig.update_xaxes(type="date", hoverformat=fmt)


def _line(data: ChartData) -> go.Figure:
    body: LineData = data.body  # type: ignore[assignment]
    if body.panels:
        return _panels(data, body)
    fig = go.Figure(_line_traces(body.series, body))
    _layout(fig, data, hovermode="x unified")
    _time_axes(fig, body)
    return fig


def _panels(data: ChartData, body: LineData) -> go.Figure:
    n, cols = len(body.panels), body.cols
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True,
                        subplot_titles=[esc(p) for p in body.panels],
                        vertical_spacing=min(0.12, 0.4 / rows), horizontal_spacing=0.06)
    for i in range(n):
        for trace in _line_traces([s for s in body.series if s.panel == i], body):
            fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
    _layout(fig, data, showlegend=False, hovermode="x")
    fig.update_annotations(font_size=12)
    _time_axes(fig, body)
    return fig


def _bar(data: ChartData) -> go.Figure:
    body: BarData = data.body  # type: ignore[assignment]
    cats = [esc(c) for c in body.categories]
    fig = go.Figure([
        go.Bar(x=cats, y=_floats(values), name=esc(label), marker_color=color(j))
        for j, (label, values) in enumerate(body.series)
    ])
    _layout(fig, data, barmode="group", showlegend=len(body.series) > 1)
    fig.update_xaxes(type="category")
    return fig


def _pie(data: ChartData) -> go.Figure:
    body: PieData = data.body  # type: ignore[assignment]
    fig = go.Figure(go.Pie(
        labels=[esc(lb) for lb in body.labels], values=_floats(body.values), sort=False,
        direction="clockwise", rotation=0,
        marker={"colors": [color(i) for i in range(len(body.labels))],
                "line": {"color": "white", "width": 1.5}},
        textinfo="percent" if len(body.labels) <= 12 else "none",
    ))
    return _layout(fig, data)


def _scatter(data: ChartData) -> go.Figure:
    body: ScatterData = data.body  # type: ignore[assignment]
    total = sum(s.n for s in body.points)
    size, alpha = (7, 0.6) if total <= 2_000 else (4, 0.35)
    several = len(body.points) > 1
    traces: list = []
    for s, fit in zip(body.points, body.fits, strict=True):
        traces.append(go.Scatter(x=_floats(s.x), y=_floats(s.y), mode="markers",
                                 name=esc(s.label), marker={"color": color(s.color),
                                                            "size": size, "opacity": alpha}))
        if fit is None:
            continue
        prefix = f"{s.label}: " if several else ""
        if fit.lower is not None:
            traces.append(go.Scatter(x=_floats(fit.grid), y=_floats(fit.upper), mode="lines",
                                     line={"width": 0}, showlegend=False, hoverinfo="skip"))
            traces.append(go.Scatter(x=_floats(fit.grid), y=_floats(fit.lower), mode="lines",
                                     line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(color(s.color), 0.2),
                                     name=esc(f"{prefix}95% CI of the mean"), hoverinfo="skip"))
        traces.append(go.Scatter(x=_floats(fit.grid), y=_floats(fit.fitted), mode="lines",
                                 line={"color": color(s.color), "width": 2.5},
                                 name=esc(f"{prefix}OLS fit (R² = {fit.r2:.3f})")))
    fig = go.Figure(traces)
    _layout(fig, data, hovermode="closest")
    fig.update_xaxes(hoverformat=NUMBER)
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _hist(data: ChartData) -> go.Figure:
    body: HistData = data.body  # type: ignore[assignment]
    centres = (body.edges[:-1] + body.edges[1:]) / 2
    widths = np.diff(body.edges)
    single = len(body.counts) == 1
    fig = go.Figure([
        go.Bar(x=_floats(centres), y=[int(c) for c in counts], width=_floats(widths),
               name=esc(label), marker={"color": color(j), "line": {"color": "white",
                                                                    "width": 0.5}},
               opacity=0.9 if single else 0.5)
        for j, (label, counts) in enumerate(body.counts)
    ])
    _layout(fig, data, barmode="overlay", bargap=0, showlegend=not single)
    fig.update_xaxes(hoverformat=NUMBER)
    return fig


def _box(data: ChartData) -> go.Figure:
    body: BoxData = data.body  # type: ignore[assignment]
    grouped = body.group is not None
    traces: list = []
    for j, name in enumerate(body.series if grouped else [None]):
        boxes = [b for b in body.boxes if not grouped or b.series == name]
        label = name if grouped else "values"
        tint = color(j)
        traces.append(go.Box(
            x=[esc(b.category) for b in boxes], q1=[b.q1 for b in boxes],
            median=[b.median for b in boxes], q3=[b.q3 for b in boxes],
            lowerfence=[b.whisker_low for b in boxes], upperfence=[b.whisker_high for b in boxes],
            mean=[b.mean for b in boxes], boxpoints=False, name=esc(label),
            marker_color=tint, offsetgroup=str(j), showlegend=grouped,
        ))
        out_x = [esc(b.category) for b in boxes for _ in b.outliers]
        if out_x:
            out_y = np.concatenate([b.outliers for b in boxes])
            traces.append(go.Scatter(
                x=out_x, y=_floats(out_y), mode="markers", offsetgroup=str(j),
                marker={"color": tint, "size": 4, "opacity": 0.6}, showlegend=False,
                name=esc(f"{label} outliers"),
            ))
    fig = go.Figure(traces)
    _layout(fig, data, boxmode="group", scattermode="group")
    fig.update_xaxes(type="category")
    return fig


def _heatmap(data: ChartData) -> go.Figure:
    body: HeatmapData = data.body  # type: ignore[assignment]
    labels = [esc(lb) for lb in body.labels]
    z = [_floats(row) for row in body.matrix]
    small = len(labels) <= 12
    fig = go.Figure(go.Heatmap(
        z=z, x=labels, y=labels, zmin=-1, zmax=1, colorscale=DIVERGING,
        colorbar={"title": {"text": "Pearson r"}}, xgap=1, ygap=1,
        texttemplate="%{z:.2f}" if small else None, hoverongaps=False,
    ))
    _layout(fig, data)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickangle=-40)
    return fig


_BUILD: dict[str, Callable[[ChartData], go.Figure]] = {
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
