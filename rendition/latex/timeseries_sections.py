"""Report sections of the time-series analyses: ADF, KPSS, ACF, HP, STL, window statistics and
the exuberance test, each as its tables and its chart (see `rendition.charts.analysis_charts`).

Registered with `sections.render_section` on import (the package imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass

from rendition.latex.sections import (
    _RENDERERS,
    ChartSection,
    _chart,
    _dict,
    _generic_rows,
    _list,
    _paragraph,
)
from rendition.latex.tables import MISSING


@dataclass(frozen=True)
class TimeSeriesSection:
    """A time-series result (adf, kpss, acf, hp_filter, stl, rolling_stats, exuberance) with
    its chart as PNG bytes when the analysis has one."""

    result: dict
    chart: bytes | None = None
    title: str = ""


_TIME_SERIES_TITLES = {"adf": "ADF unit-root test", "kpss": "KPSS stationarity test",
                       "acf": "Autocorrelations", "hp_filter": "Hodrick–Prescott filter",
                       "stl": "STL decomposition", "rolling_stats": "Window statistics",
                       "exuberance": "Exuberance test (GSADF)"}


def _exuberance_rows(r: dict) -> tuple[list[dict], list[dict]]:
    """One row per series (statistic, critical values, verdict), one per episode."""
    rows, episodes = [], []
    for c in _list(r.get("columns")):
        c = _dict(c)
        cv = _list(c.get("gsadf_critical")) or [None, None, None]
        found = [_dict(e) for e in _list(c.get("episodes"))]
        rows.append({"column": c.get("column"), "GSADF": c.get("gsadf"), "cv 95%": cv[1],
                     "cv 99%": cv[2], "exuberant now": {True: "yes", False: "no"}.get(
                         c.get("exuberant_now"), MISSING), "episodes": len(found)})
        episodes += [{"column": c.get("column"), "start": e.get("start"), "end": e.get("end"),
                      "periods": e.get("periods")} for e in found]
    return rows, episodes


def _time_series(section: TimeSeriesSection, assets: dict[str, bytes]) -> tuple[str, str]:
    r = _dict(section.result)
    kind = str(r.get("kind") or "")
    what = _TIME_SERIES_TITLES.get(kind, kind)
    subject = r.get("column") or r.get("sheet") or MISSING
    title = section.title or f"{what}: {subject}"
    body = _paragraph(str(r["reading"])) if r.get("reading") else ""
    if kind == "exuberance":
        rows, episodes = _exuberance_rows(r)
        body += _generic_rows(rows, f"GSADF, lag {r.get('lag')}, {r.get('replications')} "
                                    "replications")
        body += _generic_rows(episodes, f"Explosive episodes ({r.get('significance')} % BSADF "
                                        "critical values)")
    elif kind in ("adf", "kpss"):
        body += _generic_rows(_list(r.get("columns")), f"H0: {r.get('null')}")
    elif kind == "acf":
        body += _generic_rows(_list(r.get("lags")), "ACF and PACF with band half-widths")
    if section.chart:
        body += _chart(ChartSection(title, section.chart), assets)[1]
    return title, body


_RENDERERS[TimeSeriesSection] = _time_series
