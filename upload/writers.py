"""A cleaned sheet as downloadable bytes: CSV, XLSX or Parquet.

CSV and XLSX are opened by spreadsheet programs, which run a cell that starts with = + - @ (or
a tab or carriage return) as a formula: such text cells, and column names, get a leading
apostrophe (OWASP's advice against formula injection). Numbers are never touched. XLSX cells
are written as strings explicitly, so nothing user-given ever becomes a formula or a link.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from errors import Unprocessable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576


def neutralise_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its index as the first column (periods as text) and text neutralised."""
    table = frame
    if not isinstance(frame.index, pd.RangeIndex):
        index = frame.index
        if isinstance(index, pd.PeriodIndex):
            index = index.astype(str)
        table = frame.set_axis(index, axis=0).reset_index()
    out = {}
    for name in table.columns:
        column = table[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
            column = column.map(neutralise_text, na_action="ignore")
        out[neutralise_text(str(name))] = column
    return pd.DataFrame(out, index=pd.RangeIndex(len(table)))


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
