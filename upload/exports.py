"""Send a cleaned sheet as a download; the byte formats themselves live in upload.pipeline."""

from __future__ import annotations

import re
from io import BytesIO

import pandas as pd
from flask import send_file

from upload.pipeline import export_csv, export_parquet, export_xlsx

MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
_WRITERS = {"csv": export_csv, "xlsx": export_xlsx, "parquet": export_parquet}


def send_frame(frame: pd.DataFrame, stem: str, fmt: str):
    data = _WRITERS[fmt](frame)
    return send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=f"{download_stem(stem)}.{fmt}",
        mimetype=MIMETYPES[fmt],
    )


def download_stem(text: str) -> str:
    """A file name that is safe on every system, from user-given names."""
    stem = re.sub(r"[^\w\-. ]+", "_", text, flags=re.UNICODE).strip(" ._")
    return stem[:120] or "sheet"
