"""Give each column one type: numbers, text, dates or booleans — vectorised, and explained.

The rule for numbers (the output contract other modules rely on): a column is numeric when at
least 95% of its non-missing cells read as numbers — real numbers, or text such as "1,234",
"12.5%", "(1,234)", "−3", "$1,234", "1.234,56" (decimal comma). Missing markers ("", " ", "..",
"-", "n/a") become missing; the few cells that are neither become missing too, and are named
in the cleaning log. Numeric columns are float64, except whole numbers with nothing missing,
which are int64 (never the nullable Int64: numpy-based analyses then need no special case).
Percent signs are dropped and the number kept in percent points (12.5% -> 12.5). Text that
starts with a zero ("02134") stays text: it is a code, not a quantity. Text is pandas' string
dtype, stripped of surrounding spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from upload.layout import MISSING_MARKERS, NUM, cell_kind
from upload.periods import STR, excel_serial_dates, parse_labels

NUMERIC_SHARE = 0.95
_SAFE_INT = 2**53
# Markers that mean "missing" even in a text column; the others ("x", "s", "c") only count as
# missing inside a numeric column.
_ALWAYS_MISSING = {"", "..", "...", "-", "–", "—", "n/a", "#n/a", "nan", "null"}
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_GROUP_SEPARATORS = " \u00a0\u202f\u2009'"


@dataclass
class Typed:
    """A typed column and what was done to it, for the cleaning log."""

    series: pd.Series
    kind: str  # "number" | "text" | "date" | "bool" | "empty"
    markers: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)
    percent: bool = False
    thousands: bool = False
    decimal_comma: bool = False
    leading_zeros: bool = False


def type_column(values: pd.Series, decimal: str = ".") -> Typed:
    """The column as numbers, dates, booleans or text (see the module docstring)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Typed(values, "bool")
    if pd.api.types.is_numeric_dtype(dtype):
        return _numbers(values.astype("float64"))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return Typed(values, "date" if values.notna().any() else "empty")
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return _from_text(values, decimal)
    fast = _plain_floats(values)
    if fast is not None:
        return _numbers(fast)
    cells = values.mask(values.eq(""))
    inferred = pd.api.types.infer_dtype(cells, skipna=True)
    if inferred == "empty":
        return Typed(pd.Series(np.nan, index=values.index), "empty")
    if inferred in ("floating", "integer", "mixed-integer-float", "decimal"):
        return _numbers(pd.to_numeric(cells).astype("float64"))
    if inferred == "boolean":
        series = cells.astype("bool") if cells.notna().all() else cells.astype("boolean")
        return Typed(series, "bool")
    if inferred in ("datetime", "datetime64", "date"):
        return Typed(pd.to_datetime(cells), "date")
    if inferred == "string":
        return _from_text(cells.astype(STR), decimal)
    return _mixed(cells, decimal)


def _plain_floats(values: pd.Series) -> pd.Series | None:
    """The common workbook case in one numpy step: numbers and empty cells only."""
    array = values.to_numpy(dtype=object)
    blank = array == ""
    if blank.all():
        return None
    filled = array[~blank]
    if not isinstance(filled[0], (int, float)) or isinstance(filled[0], bool):
        return None
    try:
        floats = np.where(blank, np.nan, array).astype("float64")
    except (TypeError, ValueError):
        return None
    return pd.Series(floats, index=values.index, name=values.name)


def _numbers(floats: pd.Series, **notes) -> Typed:
    return Typed(
        whole_numbers_as_int(floats), "number" if floats.notna().any() else "empty", **notes
    )


def whole_numbers_as_int(floats: pd.Series) -> pd.Series:
    """int64 when every value is a whole number and none is missing; float64 otherwise."""
    array = floats.to_numpy(dtype="float64", na_value=np.nan)
    if (
        len(array)
        and np.isfinite(array).all()
        and np.abs(array).max() < _SAFE_INT
        and (array == np.round(array)).all()
    ):
        return pd.Series(array.astype("int64"), index=floats.index, name=floats.name)
    return pd.Series(array, index=floats.index, name=floats.name)


def _from_text(text: pd.Series, decimal: str) -> Typed:
    """A column of strings: numbers written as text, ISO dates, or text."""
    text = text.str.strip()
    lowered = text.str.lower()
    present = text.notna() & ~lowered.isin(_ALWAYS_MISSING)
    if not present.any():
        return Typed(
            pd.Series(np.nan, index=text.index), "empty", markers=set(text.dropna().unique())
        )
    sample = text[present].head(200)
    if sample.map(_looks_numeric).mean() < 0.5 and not sample.str.fullmatch(_ISO_DATE).all():
        return Typed(text.where(present), "text")  # clearly text: skip the number parsing
    numbers, parsed, notes = parse_numbers(text.where(present), decimal)
    maybe_missing = present & ~parsed & lowered.isin(MISSING_MARKERS)
    counted = present & ~maybe_missing
    n_counted = int(counted.sum())
    n_parsed = int(parsed.sum())
    if n_counted and n_parsed >= NUMERIC_SHARE * n_counted:
        if _has_leading_zeros(text.where(parsed)):
            return Typed(text.where(present), "text", leading_zeros=True)
        markers = set(text[text.notna() & ~present | maybe_missing].unique())
        dropped = list(pd.unique(text[counted & ~parsed]))
        return _numbers(numbers, markers=markers, dropped=[str(d) for d in dropped], **notes)
    if text[present].str.fullmatch(_ISO_DATE).all():
        stamps = pd.to_datetime(text.where(present), format="ISO8601", errors="coerce")
        if stamps[present].notna().all():
            return Typed(stamps, "date")
    return Typed(text.where(present), "text")


def _mixed(cells: pd.Series, decimal: str) -> Typed:
    """Objects of several kinds: numbers with text markers, dates with text, labels..."""
    numeric = pd.to_numeric(cells, errors="coerce")
    present = cells.notna()
    rest = cells[present & numeric.isna()]
    strings = rest[rest.map(lambda v: isinstance(v, str))]
    if len(strings) == len(rest):
        text = strings.astype(STR).str.strip()
        lowered = text.str.lower()
        markers_mask = lowered.isin(MISSING_MARKERS)
        parsed_numbers, parsed, notes = parse_numbers(text.where(~markers_mask), decimal)
        n_counted = int(present.sum()) - int(markers_mask.sum())
        n_numeric = int(numeric.notna().sum()) + int(parsed.sum())
        if n_counted and n_numeric >= NUMERIC_SHARE * n_counted:
            numeric = numeric.copy()
            numeric.loc[parsed_numbers.index] = parsed_numbers
            dropped = [str(d) for d in pd.unique(text[~markers_mask & ~parsed])]
            return _numbers(
                numeric.astype("float64"),
                markers=set(text[markers_mask].unique()),
                dropped=dropped,
                **notes,
            )
    return Typed(cells.map(as_text, na_action="ignore").astype(STR).str.strip(), "text")


def _looks_numeric(text: str) -> bool:
    return cell_kind(text) == NUM or text.lower() in MISSING_MARKERS


def as_text(value: object) -> str:
    """A cell as text the way a spreadsheet shows it: 1980 not 1980.0, dates as ISO."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


def parse_numbers(text: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series, dict]:
    """(numbers, parsed mask, notes) for strings written as numbers; vectorised on the column.

    `decimal` is "." or ","; with ".", a column whose numbers all look like "12,5" is read with
    a decimal comma too.
    """
    core = text.str.replace("\u2212", "-", regex=False)
    negative_paren = core.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
    core = core.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    percent = core.str.endswith("%").fillna(False).astype(bool)
    core = core.str.replace(r"\s*%$", "", regex=True)
    core = core.str.replace(r"^([+-]?)\s*[$€£¥]\s*", r"\1", regex=True)
    if decimal == "." and _uses_decimal_comma(core):
        decimal = ","
    seps = re.escape(_GROUP_SEPARATORS)
    if decimal == ",":
        shape = rf"[+-]?(?:\d{{1,3}}(?:[.{seps}]\d{{3}})+|\d+)(?:,\d+)?|[+-]?,\d+"
        valid = core.str.fullmatch(shape).fillna(False).astype(bool)
        plain = core.str.replace(rf"[.{seps}]", "", regex=True).str.replace(",", ".")
    else:
        shape = (
            rf"[+-]?(?:\d{{1,3}}(?:[,{seps}]\d{{3}})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?"
            r"|[+-]?\.\d+"
        )
        valid = core.str.fullmatch(shape).fillna(False).astype(bool)
        plain = core.str.replace(rf"[,{seps}]", "", regex=True)
    numbers = pd.to_numeric(plain.where(valid), errors="coerce").astype("float64")
    numbers = numbers.where(~negative_paren, -numbers)
    parsed = valid & numbers.notna()
    group = rf"\d[,{seps}]\d{{3}}" if decimal == "." else rf"\d[.{seps}]\d{{3}}"
    notes = {
        "percent": bool((percent & parsed).any()),
        "thousands": bool((parsed & _flag(core.str.contains(group, regex=True))).any()),
        "decimal_comma": decimal == ","
        and bool((parsed & _flag(core.str.contains(",", regex=False))).any()),
    }
    return numbers, parsed, notes


def _flag(mask: pd.Series) -> pd.Series:
    return mask.fillna(False).astype(bool)


def _uses_decimal_comma(core: pd.Series) -> bool:
    """'12,5' or '3,14159' (a comma not followed by exactly three digits) and no '1.5'."""
    comma = core.str.fullmatch(r"[+-]?\d+,(?:\d{1,2}|\d{4,})").fillna(False)
    dot = core.str.fullmatch(r"[+-]?\d*\.\d+").fillna(False)
    return bool(comma.any()) and not bool(dot.any())


def _has_leading_zeros(text: pd.Series) -> bool:
    return bool(text.str.match(r"^0\d").fillna(False).any())


def apply_override(values: pd.Series, kind: str) -> tuple[pd.Series, int]:
    """The column as the type the user chose; returns (series, cells that became missing)."""
    before = int(values.notna().sum())
    if kind == "text":
        out = values.map(as_text, na_action="ignore").astype(STR)
    elif kind == "category":
        out = values.map(as_text, na_action="ignore").astype(STR).astype("category")
    elif kind == "number":
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            out = values.astype("float64")
        else:
            text = values.map(as_text, na_action="ignore").astype(STR).str.strip()
            out, _, _ = parse_numbers(text)
        out = whole_numbers_as_int(out)
    elif kind == "date":
        out = _as_dates(values)
    else:
        raise ValueError(kind)
    return out, before - int(out.notna().sum())


def _as_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    if pd.api.types.is_numeric_dtype(values.dtype):
        floats = values.astype("float64")
        if floats.dropna().between(1800, 2100).all() and (floats.dropna() % 1 == 0).all():
            return pd.to_datetime(floats.astype("Int64").astype(STR), format="%Y", errors="coerce")
        serials = excel_serial_dates(floats.where(floats.between(1, 73050)))
        return pd.Series(serials, index=values.index)
    text = values.map(as_text, na_action="ignore").astype(STR).str.strip()
    labels = parse_labels(text)
    if labels is not None:
        index = labels.index
        stamps = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
        return pd.Series(stamps, index=values.index)
    return pd.to_datetime(text, format="mixed", errors="coerce")
