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


# ...and a table of records without dates (whole numbers, yes/no, categories), which takes
# other paths (no index, booleans, grouped integers) that a first real upload would pay for.
_RECORDS = "Price,Area,Rooms,Road,Furnishing\n" + "".join(
    f"{1_000_000 + 12_345 * n},{3000 + 17 * n},{1 + n % 4},{'yes' if n % 3 else 'no'},"
    f"{('furnished', 'semi-furnished', 'unfurnished')[n % 3]}\n" for n in range(40))


def warm() -> None:
    with tempfile.TemporaryDirectory(prefix="quartile-warm-") as tmp:
        for name, text in (("warm.csv", _SAMPLE), ("records.csv", _RECORDS)):
            source = Path(tmp) / name
            source.write_text(text)
            out = Path(tmp) / f"{name}.out"
            out.mkdir()
            parse_file(source, name, out)


warm()
