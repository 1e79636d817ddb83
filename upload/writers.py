"""Every table the app writes for download: a cleaned sheet as CSV, XLSX or Parquet, and an
analysis' tables as CSV or Markdown. One neutralisation for all of them.

CSV and XLSX are opened by spreadsheet programs, which run a cell that starts with = + - @ (or
a tab or carriage return) as a formula: such text cells, and column names, get a leading
apostrophe (OWASP's advice against formula injection). Numbers are never touched, nor text
that is only a number ("-1.5"), which a spreadsheet reads as that number and nothing else.
XLSX cells are written as strings explicitly, so nothing user-given ever becomes a formula or
a link.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from errors import Unprocessable
from rendition.latex.tables import format_number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) \
            and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns with text cells and column names neutralised (numbers untouched)."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
            column = column.map(neutralise_text, na_action="ignore")
        out[neutralise_text(str(name))] = column
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its index as the first column (periods as text) and text neutralised."""
    table = frame
    if not isinstance(frame.index, pd.RangeIndex):
        index = frame.index
        if isinstance(index, pd.PeriodIndex):
            index = index.astype(str)
        table = frame.set_axis(index, axis=0).reset_index()
    return neutralised(table)


def export_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row; the index (if any) is the first column."""
    return _table(frame).to_csv(index=False).encode("utf-8")


def export_xlsx(frame: pd.DataFrame, provenance: list[tuple[str, str]] | None = None) -> bytes:
    """An XLSX workbook with a sheet named "data" (and "provenance": item, value rows)."""
    if len(frame) + 1 > XLSX_MAX_ROWS:
        raise Unprocessable(
            f"The sheet has {len(frame):,} rows; an XLSX sheet holds at most "
            f"{XLSX_MAX_ROWS - 1:,}. Download it as CSV or Parquet instead.",
            code="too_many_rows",
        )
    table = _table(frame)
    out = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False, "nan_inf_to_errors": False}
    with pd.ExcelWriter(out, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        clean = table.replace([np.inf, -np.inf], np.nan)
        clean.to_excel(writer, index=False, sheet_name="data")
        if provenance:
            pd.DataFrame(provenance, columns=["item", "value"]).astype(str).to_excel(
                writer, index=False, sheet_name="provenance")
    return out.getvalue()


def export_parquet(frame: pd.DataFrame) -> bytes:
    """The cleaned frame as stored (index and dtypes preserved)."""
    out = io.BytesIO()
    frame.to_parquet(out, engine="pyarrow")
    return out.getvalue()


# -- several titled tables (an analysis' result) ----------------------------------------------
Tables = list[tuple[str, pd.DataFrame]]


def _title(text: str) -> str:
    return " ".join(str(text).split())  # one line: a title never starts a row of its own


def export_tables_csv(tables: Tables) -> bytes:
    """Each table under a `# title` line, separated by a blank line; the index is dropped."""
    out = io.StringIO()
    for number, (title, frame) in enumerate(tables):
        if number:
            out.write("\n")
        out.write(f"# {_title(title)}\n")
        neutralised(frame).to_csv(out, index=False)
    return out.getvalue().encode("utf-8")


def export_tables_markdown(tables: Tables) -> bytes:
    """Each table as a GitHub-flavoured Markdown table under a `###` heading."""
    return "\n".join(f"### {_title(title)}\n\n{markdown_table(frame)}\n"
                     for title, frame in tables).encode("utf-8")


def markdown_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        text = format_number(value) if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    table = neutralised(frame)
    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
