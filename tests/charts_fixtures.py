"""Frames shaped like the ingestion layer's output, built from the real test files.

The Dallas Fed sheets get a quarterly PeriodIndex from column A ("1975:Q1"), wholly blank rows
and columns dropped, and stripped column names (2011Q2's sheet 'HPI ' becomes "HPI").
Read independently of rendition/, so tests can compare plotted values with these cells.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
WORKBOOKS = ("2020Q1", "2011Q2")
DALLAS_SHEETS = ("HPI", "RHPI", "PDI", "RPDI")


@cache
def dallas_sheet(workbook: str, sheet: str) -> pd.DataFrame:
    """One cleaned Dallas Fed sheet; `sheet` is the cleaned name ("HPI" also finds 'HPI ')."""
    path = DATA / f"{workbook}.xlsx"
    with pd.ExcelFile(path, engine="calamine") as book:
        raw_name = next(n for n in book.sheet_names if n.strip() == sheet)
        raw = pd.read_excel(book, sheet_name=raw_name, header=0)
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    raw.columns = [str(c).strip() for c in raw.columns]
    quarters = raw.iloc[:, 0].astype(str).str.replace(":", "", regex=False)
    frame = raw.iloc[:, 1:].copy()
    frame.index = pd.PeriodIndex(quarters.to_numpy(), freq="Q")
    return frame


@cache
def dallas_frames(workbook: str) -> dict[str, pd.DataFrame]:
    return {sheet: dallas_sheet(workbook, sheet) for sheet in DALLAS_SHEETS}


@cache
def housing() -> pd.DataFrame:
    return pd.read_csv(DATA / "HousingPreferences.csv")


def housing_frames() -> dict[str, pd.DataFrame]:
    """The CSV as a one-sheet dataset; the sheet is named after the file, as uploads are."""
    return {"HousingPreferences": housing()}


def frames_for(dataset: str) -> dict[str, pd.DataFrame]:
    return housing_frames() if dataset == "housing" else dallas_frames(dataset)


_COUNTRIES = ["Australia", "Canada", "US", "UK", "Spain", "Japan"]
_H = "HousingPreferences"

# Each kind on each file where it makes sense: (dataset, spec body). Ids name them in reports.
KIND_CASES: list[tuple[str, dict]] = [
    *[
        case
        for book in WORKBOOKS
        for case in [
            (book, {"kind": "line", "sheet": "HPI", "y": _COUNTRIES[:3]}),
            (book, {"kind": "line", "sheet": "RPDI", "y": ["US"],
                    "options": {"log_y": True, "start": "1990Q1", "end": "2009Q4"}}),
            (book, {"kind": "bar", "sheet": "HPI", "y": ["Australia", "US"],
                    "options": {"start": "2008Q1"}}),
            (book, {"kind": "scatter", "sheet": "HPI", "x": "Australia", "y": ["US"]}),
            (book, {"kind": "hist", "sheet": "PDI", "y": ["Australia", "US"]}),
            (book, {"kind": "box", "sheet": "HPI", "y": _COUNTRIES[:4]}),
            (book, {"kind": "heatmap", "sheet": "RHPI", "y": _COUNTRIES}),
            (book, {"kind": "small_multiples", "sheet": "HPI", "y": _COUNTRIES[:4]}),
            (book, {"kind": "compare_sheets", "sheet": "HPI", "sheets": ["RHPI"],
                    "y": ["Australia", "US"]}),
        ]
    ],
    ("housing", {"kind": "line", "sheet": _H, "y": ["Price"]}),
    ("housing", {"kind": "line", "sheet": _H, "x": "Area", "y": ["Price"]}),
    ("housing", {"kind": "bar", "sheet": _H, "x": "FurnishingStatus", "y": ["Price"],
                 "options": {"agg": "mean"}}),
    ("housing", {"kind": "bar", "sheet": _H, "x": "Bedrooms"}),
    ("housing", {"kind": "pie", "sheet": _H, "x": "FurnishingStatus"}),
    ("housing", {"kind": "pie", "sheet": _H, "group": "FurnishingStatus", "y": ["Price"]}),
    ("housing", {"kind": "scatter", "sheet": _H, "x": "Area", "y": ["Price"]}),
    ("housing", {"kind": "hist", "sheet": _H, "y": ["Price"], "options": {"bins": 30}}),
    ("housing", {"kind": "box", "sheet": _H, "group": "FurnishingStatus", "y": ["Price"]}),
    ("housing", {"kind": "box", "sheet": _H, "group": "Stories", "y": ["Price", "Area"]}),
    ("housing", {"kind": "heatmap", "sheet": _H,
                 "y": ["Price", "Area", "Bedrooms", "Bathrooms", "Stories", "Parking"]}),
    ("housing", {"kind": "small_multiples", "sheet": _H, "x": "Area",
                 "y": ["Price", "Bedrooms", "Parking"]}),
]


def case_id(case: tuple[str, dict]) -> str:
    dataset, body = case
    extra = "-log" if body.get("options", {}).get("log_y") else ""
    extra += "-x" if body.get("x") else ""
    extra += "-grp" if body.get("group") else ""
    return f"{dataset}-{body['kind']}{extra}"


# Column names that are markup in some renderer; they must be drawn as typed.
HOSTILE = ("<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>")


def hostile_frames() -> dict[str, pd.DataFrame]:
    """A sheet whose name, columns and category values are hostile text."""
    rng = np.random.default_rng(7)
    n = 120
    img, script = HOSTILE
    frame = pd.DataFrame(
        {
            img: rng.normal(10, 2, n),
            script: rng.normal(5, 1, n),
            "Price ($) & <b>tax</b> $x$": rng.uniform(1, 3, n),
            "kind": rng.choice([img, script, "_hidden", "a & b"], n),
        },
        index=pd.period_range("1990Q1", periods=n, freq="Q"),
    )
    return {script: frame}


HOSTILE_CASES: list[dict] = [
    {"kind": "line", "y": [*HOSTILE], "options": {"title": HOSTILE[0]}},
    {"kind": "compare_sheets", "sheets": ["copy " + HOSTILE[0]], "y": [HOSTILE[1]]},
    {"kind": "bar", "x": "kind", "y": [*HOSTILE]},
    {"kind": "pie", "x": "kind"},
    {"kind": "scatter", "x": HOSTILE[0], "y": [HOSTILE[1]]},
    {"kind": "hist", "y": [*HOSTILE]},
    {"kind": "box", "group": "kind", "y": [*HOSTILE]},
    {"kind": "heatmap", "y": [*HOSTILE, "Price ($) & <b>tax</b> $x$"]},
    {"kind": "small_multiples", "y": [*HOSTILE]},
]


def hostile_case(body: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    frames = hostile_frames()
    sheet = HOSTILE[1]
    copy = frames[sheet].copy()
    copy[HOSTILE[1]] = copy[HOSTILE[1]] * 1.5
    frames["copy " + HOSTILE[0]] = copy
    return {**body, "sheet": sheet}, frames
