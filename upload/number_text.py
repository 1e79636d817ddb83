"""Numbers written as text: "1,234", "12.5%", "(1,234)", "−3", "$1,234", "1.234,56", footnote marks.

`upload.coerce` decides a column's type; this module reads the numbers in a column of text
(vectorised, once per distinct value when values repeat) and says what it had to do.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from upload.periods import STR

_GROUP_SEPARATORS = " \u00a0\u202f\u2009'"


def spread_sample(present: pd.Series, size: int = 200) -> pd.Series:
    """Values from all along the column (a column may change halfway down)."""
    if len(present) <= size:
        return present
    return present.iloc[np.linspace(0, len(present) - 1, size).astype(int)]


def parse_numbers(text: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series, dict]:
    """(numbers, parsed mask, notes) for strings written as numbers; vectorised on the column.

    `decimal` is "." or ","; with ".", a column whose numbers all look like "12,5" is read with
    a decimal comma too. Parsed once per distinct value when values repeat (prices do).
    """
    if len(text) < 1000 or text.head(5000).nunique() * 2 > min(len(text), 5000):
        return _parse_numbers(text, decimal)  # few repeats: nothing to gain
    codes, uniques = pd.factorize(text)
    numbers, parsed, notes = _parse_numbers(pd.Series(uniques, dtype=STR), decimal)
    missing = codes < 0
    spread_numbers = numbers.to_numpy()[codes]
    spread_numbers[missing] = np.nan
    spread_parsed = parsed.to_numpy()[codes] & ~missing
    if "marks" in notes:
        mark_of = notes["marks"].reindex(range(len(uniques))).to_numpy(dtype=object)
        marks = pd.Series(mark_of[codes], index=text.index).where(~missing)
        notes["marks"] = marks[marks.notna()]
    return (pd.Series(spread_numbers, index=text.index, name=text.name),
            pd.Series(spread_parsed, index=text.index), notes)


# Patterns that pandas hands to pyarrow (RE2): no \s or \d (Python's re would run them one
# cell at a time, 20 times slower), no backreferences.
_SPACE = "[ \t\u00a0\u202f\u2009]"
_CURRENCY = "[$€£¥₹]"
# Letters are the flags statistics offices use (Eurostat: b break, c confidential, d definition
# differs, e estimate, f forecast, n not significant, p provisional, r revised, s, u low
# reliability, z not applicable; ONS the same in brackets): "12a" is a house number, not 12.
FLAG_LETTERS = "bcdefnprsuz"
_MARKS = rf"(?:\*{{1,3}}|[†‡§]|[{FLAG_LETTERS}]|\[[a-z0-9]{{1,3}}\]|\([a-z]\))"
# A footnote mark after a number: 123.4p (provisional), 5.6* , 7.1 r, 8[x], 9(e), 10†
_MARK_TEST = rf"[0-9%)$€£¥₹]{_SPACE}*{_MARKS}$"


def _parse_numbers(text: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series, dict]:
    core = text
    if _any(core.str.contains("\u2212", regex=False)):
        core = core.str.replace("\u2212", "-", regex=False)
    marks = _footnote_marks(core)
    if marks is not None:
        marked = marks.notna()
        core = core.mask(marked, core[marked].str.replace(rf"{_SPACE}*{_MARKS}$", "",
                                                          regex=True))
    negative_paren = _flag(core.str.startswith("(")) & _flag(core.str.endswith(")"))
    if negative_paren.any():
        core = core.mask(negative_paren, core.str.slice(1, -1))
    percent = _flag(core.str.endswith("%"))
    if percent.any():
        core = core.str.replace(f"{_SPACE}*%$", "", regex=True)
    money = _flag(core.str.contains(_CURRENCY, regex=True))
    commas = _any(core.str.contains(",", regex=False))
    if decimal == "." and commas and _uses_decimal_comma(core):
        decimal = ","
    seps = re.escape(_GROUP_SEPARATORS)
    if decimal == ",":
        shape = _priced(rf"[+-]?(?:[0-9]{{1,3}}(?:[.{seps}][0-9]{{3}})+|[0-9]+)(?:,[0-9]+)?"
                        r"|[+-]?,[0-9]+")
        valid = core.str.fullmatch(shape).fillna(False).astype(bool)
        plain = core.str.replace("[^0-9,+-]", "", regex=True).str.replace(",", ".")
    else:
        shape = _priced(
            rf"[+-]?(?:(?:[0-9]{{1,3}}(?:[,{seps}][0-9]{{3}})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
            r"(?:[eE][+-]?[0-9]+)?"
        )
        valid = core.str.fullmatch(shape).fillna(False).astype(bool)
        plain = _digits_only(core.where(valid))
    numbers = _to_floats(plain.where(valid))
    numbers = numbers.where(~negative_paren, -numbers)
    parsed = valid & numbers.notna()
    group = rf"[0-9][,{seps}][0-9]{{3}}" if decimal == "." else rf"[0-9][.{seps}][0-9]{{3}}"
    notes = {
        "percent": bool((percent & parsed).any()),
        "thousands": bool((parsed & _flag(core.str.contains(group, regex=True))).any()),
        "decimal_comma": decimal == ","
        and bool((parsed & _flag(core.str.contains(",", regex=False))).any()),
        "currency": bool((parsed & money).any()),
    }
    if marks is not None:
        notes["marks"] = marks[parsed & marks.notna()]
    return numbers, parsed, notes


def _digits_only(text: pd.Series) -> pd.Series:
    """Valid numbers without their separators and currency ("£1,480,000" → "1480000"):
    literal replaces of the characters a sample shows (a tenth of one regex's time over a
    million rows), then the regex only on the values that still hold something else."""
    sample = spread_sample(text.dropna(), 2000)
    for char in ",'" + _GROUP_SEPARATORS + "\t$€£¥₹":
        if _any(sample.str.contains(char, regex=False)):
            text = text.str.replace(char, "", regex=False)
    left = _flag(text.notna()) & ~_flag(text.str.fullmatch("[0-9eE.+-]+"))
    if left.any():  # "US$ 5", or a separator the sample did not show
        text = text.mask(left, text[left].str.replace("[^0-9eE.+-]", "", regex=True))
    return text


def _priced(number: str) -> str:
    """A number pattern with an optional currency before it (£, $ 5, US$, -$5) or after it
    (1 480 000 €)."""
    return (f"[+-]?{_SPACE}*(?:[A-Z]{{0,3}}{_CURRENCY}{_SPACE}*)?(?:{number})"
            f"(?:{_SPACE}*{_CURRENCY})?")


def _footnote_marks(core: pd.Series) -> pd.Series | None:
    """The mark on each value that carries one (NaN elsewhere), or None when none does."""
    has = _flag(core.str.contains(_MARK_TEST, regex=True))
    if not has.any():
        return None
    found = core[has].str.extract(f"({_MARKS})$")[0]
    return found.reindex(core.index)


def _any(mask: pd.Series) -> bool:
    return bool(_flag(mask).any())


def _to_floats(text: pd.Series) -> pd.Series:
    """Strings already checked to be plain numbers ("-1234.5", "1e3"), missing elsewhere."""
    try:
        array = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string())
        floats = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(floats, index=text.index, name=text.name)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # ".5E0" and the like
        return pd.to_numeric(text, errors="coerce").astype("float64")


def _flag(mask: pd.Series) -> pd.Series:
    return mask.fillna(False).astype(bool)


def _uses_decimal_comma(core: pd.Series) -> bool:
    """'12,5', '3,14159' or '1.234,5' (a comma not followed by exactly three digits, or after
    dot-grouped thousands) and no '1.5' or '1,234.5'."""
    comma = core.str.fullmatch(_priced(
        "[+-]?(?:[0-9]+|[0-9]{1,3}(?:[. \u00a0][0-9]{3})+),(?:[0-9]{1,2}|[0-9]{4,})"
        "|[+-]?[0-9]{1,3}(?:[.][0-9]{3})+,[0-9]+|[+-]?[0-9]{1,3}(?:[.][0-9]{3}){2,}"))
    dot = core.str.fullmatch(_priced("[+-]?[0-9]*[.](?:[0-9]{1,2}|[0-9]{4,})(?:[eE][+-]?[0-9]+)?"
                                     "|[+-]?[0-9]{1,3}(?:,[0-9]{3})+[.][0-9]+"))
    return bool(_flag(comma).any()) and not bool(_flag(dot).any())


def has_leading_zeros(text: pd.Series) -> bool:
    return _any(text.str.match("0[0-9]"))
