"""Render a chart spec for a stored dataset, once: sheets → rendition → bytes, cached.

Rendered charts are cached by (spec hash, dataset bytes and parse, format, size, library
versions) in memory (an LRU bounded in bytes) and in the object store under charts/, so a chart
asked for again — by the page, a report or another worker process — is not drawn again. The
key names the data by content (sha256 + parse key), so a re-parsed dataset gets fresh charts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bokeh
import matplotlib
import pandas as pd
import plotly
from flask import current_app
from markupsafe import escape as html_escape

from errors import BadInput, StorageUnavailable
from rendition import charts as charts_package
from rendition.charts import (
    ChartSpec,
    chart_assets,
    render_bokeh,
    render_plotly,
    render_png,
    render_svg,
    validate,
)
from store.models import Dataset
from store.objects import ObjectStore, objects_for
from upload.service import load_sheet
from web.lru_cache import LruCache

MEMORY_BYTES = 64 * 1024 * 1024  # in-process cache budget per worker
MEMORY_ITEM_MAX = 8 * 1024 * 1024  # bigger outputs are cached on disk only
PRUNE_EVERY = 50  # disk writes between two checks of the disk budget (QUARTILE_CHART_CACHE_MB)
# SVG sizes are in points (1/72 in) and browsers show 96 CSS pixels per inch: at 96 dpi a
# 900-pixel chart is 675pt wide and shows as 900 pixels, like the PNG.
SVG_DPI = 96
log = logging.getLogger("quartile.charts")


def drawing_version(code_dir: Path | None = None) -> str:
    """What decides how a chart looks besides its spec and data: the libraries' versions (and
    BokehJS refuses JSON from another version) and our own drawing code, fingerprinted so that
    an upgrade never serves a chart drawn by the code before it."""
    code = hashlib.sha256()
    code_dir = code_dir or Path(charts_package.__file__).parent
    for source in sorted(code_dir.glob("*.py")):
        code.update(source.name.encode() + b"\0" + source.read_bytes())
    return (f"mpl{matplotlib.__version__}/bokeh{bokeh.__version__}/plotly{plotly.__version__}"
            f"/{code.hexdigest()[:16]}")


_VERSIONS = drawing_version()


def _json_bytes(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Format:
    name: str
    mimetype: str
    extension: str
    draw: Callable[[ChartSpec, dict, int | None, int | None], bytes]


FORMATS: dict[str, Format] = {
    "png": Format("png", "image/png", "png", lambda s, f, w, h: render_png(s, f, w, h)),
    "svg": Format("svg", "image/svg+xml", "svg",
                  lambda s, f, w, h: render_svg(s, f, w, h, dpi=SVG_DPI)),
    "bokeh": Format("bokeh", "application/json", "bokeh.json",
                    lambda s, f, w, h: _json_bytes(render_bokeh(s, f))),
    "plotly": Format("plotly", "application/json", "plotly.json",
                     lambda s, f, w, h: _json_bytes(render_plotly(s, f))),
}


class RenderCache:
    """Memory LRU (bounded in bytes) in front of the object store's `charts/` (bounded by
    `prune_disk`, which drops the charts read or written longest ago). The stored copies are
    a cache too: with the object store unreachable a chart is drawn again and not kept."""

    def __init__(self, budget: int = MEMORY_BYTES):
        self.memory = LruCache(max_bytes=budget)
        self._writes = 0

    def get(self, key: str, objects: ObjectStore, object_key: str) -> bytes | None:
        body = self.memory.get(key)
        if body is not None:
            return body
        try:
            body = objects.get_bytes(object_key)
        except (FileNotFoundError, StorageUnavailable):
            return None
        objects.touch(object_key)  # recently used: the last chart the budget gives up
        self._remember(key, body)
        return body

    def put(self, key: str, objects: ObjectStore, object_key: str, body: bytes) -> None:
        self._remember(key, body)
        try:
            objects.put_bytes(object_key, body)  # whole or not at all, for every process
        except StorageUnavailable:
            log.warning("Chart %s not kept: the object store is unreachable.", key[:12])

    def clear(self) -> None:
        """Forget the in-memory copies (the stored ones stay); benchmarks use it."""
        self.memory.clear()

    def _remember(self, key: str, body: bytes) -> None:
        if len(body) <= MEMORY_ITEM_MAX:
            self.memory.put(key, body)

    def prune_now_and_then(self, objects: ObjectStore, budget: int) -> None:
        """Keep the stored charts within `budget` bytes, checked every PRUNE_EVERY writes (a
        listing costs milliseconds; a chart costs tens)."""
        self._writes += 1
        if self._writes % PRUNE_EVERY == 1:
            with contextlib.suppress(StorageUnavailable):  # next time, then
                prune_disk(objects, budget)


def prune_disk(objects: ObjectStore, budget: int) -> int:
    """Delete the least recently used charts until the rest fit in `budget` bytes. Returns how
    many were deleted. Safe against other processes doing the same."""
    entries = sorted((info.modified, info.size, info.key) for info in objects.keys("charts/"))
    total = sum(size for _, size, _ in entries)
    deleted = 0
    for _, size, key in entries:
        if total <= budget:
            break
        objects.delete(key)
        total -= size
        deleted += 1
    return deleted


CACHE = RenderCache()


def files_dir() -> Path:
    return Path(current_app.config["FILES_DIR"])


def load_frames(dataset: Dataset, spec: ChartSpec) -> dict[str, pd.DataFrame]:
    """The cleaned sheets the spec draws; BadInput naming a sheet the dataset lacks."""
    known = [s["name"] for s in (dataset.meta or {}).get("sheets", [])]
    for name in spec.sheet_names():
        if name not in known:
            listed = ", ".join(repr(s) for s in known) or "none"
            raise BadInput(
                f"The dataset {dataset.name!r} has no sheet named {name!r}. Sheets: {listed}.",
                code="unknown_sheet",
            )
    return {name: load_sheet(files_dir(), dataset, name) for name in spec.sheet_names()}


def check_spec(dataset: Dataset, spec: ChartSpec) -> None:
    """Refuse a spec the data cannot draw, with the renderer's own message (names the column)."""
    validate(spec, load_frames(dataset, spec))


def cache_key(dataset: Dataset, spec: ChartSpec, fmt: str, width: int | None,
              height: int | None) -> str:
    parts = [spec.spec_hash(), dataset.sha256, dataset.parse_key, fmt,
             f"{width or ''}x{height or ''}", _VERSIONS]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def render_chart(dataset: Dataset, spec: ChartSpec, fmt: str, width: int | None = None,
                 height: int | None = None) -> bytes:
    """The chart in `fmt` (png, svg, bokeh, plotly) as bytes; drawn once, then cached.

    width/height apply to PNG and SVG only; interactive charts take their size from the spec.
    """
    form = FORMATS[fmt]
    if fmt not in ("png", "svg"):
        width = height = None
    key = cache_key(dataset, spec, fmt, width, height)
    objects = objects_for(files_dir())
    object_key = f"charts/{key[:2]}/{key}.{form.extension}"
    body = CACHE.get(key, objects, object_key)
    if body is None:
        body = form.draw(spec, load_frames(dataset, spec), width, height)
        CACHE.put(key, objects, object_key, body)
        CACHE.prune_now_and_then(objects, current_app.config["CHART_CACHE_BYTES"])
    return body


# -- a standalone HTML file --------------------------------------------------------------------
def _script_text(text: str) -> str:
    """Library code safe inside <script>…</script>: "</script" would end the element early.

    Only that sequence is rewritten ("<\\/script" means the same inside a string or regex);
    the bundled files contain none today, so this is a guard for a future version.
    """
    return _SCRIPT_END.sub(lambda m: "<\\/" + m.group(0)[2:], text)


def _json_for_script(body: bytes) -> str:
    """JSON inside a script element: "<", ">" and "&" as \\u escapes (Jinja's tojson does this)."""
    text = body.decode("utf-8")
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


_SCRIPT_END = re.compile("</script", re.IGNORECASE)
_LIBRARY = {"bokeh": "bokeh-", "plotly": "plotly-"}
_EMBED = {
    "bokeh": "Bokeh.embed.embed_item(item, 'chart');",
    "plotly": "Plotly.newPlot('chart', item.data, item.layout, "
              "{displaylogo: false, responsive: true});",
}


def standalone_html(dataset: Dataset, spec: ChartSpec, title: str, renderer: str) -> str:
    """A complete page with the chart and its JavaScript inlined: works offline once saved.

    The page is a file, not served inline by us (it is sent as an attachment), so it carries
    no CSP; nothing from the data reaches it unescaped: the title is HTML-escaped and the chart
    JSON has "<", ">" and "&" as \\u escapes.
    """
    library = next(path for name, path in chart_assets().files.items()
                   if name.startswith(_LIBRARY[renderer]))
    payload = _json_for_script(render_chart(dataset, spec, renderer))
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html_escape(title)}</title>\n"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}"
        "h1{font-size:1.25rem;font-weight:600}p{color:#666;font-size:.85rem}</style>\n"
        "</head>\n<body>\n"
        f"<h1>{html_escape(title)}</h1>\n<div id=\"chart\"></div>\n"
        f"<p>{html_escape(dataset.name)} · made with Quartile</p>\n"
        f"<script>{_script_text(library.read_text(encoding='utf-8'))}</script>\n"
        f"<script>var item = {payload};\n{_EMBED[renderer]}</script>\n"
        "</body>\n</html>\n"
    )
