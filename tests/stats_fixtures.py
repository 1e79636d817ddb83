"""Frames for the statistics tests, built from the real files in tests/data/ the way the
ingestion layer hands them to `analysis/` (see the input contract in issue 6)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"


@cache
def _dallas_sheets(name: str) -> dict[str, pd.DataFrame]:
    raw = pd.read_excel(DATA / name, sheet_name=None, header=0, engine="calamine")
    out = {}
    for sheet, frame in raw.items():
        if sheet == "Note":
            continue
        frame = frame.dropna(how="all").dropna(axis=1, how="all")
        index = pd.PeriodIndex(frame.iloc[:, 0].str.replace(":", ""), freq="Q")
        body = frame.iloc[:, 1:].astype("float64")
        body.index = index
        body.columns = [str(c).strip() for c in body.columns]
        out[sheet] = body
    return out


def dallas(sheet: str = "HPI", name: str = "2020Q1.xlsx") -> pd.DataFrame:
    """One sheet of a Dallas Fed workbook: PeriodIndex of quarters, one float column per country."""
    return _dallas_sheets(name)[sheet].copy()


def dallas_workbook(name: str = "2020Q1.xlsx") -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in _dallas_sheets(name).items()}


@cache
def _housing() -> pd.DataFrame:
    return pd.read_csv(DATA / "HousingPreferences.csv")


def housing() -> pd.DataFrame:
    """HousingPreferences.csv: Price, Area, Bedrooms, ... FurnishingStatus (545 rows)."""
    return _housing().copy()


@cache
def _case_shiller() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "CSUSHPINSA.csv")
    frame = raw[["CSUSHPINSA"]].astype("float64")
    frame.index = pd.DatetimeIndex(pd.to_datetime(raw["DATE"], format="%Y-%m-%d"), name=None)
    return frame


def case_shiller() -> pd.DataFrame:
    """CSUSHPINSA.csv (S&P/Case-Shiller US national index, Jan 2000 = 100): a DatetimeIndex of
    first-of-month dates, the shape the ingestion layer gives a sheet with real dates."""
    return _case_shiller().copy()
