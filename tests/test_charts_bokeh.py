"""Bokeh renderer: json_item documents with the right glyphs and data, and user text kept text."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections import Counter

import bokeh
import numpy as np
import pytest

from rendition.charts import ChartSpec, render_bokeh
from tests.charts_fixtures import (
    HOSTILE,
    HOSTILE_CASES,
    KIND_CASES,
    case_id,
    frames_for,
    hostile_case,
)


def models(node, found=None) -> list[dict]:
    """Every serialized model ({"type": "object", "name", "attributes"}) in the document."""
    found = [] if found is None else found
    if isinstance(node, dict):
        if node.get("type") == "object" and "name" in node:
            found.append(node)
        for value in node.values():
            models(value, found)
    elif isinstance(node, list):
        for value in node:
            models(value, found)
    return found


def glyphs(item: dict) -> Counter:
    """Glyph types of the document's GlyphRenderers (their main glyph only)."""
    renderers = [m for m in models(item["doc"]) if m["name"] == "GlyphRenderer"]
    return Counter(m["attributes"]["glyph"]["name"] for m in renderers)


def decode(column) -> list:
    """A ColumnDataSource column: a plain list or a base64 ndarray."""
    if isinstance(column, dict) and column.get("type") == "ndarray":
        raw = base64.b64decode(column["array"]["data"])
        if raw[:2] == b"\x1f\x8b":  # Bokeh gzips larger buffers
            raw = gzip.decompress(raw)
        return np.frombuffer(raw, dtype=column["dtype"]).tolist()
    return column


def sources(item: dict) -> list[dict]:
    out = []
    for m in models(item["doc"]):
        if m["name"] == "ColumnDataSource":
            entries = m["attributes"]["data"]["entries"]
            out.append({key: decode(value) for key, value in entries})
    return out


def expected_glyphs(body: dict) -> Counter:
    kind, y = body["kind"], body.get("y", [])
    if kind in ("line", "small_multiples"):
        return Counter({"Line": len(y)})
    if kind == "compare_sheets":
        return Counter({"Line": len(y) * (1 + len(body["sheets"]))})
    if kind == "bar":
        return Counter({"VBar": max(1, len(y))})
    if kind == "pie":
        return Counter({"Wedge": 1})
    if kind == "scatter":
        return Counter({"Scatter": len(y), "VArea": len(y), "Line": len(y)})
    if kind == "hist":
        return Counter({"Quad": len(y)})
    if kind == "box":
        return Counter({"VBar": len(y) if body.get("group") else 1})
    return Counter({"Rect": 1})  # heatmap


@pytest.mark.parametrize("case", KIND_CASES, ids=[case_id(c) for c in KIND_CASES])
def test_every_kind_renders_a_document_with_the_right_glyphs(case):
    dataset, body = case
    item = render_bokeh(ChartSpec.from_dict(body), frames_for(dataset))
    json.dumps(item, allow_nan=False)  # JSON-safe as returned
    assert item["doc"]["version"] == bokeh.__version__
    assert item["root_id"] == item["doc"]["roots"][0]["id"]
    found = glyphs(item)
    for name, count in expected_glyphs(body).items():
        assert found[name] == count, (name, found)
    if body["kind"] == "small_multiples":
        names = Counter(m["name"] for m in models(item["doc"]))
        assert item["doc"]["roots"][0]["name"] == "GridPlot"
        assert names["Figure"] == len(body["y"])


@pytest.mark.parametrize("book", ["2020Q1", "2011Q2"])
def test_compare_sheets_draws_each_sheet_s_own_column(book):
    frames = frames_for(book)
    spec = ChartSpec.from_dict({"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                                "y": ["Australia", "Ireland"]})
    item = render_bokeh(spec, frames)
    lines = {s["label"][0]: s["y"] for s in sources(item) if "label" in s}
    assert set(lines) == {"Australia — HPI", "Australia — RHPI", "Ireland — HPI",
                          "Ireland — RHPI"}
    for label, y in lines.items():
        column, sheet = label.split(" — ")
        np.testing.assert_array_equal(y, frames[sheet][column].to_numpy(float))


def test_quarters_are_shown_as_dates_with_quarter_hover_text():
    item = render_bokeh(ChartSpec.from_dict({"kind": "line", "sheet": "HPI", "y": ["US"]}),
                        frames_for("2020Q1"))
    (source,) = [s for s in sources(item) if "when" in s]
    assert source["when"][:2] == ["1975Q1", "1975Q2"] and source["when"][-1] == "2020Q1"
    first_ms = np.datetime64("1975-01-01", "ms").astype("int64")
    assert source["x"][0] == first_ms  # Bokeh datetimes: ms since the epoch
    assert any(m["name"] == "DatetimeAxis" for m in models(item["doc"]))


# Where user text may appear: fields Bokeh draws as text, never parses as HTML or TeX.
TEXT_ONLY = {
    ("PlainText", "text"),
    ("LegendItem", "label"),
    ("ColumnDataSource", "data"),
    ("FactorRange", "factors"),
    ("HoverTool", "tooltips"),  # labels only (DOM text); the templates are checked below
}


def hostile_paths(node, where=("document", ""), out=None) -> list[tuple[str, str]]:
    """(model name, attribute) of every string that contains a hostile fragment."""
    out = [] if out is None else out
    if isinstance(node, dict):
        if node.get("type") == "object" and "name" in node:
            for key, value in node.get("attributes", {}).items():
                hostile_paths(value, (node["name"], key), out)
            return out
        for value in node.values():
            hostile_paths(value, where, out)
    elif isinstance(node, list):
        for value in node:
            hostile_paths(value, where, out)
    elif isinstance(node, str) and ("<img" in node or "<script" in node):
        out.append(where)
    return out


@pytest.mark.parametrize("body", HOSTILE_CASES, ids=[b["kind"] for b in HOSTILE_CASES])
def test_hostile_names_only_reach_text_fields(body):
    body, frames = hostile_case(body)
    item = render_bokeh(ChartSpec.from_dict(body), frames)
    found = hostile_paths(item["doc"])
    assert found, "the hostile names should be shown somewhere"
    assert set(found) <= TEXT_ONLY, set(found) - TEXT_ONLY
    names = {m["name"] for m in models(item["doc"])}
    assert not names & {"Div", "Paragraph", "PreText", "HTML", "TeX", "MathML"}
    for tool in (m for m in models(item["doc"]) if m["name"] == "HoverTool"):
        tooltips = tool["attributes"]["tooltips"]
        assert isinstance(tooltips, list)  # the list form: labels are DOM text
        for _label, template in tooltips:  # templates are HTML: only our own column names
            assert template.startswith("@") and "<" not in template and "{safe}" not in template
    titles = [m for m in models(item["doc"]) if m["name"] == "Title"]
    assert titles and all(t["attributes"]["text"]["name"] == "PlainText" for t in titles)
    if body["kind"] == "line":  # the hostile title is shown, verbatim
        assert any(HOSTILE[0] == t["attributes"]["text"]["attributes"]["text"] for t in titles)


@pytest.mark.parametrize("case", KIND_CASES + [(None, body) for body in HOSTILE_CASES],
                         ids=[case_id(c) for c in KIND_CASES] + [
                             f"hostile-{b['kind']}" for b in HOSTILE_CASES])
def test_every_document_passes_bokehs_validation(case):
    """render_bokeh turns Bokeh's per-request validation off; the same checks run here."""
    import importlib

    from bokeh.core.validation import check_integrity
    from bokeh.document import Document

    from rendition.charts.downsample import reduce_for_interactive
    from rendition.charts.prepare import prepare

    dataset, body = case
    if dataset is None:
        body, frames = hostile_case(body)
    else:
        frames = frames_for(dataset)
    data = reduce_for_interactive(prepare(ChartSpec.from_dict(body), frames))
    document = Document()
    module = importlib.import_module("rendition.charts.render_bokeh")  # not the function
    document.add_root(module._BUILD[data.kind](data))
    issues = check_integrity(document.models)
    assert issues.error == [] and issues.warning == []


def _numbered_ids(item: dict) -> str:
    """The document as JSON with Bokeh's ids ("p1234", counted per process) numbered by first
    appearance, so two renderings of one chart compare equal."""
    text = json.dumps(item, sort_keys=True)
    seen: dict[str, str] = {}
    return re.sub(r'"p\d+"', lambda m: seen.setdefault(m.group(0), f'"id{len(seen)}"'), text)


@pytest.fixture
def bokehs_own():
    """Switch to Bokeh's own default handling for the rest of a test, and back after it."""
    from rendition.charts import bokeh_defaults

    yield bokeh_defaults.use_bokehs_own
    bokeh_defaults.use_quick_defaults()


@pytest.mark.parametrize("case", KIND_CASES + [(None, body) for body in HOSTILE_CASES],
                         ids=[case_id(c) for c in KIND_CASES] + [
                             f"hostile-{b['kind']}" for b in HOSTILE_CASES])
def test_documents_are_bokehs_own_without_its_repeated_work(case, bokehs_own):
    """bokeh_defaults skips work Bokeh repeats on defaults: the same JSON."""
    dataset, body = case
    if dataset is None:
        body, frames = hostile_case(body)
    else:
        frames = frames_for(dataset)
    spec = ChartSpec.from_dict(body)
    ours = _numbered_ids(render_bokeh(spec, frames))
    bokehs_own()
    assert ours == _numbered_ids(render_bokeh(spec, frames))


def test_a_themed_document_is_bokehs_own_too(bokehs_own):
    """Our charts have no theme; a theme's values still count as set (and only they)."""
    from bokeh.embed import json_item
    from bokeh.plotting import figure
    from bokeh.themes import Theme

    theme = Theme(json={"attrs": {"Plot": {"background_fill_color": "#f4f4f4"},
                                  "Axis": {"major_label_text_font_size": "7pt"},
                                  "Title": {"text_color": "#663399"}}})

    def themed() -> str:
        fig = figure(title="themed", width=300, height=200)
        fig.line([1, 2, 3], [3, 1, 2])
        return _numbered_ids(json_item(fig, theme=theme))

    ours = themed()
    assert "#f4f4f4" in ours and "7pt" in ours and "#663399" in ours
    bokehs_own()
    assert ours == themed()


def test_overridden_defaults_merged_once_are_bokehs_for_every_model():
    from bokeh.model import Model

    from rendition.charts import bokeh_defaults

    for cls in Model.model_class_reverse_map.values():
        assert cls._overridden_defaults() == bokeh_defaults.BOKEH_OVERRIDDEN.__func__(cls)


def test_a_model_missing_a_required_property_is_still_refused():
    """What Bokeh computes every default for: a callback without its code is no document
    (nothing but the serialiser looks at it)."""
    from bokeh.core.property.descriptors import UnsetValueError
    from bokeh.embed import json_item
    from bokeh.models import CustomJS
    from bokeh.plotting import figure

    from rendition.charts.bokeh_defaults import without_default

    assert "code" in without_default(CustomJS)
    fig = figure()
    fig.js_on_event("tap", CustomJS())
    with pytest.raises(UnsetValueError, match="code"):
        json_item(fig)


def test_bokehs_internals_are_replaced_only_on_the_releases_they_were_checked_against(
        bokehs_own):
    import bokeh
    from bokeh.core.has_props import HasProps

    from rendition.charts import bokeh_defaults

    assert bokeh.__version__.startswith(bokeh_defaults.TESTED_BOKEH)  # recheck on an upgrade
    assert HasProps.themed_values is not bokeh_defaults.BOKEH_THEMED  # in use here
    bokehs_own()
    assert bokeh_defaults.use_quick_defaults("3.10.0") is False
    assert HasProps.themed_values is bokeh_defaults.BOKEH_THEMED  # Bokeh's own kept
