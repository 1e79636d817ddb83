"""Releases for the vintage tests: the two real Dallas Fed workbooks cleaned by Quartile's own
pipeline, their raw cells read independently with python-calamine, and small releases made in code.

`cleaned()` parses each workbook once per test run (about 0.1 s each); `raw_cells()` reads the
workbook's cells without any Quartile code, so a test can check a number the app computed from
the cleaned sheet against the spreadsheet itself.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from analysis.vintages import ReleaseSheet
from upload.pipeline import parse_file, read_sheet

DATA = Path(__file__).resolve().parent / "data"
SHEETS = ("HPI", "RHPI", "PDI", "RPDI")


@cache
def cleaned(workbook: str) -> dict[str, pd.DataFrame]:
    """Every sheet of tests/data/<workbook>.xlsx as Quartile cleans and stores it."""
    with tempfile.TemporaryDirectory() as out:
        parsed = parse_file(DATA / f"{workbook}.xlsx", f"{workbook}.xlsx", out)
        return {s.name: read_sheet(Path(out) / s.parquet) for s in parsed.sheets}


def real_releases(sheet: str = "HPI") -> list[ReleaseSheet]:
    return [ReleaseSheet(book, cleaned(book)[sheet], sheet) for book in ("2011Q2", "2020Q1")]


@cache
def raw_cells(workbook: str, sheet: str) -> dict[tuple[str, str], float]:
    """{("1975Q1", "Australia"): value} from the workbook's cells (header in row 1, quarters
    "1975:Q1" in column A), read with python-calamine alone (openpyxl takes seconds here)."""
    book = CalamineWorkbook.from_path(str(DATA / f"{workbook}.xlsx"))
    name = next(n for n in book.sheet_names if n.strip() == sheet)
    rows = book.get_sheet_by_name(name).to_python()
    header = rows[0]
    out = {}
    for row in rows[1:]:
        if not isinstance(row[0], str) or ":Q" not in row[0]:
            continue
        quarter = row[0].replace(":", "")
        for title, value in zip(header[1:], row[1:], strict=False):
            if title not in (None, "") and isinstance(value, (int, float)) and \
                    not isinstance(value, bool):
                out[(quarter, str(title).strip())] = float(value)
    return out


def quarters(start: str, count: int) -> pd.PeriodIndex:
    return pd.period_range(start, periods=count, freq="Q")


def release(label: str, frame: pd.DataFrame, sheet: str = "HPI") -> ReleaseSheet:
    return ReleaseSheet(label, frame, sheet)


def made_releases(count: int = 6, seed: int = 7) -> tuple[list[ReleaseSheet], dict]:
    """`count` quarterly releases of three series made in code, with what was done to them.

    Release k ends 20 + k quarters after 2000Q1; each release revises the last five quarters
    by up to a few percent; from release 2 "US" is called "U.S."; from release 4 (when there is
    one) "Spain" is rescaled by 100 / its 2003Q1 value (a new base year).
    """
    rng = np.random.default_rng(seed)
    truth = pd.DataFrame({"US": np.linspace(80, 140, 40), "Spain": np.linspace(50, 90, 40),
                          "Japan": np.linspace(120, 100, 40)}, index=quarters("2000Q1", 40))
    releases = []
    current = truth.iloc[:20].copy()
    for k in range(count):
        end = 20 + k
        frame = truth.iloc[:end + 1].copy()
        frame.iloc[: len(current)] = current.to_numpy()
        frame.iloc[-5:] = frame.iloc[-5:] * (1 + rng.normal(0, 0.01, (5, 3)))
        current = frame.copy()
        shown = frame.copy()
        if k >= 2:
            shown = shown.rename(columns={"US": "U.S."})
        releases.append(shown)
    factor = 100 / releases[4]["Spain"].loc[pd.Period("2003Q1", "Q")] if count > 4 else None
    for k in range(4, count):
        releases[k] = releases[k].assign(Spain=releases[k]["Spain"] * factor)
    labels = [str(f.index[-1]) for f in releases]
    return [release(lab, f) for lab, f in zip(labels, releases, strict=True)], {"factor": factor}
