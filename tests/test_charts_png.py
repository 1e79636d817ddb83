"""matplotlib renderer: valid PNGs of the asked size, SVG that parses, user text kept literal."""

from __future__ import annotations

import io
import itertools
import struct
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg

from rendition.charts import ChartSpec, render_png, render_svg
from tests.charts_fixtures import (
    HOSTILE_CASES,
    KIND_CASES,
    case_id,
    frames_for,
    hostile_case,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which must come first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def decoded(data: bytes) -> np.ndarray:
    return mpimg.imread(io.BytesIO(data), format="png")


@pytest.mark.parametrize("case", KIND_CASES, ids=[case_id(c) for c in KIND_CASES])
def test_png_is_a_valid_image_of_the_default_size(case):
    dataset, body = case
    png = render_png(ChartSpec.from_dict(body), frames_for(dataset))
    assert png_size(png) == (900, 500)
    pixels = decoded(png)
    assert pixels.shape[:2] == (500, 900)
    assert np.ptp(pixels[..., :3]) > 0.5  # something dark was drawn on the white page


@pytest.mark.parametrize(("width", "height", "dpi"), [(640, 360, 100), (1234, 567, 100),
                                                     (800, 450, 150), (333, 250, 72)])
def test_png_has_exactly_the_asked_size(width, height, dpi):
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "HPI", "y": ["Australia", "US"]})
    png = render_png(spec, frames_for("2020Q1"), width=width, height=height, dpi=dpi)
    assert png_size(png) == (width, height)


def test_png_size_from_the_spec_options():
    spec = ChartSpec.from_dict({"kind": "pie", "sheet": "HousingPreferences",
                                "x": "FurnishingStatus",
                                "options": {"width": 1200, "height": 700}})
    assert png_size(render_png(spec, frames_for("housing"))) == (1200, 700)


@pytest.mark.parametrize(
    "case",
    [c for c in KIND_CASES if c[0] != "2011Q2"],
    ids=[case_id(c) for c in KIND_CASES if c[0] != "2011Q2"],
)
def test_svg_parses_as_xml_of_the_asked_size(case):
    dataset, body = case
    svg = render_svg(ChartSpec.from_dict(body), frames_for(dataset), width=720, height=400)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 518.4 288"  # 720 x 400 px at 100 dpi, in points


@pytest.mark.parametrize("body", HOSTILE_CASES, ids=[b["kind"] for b in HOSTILE_CASES])
def test_hostile_names_render_and_stay_text(body):
    body, frames = hostile_case(body)
    spec = ChartSpec.from_dict(body)
    assert png_size(render_png(spec, frames)) == (900, 500)
    svg = render_svg(spec, frames)
    root = ET.fromstring(svg)  # still well-formed XML
    for element in root.iter():
        assert not element.tag.lower().endswith("script")
        assert not element.tag.lower().endswith("foreignobject")
        assert not [a for a in element.attrib if a.lower().startswith("on")]
    text = svg.decode().lower()
    assert "<script" not in text and "<img" not in text


def test_dollar_signs_do_not_start_mathtext():
    """'$x$' must be drawn as the three characters, not as math (which would parse or fail)."""
    frame = pd.DataFrame({"cost $ (a)": [1.0, 2.0, 3.0], "$\\frac{1}{0}$": [3.0, 1.0, 2.0],
                          "unbalanced $x": [2.0, 2.0, 1.0]})
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "$", "y": list(frame.columns),
                                "options": {"title": "$$ \\alpha $"}})
    assert png_size(render_png(spec, {"$": frame})) == (900, 500)


def test_svg_survives_double_dashes_in_names():
    """matplotlib writes text into XML comments, where "--" is not allowed raw."""
    frame = pd.DataFrame({"a -- b": [1.0, 2.0], "c --> d": [2.0, 1.0]})
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "s", "y": ["a -- b", "c --> d"]})
    ET.fromstring(render_svg(spec, {"s": frame}))


def test_legend_label_with_leading_underscore_is_kept():
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import build_figure

    frame = pd.DataFrame({"_a": [1.0, 2.0], "b": [2.0, 1.0]})
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "s", "y": ["_a", "b"]})
    fig = build_figure(prepare(spec, {"s": frame}), None, None, 100)
    legend = fig.axes[0].get_legend()
    assert [t.get_text().lstrip("\u200b") for t in legend.get_texts()] == ["_a", "b"]


def test_long_panel_titles_stay_within_their_panel():
    """Regression: in a 480-pixel thumbnail, 'All Houses (UK) Annual Change %' ran into the
    title of the panel beside it."""
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import build_figure

    names = ["All Houses (UK) Index", "All Houses (UK) Annual Change %",
             "Modern Houses (UK) Price £", "Older Houses (UK) Annual Change %"]
    frame = pd.DataFrame(np.arange(40.0).reshape(10, 4), columns=names,
                         index=pd.period_range("2000Q1", periods=10, freq="Q"))
    spec = ChartSpec.from_dict({"kind": "small_multiples", "sheet": "s", "y": names})
    fig = build_figure(prepare(spec, {"s": frame}), 480, 270, 100)
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    titled = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert len(titled) == 4
    for ax in titled:
        title = ax.title if ax.get_title() else ax._left_title
        right_edge = title.get_window_extent(renderer).x1
        column_end = 240 * (1 + int(ax.get_position().x0 * 2))  # two columns of 240 px
        assert right_edge <= column_end, ax.get_title(loc="left")


def test_a_thumbnail_keeps_its_plot_wide_and_its_year_labels_apart():
    """Regression: at 480 px a legend of long names took half the width, and ten year labels
    ran into each other."""
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import build_figure

    names = [f"{n:02d} Comunidad Autónoma de la Región {n}" for n in range(1, 6)]
    index = pd.period_range("2007Q1", periods=75, freq="Q")
    rising = np.linspace(100, 200, 75)
    frame = pd.DataFrame({n: rising[::-1] if i % 2 else rising for i, n in enumerate(names)},
                         index=index)  # crossing lines: no empty corner for the legend
    spec = ChartSpec.from_dict({"kind": "line", "sheet": "s", "y": names})
    fig = build_figure(prepare(spec, {"s": frame}), 480, 270, 100)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    assert ax.get_legend() is not None
    assert ax.get_legend().get_window_extent(renderer).width <= 0.3 * 480
    assert ax.get_window_extent(renderer).width >= 0.55 * 480
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert len(boxes) >= 3
    for left, right in itertools.pairwise(boxes):
        assert right.x0 - left.x1 >= 8  # a clear gap between neighbouring labels


def test_the_pie_legend_is_not_cut_at_the_right_edge():
    """Regression (issue 17): "yes  (2,336,151,790, 89.9%)" lost its end in a 640-pixel PNG."""
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import build_figure

    frame = pd.DataFrame({"Mainroad": ["no", "yes", "yes"],
                          "Price": [261_715_650.0, 1_336_151_790.0, 1_000_000_000.0]})
    spec = ChartSpec.from_dict({"kind": "pie", "sheet": "s", "x": "Mainroad", "y": ["Price"]})
    fig = build_figure(prepare(spec, {"s": frame}), 640, 400, 100)
    fig.canvas.draw()
    legend = (fig.legends or [ax.get_legend() for ax in fig.axes if ax.get_legend()])[0]
    assert legend.get_window_extent(fig.canvas.get_renderer()).x1 <= 640 - 4


def test_canvas_png_is_a_valid_png_of_exactly_the_canvas_pixels():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    from rendition.charts.png import canvas_png

    fig = Figure(figsize=(3.1, 1.7), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [2, 0, 1], color="#cc3311")
    ax.scatter([0.5, 1.5], [1, 1.5], alpha=0.5)
    fig.canvas.draw()
    image = Image.open(io.BytesIO(canvas_png(fig.canvas)))
    image.load()  # checks every chunk's CRC and the zlib stream
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (310, 170)
    expected = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]
    assert np.array_equal(np.asarray(image), expected)


@pytest.mark.parametrize("size", [(900, 500), (480, 270)])
@pytest.mark.parametrize("columns", [["Price", "Bedrooms", "Parking"], ["Price", "Area"]])
def test_small_multiples_keep_every_label_in_the_figure_and_off_other_panels(size, columns):
    """The panels are placed by measuring their tick labels, without constrained layout;
    regression: a panel's y ticks changed after it was resized and "12.5M" lost its "1"."""
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import build_figure

    frames = frames_for("housing")
    sheet = next(iter(frames))
    spec = ChartSpec.from_dict({"kind": "small_multiples", "sheet": sheet, "x": "Area",
                                "y": columns})
    fig = build_figure(prepare(spec, frames), *size, 100)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert fig.get_layout_engine() is None
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(columns)
    for ax in panels:
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        labels = [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]
        labels += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
        labels = [t for t in labels if t.get_visible() and t.get_text()]
        assert labels
        for label in labels:
            box = label.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= size[0] and 0 <= box.y0 and box.y1 <= size[1]
            for other in panels:
                if other is not ax:
                    assert not box.overlaps(other.get_window_extent(renderer)), label
        title = (ax.title if ax.get_title() else ax._left_title).get_window_extent(renderer)
        for other in panels:
            assert not title.overlaps(other.get_window_extent(renderer))


def test_a_shared_renderer_draws_the_same_bytes_from_many_threads(monkeypatch):
    """Charts of a common size share one renderer (its text measurements are kept); the pixels
    are copied under the lock, so threads drawing at once still get their own chart."""
    from concurrent.futures import ThreadPoolExecutor

    from rendition.charts import png, render_mpl

    cases = [(ChartSpec.from_dict(body), frames_for(dataset), size)
             for dataset, body in KIND_CASES[:4] for size in ((900, 500), (900, 500), (480, 270))]
    monkeypatch.setattr(png, "_SHARED_PIXELS", 0)  # a fresh renderer each time
    alone = [render_png(spec, frames, *size) for spec, frames, size in cases]
    monkeypatch.setattr(png, "_SHARED_PIXELS", 2_000_000)
    copy_rows = render_mpl.canvas_rows

    def slow_copy(canvas):  # room for another thread to draw over the pixels, were it let
        time.sleep(0.05)
        return copy_rows(canvas)

    monkeypatch.setattr(render_mpl, "canvas_rows", slow_copy)
    with ThreadPoolExecutor(4) as pool:
        shared = list(pool.map(lambda case: render_png(case[0], case[1], *case[2]), cases))
    assert shared == alone
    assert len(png._RENDERERS) <= png._SHARED_SIZES


@pytest.mark.parametrize("case", KIND_CASES[:9], ids=[case_id(c) for c in KIND_CASES[:9]])
def test_number_axes_make_only_the_ticks_they_draw_and_draw_the_same(case, monkeypatch):
    """InView drops the locations outside the view, for which matplotlib built Tick objects
    that it never drew (beyond those the blank figure holds already); the image is the same
    byte for byte."""
    from rendition.charts.mpl_layout import InView
    from rendition.charts.prepare import prepare
    from rendition.charts.render_mpl import _DRAW, build_figure

    dataset, body = case
    spec, frames = ChartSpec.from_dict(body), frames_for(dataset)
    made = _DRAW[spec.kind].ticks  # ticks per axis in the blank figure (mpl_figures)
    fig = build_figure(prepare(spec, frames), None, None, 100)
    fig.canvas.draw()
    wrapped = [axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
               if isinstance(axis.get_major_locator(), InView)]
    for axis in wrapped:
        assert len(axis.majorTicks) == max(len(axis.get_majorticklocs()), made)
        lo, hi = sorted(axis.get_view_interval())
        assert all(lo <= v <= hi for v in axis.get_majorticklocs())
    lean = render_png(spec, frames)
    monkeypatch.setattr(InView, "__call__", lambda self: self.inner())
    assert render_png(spec, frames) == lean


@pytest.mark.parametrize("render", [render_png, render_svg])
def test_the_collector_is_paused_while_drawing_and_restored_after_even_on_error(render,
                                                                                monkeypatch):
    import gc

    from rendition.charts import render_mpl

    dataset, body = KIND_CASES[0]
    spec, frames = ChartSpec.from_dict(body), frames_for(dataset)
    build = render_mpl.build_figure
    seen = []

    def watched_build(*args):
        seen.append(gc.isenabled())
        return build(*args)

    monkeypatch.setattr(render_mpl, "build_figure", watched_build)
    assert gc.isenabled()
    render(spec, frames)
    assert seen == [False] and gc.isenabled()

    def failing_build(*args):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(render_mpl, "build_figure", failing_build)
    with pytest.raises(RuntimeError, match="drawing failed"):
        render(spec, frames)
    assert gc.isenabled()
    gc.disable()  # someone else's choice is kept
    try:
        with pytest.raises(RuntimeError):
            render(spec, frames)
        assert not gc.isenabled()
    finally:
        gc.enable()
