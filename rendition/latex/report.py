"""A report document → LaTeX source (+ image files) → PDF.

Sections are small dataclasses holding the API's result dicts (describe, OLS, growth, tests,
charts, provenance); each renders to LaTeX with pylatex tables. The layout is a Jinja2 template
(`templates/latex/report.tex.j2`) whose environment escapes every value that our own code did not
mark as LaTeX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2

from rendition.latex.compile import compile_pdf
from rendition.latex.escape import escape_latex, to_printable
from rendition.latex.tables import format_number, long_table

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "latex"


class Latex(str):
    """LaTeX produced by Quartile's own code; the template prints it as it is."""


def _finalize(value: object) -> str:
    if isinstance(value, Latex):
        return value
    return escape_latex("" if value is None else value)


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    block_start_string=r"\BLOCK{",
    block_end_string="}",
    variable_start_string=r"\VAR{",
    variable_end_string="}",
    comment_start_string=r"\#{",
    comment_end_string="}",
    line_statement_prefix="%%",
    line_comment_prefix="%#",
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
    finalize=_finalize,
    undefined=jinja2.StrictUndefined,
)


# -- sections ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SummarySection:
    dataset: dict
    title: str = "Dataset"


@dataclass(frozen=True)
class CleaningLogSection:
    entries: list
    title: str = "Cleaning log"


@dataclass(frozen=True)
class DescribeSection:
    result: dict
    title: str = ""


@dataclass(frozen=True)
class OlsSection:
    result: dict
    title: str = ""


@dataclass(frozen=True)
class GrowthSection:
    result: dict
    title: str = ""


@dataclass(frozen=True)
class TestSection:
    result: dict
    title: str = ""


@dataclass(frozen=True)
class ChartSection:
    title: str
    image: bytes
    image_format: str = "png"  # "png" | "pdf"


@dataclass(frozen=True)
class ReportDocument:
    title: str
    author: str = ""
    generated_at: datetime | None = None
    quartile_version: str = ""
    dataset: dict | None = None
    sections: list = field(default_factory=list)


@dataclass
class _Rendered:
    title: str
    body: Latex


# -- rendering --------------------------------------------------------------------------------
def build_report_tex(doc: ReportDocument) -> tuple[str, dict[str, bytes]]:
    """The .tex source and the files it includes (chart images with generated names)."""
    assets: dict[str, bytes] = {}
    rendered = [_render_section(section, assets) for section in doc.sections]
    texts = [doc.title, doc.author, *(s.title for s in rendered)]
    if doc.dataset:
        texts.append(doc.dataset.get("name", ""))
    replaced = any(to_printable(t)[1] for t in texts) or any(
        "?" in s.body and _had_replacements(section)
        for s, section in zip(rendered, doc.sections, strict=True)
    )
    when = doc.generated_at or datetime.now()
    tex = _ENV.get_template("report.tex.j2").render(
        title=doc.title or "Quartile report",
        author=doc.author,
        date=when.strftime("%d %B %Y, %H:%M"),
        version=doc.quartile_version,
        dataset_name=(doc.dataset or {}).get("name", ""),
        sections=rendered,
        replaced=replaced,
    )
    return tex, assets


def render_report_pdf(doc: ReportDocument, timeout: float = 60) -> bytes:
    tex, assets = build_report_tex(doc)
    return compile_pdf(tex, assets=assets, timeout=timeout)


def _had_replacements(section) -> bool:
    return to_printable(repr(getattr(section, "result", getattr(section, "dataset", ""))))[1]


def _render_section(section, assets: dict[str, bytes]) -> _Rendered:
    renderer = _RENDERERS[type(section)]
    return renderer(section, assets)


def _summary(section: SummarySection, assets) -> _Rendered:
    d = section.dataset
    facts = [
        ("File", d.get("name")),
        ("Format", str(d.get("format", "")).upper()),
        ("Size", f"{d['size']:,} bytes" if isinstance(d.get("size"), int) else None),
        ("SHA-256", d.get("sha256")),
        ("Uploaded", d.get("created")),
        ("Sheets", len(d.get("sheets", []))),
    ]
    rows = [[label, _plain(value)] for label, value in facts]
    body = long_table(["", ""], rows, [False, False], spec="l p{12cm}", text_limit=200)
    sheets = [
        [s.get("name"), s.get("n_rows"), s.get("n_cols"), _index_text(s.get("index"))]
        for s in d.get("sheets", [])
    ]
    body += "\n\\subsection*{Sheets}\n" + long_table(
        ["Sheet", "Rows", "Columns", "Index"], sheets, [False, True, True, False]
    )
    return _Rendered(section.title, Latex(body))


def _plain(value) -> str:
    return "—" if value is None else str(value)


def _index_text(index) -> str:
    if not index:
        return "—"
    return f"{index.get('kind')} {index.get('start')} – {index.get('end')}"


def _cleaning_log(section: CleaningLogSection, assets) -> _Rendered:
    rows = [[e.get("sheet") or "(file)", e.get("step"), e.get("detail")] for e in section.entries]
    table = long_table(
        ["Sheet", "Step", "What was done"],
        rows,
        [False, False, False],
        spec="p{2.8cm} p{2.8cm} p{10.2cm}",
        text_limit=600,
    )
    return _Rendered(section.title, Latex(table))


def _describe(section: DescribeSection, assets) -> _Rendered:
    r = section.result
    columns = r.get("columns", [])
    numeric = [
        c for c in columns if c.get("type", "numeric") == "numeric" and c.get("mean") is not None
    ]
    categorical = [c for c in columns if c not in numeric]
    body = f"{r.get('n_rows', '—')} rows, {len(columns)} columns.\n\n"
    body = escape_latex(body)
    if numeric:
        body += long_table(
            ["Column", "n", "missing", "mean", "std", "min", "median", "max"],
            [
                [
                    c.get("name"),
                    c.get("count"),
                    c.get("missing"),
                    c.get("mean"),
                    c.get("std"),
                    c.get("min"),
                    c.get("median"),
                    c.get("max"),
                ]
                for c in numeric
            ],
            [False] + [True] * 7,
        )
        body += long_table(
            ["Column", "q25", "q75", "skew", "kurtosis"],
            [
                [c.get("name"), c.get("q25"), c.get("q75"), c.get("skew"), c.get("kurtosis")]
                for c in numeric
            ],
            [False] + [True] * 4,
        )
    if categorical:
        body += long_table(
            ["Column", "n", "missing", "unique", "most frequent", "freq"],
            [
                [
                    c.get("name"),
                    c.get("count"),
                    c.get("missing"),
                    c.get("unique"),
                    c.get("top"),
                    c.get("freq"),
                ]
                for c in categorical
            ],
            [False, True, True, True, False, True],
        )
    title = section.title or f"Describe: {r.get('sheet', '')}"
    return _Rendered(title, Latex(body))


def _ols(section: OlsSection, assets) -> _Rendered:
    r = section.result
    lines = [
        ("Formula", r.get("formula")),
        ("Observations", r.get("n")),
        ("R²", r.get("r_squared")),
        ("Adjusted R²", r.get("adj_r_squared")),
        ("F statistic", r.get("f_statistic")),
        ("p-value of F", r.get("f_p_value")),
    ]
    body = long_table(
        ["", ""],
        [[k, v if not isinstance(v, float) else format_number(v)] for k, v in lines],
        [False, False],
    )
    body += long_table(
        ["Term", "Estimate", "Std. error", "t", "p", "95% CI low", "95% CI high"],
        [
            [
                c.get("term"),
                c.get("estimate"),
                c.get("std_error"),
                c.get("t"),
                c.get("p_value"),
                c.get("ci_low"),
                c.get("ci_high"),
            ]
            for c in r.get("coefficients", [])
        ],
        [False] + [True] * 6,
    )
    title = section.title or f"Regression on {r.get('sheet', '')}"
    return _Rendered(title, Latex(body))


def _growth(section: GrowthSection, assets) -> _Rendered:
    r = section.result
    index = r.get("index", [])
    series = r.get("series", {})
    summary = []
    for name, values in series.items():
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        last = next((v for v in reversed(values) if v is not None), None)
        summary.append(
            [
                name,
                last,
                sum(finite) / len(finite) if finite else None,
                min(finite, default=None),
                max(finite, default=None),
            ]
        )
    periods = r.get("periods")
    body = escape_latex(f"Percent change over {periods} period(s).") + "\n\n" if periods else ""
    body += long_table(
        ["Series", "Last", "Mean", "Min", "Max"], summary, [False, True, True, True, True]
    )
    recent = list(range(max(0, len(index) - 8), len(index)))
    names = list(series)[:7]
    body += long_table(
        ["Period", *names],
        [[index[i], *(series[n][i] for n in names)] for i in recent],
        [False] + [True] * len(names),
    )
    title = section.title or f"Growth: {r.get('sheet', '')}"
    return _Rendered(title, Latex(body))


def _test(section: TestSection, assets) -> _Rendered:
    r = section.result
    effect = r.get("effect_size") or {}
    rows = [
        ["Statistic", format_number(r.get("statistic"))],
        ["p-value", format_number(r.get("p_value"))],
    ]
    if effect:
        rows.append([effect.get("name", "Effect size"), format_number(effect.get("value"))])
    body = long_table(["", ""], rows, [False, False])
    if r.get("reading"):
        body += escape_latex(r["reading"]) + "\n"
    title = section.title or f"Test: {r.get('kind', '')}"
    return _Rendered(title, Latex(body))


def _chart(section: ChartSection, assets) -> _Rendered:
    extension = "pdf" if section.image_format == "pdf" else "png"
    name = f"chart-{len(assets) + 1}.{extension}"
    assets[name] = section.image
    body = (
        r"\begin{center}\includegraphics[width=\linewidth,height=0.7\textheight,"
        r"keepaspectratio]{" + name + r"}\end{center}"
    )
    return _Rendered(section.title, Latex(body))


_RENDERERS = {
    SummarySection: _summary,
    CleaningLogSection: _cleaning_log,
    DescribeSection: _describe,
    OlsSection: _ols,
    GrowthSection: _growth,
    TestSection: _test,
    ChartSection: _chart,
}
