"""PNG bytes of a drawn Agg canvas, written directly: the last step of every small chart.

Charts are flat colour on white, which zlib at level 1 compresses about as well without PNG's
row filters as with them (files within 7% of PIL's either way: pie and scatter smaller, a line
larger); skipping the per-row filter choice PIL makes takes a third off the encoding time
(~6.3 -> 4.3 ms for a 900 × 500 pie). The page is opaque white, so the image is RGB.
Charts of a common size also draw on one shared renderer (`share_renderer`), which keeps text
layouts and glyph bitmaps (`agg_text`).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from rendition.charts.agg_text import SharedRendererAgg

LEVEL = 1  # zlib level: 6 costs several ms more per chart for ~10-20% smaller files
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHARED_SIZES = 4  # renderers kept (one image buffer each) ...
_SHARED_PIXELS = 2_000_000  # ... for images up to this size
_RENDERERS: dict[tuple[int, int, float], SharedRendererAgg] = {}  # the drawing thread's alone


def canvas_png(canvas) -> bytes:
    """The canvas (already drawn) as an 8-bit RGB PNG."""
    return rows_png(canvas_rows(canvas))


def canvas_rows(canvas) -> np.ndarray:
    """A copy of the canvas's pixels as PNG rows (filter byte, then RGB): taken while the
    renderer is ours, encoded by `rows_png` after."""
    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    # Pillow (matplotlib's own dependency) drops the alpha bytes twice as fast as numpy's
    # strided copy (~0.7 vs ~1.5 ms for 900 × 500)
    rgb = np.asarray(Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
                     .convert("RGB"))
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row starts with its filter type: 0, none
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    return rows


def rows_png(rows: np.ndarray) -> bytes:
    height, width = rows.shape[0], (rows.shape[1] - 1) // 3
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header),
                     _chunk(b"IDAT", zlib.compress(rows, LEVEL)), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


def share_renderer(canvas: FigureCanvasAgg) -> None:
    """Draw on one renderer per common image size (in the drawing thread: drawing.py).

    matplotlib keeps text measurements per renderer, and a canvas makes a new renderer, so
    every chart measured its tick and legend labels afresh (~2-3 ms of a 26-50 ms chart).
    """
    width, height = canvas.get_width_height(physical=True)
    if width * height > _SHARED_PIXELS:
        return
    key = (width, height, canvas.figure.dpi)
    renderer = (_RENDERERS.pop(key, None)
                or SharedRendererAgg(width, height, canvas.figure.dpi))
    _RENDERERS[key] = renderer  # the most recently used last
    while len(_RENDERERS) > _SHARED_SIZES:
        del _RENDERERS[next(iter(_RENDERERS))]
    canvas.renderer, canvas._lastKey = renderer, key  # what canvas.get_renderer() reuses
