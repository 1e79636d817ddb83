"""What one PNG chart leaves behind for the next: blank figures copied from a template, a shared
renderer, text layouts and glyph bitmaps kept. None of it may change a chart: a chart drawn
after others is the chart a fresh process draws, byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure

from rendition.charts import ChartSpec, render_png
from rendition.charts.agg_text import SharedRendererAgg
from tests.charts_fixtures import HOSTILE_CASES, KIND_CASES, frames_for, hostile_case

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((None, None), (480, 270))
# A: pie, scatter with its fit line, small multiples, heat map (constrained layout), bars with
# slanted labels; each drawn alone in a fresh process, then here after every other chart.
CHOSEN = [i for i, (_, body) in enumerate(KIND_CASES)
          if body["kind"] in ("pie", "small_multiples", "heatmap")
          or (body["kind"], body.get("x")) in (("scatter", "Area"), ("bar", None))][::2]
FRESH = """
import hashlib, json, sys
from rendition.charts import ChartSpec, render_png
from tests.charts_fixtures import KIND_CASES, frames_for
dataset, body = KIND_CASES[int(sys.argv[1])]
if body["kind"] == "scatter":
    body = {**body, "options": {**body.get("options", {}), "fit": True}}
spec = ChartSpec.from_dict(body)
print(json.dumps([hashlib.sha256(render_png(spec, frames_for(dataset), w, h)).hexdigest()
                  for w, h in json.loads(sys.argv[2])]))
"""


def _chosen(index: int) -> tuple[ChartSpec, dict]:
    dataset, body = KIND_CASES[index]
    if body["kind"] == "scatter":  # with its fit line
        body = {**body, "options": {**body.get("options", {}), "fit": True}}
    return ChartSpec.from_dict(body), frames_for(dataset)


def _every_other_chart():
    for dataset, body in KIND_CASES:
        yield ChartSpec.from_dict(body), frames_for(dataset)
    for body in HOSTILE_CASES:
        spec_body, frames = hostile_case(body)
        yield ChartSpec.from_dict(spec_body), frames


def test_the_cases_cover_the_kinds_that_differ_most():
    kinds = {KIND_CASES[i][1]["kind"] for i in CHOSEN}
    assert kinds == {"pie", "scatter", "small_multiples", "heatmap", "bar"}


def test_charts_drawn_after_others_are_the_charts_a_fresh_process_draws():
    """A (fresh process) == A, B, C…, A again (here), for each chosen A and both sizes."""
    fresh = [subprocess.Popen([sys.executable, "-c", FRESH, str(index), json.dumps(SIZES)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
             for index in CHOSEN]  # one process each, drawing at the same time as this one
    chosen = [_chosen(index) for index in CHOSEN]
    for spec, frames in chosen:
        for width, height in SIZES:
            render_png(spec, frames, width, height)
    for other, other_frames in _every_other_chart():
        for width, height in SIZES:
            render_png(other, other_frames, width, height)
    again = [[hashlib.sha256(render_png(spec, frames, w, h)).hexdigest() for w, h in SIZES]
             for spec, frames in chosen]
    outputs = [process.communicate(timeout=120)[0] for process in fresh]
    assert [process.returncode for process in fresh] == [0] * len(fresh)
    assert again == [json.loads(out) for out in outputs]


def _text_figure(canvas_class, renderer=None) -> np.ndarray:
    """Text as charts draw it and harder: rotated, slanted, tiny, huge, not antialiased."""
    fig = Figure(figsize=(3.3, 2.1), dpi=100, facecolor="white")
    canvas = canvas_class(fig)
    if renderer is not None:
        canvas.renderer, canvas._lastKey = renderer, (330, 210, 100)
    fig.text(0.013, 0.9, "Price by FurnishingStatus (count)", fontsize=13, weight="bold")
    fig.text(0.5, 0.5, "1,250k  −3.5  Ünïcödé ½", fontsize=9, rotation=35, ha="right",
             rotation_mode="anchor")
    fig.text(0.07, 0.1, "Price", fontsize=10, rotation=90)
    fig.text(0.6, 0.2, "tiny 0.0001", fontsize=4.5)
    fig.text(0.3, 0.3, "Wg", fontsize=40, color="#cc3311", alpha=0.6)
    fig.text(0.7, 0.8, "aliased", fontsize=9, antialiased=False)
    fig.text(0.2, 0.6, r"$x^2$ mathtext", fontsize=9)
    fig.text(0.5, 0.35, "two\nlines", fontsize=8, va="top", linespacing=1.6)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_the_shared_renderer_draws_text_exactly_as_agg_does_from_memory_too():
    """Also in another thread (matplotlib's font objects are made per thread; what is kept
    is kept by font file)."""
    plain = _text_figure(FigureCanvasAgg)
    shared = SharedRendererAgg(330, 210, 100)
    first = _text_figure(FigureCanvasAgg, shared)  # lays out and rasterises
    again = _text_figure(FigureCanvasAgg, shared)  # from the kept layouts and glyph bitmaps
    with ThreadPoolExecutor(1) as other:
        elsewhere = other.submit(_text_figure, FigureCanvasAgg, shared).result()
    assert isinstance(shared, RendererAgg)
    assert np.array_equal(first, plain)
    assert np.array_equal(again, plain)
    assert np.array_equal(elsewhere, plain)


def test_the_shared_renderer_measures_text_exactly_as_agg_does_from_memory_too():
    from matplotlib.font_manager import FontProperties

    plain, shared = RendererAgg(330, 210, 100), SharedRendererAgg(330, 210, 100)
    cases = [(text, FontProperties(size=size, weight=weight), False)
             for text in ("12.5M", "Price by FurnishingStatus", "−3.5 ½")
             for size in (7.5, 9, 13) for weight in ("normal", "bold")]
    cases.append((r"$x^2$", FontProperties(size=9), True))
    expected = [plain.get_text_width_height_descent(*case) for case in cases]
    assert [shared.get_text_width_height_descent(*case) for case in cases] == expected
    assert [shared.get_text_width_height_descent(*case) for case in cases] == expected
