"""LaTeX reports: escaping, pylatex tables, a Jinja2 layout and a hardened pdflatex run.

The web layer builds a `ReportDocument` from computed results and calls `render_report_pdf`
(or `build_report_tex` + `compile_pdf`), with a `FormatCache` directory so that the fixed
preamble is loaded precompiled. Nothing here imports Flask.
"""

from rendition.latex.compile import compile_pdf
from rendition.latex.escape import escape_latex
from rendition.latex.fit_section import FitSection
from rendition.latex.formats import FormatCache
from rendition.latex.report import (
    ReportDocument,
    build_report_tex,
    prepare_report_format,
    render_report_pdf,
)
from rendition.latex.result_section import ResultSection, ResultTable
from rendition.latex.sections import (
    ChangesSection,
    ChartSection,
    CleaningLogSection,
    DescribeSection,
    GrowthSection,
    OlsSection,
    ProvenanceSection,
    SummarySection,
    TestSection,
)
from rendition.latex.timeseries_sections import TimeSeriesSection

__all__ = [
    "ChangesSection",
    "ChartSection",
    "CleaningLogSection",
    "DescribeSection",
    "FitSection",
    "FormatCache",
    "GrowthSection",
    "OlsSection",
    "ProvenanceSection",
    "ReportDocument",
    "ResultSection",
    "ResultTable",
    "SummarySection",
    "TestSection",
    "TimeSeriesSection",
    "build_report_tex",
    "compile_pdf",
    "escape_latex",
    "prepare_report_format",
    "render_report_pdf",
]
