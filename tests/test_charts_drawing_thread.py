"""One thread draws every figure of a process (rendition/charts/drawing.py): its fonts are
loaded once, whichever request thread asks, and a forked child gets a thread of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager

from errors import BadInput
from rendition.charts import ChartSpec, render_png
from rendition.charts.drawing import draw

ROOT = Path(__file__).resolve().parent.parent


def pie_frames(kinds=("furnished", "semi-furnished", "unfurnished")) -> dict[str, pd.DataFrame]:
    return {"s": pd.DataFrame({"Kind": list(kinds) * 7, "Price": np.arange(7.0 * len(kinds))})}


def from_new_thread(fn):
    """fn() called from a thread started for it (as a web server's request thread)."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_charts_asked_from_several_threads_are_drawn_by_one():
    # native ids: a finished thread's `ident` may be given to the next one
    callers = {from_new_thread(threading.get_native_id) for _ in range(4)}
    drawers = {from_new_thread(lambda: draw(threading.get_native_id)) for _ in range(4)}
    assert len(callers) == 4 and len(drawers) == 1 and not drawers & callers
    assert draw(lambda: draw(threading.get_native_id)) == drawers.pop()  # nested: no deadlock


def test_a_new_request_thread_opens_no_font_of_its_own():
    """matplotlib keeps fonts per thread: drawn from each request's thread, a chart with text
    not laid out before opened (and loaded) the fonts again in every new thread."""
    spec = ChartSpec.from_dict({"kind": "pie", "sheet": "s", "x": "Kind"})
    first = render_png(spec, pie_frames())
    opened = font_manager._get_font.cache_info().misses
    again = from_new_thread(lambda: render_png(spec, pie_frames()))
    assert again == first  # the same pixels
    other = from_new_thread(lambda: render_png(spec, pie_frames(("loft", "barn", "mill"))))
    assert other.startswith(b"\x89PNG") and other != first
    assert font_manager._get_font.cache_info().misses == opened


def test_an_error_while_drawing_reaches_the_caller():
    def refuse() -> None:
        raise BadInput("No chart of that.", code="bad_chart")

    with pytest.raises(BadInput, match="No chart of that") as raised:
        from_new_thread(lambda: draw(refuse))
    assert raised.value.code == "bad_chart"


def test_a_forked_child_draws_in_a_thread_of_its_own():
    script = (
        "import json, os, threading\n"
        "import numpy as np, pandas as pd\n"
        "from rendition.charts import ChartSpec, render_png\n"
        "from rendition.charts.drawing import draw\n"
        "spec = ChartSpec.from_dict({'kind': 'line', 'sheet': 's', 'y': ['v']})\n"
        "frames = {'s': pd.DataFrame({'v': np.arange(5.0)})}\n"
        "parent_png, parent = render_png(spec, frames), draw(threading.get_native_id)\n"
        "read, write = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    child_png, child = render_png(spec, frames), draw(threading.get_native_id)\n"
        "    os.write(write, json.dumps([child_png == parent_png, child]).encode())\n"
        "    os._exit(0)\n"
        "os.close(write)\n"
        "same, child = json.loads(os.read(read, 1000))\n"
        "os.wait()\n"
        "print(json.dumps([same, child != parent]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTILE_")}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    assert json.loads(out) == [True, True]
