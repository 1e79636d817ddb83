"""Period and date labels: "1975:Q1", "Q4 1952", "2025QIII", "2020-03", "Jan 2020", years, dates.

`parse_labels` turns a column of such labels into a PeriodIndex (quarterly, monthly, yearly) or
a DatetimeIndex, or says it cannot; `regular_periods` turns real dates that fall on month or
quarter ends (or starts) into periods, because that is what they mean ("2018-12-31" in a
quarterly series is 2018Q4). Financial years ("2001-02") are recognised and left alone: they are
not calendar periods, and reading "2001-02" as February 2001 would be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from upload.cleaning_log import CleaningLog, plural

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str" dtype

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("JAN", "JANUARY"),
            ("FEB", "FEBRUARY"),
            ("MAR", "MARCH"),
            ("APR", "APRIL"),
            ("MAY",),
            ("JUN", "JUNE"),
            ("JUL", "JULY"),
            ("AUG", "AUGUST"),
            ("SEP", "SEPT", "SEPTEMBER"),
            ("OCT", "OCTOBER"),
            ("NOV", "NOVEMBER"),
            ("DEC", "DECEMBER"),
        ],
        start=1,
    )
    for name in names
}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
_SEP = r"\s*[:\-/_ .]?\s*"
# (family, pattern, how to read the groups) — tried in order on upper-cased, stripped text.
SAMPLE = 8  # labels tried with plain `re` before a pattern is run over a whole column
_PATTERNS = [
    ("Q", re.compile(rf"^(\d{{4}}){_SEP}Q([1-4])$"), "yq"),
    ("Q", re.compile(rf"^Q([1-4]){_SEP}(\d{{4}})$"), "qy"),
    ("Q", re.compile(r"^([1-4])Q\s*(\d{4})$"), "qy"),
    ("Q", re.compile(rf"^(\d{{4}}){_SEP}Q(IV|I{{1,3}})$"), "yq_roman"),
    ("Q", re.compile(rf"^(\d{{4}}){_SEP}T([1-4])$"), "yq"),
    ("M", re.compile(r"^(\d{4})\s*M(\d{1,2})$"), "ym"),
    ("M", re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "ym"),
    ("M", re.compile(r"^(\d{1,2})[-/.](\d{4})$"), "my"),
    ("M", re.compile(r"^([A-Z]{3,9})\.?[\s\-']*(\d{4})$"), "namey"),
    ("M", re.compile(r"^(\d{4})[\s\-]*([A-Z]{3,9})$"), "yname"),
    (
        "D",
        re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)$"),
        "iso",
    ),
    ("D", re.compile(r"^(\d{4}/\d{1,2}/\d{1,2})$"), "iso"),
    ("D", re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"), "dmy_or_mdy"),
    ("Y", re.compile(r"^(\d{4})$"), "y"),
]
_FINANCIAL_YEAR = re.compile(r"^(\d{4})[-/](\d{2})$")
_QUICK = re.compile(
    r"^(?:\d{4}\s*[:\-/_ .]?\s*(?:Q[1-4]|Q(?:IV|I{1,3})|T[1-4]|M\d{1,2}|\d{1,2})"
    r"|Q[1-4]\s*[:\-/_ .]?\s*\d{4}|[1-4]Q\s*\d{4}|\d{1,2}[-/.]\d{4}"
    r"|[A-Z]{3,9}\.?[\s\-']*\d{4}|\d{4}[\s\-]*[A-Z]{3,9}"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:[T ][\d:.]+)?|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4})$",
    re.IGNORECASE,
)


def looks_like_period(text: str) -> bool:
    """A quick test for the layout detector (month names are checked, not just shaped)."""
    text = text.strip()
    if not _QUICK.match(text):
        return False
    words = re.findall(r"[A-Za-z]{3,}", text)
    return all(w.upper() in MONTHS for w in words)


def looks_like_financial_year(text: str) -> bool:
    match = _FINANCIAL_YEAR.match(text.strip())
    return bool(match) and int(match[2]) == (int(match[1]) + 1) % 100


@dataclass
class Labels:
    """Parsed labels: `index` aligned with the input (NaT for missing), and how they read."""

    index: pd.Index
    kind: str  # "period" | "year" | "datetime"
    form: str  # e.g. "quarters written like '1975:Q1'"


def parse_labels(values: pd.Series) -> Labels | None:
    """Period/date labels in a text column, or None unless every non-missing value parses."""
    head = values.iloc[: SAMPLE * 8].dropna().iloc[:1]
    if len(head) and not _fits_a_pattern(head.astype(str).str.strip().str.upper().iloc[0]):
        return None  # the first value fits no pattern, so not every value can: text columns
    present = values.dropna()
    if present.empty:
        return None
    uniques = pd.Series(pd.unique(present.astype(str).str.strip().str.upper()))
    if len(uniques) and uniques.map(looks_like_financial_year).all():
        return None
    sample = uniques.iloc[:SAMPLE].tolist()
    for family, pattern, how in _PATTERNS:
        if not all(_extracts(pattern, text) for text in sample):
            continue  # a value that does not fit fails the whole column: tried on a few first
        parts = uniques.str.extract(pattern)
        if parts.isna().any().any():
            continue
        parsed = _build(family, how, uniques, parts)
        if parsed is None:
            continue
        keys = values.astype(str).str.strip().str.upper().where(values.notna())
        example = str(present.iloc[0]).strip()
        if family == "D":
            stamps = pd.DatetimeIndex(keys.map(dict(zip(uniques, parsed, strict=True))))
            return Labels(stamps, "datetime", f"dates written like {example!r}")
        ordinals = keys.map(dict(zip(uniques, parsed.asi8, strict=True)))
        index = _from_ordinals(ordinals, parsed.freq)
        words = {"Q": "quarters", "M": "months", "Y": "years"}[family]
        return Labels(
            index, "year" if family == "Y" else "period", f"{words} written like {example!r}"
        )
    return None


def _fits_a_pattern(text: str) -> bool:
    return any(_extracts(pattern, text) for _, pattern, _ in _PATTERNS)


def _extracts(pattern: re.Pattern, text: str) -> bool:
    """Whether `Series.str.extract(pattern)` would fill every group for `text` (it searches)."""
    match = pattern.search(text)
    return match is not None and None not in match.groups()


def _build(family: str, how: str, uniques: pd.Series, parts: pd.DataFrame):
    """A PeriodIndex/DatetimeIndex for `uniques`, or None if the values are out of range."""
    if family == "D":
        if how == "iso":
            stamps = pd.to_datetime(uniques, format="ISO8601", errors="coerce")
            return None if stamps.isna().any() else pd.DatetimeIndex(stamps)
        first, second = parts[0].astype(int), parts[1].astype(int)
        dayfirst = bool((first > 12).any()) or not bool((second > 12).any())
        fmt = "%d/%m/%Y" if dayfirst else "%m/%d/%Y"
        normal = uniques.str.replace(r"[.\-]", "/", regex=True)
        stamps = pd.to_datetime(normal, format=fmt, errors="coerce")
        return None if stamps.isna().any() else pd.DatetimeIndex(stamps)
    if how == "yq_roman":
        year, sub = parts[0].astype(int), parts[1].map(ROMAN)
    elif how in ("yq", "ym", "y"):
        year = parts[0].astype(int)
        sub = parts[1].astype(int) if how != "y" else None
    elif how in ("qy", "my"):
        year, sub = parts[1].astype(int), parts[0].astype(int)
    elif how == "namey":
        year, sub = parts[1].astype(int), parts[0].map(MONTHS)
    else:  # yname
        year, sub = parts[0].astype(int), parts[1].map(MONTHS)
    if not year.between(1000, 2999).all():
        return None
    if family == "Y":
        if not year.between(1800, 2100).all():
            return None
        return pd.PeriodIndex.from_ordinals(year.to_numpy() - 1970, freq="Y-DEC")
    if sub.isna().any():
        return None
    sub = sub.astype(int)
    if family == "Q":
        ordinals = (year - 1970) * 4 + sub - 1
        return pd.PeriodIndex.from_ordinals(ordinals.to_numpy(), freq="Q-DEC")
    if not sub.between(1, 12).all():
        return None
    return pd.PeriodIndex.from_ordinals(((year - 1970) * 12 + sub - 1).to_numpy(), freq="M")


def years_from_numbers(values: pd.Series) -> Labels | None:
    """Whole numbers 1800-2100 rising (or falling) one at a time read as years."""
    present = values.dropna()
    if len(present) < 2 or not np.all(np.mod(present, 1) == 0):
        return None
    if not present.between(1800, 2100).all():
        return None
    steps = np.diff(present.to_numpy())
    if not (np.all(steps > 0) or np.all(steps < 0)):
        return None
    if np.median(np.abs(steps)) != 1:
        return None
    index = _from_ordinals(values - 1970, "Y-DEC")
    return Labels(index, "year", f"years ({int(present.iloc[0])} …)")


def _from_ordinals(ordinals: pd.Series, freq) -> pd.PeriodIndex:
    """Periods from ordinals, NaN becoming NaT."""
    nat = np.iinfo(np.int64).min
    values = ordinals.to_numpy(dtype=float, na_value=np.nan)
    as_int = np.where(np.isnan(values), nat, np.nan_to_num(values)).astype(np.int64)
    return pd.PeriodIndex.from_ordinals(as_int, freq=freq)


def excel_serial_dates(values: pd.Series) -> pd.DatetimeIndex | None:
    """Excel day numbers (1900 system) between 1900 and 2100, read as dates."""
    present = values.dropna()
    if present.empty or not present.between(1, 73050).all():
        return None
    return pd.DatetimeIndex(pd.to_datetime(values, unit="D", origin="1899-12-30"))


def regular_periods(stamps: pd.DatetimeIndex) -> Labels | None:
    """Dates on month/quarter/year ends (or starts), evenly spaced, as a PeriodIndex."""
    present = stamps.dropna()
    if len(present) < 2 or not (present == present.normalize()).all():
        return None
    at_start = bool((present.day == 1).all())
    at_end = bool(present.is_month_end.all())
    if not (at_start or at_end):
        return None
    months = np.sort(np.unique(present.year * 12 + present.month - 1))
    step = int(np.gcd.reduce(np.diff(months))) if len(months) > 1 else 0
    if step == 1:
        freq, words = "M", "monthly"
    elif step == 3 and len({m % 3 for m in months}) == 1:
        anchor = months[0] % 3
        if not (at_end and anchor == 2 or at_start and anchor == 0):
            return None
        freq, words = "Q-DEC", "quarterly"
    elif step == 12 and len({m % 12 for m in months}) == 1:
        if not (at_end and months[0] % 12 == 11 or at_start and months[0] % 12 == 0):
            return None
        freq, words = "Y-DEC", "yearly"
    else:
        return None
    where = "first" if at_start else "last"
    index = stamps.to_period(freq)
    kind = "year" if freq == "Y-DEC" else "period"
    return Labels(index, kind, f"{words} dates on the {where} day of each period")


# -- choosing the index of a cleaned sheet ---------------------------------------------------
_TIME_WORD = re.compile(
    r"\b(date|dates|period|time|year|years|yr|quarter|month|week|day|fecha|periodo|año|anno|"
    r"année|jahr|datum|mois|trimestre)\b",
    re.IGNORECASE,
)
_DAY_WORD = re.compile(r"\b(date|day|datum|fecha|time)\b", re.IGNORECASE)


def set_index(sheet: str, frame: pd.DataFrame, generated: set[str], fixed: set[str],
              log: CleaningLog) -> tuple[pd.DataFrame, dict | None]:
    """Make the first column (or one named like "date", "period", "year") the index when it
    holds unique periods or dates; returns the frame and the index metadata (or None).

    `generated` are column names made up for unnamed columns (the index is then named
    "period", "year" or "date"); `fixed` are columns whose type the user set, left alone.
    """
    if frame.shape[1] < 2:
        return frame, None
    first = frame.columns[0]
    candidates = [(0, first)] + [(i, c) for i, c in enumerate(frame.columns[1:], start=1)
                                 if _TIME_WORD.search(c)]
    for position, name in candidates:  # by position: the names are unique
        if name in fixed:
            continue
        labels = _labels(frame.iloc[:, position], name, name in generated)
        if labels is None:
            continue
        index = labels.index
        if index.isna().any():
            continue
        if index.has_duplicates:
            repeated = frame[name][index.duplicated()].iloc[0]
            log.add(sheet, "index", f"Column {name!r} holds {labels.form}, but they repeat "
                    f"(e.g. {str(repeated)!r}), so it stays a column rather than the index.")
            continue
        return _with_index(sheet, frame, position, labels, name in generated, log)
    if pd.api.types.is_string_dtype(frame[first].dtype):
        sample = frame[first].dropna().head(20).astype(str)
        if len(sample) and sample.map(looks_like_financial_year).all():
            log.add(sheet, "index", f"Column {first!r} holds financial years such as "
                    f"{sample.iloc[0]!r}; they are left as text, not read as dates.")
    return frame, None


def column_labels(values: pd.Series, name: str) -> Labels | None:
    """A column's values as periods or dates, as `set_index` would read them, or None."""
    return _labels(values, name, generated=False)


def _labels(values: pd.Series, name: str, generated: bool) -> Labels | None:
    dtype = values.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.DatetimeIndex(values)
        return regular_periods(stamps) or Labels(stamps, "datetime", "dates")
    if isinstance(dtype, pd.PeriodDtype):
        freq = values.array.freqstr
        if freq not in ("M", "Q-DEC", "Y-DEC"):
            return None  # financial years stay a column: no period tool expects them
        words = {"M": "months", "Q-DEC": "quarters", "Y-DEC": "years"}[freq]
        missing = values.array.isna()
        return Labels(pd.PeriodIndex(values), "year" if freq == "Y-DEC" else "period",
                      f"{words} written like {str(values.iloc[int(np.argmin(missing))])!r}"
                      if not missing.all() else words)
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        if generated or _TIME_WORD.search(name):
            years = years_from_numbers(values.astype("float64"))
            if years is not None:
                return years
        if _DAY_WORD.search(name):
            stamps = excel_serial_dates(values.astype("float64"))
            if stamps is not None:
                found = regular_periods(stamps) or Labels(stamps, "datetime", "dates")
                found.form = "Excel day numbers read as " + found.form
                return found
        return None
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        labels = parse_labels(values.astype(STR))
        if labels is not None and labels.kind == "datetime":
            return regular_periods(pd.DatetimeIndex(labels.index)) or labels
        return labels
    return None


def _with_index(sheet, frame, position: int, labels: Labels, generated, log):
    index = labels.index
    name = frame.columns[position]
    index_name = {"period": "period", "year": "year", "datetime": "date"}[labels.kind] \
        if generated else name
    # frame.drop(columns=[name]), by position (no hash table of the names to build)
    kept = slice(1, None) if position == 0 else np.arange(frame.shape[1]) != position
    frame = frame.iloc[:, kept]
    taken = set(frame.columns)
    while index_name in taken:
        index_name += "_index"
    frame.index = index.rename(index_name)
    order = ""
    if not frame.index.is_monotonic_increasing:
        reverse = frame.index.is_monotonic_decreasing
        frame = frame.sort_index()
        order = (" The rows ran newest first; they are now sorted oldest first." if reverse
                 else " The rows were out of order; they are now sorted by period.")
    index = frame.index
    kind, freq = labels.kind, index_freq(index)
    start, end = _label(index[0]), _label(index[-1])
    log.add(sheet, "index", f"Column {name!r} holds {labels.form}: it is the index, named "
            f"{index_name!r}, from {start} to {end} ({plural(len(index), 'row')}).{order}")
    return frame, {"name": index_name, "kind": kind, "freq": freq, "start": start, "end": end}


def index_freq(index: pd.Index) -> str | None:
    """A PeriodIndex's frequency, or pandas' guess for dates (None for fewer than 3)."""
    if isinstance(index, pd.PeriodIndex):
        return index.freqstr
    if len(index) < 3:
        return None
    try:
        return pd.infer_freq(index)
    except (TypeError, ValueError):
        return None


def _label(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return str(value)

