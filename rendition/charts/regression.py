"""The pictures that go with a regression: fitted vs actual, and residuals vs fitted.

Both are ordinary chart specs drawn by the existing renderers (PNG/SVG/Bokeh/Plotly) from a small
frame built out of the fit: on a sheet with a period index, "fitted vs actual" is a line chart of
both over the periods (the way an economist reads a time-series fit); otherwise a scatter of
actual against fitted. Large fits are thinned evenly to MAX_POINTS rows before drawing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from errors import BadInput
from rendition.charts.render_mpl import render_png, render_svg
from rendition.charts.spec import ChartSpec

CHARTS = ("fit", "residuals")
MAX_POINTS = 20_000
SHEET = "regression"


def regression_frame(fit: Mapping) -> pd.DataFrame:
    """Actual, Fitted and Residual by row of the fit (row labels as index)."""
    rows = fit["rows"]
    frame = pd.DataFrame({"Actual": np.asarray(fit["actual"], dtype=float),
                          "Fitted": np.asarray(fit["fitted"], dtype=float),
                          "Residual": np.asarray(fit["residual"], dtype=float)},
                         index=rows.rename("Period") if isinstance(rows, pd.PeriodIndex)
                         else None)
    if len(frame) > MAX_POINTS:
        frame = frame.iloc[np.linspace(0, len(frame) - 1, MAX_POINTS).round().astype(int)]
    return frame


def regression_spec(which: str, frame: pd.DataFrame, response: str) -> ChartSpec:
    """The chart spec for `which` ("fit" or "residuals") of a regression frame."""
    if which not in CHARTS:
        raise BadInput(f"A regression chart is one of {', '.join(CHARTS)}, not {which!r}.")
    if which == "residuals":
        return ChartSpec.from_dict({"kind": "scatter", "sheet": SHEET, "x": "Fitted",
                                    "y": ["Residual"], "options": {
                                        "title": f"Residuals vs fitted: {response}"[:200],
                                        "fit": False}})
    if isinstance(frame.index, pd.PeriodIndex):
        return ChartSpec.from_dict({"kind": "line", "sheet": SHEET, "y": ["Actual", "Fitted"],
                                    "options": {"title": f"Actual and fitted: {response}"[:200]}})
    return ChartSpec.from_dict({"kind": "scatter", "sheet": SHEET, "x": "Fitted",
                                "y": ["Actual"], "options": {
                                    "title": f"Actual vs fitted: {response}"[:200],
                                    "fit": False}})


def render_regression(fit: Mapping, response: str, which: str, fmt: str = "png",
                      width: int | None = None, height: int | None = None) -> bytes:
    """PNG (or SVG) bytes of one regression chart."""
    frame = regression_frame(fit)
    spec = regression_spec(which, frame, response)
    render = render_svg if fmt == "svg" else render_png
    return render(spec, {SHEET: frame}, width, height)
