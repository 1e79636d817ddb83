"""Tables for reports, built with pylatex: booktabs rules, long tables, numbers aligned.

Cell text goes to pylatex as plain strings, which pylatex escapes; it is first made printable
(`to_printable`). `NoEscape` wraps only our own rules and commands, never a cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pylatex import LongTable, NoEscape

from rendition.latex.escape import shorten, to_printable

MAX_COLUMNS = 8
NAME_LIMIT = 40
MISSING = "—"


def format_number(value: object, digits: int = 4) -> str:
    """Readable numbers: thousands separators, `digits` significant digits, — for missing."""
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if value == 0:
            return "0"
        magnitude = abs(value)
        if magnitude >= 1e9 or magnitude < 1e-4:
            return f"{value:.{digits - 1}e}"
        decimals = max(0, digits - 1 - int(math.floor(math.log10(magnitude))))
        return f"{value:,.{decimals}f}"
    return cell_text(value)


def cell_text(value: object, limit: int = NAME_LIMIT) -> str:
    text, _ = to_printable(MISSING if value is None else str(value))
    return shorten(text, limit)


def long_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    numeric: Sequence[bool] | None = None,
    caption: str | None = None,
    spec: str | None = None,
    text_limit: int = NAME_LIMIT,
) -> str:
    """A `longtable` that breaks across pages, repeating its header; returns LaTeX source.

    More than MAX_COLUMNS columns are split into several tables that repeat the first column.
    """
    numeric = list(numeric) if numeric is not None else [False] * len(headers)
    if len(headers) > MAX_COLUMNS:
        parts = []
        for start in range(1, len(headers), MAX_COLUMNS - 1):
            keep = [0, *range(start, min(start + MAX_COLUMNS - 1, len(headers)))]
            parts.append(
                long_table(
                    [headers[i] for i in keep],
                    [[row[i] for i in keep] for row in rows],
                    [numeric[i] for i in keep],
                    caption,
                    text_limit=text_limit,
                )
            )
        return "\n".join(parts)
    spec = spec or " ".join("r" if n else "l" for n in numeric)
    table = LongTable(spec)
    header_cells = [cell_text(h, 24) for h in headers]
    table.append(NoEscape(r"\toprule"))
    table.add_row(header_cells)
    table.append(NoEscape(r"\midrule"))
    table.end_table_header()
    table.append(NoEscape(r"\midrule"))
    table.append(
        NoEscape(
            rf"\multicolumn{{{len(headers)}}}{{r}}{{\footnotesize\itshape continued on the next "
            r"page}\\"
        )
    )
    table.end_table_footer()
    table.append(NoEscape(r"\bottomrule"))
    table.end_table_last_footer()
    for row in rows:
        table.add_row(
            [
                format_number(v) if n else cell_text(v, text_limit)
                for v, n in zip(row, numeric, strict=True)
            ]
        )
    body = table.dumps()
    prefix = r"{\small\setlength{\tabcolsep}{4pt}" + "\n"
    return prefix + body + "\n}\n"
