"""Blank figures with their axes, copied from a pickled template instead of built each time.

matplotlib builds an Axes slowly (~3 ms: two axis objects, spines, texts, each property checked
against rcParams) and each tick more slowly still (~0.6 ms: five artists), and a chart has one
to four axes of five to seventeen ticks: a third of a PNG's time. Unpickling the same objects
skips every constructor (~5× faster). Each chart gets its own copy of a figure nobody has drawn
on, so nothing one chart sets can reach the next; the templates are only read.

The copy itself (~2-3 ms) is made ahead: taking a figure queues a copy of the same template for
the next chart of its kind and size (the spare), which the drawing thread makes once the chart
it is drawing is done, while that chart is encoded and sent (rendition/charts/drawing.py).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable

from matplotlib.figure import Figure

from rendition.charts import drawing

_KEPT = 12  # templates kept (sizes × layouts); ~40-350 KB each
_TEMPLATES: OrderedDict[tuple, bytes] = OrderedDict()  # the drawing thread's alone
_SPARES: OrderedDict[tuple, Figure] = OrderedDict()  # one blank copy per recent template, ditto
_SPARES_KEPT = 4


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
    spare = _SPARES.pop(key, None)
    drawing.soon(_make_spare, key, blob)
    # our own bytes, made above from nothing a user gave
    return spare if spare is not None else pickle.loads(blob)


def _make_spare(key: tuple, blob: bytes) -> None:
    """Copy the template for the next chart like it (in the drawing thread, after the chart
    that asked)."""
    if key in _SPARES or _TEMPLATES.get(key) is not blob:
        return  # made meanwhile, or the template was dropped: nothing to make ahead
    _SPARES[key] = pickle.loads(blob)  # the collector stays on: this runs after the request
    while len(_SPARES) > _SPARES_KEPT:
        del _SPARES[next(iter(_SPARES))]


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
