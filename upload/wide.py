"""Wide time series turned into columns over a period index, beside the sheet as uploaded.

Zillow, the OECD and many statistics offices publish one row per series (a state, a country)
and one column per period ("2000-01-31", "2001", "Q1 2020"). Growth, CAGR, rolling means and
line charts all want the opposite: one column per series over a period index. `turn_wide`
recognises the layout and builds that second table; the pipeline stores it as an extra sheet
named "<sheet> by <period>", so the sheet as uploaded stays exactly as it was.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from upload.clean import CleanSheet
from upload.cleaning_log import CleaningLog, plural, quote_list
from upload.naming import MAX_NAME, tidy_text
from upload.periods import STR, index_freq, looks_like_period, parse_labels, regular_periods

MIN_PERIOD_COLUMNS = 8  # fewer is a table with a few dated columns, not a time series
MAX_SERIES = 2000  # rows that would become columns; more is not a set of series to chart
_LABEL_WORD = re.compile(
    r"name|region|country|state|area|geo|series|city|county|nation|location|market|metro",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\d{4}")
_BULLETS = re.compile(r"^[\s\u00b7\u2022\u2023\u2043\u2013\u2014*-]+")
_UNITS = {"M": "month", "Q-DEC": "quarter", "Y-DEC": "year"}


def turn_wide(sheet: str, cleaned: CleanSheet, log: CleaningLog) -> tuple[str, CleanSheet] | None:
    """(suffix, turned sheet) when `cleaned` is a wide time series, else None.

    Wide means: no period index, at least MIN_PERIOD_COLUMNS numeric columns whose names are
    periods or dates of one kind (and at least half of all columns), and a text column naming
    each row uniquely, which names the turned columns.
    """
    frame = cleaned.frame
    if cleaned.index is not None or not 1 <= len(frame) <= MAX_SERIES:
        return None
    periods = [c for c in frame.columns
               if _period_name(str(c)) and pd.api.types.is_numeric_dtype(frame[c])]
    if len(periods) < max(MIN_PERIOD_COLUMNS, frame.shape[1] / 2):
        return None
    index, form = _period_index(periods)
    if index is None:
        return None
    empty = frame[periods].isna().all(axis=1)  # a second header row, a blank series
    frame = frame[~empty]
    label = _label_column(frame, periods)
    if label is None or frame.empty:
        return None
    names = _series_names(frame[label])
    if names is None:
        return None
    values = frame[periods].to_numpy(dtype="float64", na_value=np.nan)  # series × periods
    unit, turned = period_table(values.T, index, names, originals=names)
    start, end = turned.index["start"], turned.index["end"]
    others = [c for c in frame.columns if c not in periods and c != label]
    detail = (f"Each row is a series named in column {label!r} and "
              f"{plural(len(periods), 'column')} are {form}. The sheet {sheet + ' by ' + unit!r} "
              f"holds the same numbers turned: one column per series ({len(names):,}, named "
              f"from column {label!r}) over a {unit} index from {start} to {end}, as "
              "time-series analyses and charts expect.")
    if others:
        detail += f" The other columns ({quote_list(others, 6)}) stay in {sheet!r} only."
    if empty.any():
        count = int(empty.sum())
        detail += (f" {plural(count, 'row')} without a number "
                   f"({quote_list(cleaned.frame.loc[empty, label].head(6), 6)}) "
                   f"{'is' if count == 1 else 'are'} left out.")
    log.add(sheet, "wide table", detail)
    return f" by {unit}", turned


def period_table(values: np.ndarray, index: pd.Index, names: list[str],
                 originals: list[str | None]) -> tuple[str, CleanSheet]:
    """(unit, sheet): `values` (periods × series) as float columns `names` over `index`,
    sorted, with the index metadata the store keeps; the unit ("quarter", "month", "year",
    "date") names the sheet "<sheet> by <unit>"."""
    kind = "year" if isinstance(index, pd.PeriodIndex) and index.freqstr == "Y-DEC" else (
        "period" if isinstance(index, pd.PeriodIndex) else "datetime")
    index_name = {"period": "period", "year": "year", "datetime": "date"}[kind]
    turned = pd.DataFrame(values, index=index.rename(index_name), columns=names).sort_index()
    unit = _UNITS.get(turned.index.freqstr, "date") if kind != "datetime" else "date"
    start, end = str(turned.index[0]), str(turned.index[-1])
    if kind == "datetime":
        start, end = (turned.index[0].date().isoformat(), turned.index[-1].date().isoformat())
    columns = [{"name": n, "original": o, "dtype": "float64"}
               for n, o in zip(names, originals, strict=True)]
    meta = {"name": index_name, "kind": kind, "freq": index_freq(turned.index), "start": start,
            "end": end}
    return unit, CleanSheet(turned, columns, meta)


def _period_name(name: str) -> bool:
    """A period or date label; bare years too (the layout detector leaves those to numbers)."""
    name = name.strip()
    return looks_like_period(name) or bool(_YEAR.fullmatch(name)) and 1800 <= int(name) <= 2200


def _series_names(labels: pd.Series) -> list[str] | None:
    """The row labels as column names, without list bullets and indents ("·  Russia")."""
    raw = [tidy_text(n)[:MAX_NAME].rstrip() for n in labels.astype(str)]
    clean = [_BULLETS.sub("", n).strip() or n for n in raw]
    for names in (clean, raw):
        if len(set(names)) == len(names):
            return names
    return None  # unique only beyond MAX_NAME characters


def _period_index(names: list[str]) -> tuple[pd.Index | None, str]:
    labels = parse_labels(pd.Series(names, dtype=STR))
    if labels is None:
        return None, ""
    index, form = labels.index, labels.form
    if labels.kind == "datetime":
        regular = regular_periods(pd.DatetimeIndex(index))
        if regular is not None:
            index, form = regular.index, f"{form}, that is {regular.form}"
    if index.isna().any() or index.has_duplicates:
        return None, ""
    return index, form


def _label_column(frame: pd.DataFrame, periods: list[str]) -> str | None:
    """The text column naming each row: filled, unique, preferably called like a name."""
    candidates = []
    for column in frame.columns:
        if column in periods or not pd.api.types.is_string_dtype(frame[column].dtype):
            continue
        values = frame[column].astype(str).str.strip()
        if frame[column].isna().any() or (values == "").any() or values.duplicated().any():
            continue
        candidates.append(column)
    named = [c for c in candidates if _LABEL_WORD.search(str(c))]
    return (named or candidates or [None])[0]
