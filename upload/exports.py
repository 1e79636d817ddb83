"""Send a table as a download: a cleaned sheet, or an analysis' tables. The byte formats (and
their formula neutralisation) live in upload.writers; this is the one way out for both."""

from __future__ import annotations

import json
import re
from io import BytesIO

import pandas as pd
from flask import send_file

from upload.pipeline import export_csv, export_parquet, export_xlsx
from upload.writers import Tables, export_tables_csv, export_tables_markdown

MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
_WRITERS = {"csv": export_csv, "xlsx": export_xlsx, "parquet": export_parquet}
TABLE_MIMETYPES = {"csv": "text/csv", "md": "text/markdown"}
_TABLE_WRITERS = {"csv": export_tables_csv, "md": export_tables_markdown}


def send_frame(frame: pd.DataFrame, stem: str, fmt: str, provenance: dict | None = None):
    """The sheet as a download. Its provenance (flat {item: value}) travels in the
    X-Quartile-Provenance header (ASCII JSON) and, in an XLSX, as a "provenance" sheet."""
    if fmt == "xlsx" and provenance:
        data = export_xlsx(frame, [(k, "" if v is None else str(v))
                                   for k, v in provenance.items()])
    else:
        data = _WRITERS[fmt](frame)
    response = send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=f"{download_stem(stem)}.{fmt}",
        mimetype=MIMETYPES[fmt],
    )
    if provenance:
        response.headers["X-Quartile-Provenance"] = json.dumps(provenance, ensure_ascii=True)
    return response


def send_tables(tables: Tables, stem: str, fmt: str):
    """Several titled tables (an analysis' result) as one CSV or Markdown download."""
    return send_file(
        BytesIO(_TABLE_WRITERS[fmt](tables)),
        as_attachment=True,
        download_name=f"{download_stem(stem)}.{fmt}",
        mimetype=TABLE_MIMETYPES[fmt],
    )


def download_stem(text: str) -> str:
    """A file name that is safe on every system, from user-given names."""
    stem = re.sub(r"[^\w\-. ]+", "_", text, flags=re.UNICODE).strip(" ._")
    return stem[:120] or "sheet"
