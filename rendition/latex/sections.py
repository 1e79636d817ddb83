"""Report sections: small dataclasses holding the API's result dicts, each rendered to LaTeX.

Renderers read dicts defensively: unknown keys are ignored, missing optional values print as —,
and every piece of user text (names, formulas, readings) goes through `escape_latex`,
`breakable` or a pylatex table's `Escaped` cells. What they return is `Latex`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from analysis.labels import SIGNIFICANCE_LEGEND, dtype_word, stars, term_label
from errors import BadInput
from rendition.latex.escape import Latex, breakable, escape_latex, shorten
from rendition.latex.fit_section import FitSection, include_image, render_fit
from rendition.latex.release_sections import (
    ChangesSection,
    ProvenanceSection,
    render_changes,
    render_provenance,
)
from rendition.latex.tables import MISSING, facts_table, format_number, long_table

RECENT_PERIODS = 12
_SERIES_KINDS = {"growth": "Growth", "cagr": "CAGR", "drawdown": "Drawdowns",
                 "rebase": "Rebased index", "rolling": "Rolling mean"}
COLUMN_LIST_LIMIT = 60


@dataclass(frozen=True)
class SummarySection:
    """Provenance: dataset dict with name, sha256, size, created, format, sheets."""

    dataset: dict
    title: str = "Dataset"


@dataclass(frozen=True)
class CleaningLogSection:
    """What the reader changed: [{sheet, step, detail}]."""

    entries: list
    title: str = "Cleaning log"


@dataclass(frozen=True)
class DescribeSection:
    result: dict
    title: str = ""


@dataclass(frozen=True)
class OlsSection:
    """An OLS result dict; `images` are PNGs drawn with it (fitted vs actual, residuals)."""

    result: dict
    title: str = ""
    images: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class GrowthSection:
    """A growth (or other per-period series) result; shows a summary per column and the last
    `recent` periods rather than every row."""

    result: dict
    title: str = ""
    recent: int = RECENT_PERIODS
    chart: bytes | None = None  # PNG of the rates (rendition.charts.analysis_charts)


@dataclass(frozen=True)
class TestSection:
    """A hypothesis test result: kind, test, statistic, p_value, effect_size, reading."""

    __test__ = False  # not a pytest test class, whatever its name

    result: dict
    title: str = ""


@dataclass(frozen=True)
class ChartSection:
    title: str
    image: bytes
    image_format: str = "png"  # "png" | "pdf"


@dataclass(frozen=True)
class Rendered:
    title: Latex  # may break inside long names
    bookmark: Latex  # for the PDF outline: escaped, no break points
    body: Latex


def render_section(section: object, assets: dict[str, bytes]) -> Rendered:
    """LaTeX of one section; chart images are added to `assets` under generated names."""
    renderer = _RENDERERS.get(type(section))
    if renderer is None:
        raise BadInput(f"A report cannot contain a {type(section).__name__}.")
    title, body = renderer(section, assets)
    title = shorten(title, 120)
    return Rendered(breakable(title), escape_latex(title), Latex(body))


# -- helpers ----------------------------------------------------------------------------------
def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def _subsection(title: str) -> str:
    return (r"\subsection{\texorpdfstring{" + breakable(title) + "}{" + escape_latex(title)
            + "}}\n")


def _paragraph(text: str) -> str:
    return breakable(text) + "\n\n"


def _p_value(value: object) -> str:
    if _finite(value):
        return "< 0.0001" if value < 1e-4 else format_number(value)
    return MISSING


def _period_range(index: dict) -> str:
    """"period (Q-DEC), 1975Q1 to 2020Q1" from an upload index or a describe index dict."""
    start = index.get("start", index.get("first")) or MISSING
    end = index.get("end", index.get("last")) or MISSING
    kind = str(index.get("kind") or index.get("type") or "index")
    freq = f" ({index['freq']})" if index.get("freq") else ""
    return f"{kind}{freq}, {start} to {end}"


def _finite(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _generic_rows(rows: list, caption: str) -> str:
    """A table of row dicts whose keys we do not know in advance (CAGR, drawdowns, groups)."""
    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    headers = [str(k).replace("_", " ") for k in keys]
    numeric = [
        all(isinstance(r.get(k), (int, float)) or r.get(k) is None for r in rows)
        and any(isinstance(r.get(k), (int, float)) for r in rows)
        for k in keys
    ]
    return long_table(headers, [[r.get(k) for k in keys] for r in rows], numeric, caption)


# -- renderers: (section, assets) -> (title, LaTeX body) ---------------------------------------
def _summary(section: SummarySection, assets) -> tuple[str, str]:
    d = _dict(section.dataset)
    size = d.get("size")
    size_text = (
        f"{size:,} bytes ({size / 1024:,.1f} KiB)" if isinstance(size, int) and size >= 0 else None
    )
    sha = d.get("sha256")
    sheets = [s for s in _list(d.get("sheets")) if isinstance(s, dict)]
    facts = [
        ("File", d.get("name")),
        ("Format", str(d["format"]).upper() if d.get("format") else None),
        ("Size", size_text),
        ("SHA-256", Latex(r"\texttt{" + escape_latex(sha) + "}") if sha else None),
        ("Uploaded", _when(d.get("created"))),
        ("Sheets", len(sheets)),
    ]
    body = facts_table(facts)
    if sheets:
        rows = [
            [s.get("name"), s.get("n_rows"), s.get("n_cols"),
             _period_range(s["index"]) if isinstance(s.get("index"), dict) else MISSING]
            for s in sheets
        ]
        body += long_table(
            ["Sheet", "Rows", "Columns", "Index"], rows, [False, True, True, False],
            "Sheets", text_limit=80,
        )
        body += "".join(_column_list(s) for s in sheets)
    return section.title or "Dataset", body


def _when(value: object) -> object:
    """An ISO timestamp as "7 December 2026, 16:11 UTC" (naive times are UTC in Quartile)."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    zone = when.tzname() or "UTC"
    return f"{when.day} {when:%B %Y, %H:%M} {zone}"


def _column_list(sheet: dict) -> str:
    columns = [c for c in _list(sheet.get("columns")) if isinstance(c, dict)]
    if not columns:
        return ""
    kinds = {dtype_word(c["dtype"]) for c in columns if c.get("dtype")}
    shown = columns[:COLUMN_LIST_LIMIT]
    count = f"{len(columns)} column{'s' if len(columns) != 1 else ''}"
    if len(kinds) == 1:
        kind = kinds.pop()
        head = f"{count}, all {kind}: " if len(columns) > 1 else f"{count} of {kind}: "
        items = [shorten(c.get("name"), 60) for c in shown]
    else:
        head = f"{count}: "
        items = [
            shorten(c.get("name"), 60) + (f" ({dtype_word(c['dtype'])})" if c.get("dtype") else "")
            for c in shown
        ]
    more = f", and {len(columns) - len(shown)} more" if len(columns) > len(shown) else ""
    return (
        r"\textbf{" + breakable(shorten(sheet.get("name"), 80)) + "}: "
        + breakable(head + ", ".join(items) + more + ".") + "\n\n"
    )


def _cleaning_log(section: CleaningLogSection, assets) -> tuple[str, str]:
    entries = [e for e in _list(section.entries) if isinstance(e, dict)]
    if not entries:
        return section.title, _paragraph("No cleaning was needed: the file was read as it is.")
    rows = [[e.get("sheet") or "(workbook)", e.get("step"), e.get("detail")] for e in entries]
    table = long_table(
        ["Sheet", "Step", "What was done"], rows, [False, False, False], "Cleaning steps",
        text_limit=600,
    )
    # A paragraph between the heading and the long table: a longtable that opens a section
    # can break before its first rows, printing its "continued" head above the heading.
    intro = _paragraph(f"The {len(rows)} steps taken to read the file into clean sheets, in order.")
    return section.title or "Cleaning log", intro + table


def _describe(section: DescribeSection, assets) -> tuple[str, str]:
    r = _dict(section.result)
    if isinstance(r.get("sheets"), list):  # a whole workbook: one block per sheet
        bodies = [_describe_sheet(_dict(s)) for s in r["sheets"]]
        return section.title or "Describe", "".join(
            _subsection(shorten(_dict(s).get("sheet"), 80)) + body
            for s, body in zip(r["sheets"], bodies, strict=True)
        )
    return section.title or f"Describe: {r.get('sheet') or MISSING}", _describe_sheet(r)


def _describe_sheet(r: dict) -> str:
    sheet = r.get("sheet") or MISSING
    columns = [c for c in _list(r.get("columns")) if isinstance(c, dict)]
    numeric = [c for c in columns if c.get("type", "numeric" if "mean" in c else "") == "numeric"]
    other = [c for c in columns if c not in numeric]
    n_rows = r.get("n_rows")
    counts = [f"{len(numeric)} numeric"] if numeric else []
    counts += [f"{len(other)} other"] if other else []
    rows_text = format_number(n_rows) if n_rows is not None else MISSING
    intro = f"Sheet {sheet}: {rows_text} rows, {' and '.join(counts) or 'no'} columns."
    if isinstance(r.get("index"), dict):
        intro += f" Rows are indexed by {_period_range(r['index'])}."
    body = _paragraph(intro)
    if numeric:
        body += long_table(
            ["Column", "n", "missing", "mean", "std. dev.", "skewness", "kurtosis"],
            [[c.get("name"), c.get("count"), c.get("missing"), c.get("mean"), c.get("std"),
              c.get("skew"), c.get("kurtosis")] for c in numeric],
            [False] + [True] * 6,
            f"Numeric columns of {shorten(sheet, 60)}: count and moments",
        )
        body += long_table(
            ["Column", "min", "25%", "median", "75%", "max"],
            [[c.get("name"), c.get("min"), c.get("q25"), c.get("median"), c.get("q75"),
              c.get("max")] for c in numeric],
            [False] + [True] * 5,
            f"Numeric columns of {shorten(sheet, 60)}: quantiles",
        )
    if other:
        body += long_table(
            ["Column", "n", "missing", "distinct", "most frequent", "its count"],
            [[c.get("name"), c.get("count"), c.get("missing"), c.get("unique"), c.get("top"),
              c.get("freq")] for c in other],
            [False, True, True, True, False, True],
            f"Other columns of {shorten(sheet, 60)}",
        )
    return body


def _ols(section: OlsSection, assets) -> tuple[str, str]:
    r = _dict(section.result)
    formula = r.get("formula") or MISSING
    body = (
        "Ordinary least squares on sheet " + breakable(r.get("sheet") or MISSING)
        + r": \texttt{" + breakable(formula) + "}.\n\n"
    )
    f_df = ""
    if r.get("df_model") is not None and r.get("df_resid") is not None:
        f_df = f" ({format_number(r['df_model'])}, {format_number(r['df_resid'])} df)"
    facts = [
        ("Observations", r.get("n")),
        ("R²", r.get("r_squared")),
        ("Adjusted R²", r.get("adj_r_squared")),
        (f"F statistic{f_df}", r.get("f_statistic")),
        ("p-value of F", _p_value(r.get("f_p_value"))),
    ]
    facts += [(label, r[key]) for key, label in (("aic", "AIC"), ("bic", "BIC"))
              if r.get(key) is not None]
    if r.get("cov_type") not in (None, "classical"):
        lags = f", {r['hac_lags']} lags" if r.get("hac_lags") is not None else ""
        facts.append(("Standard errors", f"{r['cov_type']}{lags}"))
    if r.get("n_dropped"):
        facts.append(("Rows left out", f"{format_number(r['n_dropped'])} (missing values)"))
    body += facts_table(facts, label_em=12.0)
    coefficients = [c for c in _list(r.get("coefficients")) if isinstance(c, dict)]
    body += long_table(
        ["Term", "Coefficient", "Std. error", "t", "p", "", "95% CI low", "95% CI high"],
        [[term_label(c.get("term")), c.get("estimate"), c.get("std_error"), c.get("t"),
          _p_value(c.get("p_value")), stars(c.get("p_value")), c.get("ci_low"), c.get("ci_high")]
         for c in coefficients],
        [False, True, True, True, True, False, True, True],
        "Coefficients",
    )
    body += _paragraph(SIGNIFICANCE_LEGEND)
    body += "".join(_paragraph(f"Reference level of {column}: {level} (the other levels' "
                               "coefficients are differences from it).")
                    for column, level in _dict(r.get("reference_levels")).items())
    body += "".join(_paragraph(f"Note: {note}") for note in _list(r.get("notes")))
    for image in section.images:
        body += _chart(ChartSection(title="", image=image), assets)[1]
    title = section.title or f"Regression: {shorten(formula, 60)}"
    return title, body


def _growth(section: GrowthSection, assets) -> tuple[str, str]:
    r = _dict(section.result)
    sheet = r.get("sheet") or MISSING
    kind = str(r.get("kind") or "growth")
    name = _SERIES_KINDS.get(kind, kind.replace("_", " ").capitalize())
    title = section.title or f"{name}: {sheet}"
    series = {str(k): _list(v) for k, v in _dict(r.get("series")).items()}
    if not series and isinstance(r.get("columns"), list):  # CAGR, drawdowns: one row per column
        span = f" from {r['start']} to {r['end']}" if r.get("start") and r.get("end") else ""
        unit = f" ({r['unit']})" if r.get("unit") else ""
        intro = _paragraph(f"{name} on sheet {sheet}{span}{unit}.")
        return title, intro + _generic_rows(r["columns"], f"{name}: {sheet}")
    index = [str(i) for i in _list(r.get("index"))]
    periods = r.get("periods")
    span = f", {index[0]} to {index[-1]} ({len(index)} periods)" if index else ""
    over = f"{periods} period" + ("" if periods == 1 else "s")
    said = f"{r['comparison']}, " if r.get("comparison") and "period" not in r["comparison"] \
        else ""
    intro = (f"Percent change {said}over {over} on sheet {sheet}{span}."
             if periods else f"Series of sheet {sheet}{span}.")
    body = _paragraph(intro[0].upper() + intro[1:])
    if section.chart:
        body += _chart(ChartSection(title="", image=section.chart), assets)[1]
    summary = []
    for name, values in series.items():
        finite = [v for v in values if _finite(v)]
        last_at = next((i for i in range(len(values) - 1, -1, -1) if _finite(values[i])), None)
        summary.append([
            name,
            index[last_at] if last_at is not None and last_at < len(index) else MISSING,
            values[last_at] if last_at is not None else None,
            sum(finite) / len(finite) if finite else None,
            min(finite, default=None),
            max(finite, default=None),
        ])
    body += long_table(["Series", "Last period", "Last", "Mean", "Min", "Max"], summary,
                       [False, False, True, True, True, True],
                       f"{shorten(sheet, 60)}: summary per series", same_decimals=True)
    recent = max(0, min(section.recent, len(index)))
    if recent and series:
        names = list(series)
        rows = [[index[i], *(series[n][i] if i < len(series[n]) else None for n in names)]
                for i in range(len(index) - recent, len(index))]
        body += long_table(["Period", *names], rows, [False] + [True] * len(names),
                           f"{shorten(sheet, 60)}: last {recent} periods", same_decimals=True)
    body += "".join(_paragraph(f"Note: {note}") for note in _list(r.get("notes")))
    return title, body


def _test(section: TestSection, assets) -> tuple[str, str]:
    r = _dict(section.result)
    effect = _dict(r.get("effect_size"))
    facts = [("Test", r.get("test") or r.get("kind")), ("Sheet", r.get("sheet")),
             ("Statistic", r.get("statistic")), ("p-value", _p_value(r.get("p_value")))]
    if effect:
        facts.append((str(effect.get("name") or "Effect size"), effect.get("value")))
    body = facts_table(facts, label_em=12.0)
    if r.get("reading"):
        body += _paragraph(str(r["reading"]))
    if isinstance(r.get("groups"), list):
        body += _generic_rows(r["groups"], "Groups")
    title = section.title or f"Test: {r.get('test') or r.get('kind') or MISSING}"
    return title, body


def _chart(section: ChartSection, assets: dict[str, bytes]) -> tuple[str, str]:
    body = include_image(bytes(section.image or b""), section.image_format, assets,
                         f"Chart '{section.title}'")
    return section.title or "Chart", body


_RENDERERS: dict[type, Callable[[object, dict], tuple[str, str]]] = {
    ChangesSection: render_changes,
    ProvenanceSection: render_provenance,
    SummarySection: _summary,
    CleaningLogSection: _cleaning_log,
    DescribeSection: _describe,
    OlsSection: _ols,
    GrowthSection: _growth,
    TestSection: _test,
    ChartSection: _chart,
    FitSection: render_fit,
}
