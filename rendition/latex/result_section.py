"""A report section for any analysis result: its reading, its tables and its chart.

What a result added to a report from the Analyse page becomes when no dedicated section
(describe, OLS, growth, the time-series kinds) fits it: correlation, group summaries, price
indices, rebasing, CAGR… Tables arrive as plain (caption, headers, rows, numeric flags), so
this module needs no pandas. Registered with `sections.render_section` on import.
"""

from __future__ import annotations

from dataclasses import dataclass

from rendition.latex.fit_section import include_image
from rendition.latex.sections import _RENDERERS, _paragraph
from rendition.latex.tables import long_table

MAX_ROWS = 400  # a longer table is cut, and says so


@dataclass(frozen=True)
class ResultTable:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple, ...]
    numeric: tuple[bool, ...]


@dataclass(frozen=True)
class ResultSection:
    title: str
    tables: tuple[ResultTable, ...] = ()
    reading: str = ""
    chart: bytes | None = None  # PNG


def _result(section: ResultSection, assets: dict[str, bytes]) -> tuple[str, str]:
    body = _paragraph(section.reading) if section.reading else ""
    if section.chart:
        body += include_image(bytes(section.chart), "png", assets, f"Chart of {section.title}")
    for table in section.tables:
        rows = table.rows[:MAX_ROWS]
        caption = table.caption if len(rows) == len(table.rows) else (
            f"{table.caption} (first {MAX_ROWS} of {len(table.rows)} rows)")
        body += long_table(table.headers, rows, table.numeric, caption)
    return section.title, body


_RENDERERS[ResultSection] = _result
