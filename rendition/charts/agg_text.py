"""An Agg renderer that shapes and rasterises each string once: the renderer our charts share.

matplotlib 3.11 lays out every string it draws with HarfBuzz (`FT2Font._layout`, ~0.15 ms) and
renders each glyph with FreeType (~30 µs), again on every draw, though a layout depends only on
the string, the font files and the size, and a glyph's bitmap only on the glyph, its size,
rotation and where it falls within a pixel (1/64 steps): a whole-pixel move moves the same
bitmap. Charts repeat their strings (tick labels, titles, legends, the same chart redrawn while
it is built), so the shared renderer keeps both and draws exactly the pixels Agg would. It also
keeps string measurements and the font heights matplotlib's Text reads from the font's tables
for every text it places.

Kept by font properties (glyphs by font file), not by matplotlib's font objects, which are made
per thread: a threaded server answers each request from another thread.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import RenderMode

LAYOUTS_KEPT = 4096  # strings (a few hundred bytes each), and as many measurements
GLYPHS_KEPT = 20_000  # glyph bitmaps (~300 bytes each, with their key)
HEIGHTS_KEPT = 256  # fonts × sizes
# Shared by every SharedRendererAgg (the keys name the pixel size); used, like the renderers,
# by the drawing thread alone (rendition/charts/drawing.py).
_LAYOUTS: OrderedDict[tuple, tuple] = OrderedDict()
_GLYPHS: OrderedDict[tuple, tuple] = OrderedDict()
_EXTENTS: OrderedDict[tuple, tuple] = OrderedDict()  # (width, height, descent) of strings
_HEIGHTS: dict[tuple, tuple] = {}  # font files, size, dpi -> ascent, descent, line gap


class SharedRendererAgg(RendererAgg):
    """RendererAgg drawing plain text from the kept layouts and glyph bitmaps; mathtext (never
    made from user text: `mpl_text` escapes "$") is drawn by RendererAgg itself."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        size = prop.get_size_in_points()
        style = (size, self.dpi, get_hinting_flag(), mpl.rcParams["text.hinting_factor"])
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        key = (_font(prop), s, style, features, language)
        glyphs = _LAYOUTS.pop(key, None)
        if glyphs is None:
            font = self._prepare_font(prop)  # what RendererAgg.draw_text lays out with
            glyphs = tuple((item.ft_object.fname, item.glyph_index, item.x, item.y)
                           for item in font._layout(s, flags=style[2], features=features,
                                                    language=language))
        _LAYOUTS[key] = glyphs  # the most recently used last
        if len(_LAYOUTS) > LAYOUTS_KEPT:
            del _LAYOUTS[next(iter(_LAYOUTS))]
        self._draw_glyphs(gc, x, y, angle, style, glyphs)
        return None

    def get_text_width_height_descent(self, s, prop, ismath):
        """RendererAgg's measurement (its own layout of the string, ~0.15 ms), kept: our
        layout code measures tick labels directly, without Text's cache."""
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (_font(prop), s, prop.get_size_in_points(), self.dpi, get_hinting_flag(),
               mpl.rcParams["text.hinting_factor"])
        extent = _EXTENTS.pop(key, None)
        if extent is None:
            extent = super().get_text_width_height_descent(s, prop, ismath)
        _EXTENTS[key] = extent  # the most recently used last
        if len(_EXTENTS) > LAYOUTS_KEPT:
            del _EXTENTS[next(iter(_EXTENTS))]
        return extent

    def _get_font_height_metrics(self, prop):
        """(ascent, descent, line gap) in pixels, which matplotlib's Text asks the renderer
        for before reading them from the font's tables itself, for every text it measures:
        the numbers Text computes, kept."""
        key = (_font(prop), self.dpi)
        metrics = _HEIGHTS.get(key)
        if metrics is None:
            if len(_HEIGHTS) >= HEIGHTS_KEPT:
                _HEIGHTS.clear()
            metrics = _HEIGHTS[key] = _font_height_metrics(prop, self.dpi)
        return metrics

    def _draw_glyphs(self, gc, x, y, angle, style, glyphs) -> None:
        """RendererAgg._draw_text_glyphs_and_boxes for text without boxes, each bitmap looked
        up by its glyph, transform and sub-pixel offset first."""
        size, dpi, flags, _ = style
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        turn = tuple(matrix.ravel().tolist())
        antialiased = gc.get_antialiased()
        for fname, glyph_index, dx, dy in glyphs:  # dy is upwards
            # FreeType's 26.6 fixed point; its y is upwards
            at_x = round(0x40 * (x + dx * cos - dy * sin))
            at_y = round(0x40 * (self.height - y + dx * sin + dy * cos))
            key = (fname, glyph_index, style, turn, at_x & 0x3F, at_y & 0x3F, antialiased)
            glyph = _GLYPHS.pop(key, None)
            if glyph is None:
                glyph = _render_glyph(fname, glyph_index, size, dpi, flags, matrix,
                                      (at_x & 0x3F, at_y & 0x3F), antialiased)
            _GLYPHS[key] = glyph  # the most recently used last
            buffer, left, top = glyph
            # draw_text_image's y is downwards & the bitmap's bottom side
            self._renderer.draw_text_image(
                buffer, left + (at_x >> 6), int(self.height) - (top + (at_y >> 6))
                + buffer.shape[0], 0, gc)
        while len(_GLYPHS) > GLYPHS_KEPT:
            del _GLYPHS[next(iter(_GLYPHS))]


def _font(prop) -> int:
    """What stands for the font files of `prop` in the keys: its hash, as in matplotlib's own
    text caches (FontProperties are equal when their hashes are: family, style, variant,
    weight, stretch, size, file); looking the files up took ~15 µs a text."""
    return hash(prop)


def _font_height_metrics(prop, dpi) -> tuple:
    """Text._get_layout's own computation (matplotlib 3.11), or Nones to let it measure."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    possible = [
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ]
    for table_name, linegap_key, ascent_key, descent_key in possible:
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        fontsize = prop.get_size_in_points()
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * fontsize * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale
    return None, None, None


def _render_glyph(fname, glyph_index, size, dpi, flags, matrix, within, antialiased):
    """(bitmap, left, top) of one glyph placed `within` its pixel (1/64 steps)."""
    font = get_font(fname)  # this thread's, as matplotlib requires
    font.set_size(size, dpi)
    font._set_transform(matrix, list(within))
    bitmap = font._render_glyph(glyph_index, flags,
                                RenderMode.NORMAL if antialiased else RenderMode.MONO)
    buffer = bitmap.buffer
    if not antialiased:
        buffer *= 0xFF
    return buffer, bitmap.left, bitmap.top
