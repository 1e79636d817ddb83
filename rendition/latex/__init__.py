"""LaTeX reports: escaping, pylatex tables, a Jinja2 layout and a hardened pdflatex run."""

from rendition.latex.compile import compile_pdf
from rendition.latex.escape import escape_latex
from rendition.latex.report import (
    ChartSection,
    CleaningLogSection,
    DescribeSection,
    GrowthSection,
    OlsSection,
    ReportDocument,
    SummarySection,
    TestSection,
    build_report_tex,
    render_report_pdf,
)

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
    "compile_pdf",
    "escape_latex",
    "render_report_pdf",
]
