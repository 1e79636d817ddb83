"""From transactions to a time series: count, median and mean of a value by month, quarter or year.

A sales table (one row per sale, a date, a price, a region) is not a time series; growth, CAGR,
rolling means and line charts want one row per period. `period_summary` builds that table —
optionally one set of columns per group (region, property type) — over every period from the
first to the last (a period without sales has count 0 and no median), so that the row before
is always the period before. `add_period_sheet` stores it as a derived sheet of the dataset,
Parquet beside the parsed sheets, with its provenance (source sheet and rule) in the sheet's
metadata and the cleaning log; a re-parse of the dataset builds it again (`rebuild_derived`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from errors import BadInput, Unprocessable
from store.db import db
from store.models import Dataset
from upload.clean import CleanSheet
from upload.cleaning_log import plural, quote_list
from upload.naming import MAX_NAME
from upload.periods import index_freq
from upload.store import FileStore

FREQS = {"M": ("M", "month"), "Q": ("Q-DEC", "quarter"), "Y": ("Y-DEC", "year")}
STATS = ("count", "median", "mean")
MAX_COLUMNS = 2000  # groups × statistics in the derived sheet
MAX_PERIODS = 100_000  # a range of periods wider than this is a mistake in the dates
SEPARATOR = " · "


@dataclass(frozen=True)
class PeriodRule:
    """What the user asked: `value` summarised by `freq` over `date`, per `group` if set."""

    sheet: str
    date: str
    value: str
    freq: str
    stats: tuple[str, ...]
    group: str | None = None

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "date": self.date, "value": self.value, "freq": self.freq,
                "stats": list(self.stats), "group": self.group}

    def describe(self) -> str:
        unit = FREQS[self.freq][1]
        per = f" for each {self.group!r}" if self.group else ""
        return (f"{', '.join(self.stats)} of {self.value!r} by {unit} of {self.date!r}{per}, "
                f"from sheet {self.sheet!r}")


def period_summary(frame: pd.DataFrame, rule: PeriodRule) -> CleanSheet:
    """The derived table: one row per period, one column per statistic (and group)."""
    _check_rule(rule)
    dates = _date_values(frame, rule)
    values = _value_column(frame, rule)
    freq, unit = FREQS[rule.freq]
    ordinals, keep = _ordinals(dates, freq, rule)
    if rule.group is not None:
        raw_codes, raw = pd.factorize(_column(frame, rule.group, rule.sheet, "group"))
        tidy = pd.Series([str(v).strip() for v in raw], dtype=object)  # per distinct value
        names_codes, groups = pd.factorize(tidy.where(tidy != ""), sort=True)
        codes = np.append(names_codes, -1)[raw_codes]  # raw code -1 (missing) stays -1
        keep &= codes >= 0
        group_codes = codes[keep]
        names = [str(g)[: MAX_NAME - 20].rstrip() for g in groups]
        if len(names) * len(rule.stats) > MAX_COLUMNS:
            raise Unprocessable(
                f"Column {rule.group!r} has {len(names):,} distinct values; by period with a "
                f"group makes {len(rule.stats)} columns for each, more than {MAX_COLUMNS:,}. "
                "Choose a group column with fewer values.", code="too_many_groups")
    else:
        group_codes, names = np.zeros(int(keep.sum()), dtype=np.int64), [None]
    if not keep.any():
        raise Unprocessable(f"Column {rule.date!r} has no dates on rows with a group, so there "
                            "is no period to summarise.", code="no_dates")
    first, last = int(ordinals[keep].min()), int(ordinals[keep].max())
    if last - first >= MAX_PERIODS:
        raise Unprocessable(f"The dates in {rule.date!r} span {last - first + 1:,} {unit}s; "
                            f"by period stops at {MAX_PERIODS:,}.", code="too_many_periods")
    n_periods = last - first + 1
    cell = group_codes.astype(np.int64) * n_periods + (ordinals[keep] - first)
    numbers = values[keep]
    filled = ~np.isnan(numbers)
    grids = _grids(cell[filled], numbers[filled], len(names) * n_periods, rule.stats)
    table = {}
    for g, name in enumerate(names):
        for stat in rule.stats:
            column = grids[stat][g * n_periods : (g + 1) * n_periods]
            label = f"{rule.value} {stat}" if name is None else f"{name}{SEPARATOR}{stat}"
            table[label[:MAX_NAME]] = column
    if len(table) != len(names) * len(rule.stats):
        raise Unprocessable(f"The values of {rule.group!r} are not distinct once cut to "
                            f"{MAX_NAME} characters; choose another group column.",
                            code="group_names")
    index = pd.PeriodIndex.from_ordinals(np.arange(first, last + 1), freq=freq)
    result = pd.DataFrame(table, index=index.rename(unit))
    columns = [{"name": n, "original": None, "dtype": str(d)} for n, d in result.dtypes.items()]
    meta = {"name": unit, "kind": "year" if rule.freq == "Y" else "period",
            "freq": index_freq(result.index), "start": str(index[0]), "end": str(index[-1])}
    return CleanSheet(result, columns, meta)


def _grids(cell: np.ndarray, numbers: np.ndarray, n_cells: int,
           stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each statistic for every (group, period) cell, missing numbers left out: count and
    mean by np.bincount, the median by pandas' grouped median (the one that needs a sort)."""
    count = np.bincount(cell, minlength=n_cells)
    grids = {"count": count.astype(np.int64)}
    if "mean" in stats:
        with np.errstate(invalid="ignore", divide="ignore"):
            grids["mean"] = np.bincount(cell, weights=numbers, minlength=n_cells) / count
    if "median" in stats:
        medians = pd.Series(numbers).groupby(cell, sort=False).median()
        grids["median"] = np.full(n_cells, np.nan)
        grids["median"][medians.index.to_numpy()] = medians.to_numpy()
    return grids


def _check_rule(rule: PeriodRule) -> None:
    if rule.freq not in FREQS:
        raise BadInput(f"'freq' is {rule.freq!r}; it must be one of M, Q or Y.", code="bad_freq")
    wrong = [s for s in rule.stats if s not in STATS]
    if not rule.stats or wrong or len(set(rule.stats)) != len(rule.stats):
        raise BadInput(f"'stats' must be one or more of {', '.join(STATS)}, each once"
                       + (f"; {quote_list(wrong)} is not." if wrong else "."), code="bad_stats")
    if rule.group is not None and rule.group in (rule.date, rule.value):
        raise BadInput("The group column must differ from the date and value columns.",
                       code="bad_group")


def _column(frame: pd.DataFrame, name: str, sheet: str, role: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    if frame.index.name == name and role == "date":
        return frame.index.to_series(index=pd.RangeIndex(len(frame)))
    raise BadInput(f"Sheet {sheet!r} has no column {name!r} (the {role} column). Columns: "
                   f"{quote_list(map(str, frame.columns), 12)}.", code="unknown_column")


def _date_values(frame: pd.DataFrame, rule: PeriodRule) -> pd.Series:
    dates = _column(frame, rule.date, rule.sheet, "date")
    if not (pd.api.types.is_datetime64_any_dtype(dates.dtype)
            or isinstance(dates.dtype, pd.PeriodDtype)):
        raise Unprocessable(
            f"Column {rule.date!r} holds {dates.dtype} values, not dates. If it holds dates "
            "written as text, set its type to one of the date types and parse again.",
            code="not_dates")
    return dates


def _value_column(frame: pd.DataFrame, rule: PeriodRule) -> np.ndarray:
    values = _column(frame, rule.value, rule.sheet, "value")
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values):
        raise Unprocessable(f"Column {rule.value!r} holds {values.dtype} values, not numbers; "
                            "by period summarises a numeric column.", code="not_numbers")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _ordinals(dates: pd.Series, freq: str, rule: PeriodRule) -> tuple[np.ndarray, np.ndarray]:
    """(period ordinals as pandas numbers them, which rows have a date). For dates straight
    from numpy months: a month's ordinal is months since 1970-01, a quarter's that // 3, a
    year's // 12 (pandas' to_period is five times slower on a million rows)."""
    if isinstance(dates.dtype, pd.PeriodDtype):
        index = pd.PeriodIndex(dates)
        fineness = ["D", "M", "Q-DEC", "Y-DEC"]
        if index.freqstr not in fineness or fineness.index(index.freqstr) > fineness.index(freq):
            raise Unprocessable(f"Column {rule.date!r} holds {index.freqstr} periods, which do "
                                f"not fall within single {FREQS[rule.freq][1]}s.",
                                code="coarse_periods")
        periods = index.asfreq(freq, how="end") if index.freqstr != freq else index
        return periods.asi8, ~periods.isna()
    stamps = pd.DatetimeIndex(dates)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    keep = ~stamps.isna()
    months = stamps.to_numpy().astype("datetime64[M]").astype(np.int64)
    divisor = {"M": 1, "Q-DEC": 3, "Y-DEC": 12}[freq]
    return np.where(keep, months // divisor, 0), keep


# -- storing it as a sheet of the dataset ---------------------------------------------------
def add_period_sheet(files_dir: Path, dataset: Dataset, rule: PeriodRule,
                     frame: pd.DataFrame) -> dict:
    """Build, store and list the derived sheet; returns its entry in the dataset's sheets."""
    meta = dict(dataset.meta or {})
    sheets = list(meta.get("sheets", []))
    entry, log = _build_entry(files_dir, dataset, rule, frame, sheets)
    sheets = [s for s in sheets if s["name"] != entry["name"]] + [entry]
    derived = [r for r in meta.get("derived", []) if r != rule.to_dict()] + [rule.to_dict()]
    meta.update(sheets=sheets, derived=derived,
                cleaning_log=list(meta.get("cleaning_log", [])) + [log])
    dataset.meta = meta
    db.session.commit()
    return entry


def _build_entry(files_dir, dataset, rule, frame, sheets) -> tuple[dict, dict]:
    result = period_summary(frame, rule)
    unit = FREQS[rule.freq][1]
    rule_key = hashlib.sha256(json.dumps([dataset.parse_key, rule.to_dict()],
                                         sort_keys=True).encode()).hexdigest()
    parquet = f"derived-{rule_key[:32]}.parquet"
    same = next((s for s in sheets if s.get("parquet") == parquet), None)
    name = same["name"] if same else _free_name(
        f"{rule.sheet} {rule.value} by {unit}" + (f" and {rule.group}" if rule.group else ""),
        {s["name"] for s in sheets})
    FileStore(files_dir).put_sheet(dataset.sha256, dataset.parse_key, parquet, result.frame)
    detail = (f"Built from sheet {rule.sheet!r}: {rule.describe().split(', from sheet')[0]}, "
              f"{plural(len(result.frame), unit)} from {result.index['start']} to "
              f"{result.index['end']} (periods without rows have count 0 and no median or "
              f"mean).")
    entry = {"name": name, "original_name": rule.sheet, "n_rows": int(result.frame.shape[0]),
             "n_cols": int(result.frame.shape[1]), "columns": result.columns,
             "index": result.index, "parquet": parquet, "turned_from": None,
             "derived_from": {"sheet": rule.sheet, "rule": rule.to_dict(), "detail": detail}}
    return entry, {"sheet": name, "step": "by period", "detail": detail}


def _free_name(base: str, taken: set[str]) -> str:
    name = base[:100]
    while name in taken:
        name += "'"
    return name


def rebuild_derived(files_dir: Path, dataset: Dataset, rules: list[dict], load) -> None:
    """After a re-parse: build each derived sheet again from the new parse, or say in the
    cleaning log why it is gone (its sheet or columns are no longer there)."""
    from errors import QuartileError

    for raw in rules:
        rule = PeriodRule(raw["sheet"], raw["date"], raw["value"], raw["freq"],
                          tuple(raw["stats"]), raw.get("group"))
        try:
            add_period_sheet(files_dir, dataset, rule, load(rule.sheet))
        except QuartileError as exc:
            meta = dict(dataset.meta)
            meta["cleaning_log"] = list(meta.get("cleaning_log", [])) + [{
                "sheet": rule.sheet, "step": "by period",
                "detail": f"The sheet of {rule.describe()} was not built again: {exc.message}"}]
            dataset.meta = meta
            db.session.commit()
