"""Interactive equation plots: Plotly figure dicts and Bokeh items hold the right numbers.

Every curve is checked against numpy evaluating the equation solved for y (by hand, here), every
marked point against the exact solutions, and the HTTP contract: png stays image/png, svg is
an SVG, plotly/bokeh are JSON {"format", "figure"}, a bad format is a 400 with its message.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from matplotlib.image import imread

from analysis.equations.plotting import SAMPLES, plot_data
from rendition.equation_plot import COLORS, plot_lines
from rendition.equation_plot_interactive import render_plot_bokeh, render_plot_plotly
from solver import service
from tests.equations_fixtures import HOSTILE, hostile_ids, module_client, solver_pool

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BOOK = ["x^2-10*y+10", "10*x+5*y-3"]
BOOK_RANGE = (-25.0, 5.0)
R6 = math.sqrt(6)
# x^2 - 10y + 10 = 0 and 10x + 5y - 3 = 0: x = -10 ± 4√6, y = 103/5 ∓ 8√6
BOOK_SOLUTIONS = [(-10 - 4 * R6, 103 / 5 + 8 * R6), (-10 + 4 * R6, 103 / 5 - 8 * R6)]
BOOK_CURVES = [lambda x: (x**2 + 10) / 10, lambda x: (3 - 10 * x) / 5]  # solved for y by hand


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


@pytest.fixture(scope="module")
def client(sqlite_template, tmp_path_factory):
    yield from module_client(sqlite_template, tmp_path_factory, "equations-interactive")


def plot(client, equations, x_range, **extra):
    return client.post(
        "/api/v1/equations/plot", json={"equations": equations, "x_range": x_range, **extra}
    )


def as_array(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def segments(xs: np.ndarray, ys: np.ndarray):
    """The drawn pieces of a NaN-broken polyline: consecutive defined points."""
    defined = np.isfinite(xs) & np.isfinite(ys)
    return [(xs[i], ys[i], xs[i + 1], ys[i + 1]) for i in range(len(xs) - 1)
            if defined[i] and defined[i + 1]]


# -- Bokeh's JSON, read back here ---------------------------------------------------------------
def bokeh_objects(item: dict) -> list[dict]:
    """Every model in a json_item, in document order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "name" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(item["doc"])
    return found


def bokeh_value(node):
    """Bokeh's encoding of data: lists, {"type": "number", "value": "nan"}, maps."""
    if isinstance(node, dict) and node.get("type") == "number":
        return float(node["value"])
    if isinstance(node, dict) and node.get("type") == "map":
        return {key: bokeh_value(value) for key, value in node["entries"]}
    if isinstance(node, list):
        return [bokeh_value(v) for v in node]
    return node


def bokeh_sources(item: dict) -> list[dict]:
    return [bokeh_value(o["attributes"]["data"]) for o in bokeh_objects(item)
            if o["name"] == "ColumnDataSource"]


def bokeh_lines(item: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(colour, x, y) of each Line glyph, through its renderer's data source."""
    objects = {o["id"]: o for o in bokeh_objects(item)}
    found = []
    for o in objects.values():
        if o["name"] != "GlyphRenderer":
            continue
        glyph = objects[o["attributes"]["glyph"]["id"]]
        if glyph["name"] != "Line":
            continue
        source = bokeh_value(objects[o["attributes"]["data_source"]["id"]]["attributes"]["data"])
        colour = glyph["attributes"]["line_color"]
        found.append((colour, np.array(source["x"], float), np.array(source["y"], float)))
    return found


# -- the book's nonlinear system ----------------------------------------------------------------
def test_the_books_system_in_plotly():
    data = plot_data(BOOK, BOOK_RANGE)
    figure = render_plot_plotly(data)
    json.dumps(figure, allow_nan=False)
    go.Figure(figure)  # plotly's own schema accepts every property
    curves = [t for t in figure["data"] if t["mode"] == "lines"]
    assert [t["name"] for t in curves] == BOOK
    assert [t["line"]["color"] for t in curves] == list(COLORS[:2])  # the PNG's colours
    for trace, solved in zip(curves, BOOK_CURVES, strict=True):
        x, y = as_array(trace["x"]), as_array(trace["y"])
        assert len(x) == SAMPLES and not np.isnan(y).any()
        np.testing.assert_allclose(x, np.linspace(*BOOK_RANGE, SAMPLES), atol=1e-5)
        np.testing.assert_allclose(y, solved(x), atol=1e-4)
    (points,) = [t for t in figure["data"] if t["mode"] == "markers+text"]
    got = [value for point in zip(points["x"], points["y"], strict=True) for value in point]
    assert got == pytest.approx([value for point in BOOK_SOLUTIONS for value in point], rel=1e-12)
    assert points["text"] == [f"({x:.4g}, {y:.4g})" for x, y in BOOK_SOLUTIONS]
    layout = figure["layout"]
    assert layout["xaxis"]["range"] == list(BOOK_RANGE)
    assert layout["yaxis"]["range"] == list(data.y_range)
    assert layout["xaxis"]["zeroline"] and layout["yaxis"]["zeroline"]
    assert (layout["width"], layout["height"]) == (800, 500)


def test_the_books_system_in_bokeh():
    data = plot_data(BOOK, BOOK_RANGE)
    item = render_plot_bokeh(data)
    text = json.dumps(item, allow_nan=False)
    lines = bokeh_lines(item)
    assert [colour for colour, _, _ in lines] == list(COLORS[:2])
    for (_, x, y), solved in zip(lines, BOOK_CURVES, strict=True):
        assert len(x) == SAMPLES
        np.testing.assert_allclose(x, np.linspace(*BOOK_RANGE, SAMPLES), atol=1e-5)
        np.testing.assert_allclose(y, solved(x), atol=1e-4)
    (points,) = [s for s in bokeh_sources(item) if "label" in s]
    got = [value for point in zip(points["x"], points["y"], strict=True) for value in point]
    assert got == pytest.approx([value for point in BOOK_SOLUTIONS for value in point], rel=1e-12)
    assert points["label"] == [f"({x:.4g}, {y:.4g})" for x, y in BOOK_SOLUTIONS]
    legend = [o["attributes"]["label"]["value"] for o in bokeh_objects(item)
              if o["name"] == "LegendItem"]
    assert legend == BOOK
    ranges = [(o["attributes"]["start"], o["attributes"]["end"]) for o in bokeh_objects(item)
              if o["name"] == "Range1d"]
    assert ranges == [BOOK_RANGE, data.y_range]
    spans = sorted((o["attributes"].get("dimension", "width"), o["attributes"]["location"])
                   for o in bokeh_objects(item) if o["name"] == "Span")
    assert spans == [("height", 0), ("width", 0)]  # both zero axes: 0 is inside [-25, 5]
    # lines and points only, never a grid
    assert {len(s["x"]) for s in bokeh_sources(item)} == {SAMPLES, 2}
    assert len(text) < 60_000


def assert_defined_before_referenced(item: dict) -> None:
    """BokehJS reads a model's definition at its first appearance and refuses an id it has not
    met yet; sorted keys (Flask's jsonify, Jinja's tojson) break exactly this."""
    seen: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"id"}:
                assert node["id"] in seen, f"reference to {node['id']} before its definition"
                return
            if node.get("type") == "object" and "id" in node:
                seen.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(item["doc"])


def test_bokeh_items_define_each_model_before_referring_to_it(client):
    assert_defined_before_referenced(render_plot_bokeh(plot_data(BOOK, BOOK_RANGE)))
    response = plot(client, BOOK, list(BOOK_RANGE), format="bokeh")
    assert_defined_before_referenced(json.loads(response.get_data(as_text=True))["figure"])


# -- implicit curves and poles ------------------------------------------------------------------
def test_a_circle_is_drawn_on_the_circle():
    figure = render_plot_plotly(plot_data(["x^2 + y^2 = 25"], (-6.0, 6.0)))
    (trace,) = figure["data"]
    x, y = as_array(trace["x"]), as_array(trace["y"])
    defined = np.isfinite(x)
    assert defined.sum() > 100
    np.testing.assert_allclose(x[defined] ** 2 + y[defined] ** 2, 25, atol=1e-3)
    assert np.isnan(x).sum() == 1  # the upper and lower half, one break between them


def test_an_implicit_curve_is_its_zero_contour():
    data = plot_data(["x^4 + y^4 = 625"], (-7.0, 7.0))
    assert not data.curves and len(data.implicit) == 1  # drawn from the z-grid, not solved
    for figure in (render_plot_plotly(data), render_plot_bokeh(data)):
        if "data" in figure:
            (trace,) = figure["data"]
            x, y = as_array(trace["x"]), as_array(trace["y"])
        else:
            ((_, x, y),) = bokeh_lines(figure)
        defined = np.isfinite(x) & np.isfinite(y)
        assert defined.sum() > 200
        radius = (x[defined] ** 4 + y[defined] ** 4) ** 0.25  # 5 on the curve
        np.testing.assert_allclose(radius, 5, atol=2e-3)
        assert (x[0], y[0]) == (x[-1], y[-1])  # one closed loop
        # it goes all the way round: every direction from the centre is reached
        angles = np.sort(np.arctan2(y[defined], x[defined]))
        assert np.diff(angles).max() < 0.05


def test_a_curve_with_no_zero_in_view_is_still_in_the_legend():
    figure = render_plot_plotly(plot_data(["x^4 + y^4 = -1", "x"], (-2.0, 2.0)))
    first, second = figure["data"]
    assert first["name"] == "x^4 + y^4 = -1" and first["x"] == [] and first["y"] == []
    assert second["y"] == pytest.approx(second["x"])


def test_a_pole_breaks_the_line():
    # 0 is not one of the samples of [-5, 4]: the break comes from the jump, not from 1/0
    assert not np.isclose(np.linspace(-5, 4, SAMPLES), 0).any()
    data = plot_data(["1/x"], (-5.0, 4.0))
    (trace,) = render_plot_plotly(data)["data"]
    x, y = as_array(trace["x"]), as_array(trace["y"])
    ((_, bx, by),) = bokeh_lines(render_plot_bokeh(data))
    for xs, ys in ((x, y), (bx, by)):
        assert np.isnan(ys).any()
        assert not [s for s in segments(xs, ys) if s[0] < 0 < s[2]]  # no segment across 0
        defined = np.isfinite(ys)
        assert xs[defined].min() < -4.9 and xs[defined].max() > 3.9  # both branches drawn
        np.testing.assert_allclose(ys[defined], 1 / xs[defined], rtol=1e-4, atol=1e-5)


def test_plot_lines_are_small_rounded_and_json_safe():
    lines = plot_lines(plot_data(BOOK, BOOK_RANGE))
    text = json.dumps(lines, allow_nan=False)
    assert len(text) < 30_000
    x = lines["curves"][0]["x"]
    # a millionth of the x span (30): 5 decimals
    assert all(round(v, 5) == v for v in x) and x[1] == pytest.approx(-25 + 30 / 800, abs=1e-5)


def test_labels_are_escaped_for_plotly():
    figure = render_plot_plotly(
        {"x_range": [0, 1], "y_range": [0, 1], "points": [],
         "curves": [{"label": "<b>x</b> & y", "color": "#000000", "x": [0, 1], "y": [0, 1]}]}
    )
    assert figure["data"][0]["name"] == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_drawing_lines_needs_no_sympy(tmp_path):
    """The web server draws the worker's lines: Plotly and Bokeh, and never imports sympy."""
    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps(plot_lines(plot_data(BOOK, BOOK_RANGE))))
    code = (
        "import json, sys\n"
        "from rendition.equation_plot_interactive import render_plot_bokeh, render_plot_plotly\n"
        f"lines = json.load(open({str(lines)!r}))\n"
        "render_plot_plotly(lines)\n"
        "render_plot_bokeh(lines)\n"
        "assert 'sympy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


# -- through the solver's pool --------------------------------------------------------------------
def test_the_pool_answers_each_format(pool):
    expected = render_plot_plotly(plot_data(BOOK, BOOK_RANGE), 640, 400)
    assert service.plot_equations(BOOK, BOOK_RANGE, 640, 400, "plotly", pool=pool) == expected
    item = service.plot_equations(BOOK, BOOK_RANGE, 640, 400, "bokeh", pool=pool)
    assert [c for c, _, _ in bokeh_lines(item)] == list(COLORS[:2])
    svg = service.plot_equations(BOOK, BOOK_RANGE, 640, 400, "svg", pool=pool)
    assert b'width="480pt" height="300pt"' in svg  # 640 × 400 CSS pixels at 96 per inch
    png = service.plot_equations(BOOK, BOOK_RANGE, 640, 400, "png", pool=pool)
    assert png.startswith(PNG_SIGNATURE)


# -- HTTP ---------------------------------------------------------------------------------------
def test_png_is_unchanged(client):
    response = plot(client, BOOK, [-25, 5])
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(PNG_SIGNATURE)
    assert imread(io.BytesIO(response.data), format="png").shape[:2] == (500, 800)


def test_svg_is_an_svg(client):
    response = plot(client, BOOK, [-25, 5], format="svg", width=640, height=400)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and b'width="480pt" height="300pt"' in response.data


@pytest.mark.parametrize("chosen", ["plotly", "bokeh"])
def test_interactive_formats_are_json(client, chosen):
    response = plot(client, BOOK, [-25, 5], format=chosen, width=640, height=400)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert sorted(body) == ["figure", "format"] and body["format"] == chosen
    data = plot_data(BOOK, BOOK_RANGE)
    if chosen == "plotly":
        assert body["figure"] == render_plot_plotly(data, 640, 400)
    else:
        assert bokeh_sources(body["figure"]) == bokeh_sources(render_plot_bokeh(data, 640, 400))


def test_a_bad_format_is_a_400_with_the_choices(client):
    response = plot(client, BOOK, [-25, 5], format="jpeg")
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {
            "status": 400,
            "code": "bad_format",
            "message": "Unknown plot format 'jpeg'. Choose one of png, svg, plotly, bokeh.",
        }
    }
    assert plot(client, BOOK, [-25, 5], format="plotly").status_code == 200


@pytest.mark.parametrize(("text", "status", "message"), HOSTILE, ids=hostile_ids())
def test_hostile_input_is_refused_as_for_png(client, text, status, message):
    png = plot(client, [text], [-1, 1])
    interactive = plot(client, [text], [-1, 1], format="plotly")
    assert 400 <= png.status_code < 500
    assert interactive.status_code == png.status_code
    assert interactive.get_json() == png.get_json()


def test_the_openapi_document_describes_both_answers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/equations/plot"]["post"]
    content = operation["responses"]["200"]["content"]
    assert sorted(content) == ["application/json", "image/png", "image/svg+xml"]
    assert content["application/json"]["schema"]["properties"]["format"]["enum"] == [
        "plotly", "bokeh"]
    schema = spec["components"]["schemas"]["PlotIn"]["properties"]["format"]
    assert schema["enum"] == ["png", "svg", "plotly", "bokeh"] and schema["default"] == "png"


# -- the page -----------------------------------------------------------------------------------
PAGE_PLOT = {"action": "plot", "equations": "x^2-10y+10\n10x+5y-3", "x_min": "-25", "x_max": "5"}


@pytest.mark.parametrize("renderer", ["plotly", "bokeh"])
def test_the_page_embeds_the_figure_and_its_library(client, renderer):
    response = client.post("/equations", data={**PAGE_PLOT, "renderer": renderer})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    library = "plotly-" if renderer == "plotly" else "bokeh-"
    assert f'src="/assets/js/{library}' in page
    assert f'data-renderer="{renderer}"' in page and "data-figure=" in page
    assert f'id="renderer-{renderer}" value="{renderer}" checked' in page
    history = client.get("/equations").get_data(as_text=True)
    assert f"renderer={renderer}" in history


def test_the_page_refuses_an_unknown_renderer(client):
    response = client.post("/equations", data={**PAGE_PLOT, "renderer": "gif"})
    assert response.status_code == 400
    assert "Unknown renderer &#39;gif&#39;. Choose one of png, plotly, bokeh." in response.get_data(
        as_text=True
    )


def test_the_page_png_plot_loads_no_chart_library(client):
    response = client.post("/equations", data={**PAGE_PLOT, "renderer": "png"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "data:image/png;base64," in page
    assert "/assets/js/" not in page
