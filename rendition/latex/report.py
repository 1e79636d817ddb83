"""A report document → LaTeX source (+ image files) → PDF.

The layout is a Jinja2 template (`templates/latex/report.tex.j2`) with LaTeX-friendly
delimiters: `\\VAR{...}`, `\\BLOCK{...}`, `\\#{...}`, line statements `%%`. Autoescape is off
(it is HTML's), but the environment's `finalize` escapes every printed value that is not
`Latex` — text our own code wrote — so forgetting a filter cannot inject. `|e` is the LaTeX
escape (never HTML's), and `|safe` gives no way around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2

from rendition.latex.aux_seeds import AuxSeeds
from rendition.latex.compile import compile_pdf
from rendition.latex.escape import Latex, breakable, escape_latex, replacement_counter, shorten
from rendition.latex.formats import FormatCache
from rendition.latex.sections import (
    ChartSection,
    CleaningLogSection,
    DescribeSection,
    GrowthSection,
    OlsSection,
    Rendered,
    SummarySection,
    TestSection,
    render_section,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "latex"
TOC_FROM = 3  # sections; shorter reports need no table of contents

__all__ = [
    "ChartSection",
    "CleaningLogSection",
    "DescribeSection",
    "GrowthSection",
    "OlsSection",
    "ReportDocument",
    "SummarySection",
    "TestSection",
    "build_report_tex",
    "prepare_report_format",
    "render_report_pdf",
]


def _finalize(value: object) -> str:
    """Runs on every `\\VAR{}`: our own LaTeX passes, anything else is escaped."""
    return value if isinstance(value, Latex) else escape_latex(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
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
        keep_trailing_newline=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(e=escape_latex, escape=escape_latex, wrap=breakable)
    return env


ENVIRONMENT = _environment()


@dataclass(frozen=True)
class ReportDocument:
    """Everything a report shows. `sections` are the dataclasses of `rendition.latex.sections`;
    `toc=None` adds a table of contents from TOC_FROM sections on."""

    title: str
    author: str = ""
    generated_at: datetime | None = None
    quartile_version: str = ""
    dataset: dict | None = None
    sections: list = field(default_factory=list)
    toc: bool | None = None


def build_report_tex(doc: ReportDocument) -> tuple[str, dict[str, bytes]]:
    """The .tex source and the files it includes (chart images under generated safe names)."""
    assets: dict[str, bytes] = {}
    with replacement_counter() as replaced:
        rendered = [render_section(section, assets) for section in doc.sections]
        context = _context(doc, rendered)
    context["replaced"] = replaced[0] > 0
    tex = ENVIRONMENT.get_template("report.tex.j2").render(context)
    return tex, assets


def render_report_pdf(doc: ReportDocument, timeout: float = 60,
                      formats: FormatCache | None = None, namespace: str | None = None,
                      standby: bool = False) -> bytes:
    """Build and typeset, loading the template's preamble from `formats` when given (built
    there on first use). The footer's "Page X of Y" takes a second pass, so the first one is a
    draft; with a `namespace` (the report owner's: seeds are never shared between owners) and
    `formats`, a report of a shape built before usually takes one pass, from the .aux files
    that build left beside the formats; with `standby`, that pass runs in a pdflatex this
    process started ahead (one is kept waiting for the next report)."""
    tex, assets = build_report_tex(doc)
    seeds = AuxSeeds.beside(formats, namespace) \
        if formats is not None and namespace is not None else None
    return compile_pdf(tex, assets=assets, timeout=timeout, formats=formats, draft_first=True,
                       seeds=seeds, standby=standby)


def prepare_report_format(formats: FormatCache) -> Path | None:
    """Build the template's format now (start-up calls it, so no report waits for it);
    None when there can be none."""
    tex, _ = build_report_tex(ReportDocument(title="Quartile"))
    return formats.format_for(tex)


def _context(doc: ReportDocument, rendered: list[Rendered]) -> dict:
    title = str(doc.title or "").strip() or "Quartile report"
    dataset = doc.dataset if isinstance(doc.dataset, dict) else None
    when = doc.generated_at or datetime.now().astimezone()
    return {
        "title": breakable(shorten(title, 300)),
        "short_title": escape_latex(shorten(title, 70)),
        "author": breakable(shorten(doc.author or "", 200)),
        "date": escape_latex(_date_text(when)),
        "version": escape_latex(doc.quartile_version or "(development)"),
        "dataset": None
        if dataset is None
        else {
            "name": breakable(shorten(dataset.get("name") or "(unnamed)", 300)),
            "sha256": escape_latex(shorten(dataset.get("sha256") or "", 64)),
        },
        "toc": doc.toc if doc.toc is not None else len(rendered) >= TOC_FROM,
        "sections": rendered,
    }


def _date_text(when: datetime) -> str:
    text = f"{when.day} {when:%B %Y, %H:%M}"
    zone = when.tzname()
    return f"{text} {zone}" if zone else text
