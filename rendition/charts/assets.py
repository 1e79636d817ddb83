"""Where the installed Bokeh and Plotly JavaScript lives, so pages serve it locally (no CDN).

The browser code must be the exact version the Python packages emit JSON for: Bokeh refuses
to embed an item from another version, and Plotly's JSON schema moves with plotly.js. Serving
the files shipped inside the installed wheels guarantees the match and keeps pages working
with the network off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import bokeh
import plotly
from plotly.offline import get_plotlyjs_version

from errors import Unavailable

# url name -> file inside the package. Only bokeh.min.js is needed: the charts use no widgets,
# tables, GL or MathJax models.
_BOKEH_FILES = {"bokeh.min.js": "bokeh.min.js"}
_PLOTLY_FILES = {"plotly.min.js": "plotly.min.js"}


@dataclass(frozen=True)
class ChartAssets:
    files: dict[str, Path]  # url name (e.g. "bokeh-3.9.2.min.js") -> file on disk
    bokeh_version: str
    plotly_version: str  # the Python package
    plotlyjs_version: str  # the bundled plotly.js

    def to_dict(self) -> dict:
        return {
            "files": {name: str(path) for name, path in self.files.items()},
            "bokeh_version": self.bokeh_version,
            "plotly_version": self.plotly_version,
            "plotlyjs_version": self.plotlyjs_version,
        }


def bokeh_js_dir() -> Path:
    return Path(bokeh.__file__).resolve().parent / "server" / "static" / "js"


def plotly_js_dir() -> Path:
    return Path(plotly.__file__).resolve().parent / "package_data"


@cache
def chart_assets() -> ChartAssets:
    """The JS files with versioned url names ("bokeh-3.9.2.min.js"), safe to cache forever.

    Raises Unavailable if an installed package lacks its JavaScript (a broken install).
    """
    bokeh_version, plotlyjs_version = bokeh.__version__, get_plotlyjs_version()
    files: dict[str, Path] = {}
    for name, rel in _BOKEH_FILES.items():
        files[_versioned(name, bokeh_version)] = bokeh_js_dir() / rel
    for name, rel in _PLOTLY_FILES.items():
        files[_versioned(name, plotlyjs_version)] = plotly_js_dir() / rel
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise Unavailable(f"Chart JavaScript is missing from the installed packages: {missing}.")
    return ChartAssets(files, bokeh_version, plotly.__version__, plotlyjs_version)


def _versioned(name: str, version: str) -> str:
    stem, _, ext = name.partition(".")
    return f"{stem}-{version}.{ext}"


def embedded_bokeh_version(path: Path) -> str | None:
    """The version compiled into bokeh.min.js: its one-line `version` module,
    `function _(n,i,o,c,e){c(),o.version="3.9.2"}` (bundled numbro has a `.version` too)."""
    match = re.search(rb'\{\w+\(\),\w+\.version="([^"]+)"\}', path.read_bytes())
    return match.group(1).decode() if match else None


def embedded_plotlyjs_version(path: Path) -> str | None:
    """The version in plotly.min.js's header comment (`* plotly.js v4.1.1`)."""
    with path.open("rb") as f:
        head = f.read(512)
    match = re.search(rb"plotly\.js v(\d+\.\d+\.\d+\S*)", head)
    return match.group(1).decode() if match else None
