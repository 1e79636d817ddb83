"""Blank figures with their axes, copied from a pickled template instead of built each time.

matplotlib builds an Axes slowly (~3 ms: two axis objects, spines, texts, each property checked
against rcParams) and each tick more slowly still (~0.6 ms: five artists), and a chart has one
to four axes of five to seventeen ticks: a third of a PNG's time. Unpickling the same objects
skips every constructor (~5× faster). Each chart gets its own copy of a figure nobody has drawn
on, so nothing one chart sets can reach the next; the templates are only read.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable

from matplotlib.figure import Figure

_KEPT = 12  # templates kept (sizes × layouts); ~40-350 KB each
_TEMPLATES: OrderedDict[tuple, bytes] = OrderedDict()  # the drawing thread's alone


def blank_figure(width: int, height: int, dpi: float, *, layout: str | None = None,
                 grid: tuple[int, int] = (1, 1), ticks: int = 0,
                 dress: Callable[[Figure], None] | None = None) -> Figure:
    """A white figure of width × height pixels holding rows × cols axes (x shared when more
    than one), in `fig.axes` row by row; each axis has `ticks` major ticks made already (more
    are made when drawn, as usual), then `dress` (the same for every chart: a style) applied.
    The same as building them anew, byte for byte."""
    key = (width, height, float(dpi), layout, grid, ticks, dress)
    blob = _TEMPLATES.pop(key, None)
    if blob is None:
        fig = _build(width, height, dpi, layout, grid, ticks)
        if dress is not None:
            dress(fig)
        blob = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
    _TEMPLATES[key] = blob  # the most recently used last
    while len(_TEMPLATES) > _KEPT:
        del _TEMPLATES[next(iter(_TEMPLATES))]
    return pickle.loads(blob)  # our own bytes, made above from nothing a user gave


def _build(width: int, height: int, dpi: float, layout: str | None, grid: tuple[int, int],
           ticks: int) -> Figure:
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white",
                 layout=layout)
    if layout == "constrained":
        fig.get_layout_engine().set(w_pad=0.1, h_pad=0.1)
    rows, cols = grid
    if rows * cols == 1:
        fig.add_subplot()
    else:
        fig.subplots(rows, cols, sharex=True, squeeze=False)
    for ax in fig.axes:
        ax.xaxis.get_major_ticks(ticks)
        ax.yaxis.get_major_ticks(ticks)
    return fig
