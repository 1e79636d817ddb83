"""Series names folded for matching, and release labels and their order.

Official workbooks rename series between releases in small ways ("US" → "U.S.", "S. Africa" →
"South Africa", a trailing space): `normalise_series_name` folds those so that matching by name
survives them. The folded name is a key for comparison only; it is never shown.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

import pandas as pd

# Whole words replaced after punctuation is removed ("s africa" → "south africa").
_WORDS = {
    "s": "south", "n": "north", "st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort",
    "e": "east", "w": "west", "rep": "republic", "fed": "federal", "&": "and",
}
# Whole names after folding: the usual country abbreviations.
_NAMES = {
    "us": "united states", "usa": "united states", "united states of america": "united states",
    "uk": "united kingdom", "gb": "united kingdom", "great britain": "united kingdom",
    "uae": "united arab emirates", "south korea": "korea", "republic of korea": "korea",
    "korea republic": "korea", "korea rep": "korea",
}


def normalise_series_name(name: str) -> str:
    """A key equal for names that differ only by case, spacing, punctuation or a common
    abbreviation: "U.S." == "US" == " us ", "U.K." == "UK", "S. Africa" == "South Africa",
    "S. Korea" == "South Korea" == "Korea"."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ")
    # Dots between single letters join them ("u.s." → "us"); other punctuation separates words.
    text = re.sub(r"\b(\w)\.(?=\w\b\.?)", r"\1", text)
    text = re.sub(r"[^\w]+|_", " ", text)
    words = [_WORDS.get(w, w) for w in text.split()]
    folded = " ".join(words)
    return _NAMES.get(folded, folded)


_PERIOD_PATTERNS = (
    # 2020Q1, 2020-Q1, 2020 q1, 2020:Q1, 2020_Q1
    (re.compile(r"(?<!\d)((?:19|20)\d\d)[\s:_-]?[Qq]([1-4])(?!\d)"), lambda m: f"{m[1]}Q{m[2]}"),
    # Q1 2020, Q1-2020
    (re.compile(r"(?<![A-Za-z0-9])[Qq]([1-4])[\s:_-]?((?:19|20)\d\d)(?!\d)"),
     lambda m: f"{m[2]}Q{m[1]}"),
    # 2020-03, 2020_03 (a month)
    (re.compile(r"(?<!\d)((?:19|20)\d\d)[-_](0[1-9]|1[0-2])(?![\d])"), lambda m: f"{m[1]}-{m[2]}"),
)


def release_label_from(filename: str, last_period: str | None) -> str:
    """The release label a file name carries ("2020Q1.xlsx" → "2020Q1", "hpi 2020-q1 final.xlsx"
    → "2020Q1", "cpi_2019-11.csv" → "2019-11"), else the last period of its data ("hp1101.xlsx"
    with data to 2011Q2 → "2011Q2": a name like "1101" is too ambiguous to read), else the file
    name without its extension."""
    stem = PurePath(str(filename).replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    for pattern, build in _PERIOD_PATTERNS:
        found = pattern.search(stem)
        if found:
            return build(found)
    if last_period is not None and str(last_period).strip():
        return str(last_period).strip()
    return stem.strip() or str(filename)


def _as_period(text: str | None) -> pd.Period | None:
    """The period a label names, if it names one ("2020Q1", "2020-03", "2020", "2020-03-31")."""
    if text is None:
        return None
    text = str(text).strip()
    for pattern, build in _PERIOD_PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            text = build(found)
            break
    else:
        if not re.fullmatch(r"(?:19|20)\d\d(?:-\d\d(?:-\d\d)?)?", text):
            return None
    try:
        return pd.Period(text)
    except (ValueError, TypeError):
        return None


def release_sort_key(label: str, last_period: str | None) -> tuple:
    """Orders releases by the period their label names, else by their last period, else (after
    every dated release) by label text. Periods of different frequencies compare by their end
    date, so "2020Q1" sorts after "2020-02" and before "2020-04"."""
    period = _as_period(label) or _as_period(last_period)
    if period is None:
        return (1, 0, str(label))
    return (0, period.end_time.date().toordinal(), str(label))
