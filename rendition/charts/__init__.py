"""Charts: one spec, three renderers (matplotlib PNG/SVG, Bokeh JSON, Plotly JSON). No Flask.

Typical use by the web layer::

    spec = ChartSpec.from_dict(body)                       # BadInput on a malformed spec
    frames = {name: load_sheet(dataset, name) for name in spec.sheet_names()}
    validate(spec, frames)                                 # BadInput / Unprocessable
    png = render_png(spec, frames)                         # or render_svg / render_bokeh / …
    cache_key = spec.spec_hash()

Renderers validate too, so an invalid spec can never be drawn. Bokeh and Plotly output is a
dict; embed it in a page with JSON that escapes "<" (Flask's `tojson` does), and load the JS
from `chart_assets()`.
"""

from rendition.charts.assets import ChartAssets, chart_assets
from rendition.charts.defaults import default_charts, sheet_meta
from rendition.charts.downsample import lttb
from rendition.charts.prepare import prepare, validate
from rendition.charts.render_bokeh import render_bokeh
from rendition.charts.render_mpl import render_png, render_svg
from rendition.charts.render_plotly import render_plotly
from rendition.charts.spec import KIND_FIELDS, KINDS, OPTION_NAMES, ChartSpec

__all__ = [
    "KINDS",
    "KIND_FIELDS",
    "OPTION_NAMES",
    "ChartAssets",
    "ChartSpec",
    "chart_assets",
    "default_charts",
    "lttb",
    "prepare",
    "render_bokeh",
    "render_plotly",
    "render_png",
    "render_svg",
    "sheet_meta",
    "validate",
]
