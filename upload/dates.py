"""Dates and periods written as text, in any column: which written form a column uses, and the
column read in that form — vectorised on the column's distinct values.

Forms (`FORMS`): ISO dates and times ("2016-12-03", "2016-12-03T10:00", "2016/12/03"), ISO basic
("20161203T000000"), day-first or month-first with "/", "-" or "." ("3/12/2016", "03.12.16"),
month names ("3 Dec 2016", "December 3, 2016"), months ("2016-12", "2016M12", "Dec-16",
"December 2016"), quarters ("2016Q4", "2016:Q4", "Q4 2016", "2016 Q4", "2016QIV") and
financial years ("2001-02": the year ending in March 2002 unless the user names another month).
Dates become datetime64, months, quarters and financial years pandas periods.

The rule: a column is dates when at least half of its non-missing values read in one form; the
rest become missing and are named in the cleaning log (never a text column in silence). Day and
month order is decided per column: a first number above 12 means day first, a second above 12
month first; when no value settles it, day first is chosen and the log says so, and the user can
choose the other order with the column type `date_monthfirst`. Years outside 1000–2999 (year 0,
9999) are missing too, with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from upload.periods import MONTHS, ROMAN

DATE_SHARE = 0.5  # a column is dates when this share of its values reads in one form
MIXED_SHARE = 0.2  # ...unless this share are plain numbers: then it is a mixed column
FIRST_YEAR, LAST_YEAR = 1000, 2999
MONTH_CODES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
               "dec")
# Column types a user can choose (the override form, the reparse API) beyond "date".
DATE_TYPES = ("date_iso", "date_dayfirst", "date_monthfirst", "date_month", "date_quarter",
              *(f"date_fy_{m}" for m in MONTH_CODES))

_NAME = r"(?P<name>[A-Z]{3,9})\.?"
_TIME = r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?"
_Y2 = r"(?P<year>\d{4}|\d{2})"
_SEP = r"\s*[:\-/_ .]?\s*"
# (form, pattern on stripped upper-case text, what it makes); the first form that most values
# match wins. Day-first and month-first share one pattern: the column decides the order.
FORMS: list[tuple[str, re.Pattern, str]] = [
    ("iso", re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _TIME), "D"),
    ("iso_slash", re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})" + _TIME),
     "D"),
    ("iso_basic", re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
                             r"T(?P<hh>\d{2})(?P<mm>\d{2})(?P<ss>\d{2})?"), "D"),
    ("numeric_dmy", re.compile(r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)" + _Y2
                               + _TIME), "D"),
    ("day_name_year", re.compile(r"(?P<day>\d{1,2})(?:ST|ND|RD|TH)?[\s\-/.]*" + _NAME
                                 + r",?[\s\-/.]*" + _Y2 + _TIME), "D"),
    ("name_day_year", re.compile(_NAME + r"\s+(?P<day>\d{1,2})(?:ST|ND|RD|TH)?,?\s+"
                                 r"(?P<year>\d{4})"), "D"),
    ("quarter", re.compile(rf"(?P<year>\d{{4}}){_SEP}Q(?P<q>[1-4]|IV|I{{1,3}})"), "Q"),
    ("quarter_first", re.compile(rf"Q(?P<q>[1-4]){_SEP}(?P<year>\d{{4}})"), "Q"),
    ("financial_year", re.compile(r"(?P<year>\d{4})[-/](?P<next>\d{2})"), "FY"),
    ("year_month", re.compile(r"(?P<year>\d{4})(?:\s*M|[-/.])(?P<month>\d{1,2})"), "M"),
    ("month_year", re.compile(r"(?P<month>\d{1,2})[-/.](?P<year>\d{4})"), "M"),
    ("name_year", re.compile(_NAME + r"[\s\-'/]*" + _Y2), "M"),
    ("year_name", re.compile(r"(?P<year>\d{4})[\s\-]*" + _NAME), "M"),
]
_FORM_WORDS = {
    "iso": "ISO dates such as {0!r}", "iso_slash": "dates such as {0!r} (year first)",
    "iso_basic": "ISO basic dates such as {0!r}", "day_name_year": "dates such as {0!r}",
    "name_day_year": "dates such as {0!r}", "quarter": "quarters such as {0!r}",
    "quarter_first": "quarters such as {0!r}", "year_month": "months such as {0!r}",
    "month_year": "months such as {0!r}", "name_year": "months such as {0!r}",
    "year_name": "months such as {0!r}",
}
_QUICK = re.compile("|".join(
    "(?:" + re.sub(r"\(\?P<\w+>", "(?:", p.pattern).replace("(?P=sep)", "[/.\\-]") + ")"
    for _, p, _ in FORMS))
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:E[+-]?\d+)?")


def looks_like_date(text: str) -> bool:
    """One cell as a date or period in any form above (month names checked): for the layout."""
    text = text.strip().upper()
    match = _QUICK.fullmatch(text)
    if not match:
        return False
    return all(w in MONTHS for w in re.findall(r"[A-Z]{3,}", text))


@dataclass
class DateColumn:
    """A text column read as dates: the typed series and what the cleaning log says."""

    series: pd.Series
    form: str  # the form's name in FORMS
    described: str  # "dates such as '3/12/2016', read day first"
    failed: list[str] = field(default_factory=list)  # distinct values that did not read
    n_failed: int = 0
    out_of_range: list[str] = field(default_factory=list)
    ambiguous: str | None = None  # the order chosen when no value settled it


@dataclass
class NotDates:
    """Why a column with dates in it stays text (numbers in one part, dates in another)."""

    reason: str


def read_dates(text: pd.Series, choice: str | None = None,
               fiscal_end: int = 3) -> DateColumn | NotDates | None:
    """`text` (stripped strings, missing as NA) as dates or periods, or None when it is not a
    date column. `choice` is a user's column type from DATE_TYPES (or "date"); `fiscal_end`
    the month financial years end in."""
    present = ~text.array.isna()
    n_present = int(present.sum())
    if not n_present:
        return None
    codes, uniques = pd.factorize(text[present], sort=False)
    counts = np.bincount(codes, minlength=len(uniques))
    keys = pd.Series(uniques, dtype="str").str.upper()
    if choice and choice.startswith("date_fy_"):
        fiscal_end = MONTH_CODES.index(choice[-3:]) + 1
    matches = _matches(keys, choice)
    if not matches:
        return None
    form = max(matches, key=lambda f: int(counts[matches[f][1]].sum()))  # first among equals
    kind = _KIND[form]
    matched = np.zeros(len(keys), dtype=bool)
    for other, (_, hit) in matches.items():
        if _KIND[other] == kind and other != "financial_year" or other == form:
            matched |= hit
    share = counts[matched].sum() / n_present
    if not choice and share < DATE_SHARE:
        return None
    numbers = (keys.str.fullmatch(_NUMBER.pattern).to_numpy(dtype=bool) & ~matched
               if not matched.all() else matched & False)
    if not choice and counts[numbers].sum() >= MIXED_SHARE * n_present:
        return NotDates(
            f"{share:.0%} of its values are dates (e.g. {uniques[int(np.argmax(matched))]!r}) "
            f"but {counts[numbers].sum() / n_present:.0%} are plain numbers (e.g. "
            f"{uniques[int(np.argmax(numbers))]!r}), so it stays text; choose a type for it "
            "to read it one way.")
    values, described, ambiguous = _build(form, matches[form][0], choice, fiscal_end)
    for other, (parts, hit) in matches.items():  # "Q4 2016" beside "2016Q4", and the like
        if other != form and _KIND[other] == kind and other not in ("financial_year",
                                                                     "numeric_dmy"):
            more = _build(other, parts, choice, fiscal_end)[0]
            values = values.where(~(values.isna() & hit), more)
    out_of_range = np.zeros(len(keys), dtype=bool)
    for parts, hit in matches.values():
        out_of_range |= _out_of_range(parts, hit)
    failed_mask = np.asarray(values.isna())
    good = ~failed_mask
    example = str(uniques[int(np.argmax(good))]) if good.any() else str(uniques[0])
    described = _FORM_WORDS.get(form, described).format(example)
    taken = np.asarray(values.take(codes)) if kind == "D" else values.take(codes)
    out = (pd.Series(taken, index=text.index) if n_present == len(text)  # nothing to reindex
           else pd.Series(taken, index=text.index[present]).reindex(text.index))
    failed = failed_mask & ~out_of_range
    return DateColumn(
        out, form, described, failed=[str(uniques[i]) for i in np.flatnonzero(failed)[:6]],
        n_failed=int(counts[failed].sum()),
        out_of_range=[str(uniques[i]) for i in np.flatnonzero(out_of_range)[:6]],
        ambiguous=ambiguous,
    )


_KIND = {form: kind for form, _, kind in FORMS}
_LINES = {form: re.compile(f"^(?:{pattern.pattern})$", re.MULTILINE) for form, pattern, _ in FORMS}


def _forms_in(keys: list[str], forms: set[str]) -> set[str]:
    """The forms that some key matches as str.extract matches it (`^(?:form)$`, searched).

    One search of all the keys, a line each, per form: a key that matches is a line that
    matches. A match that spans a newline inside a key or two keys can only add a form, which
    str.extract then finds nothing for: the forms found stay the same.
    """
    joined = "\n".join(keys)
    return {f for f in forms if _LINES[f].search(joined)}


def _matches(keys: pd.Series, choice: str | None) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """{form: (its parts per key, NaN where the key does not match; the match mask)} for the
    forms some key matches, in FORMS order."""
    allowed = _allowed_forms(choice)
    if len(keys) > 500:  # try on a spread sample first: most columns use one or two forms
        sample = keys.iloc[np.linspace(0, len(keys) - 1, 500).astype(int)].tolist()
        allowed = {f for f, pattern, _ in FORMS if f in allowed
                   and any(pattern.fullmatch(k) for k in sample)}
    else:  # the forms no key matches at all, with the very test str.extract makes: skipped
        allowed = _forms_in(keys.tolist(), allowed)
    found = {}
    for form, pattern, _ in FORMS:
        if form not in allowed:
            continue
        parts = keys.str.extract(f"^(?:{pattern.pattern})$")
        parts.columns = list(pattern.groupindex)
        matched = ~np.logical_or.reduce([parts[c].array.isna() for c in parts.columns
                                         if c not in ("time", "ss")])
        if form in ("day_name_year", "name_day_year", "name_year", "year_name"):
            matched &= parts["name"].isin(MONTHS.keys()).to_numpy()
        if form == "financial_year":
            matched &= _is_financial(parts).to_numpy()
        if matched.all():
            found[form] = (parts, matched)  # what parts.where(matched) gives
        elif matched.any():
            found[form] = (parts.where(pd.Series(matched, index=parts.index), axis=0), matched)
    return found


def _allowed_forms(choice: str | None) -> set[str]:
    every = {f for f, _, _ in FORMS}
    if not choice or choice == "date":
        return every
    return {
        "date_iso": {"iso", "iso_slash", "iso_basic"},
        "date_dayfirst": {"numeric_dmy"}, "date_monthfirst": {"numeric_dmy"},
        "date_month": {"year_month", "month_year", "name_year", "year_name"},
        "date_quarter": {"quarter", "quarter_first"},
    }.get(choice, {"financial_year"} if choice.startswith("date_fy_") else every)


def _is_financial(parts: pd.DataFrame) -> pd.Series:
    year = pd.to_numeric(parts["year"], errors="coerce")
    following = pd.to_numeric(parts["next"], errors="coerce")
    return following.eq((year + 1) % 100)


def _build(form: str, parts: pd.DataFrame, choice: str | None,
           fiscal_end: int) -> tuple[pd.Index, str, str | None]:
    """(one value per distinct key, NaT where it did not read; the form in words; the day/month
    order chosen when nothing settled it)."""
    number = {c: pd.to_numeric(parts[c], errors="coerce") for c in parts.columns
              if c not in ("name", "sep", "time", "q")}
    if form == "numeric_dmy":
        return _day_month(parts, number, choice)
    if form in ("quarter", "quarter_first"):
        quarter = [ROMAN.get(q) or (int(q) if q.isdigit() else None) if isinstance(q, str)
                   else None for q in parts["q"].tolist()]
        return _periods(number["year"], np.array(quarter, dtype=float), "Q-DEC"), "", None
    if form == "financial_year":
        freq = "Y-" + MONTH_CODES[fiscal_end - 1].upper()
        ends = number["year"] + (1 if fiscal_end < 12 else 0)
        words = (f"financial years such as {{0!r}}, each ending in "
                 f"{pd.Timestamp(2000, fiscal_end, 1).month_name()} (choose the month in the "
                 "column types)")
        return _periods(ends, None, freq), words, None
    if form in ("year_month", "month_year", "name_year", "year_name"):
        month = number.get("month")
        if month is None:
            month = pd.to_numeric(parts["name"].map(MONTHS), errors="coerce")
        return _periods(_full_year(number["year"], parts["year"]), month, "M"), "", None
    if form in ("day_name_year", "name_day_year"):
        month = pd.to_numeric(parts["name"].map(MONTHS), errors="coerce")
        year = _full_year(number["year"], parts["year"])
        return _stamps(year, month, number["day"], parts), "", None
    if form == "iso_basic":
        clock = pd.to_timedelta(number["hh"].fillna(0) * 3600 + number["mm"].fillna(0) * 60
                                + number["ss"].fillna(0), unit="s")
        stamps = _stamps(number["year"], number["month"], number["day"], None)
        return stamps + pd.TimedeltaIndex(clock), "", None
    return _stamps(number["year"], number["month"], number["day"], parts), "", None


def _day_month(parts, number, choice) -> tuple[pd.Index, str, str | None]:
    first, second = number["a"], number["b"]
    ambiguous = None
    if choice == "date_monthfirst":
        dayfirst = False
    elif choice == "date_dayfirst":
        dayfirst = True
    elif (first > 12).any():
        dayfirst = True
    elif (second > 12).any():
        dayfirst = False
    else:
        dayfirst, ambiguous = True, "day first"
    day, month = (first, second) if dayfirst else (second, first)
    stamps = _stamps(_full_year(number["year"], parts["year"]), month, day, parts)
    order = "day first" if dayfirst else "month first"
    if choice in ("date_dayfirst", "date_monthfirst"):
        order += " as you chose"
    elif ambiguous:
        order += (" (no day above 12 settles the order; choose 'month first' in the column "
                  "types if that is wrong)")
    else:
        order += " (a value with a " + ("day" if dayfirst else "second number") + " above 12 " \
            "settles it)"
    return stamps, f"dates such as {{0!r}}, read {order}", ambiguous


def _full_year(year: pd.Series, written: pd.Series) -> pd.Series:
    """Two-digit years as strptime reads them: 69–99 → 1900s, 00–68 → 2000s."""
    short = written.str.len().eq(2).to_numpy(dtype=bool, na_value=False)
    if not short.any():
        return year  # what year.where(~short, ...) gives
    return year.where(~short, np.where(year < 69, 2000 + year, 1900 + year))


def _in_range(year: pd.Series) -> pd.Series:
    return year.between(FIRST_YEAR, LAST_YEAR)


def _stamps(year, month, day, parts) -> pd.Index:
    ok = _in_range(year) & month.between(1, 12) & day.between(1, 31)
    frame = pd.DataFrame({"year": year.where(ok), "month": month.where(ok),
                          "day": day.where(ok)})
    stamps = pd.to_datetime(frame, errors="coerce")
    if parts is not None and "time" in parts.columns and parts["time"].notna().any():
        times = parts["time"].astype(object)
        times = times.where(times.str.count(":") != 1, times + ":00")
        clock = pd.to_timedelta(times, errors="coerce").fillna(pd.Timedelta(0))
        stamps = stamps + clock.to_numpy()
    return pd.DatetimeIndex(stamps)


def _periods(year: pd.Series, sub, freq: str) -> pd.PeriodIndex:
    """Periods from years and months or quarters (NaN where missing or out of range), in
    float64 numpy arrays: the whole numbers involved are exact."""
    year = _floats(year)
    ok = (year >= FIRST_YEAR) & (year <= LAST_YEAR)  # _in_range; NaN is not in range
    if freq == "M":
        sub = _floats(sub)
        ok &= (sub >= 1) & (sub <= 12)
        ordinals = (year - 1970) * 12 + sub - 1
    elif freq == "Q-DEC":
        sub = _floats(sub)
        ok &= (sub >= 1) & (sub <= 4)
        ordinals = (year - 1970) * 4 + sub - 1
    else:
        ordinals = year - 1970
    nat = np.iinfo(np.int64).min
    values = np.where(ok, ordinals, np.nan)
    as_int = np.where(np.isnan(values), nat, np.nan_to_num(values)).astype(np.int64)
    return pd.PeriodIndex.from_ordinals(as_int, freq=freq)


def _floats(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _out_of_range(parts: pd.DataFrame, matched: np.ndarray) -> np.ndarray:
    year = _floats(_full_year(pd.to_numeric(parts["year"], errors="coerce"), parts["year"]))
    return matched & ~np.isnan(year) & ~((year >= FIRST_YEAR) & (year <= LAST_YEAR))


_DATE_HEADER = re.compile(r"\b(date|dates|datum|fecha|data)\b|date$|^date", re.IGNORECASE)
FIRST_SERIAL, LAST_SERIAL = 10958, 73050  # Excel day numbers of 1930-01-01 and 2100-01-01


def numbers_as_dates(values: pd.Series, name: str) -> DateColumn | None:
    """Whole numbers under a header that says date: 20161203 (ISO basic) or Excel day numbers
    (1900 system, 1930–2099). Elsewhere numbers stay numbers: a price is never a date."""
    if not _DATE_HEADER.search(name):
        return None
    floats = values.astype("float64")
    present = floats.dropna()
    if present.empty or not (present % 1 == 0).all():
        return None
    if present.between(10000101, 29991231).all():
        digits = floats.astype("Int64").astype("str")
        stamps = pd.to_datetime(digits, format="%Y%m%d", errors="coerce")
        failed = digits[stamps.isna() & floats.notna()]
        if len(failed) * 2 < len(present):
            return DateColumn(pd.Series(stamps, index=values.index, dtype="datetime64[us]"),
                              "iso_basic", f"ISO basic dates such as {digits[present.index[0]]!r}",
                              failed=list(pd.unique(failed))[:6], n_failed=len(failed))
    if present.between(FIRST_SERIAL, LAST_SERIAL).all():
        stamps = pd.to_datetime(floats, unit="D", origin="1899-12-30").astype("datetime64[us]")
        return DateColumn(stamps, "excel", f"Excel day numbers such as {int(present.iloc[0])} "
                          f"(read as {stamps[present.index[0]].date().isoformat()}; the header "
                          "says date)")
    return None


def reader_dates(values: pd.Series) -> DateColumn:
    """Dates the file reader typed already (an XLSX date cell, an ISO date in a CSV): kept,
    except years outside 1000–2999 (year 0, 9999), which are missing with a note."""
    stamps = pd.to_datetime(values, errors="coerce")
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    years = stamps.dt.year
    bad = stamps.notna() & ~years.between(FIRST_YEAR, LAST_YEAR)
    shown = [stamps[bad].iloc[i].isoformat()[:10] for i in range(min(6, int(bad.sum())))]
    stamps = stamps.where(~bad)
    present = stamps.dropna()
    example = present.iloc[0].isoformat().replace("T00:00:00", "") if len(present) else ""
    return DateColumn(stamps, "reader", f"dates such as {example!r}, read as dates by the file "
                      "reader", out_of_range=shown)
