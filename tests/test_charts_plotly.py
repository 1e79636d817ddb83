"""Plotly renderer: figure JSON whose traces hold the sheet's cells, with user text escaped."""

from __future__ import annotations

import json
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest

from rendition.charts import ChartSpec, render_plotly
from tests.charts_fixtures import (
    DATA,
    HOSTILE,
    HOSTILE_CASES,
    KIND_CASES,
    case_id,
    frames_for,
    hostile_case,
    housing,
)

TRACE_TYPES = {
    "line": {"scatter"},
    "compare_sheets": {"scatter"},
    "small_multiples": {"scatter"},
    "bar": {"bar"},
    "pie": {"pie"},
    "scatter": {"scatter"},
    "hist": {"bar"},
    "box": {"box", "scatter"},
    "heatmap": {"heatmap"},
}


@cache
def sheet_from_openpyxl(book: str, sheet: str) -> dict[str, list]:
    """The sheet read here with openpyxl (not calamine, not the fixture's cleaning):
    {"quarters": [...], column: [values...]} for the rows whose column A is "YYYY:Qn"."""
    with pd.ExcelFile(DATA / f"{book}.xlsx", engine="openpyxl") as xls:
        name = next(n for n in xls.sheet_names if n.strip() == sheet)
        raw = pd.read_excel(xls, sheet_name=name, header=None)
    header = [str(v).strip() for v in raw.iloc[0]]
    rows = raw[raw[0].astype(str).str.fullmatch(r"\d{4}:Q[1-4]")]
    out: dict[str, list] = {"quarters": rows[0].tolist()}
    for i, col in enumerate(header[1:], start=1):
        numbers = pd.to_numeric(rows[i], errors="coerce")
        if numbers.notna().sum() == rows[i].notna().sum():  # a numeric column
            out[col] = [None if pd.isna(v) else float(v) for v in numbers]
    return out


def quarter_starts(quarters: list[str]) -> list[str]:
    month = {"1": "01", "2": "04", "3": "07", "4": "10"}
    return [f"{q[:4]}-{month[q[-1]]}-01" for q in quarters]


@pytest.mark.parametrize("case", KIND_CASES, ids=[case_id(c) for c in KIND_CASES])
def test_every_kind_renders_figure_json(case):
    dataset, body = case
    fig = render_plotly(ChartSpec.from_dict(body), frames_for(dataset))
    json.dumps(fig, allow_nan=False)
    assert fig["data"], "no traces"
    assert {t["type"] for t in fig["data"]} <= TRACE_TYPES[body["kind"]]
    assert fig["layout"]["width"] == 900 and fig["layout"]["height"] == 500
    assert fig["layout"]["title"]["text"]
    if body.get("options", {}).get("log_y"):
        assert fig["layout"]["yaxis"]["type"] == "log"


@pytest.mark.parametrize("book", ["2020Q1", "2011Q2"])
def test_compare_sheets_traces_equal_each_sheet_s_cells(book):
    countries = ["Australia", "Ireland", "US"]
    spec = ChartSpec.from_dict({"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                                "y": countries})
    fig = render_plotly(spec, frames_for(book))
    traces = {t["name"]: t for t in fig["data"]}
    assert sorted(traces) == sorted(f"{c} — {s}" for c in countries for s in ("HPI", "RHPI"))
    for country in countries:
        for sheet in ("HPI", "RHPI"):
            cells = sheet_from_openpyxl(book, sheet)
            trace = traces[f"{country} — {sheet}"]
            assert trace["y"] == cells[country]
            assert trace["x"] == quarter_starts(cells["quarters"])
    # the two sheets really differ: a mix-up would fail above
    assert traces["US — HPI"]["y"] != traces["US — RHPI"]["y"]
    assert fig["layout"]["xaxis"]["hoverformat"] == "%Y Q%q"


def test_line_with_a_period_range_holds_those_cells():
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "PDI", "y": ["Japan", "Spain"],
                                "options": {"start": "1999Q3", "end": "2003:Q2"}})
    fig = render_plotly(spec, frames_for("2020Q1"))
    cells = sheet_from_openpyxl("2020Q1", "PDI")
    i, j = cells["quarters"].index("1999:Q3"), cells["quarters"].index("2003:Q2") + 1
    for trace in fig["data"]:
        assert trace["y"] == cells[trace["name"]][i:j]
        assert trace["x"] == quarter_starts(cells["quarters"][i:j])


def test_pie_of_counts_holds_value_counts():
    spec = ChartSpec.from_dict({"kind": "pie", "sheet": "HousingPreferences",
                                "x": "FurnishingStatus"})
    (trace,) = render_plotly(spec, frames_for("housing"))["data"]
    counts = housing()["FurnishingStatus"].value_counts()
    assert dict(zip(trace["labels"], trace["values"], strict=True)) == counts.to_dict()


def test_scatter_holds_every_row_and_the_polyfit_line():
    spec = ChartSpec.from_dict({"kind": "scatter", "sheet": "HousingPreferences", "x": "Area",
                                "y": ["Price"]})
    traces = render_plotly(spec, frames_for("housing"))["data"]
    points = traces[0]
    assert points["x"] == housing()["Area"].astype(float).tolist()
    assert points["y"] == housing()["Price"].astype(float).tolist()
    fit = next(t for t in traces if t.get("name", "").startswith("OLS fit"))
    slope, intercept = np.polyfit(housing()["Area"], housing()["Price"], 1)
    np.testing.assert_allclose(fit["y"], intercept + slope * np.asarray(fit["x"]), rtol=1e-9)
    band = [t for t in traces if t.get("fill") == "tonexty"]
    assert len(band) == 1


def test_histogram_bars_hold_numpy_counts():
    spec = ChartSpec.from_dict({"kind": "hist", "sheet": "HousingPreferences", "y": ["Area"],
                                "options": {"bins": 25}})
    (trace,) = render_plotly(spec, frames_for("housing"))["data"]
    counts, edges = np.histogram(housing()["Area"], bins=25)
    assert trace["y"] == counts.tolist()
    np.testing.assert_allclose(trace["x"], (edges[:-1] + edges[1:]) / 2)


def test_small_multiples_put_each_column_in_its_own_panel():
    y = ["Australia", "Canada", "US", "UK", "Spain"]
    spec = ChartSpec.from_dict({"kind": "small_multiples", "sheet": "HPI", "y": y})
    fig = render_plotly(spec, frames_for("2020Q1"))
    axes = [(t["xaxis"], t["yaxis"]) for t in fig["data"]]
    assert len(set(axes)) == 5
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == y


HTMLISH = re.compile(r"<\s*(script|img|svg|iframe|a|b|br|span|sup|sub|i|em)\b", re.I)


def strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize("body", HOSTILE_CASES, ids=[b["kind"] for b in HOSTILE_CASES])
def test_hostile_names_are_escaped_everywhere(body):
    body, frames = hostile_case(body)
    fig = render_plotly(ChartSpec.from_dict(body), frames)
    assert not [s for s in strings(fig) if HTMLISH.search(s)]
    text = json.dumps(fig)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text or "&lt;/script&gt;" in text
    for trace in fig["data"]:
        assert "%{" not in trace.get("name", "")  # names never become templates
        assert "hovertemplate" not in trace or not HTMLISH.search(trace["hovertemplate"])


def test_escaping_decodes_back_to_the_exact_name():
    """Plotly decodes exactly &lt; &gt; &amp; back: the user sees the name as typed."""
    body, frames = hostile_case({"kind": "line", "y": [*HOSTILE]})
    fig = render_plotly(ChartSpec.from_dict(body), frames)
    entities = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
    shown = [re.sub(r"&(lt|gt|amp);", lambda m: entities[m.group(0)], t["name"])
             for t in fig["data"]]
    assert shown == list(HOSTILE)
