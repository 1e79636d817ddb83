"""Chart JavaScript comes from the installed packages, in the versions the Python side emits."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import bokeh
import plotly
from plotly.offline import get_plotlyjs_version

from rendition.charts import chart_assets
from rendition.charts.assets import embedded_bokeh_version, embedded_plotlyjs_version

ROOT = Path(__file__).resolve().parents[1]


def test_files_exist_inside_the_installed_packages():
    assets = chart_assets()
    assert set(assets.files) == {f"bokeh-{bokeh.__version__}.min.js",
                                 f"plotly-{get_plotlyjs_version()}.min.js"}
    packages = {Path(bokeh.__file__).parent, Path(plotly.__file__).parent}
    for name, path in assets.files.items():
        assert path.is_file() and path.stat().st_size > 500_000, name
        assert any(p.resolve() in path.parents for p in packages), path


def test_bokeh_js_version_matches_the_python_package():
    path = next(p for n, p in chart_assets().files.items() if n.startswith("bokeh-"))
    text = path.read_text(encoding="utf-8", errors="replace")
    assert bokeh.__version__ in re.findall(r'\.version="([^"]+)"', text)
    assert embedded_bokeh_version(path) == bokeh.__version__ == chart_assets().bokeh_version


def test_plotly_js_version_matches_the_python_package():
    path = next(p for n, p in chart_assets().files.items() if n.startswith("plotly-"))
    with path.open(encoding="utf-8") as f:
        header = f.read(200)
    assert f"plotly.js v{get_plotlyjs_version()}" in header
    assert embedded_plotlyjs_version(path) == get_plotlyjs_version()
    assert chart_assets().plotly_version == plotly.__version__


def test_to_dict_is_json_ready():
    data = chart_assets().to_dict()
    assert data["bokeh_version"] == bokeh.__version__
    assert all(Path(p).is_file() for p in data["files"].values())


def test_charts_never_import_flask():
    """rendition/ is usable without a web app: importing it must not pull in Flask."""
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('flask', 'werkzeug', 'apiflask'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import rendition.charts\n"
        "from rendition.charts import render_png, render_bokeh, render_plotly\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
