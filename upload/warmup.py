"""Imported by each file-parser worker when it starts (pipeline.PRELOAD): pay first-parse costs.

The first CSV a fresh worker parses takes about twice as long as the next (pandas' string and
period machinery, pyarrow's Parquet writer and their caches load on first use). Parsing one
small generated table here, in a temporary directory, moves that cost to the worker's start,
which happens in the background (at start-up, or when a worker is replaced).
"""

import tempfile
from pathlib import Path

from upload.pipeline import parse_file

_SAMPLE = "Quarter,Region,Price,Note\n" + "".join(
    f"{year}Q{q},{region},{100 + year - 2000 + q / 4:.2f},x\n"
    for year in range(2000, 2003) for q in range(1, 5) for region in ("North", "South"))


def warm() -> None:
    with tempfile.TemporaryDirectory(prefix="quartile-warm-") as tmp:
        source = Path(tmp) / "warm.csv"
        source.write_text(_SAMPLE)
        out = Path(tmp) / "out"
        out.mkdir()
        parse_file(source, "warm.csv", out)


warm()
