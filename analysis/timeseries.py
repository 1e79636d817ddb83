"""Time-series arithmetic over a sheet's period index (Dallas Fed: quarters × countries).

Every function needs the frame's index to be a PeriodIndex or DatetimeIndex (the ingestion layer
sets it when it detects dates/quarters in the first column). Periods are given as text: a
quarter ("2010Q1", "2010:Q1"), a month ("2010-03"), a day or a year ("2010"); it selects every row
whose period overlaps it, so a year stands for the mean of that year's rows. Results are in
percent where the name says so; a value that cannot be computed (the first `periods` rows of a
growth rate, a missing cell) is None, and a division by zero is None *and* said in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.results import json_safe, label, number, numeric_column, numeric_columns, table
from errors import BadInput, Unprocessable

QUARTER = re.compile(r"^(?:(?P<y1>\d{4})\s*[:\-]?\s*Q(?P<q1>[1-4])|"
                     r"Q(?P<q2>[1-4])\s*[:\-]?\s*(?P<y2>\d{4}))$", re.IGNORECASE)


@dataclass(frozen=True)
class SeriesResult:
    """Columns of numbers over periods: growth, rebased, rolling, deflator, price-to-income."""

    kind: str
    sheet: str
    index: tuple[str, ...]
    series: dict
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, **self.meta,
                          "index": list(self.index), "series": self.series})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        frame = pd.DataFrame({"period": list(self.index), **self.series})
        return [(f"{self.kind} ({self.sheet})", frame)]


@dataclass(frozen=True)
class RowsResult:
    """One row of figures per column: CAGR, drawdowns."""

    kind: str
    sheet: str
    rows: tuple[dict, ...]
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, **self.meta,
                          "columns": list(self.rows)})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f"{self.kind} ({self.sheet})", table(list(self.rows)))]


def period_index(frame: pd.DataFrame, sheet: str) -> pd.Index:
    index = frame.index
    if not isinstance(index, (pd.PeriodIndex, pd.DatetimeIndex)) or len(index) == 0:
        raise BadInput(f"Sheet '{sheet}' has no period index (dates or quarters as rows); "
                       "time-series analyses need one.")
    return index


def data_range(index: pd.Index) -> str:
    return f"{label(index[0])}–{label(index[-1])}"


def parse_period(when) -> pd.Period:
    """A period as a person types it: "2010" (year), "2010Q1", "2010:Q1", "Q1 2010", "2010-03",
    "2010-03-31". Its own resolution is kept: a year stands for every row inside it."""
    text = str(when).strip() if isinstance(when, (str, int)) and not isinstance(when, bool) \
        else ""
    if not text:
        raise BadInput(f"A period must be text like '2010Q1' or '2010', not {when!r}.")
    quarter = QUARTER.match(text)
    if quarter:
        year, q = quarter.group("y1") or quarter.group("y2"), quarter.group("q1") or \
            quarter.group("q2")
        text = f"{year}Q{q}"
    try:
        return pd.Period(text)
    except ValueError as exc:  # pandas' DateParseError is a ValueError
        raise BadInput(f"'{text}' is not a period like '2010Q1', '2010-03' or a year like "
                       "'2010'.") from exc


def select_rows(index: pd.Index, when, sheet: str) -> np.ndarray:
    """Boolean mask of the rows whose period overlaps `when` (a year, quarter, month or day).

    "2010" on quarterly rows is the four quarters of 2010; "2010-03" on quarterly rows is
    2010Q1; "2010Q1" on monthly rows or on month-end dates is January to March.
    """
    period = parse_period(when)
    if isinstance(index, pd.PeriodIndex):
        starts, ends = index.start_time, index.end_time
    else:
        starts = ends = index.tz_localize(None) if index.tz is not None else index
    mask = np.asarray((starts <= period.end_time) & (ends >= period.start_time))
    if not mask.any():
        raise BadInput(f"Period '{str(when).strip()}' is outside the data of sheet '{sheet}' "
                       f"({data_range(index)}).")
    return mask


def fractional_years(index: pd.Index) -> np.ndarray:
    """Each row's time in years, so that CAGR uses the true years between periods."""
    if isinstance(index, pd.PeriodIndex):
        per_year = {"Q": 4, "M": 12, "Y": 1, "A": 1}.get(index.freqstr[0])
        if per_year:
            return np.asarray(index.asi8, dtype="float64") / per_year
        index = index.to_timestamp()
    elif index.tz is not None:
        index = index.tz_localize(None)
    days = (index - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return np.asarray(days, dtype="float64") / 365.25


def _series(frame: pd.DataFrame, sheet: str, columns) -> dict[str, np.ndarray]:
    return {c: numeric_column(frame, sheet, c).to_numpy()
            for c in numeric_columns(frame, sheet, columns)}


def _labels(index: pd.Index) -> tuple[str, ...]:
    return tuple(label(v) for v in index)


def _clean(values: np.ndarray) -> list[float | None]:
    return [number(v) for v in values]


def _zero_note(col: str, denominators: np.ndarray, what: str) -> list[str]:
    zeros = int((denominators == 0).sum())
    if not zeros:
        return []
    return [f"Column '{col}': {zeros} value(s) are undefined because the {what} is 0; they "
            "are shown as null."]


def growth(frame: pd.DataFrame, sheet: str, columns=None, periods: int = 1) -> SeriesResult:
    """Percent change over `periods` rows: 1 = on the period before; a year is 4 rows of quarters
    or 12 of months."""
    index = period_index(frame, sheet)
    if not isinstance(periods, int) or isinstance(periods, bool) or not 1 <= periods < len(index):
        raise BadInput(f"'periods' must be a whole number from 1 to {len(index) - 1} (sheet "
                       f"'{sheet}' has {len(index)} rows).")
    out, notes = {}, []
    for col, v in _series(frame, sheet, columns).items():
        pct = np.full(len(v), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct[periods:] = (v[periods:] / v[:-periods] - 1.0) * 100.0
        notes += _zero_note(col, v[:-periods], "earlier value")
        out[col] = _clean(pct)
    return SeriesResult(kind="growth", sheet=sheet, index=_labels(index), series=out,
                        meta={"periods": periods, "comparison": comparison(index, periods),
                              "unit": "percent", "notes": notes})


PER_YEAR = {"Q": 4, "M": 12, "Y": 1, "A": 1}  # periods in a year, by frequency letter


def comparison(index: pd.Index, periods: int) -> str:
    """How people say a change over `periods` rows: "year on year" for 4 quarters or 12
    months, "quarter on quarter", "month on month", else "over 3 periods"."""
    freq = getattr(index, "freqstr", None) or ""
    per_year = PER_YEAR.get(freq.lstrip("B")[:1])
    if per_year and periods == per_year:
        return "year on year"
    if periods == 1 and per_year in (4, 12):
        return "quarter on quarter" if per_year == 4 else "month on month"
    return f"over {periods} period{'s' if periods != 1 else ''}"


def rebase(frame: pd.DataFrame, sheet: str, columns=None, base_period="2010") -> SeriesResult:
    """Each column divided by its value in `base_period` (a year = that year's mean), times 100."""
    index = period_index(frame, sheet)
    mask = select_rows(index, base_period, sheet)
    out = {}
    for col, v in _series(frame, sheet, columns).items():
        base = v[mask][np.isfinite(v[mask])]
        if not len(base) or base.mean() == 0:
            raise Unprocessable(f"Column '{col}' has no non-zero value in {base_period}; it "
                                "cannot be rebased there.")
        out[col] = _clean(v / base.mean() * 100.0)
    return SeriesResult(kind="rebase", sheet=sheet, index=_labels(index), series=out,
                        meta={"base_period": str(base_period), "unit": f"{base_period} = 100"})


def rolling_mean(frame: pd.DataFrame, sheet: str, columns=None, window: int = 4) -> SeriesResult:
    """Trailing mean over `window` rows; None until a full window of values is available."""
    index = period_index(frame, sheet)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= len(index):
        raise BadInput(f"'window' must be a whole number from 1 to {len(index)}.")
    out = {col: _clean(pd.Series(v).rolling(window, min_periods=window).mean().to_numpy())
           for col, v in _series(frame, sheet, columns).items()}
    return SeriesResult(kind="rolling", sheet=sheet, index=_labels(index), series=out,
                        meta={"window": window})


def _point(index, v, years, when, sheet, col) -> tuple[float, float]:
    mask = select_rows(index, when, sheet) & np.isfinite(v)
    if not mask.any():
        raise Unprocessable(f"Column '{col}' has no value in {when}.")
    return float(v[mask].mean()), float(years[mask].mean())


def cagr(frame: pd.DataFrame, sheet: str, columns=None, start="2000", end="2010") -> RowsResult:
    """Compound annual growth rate in percent between two periods, over the true years between."""
    index = period_index(frame, sheet)
    years = fractional_years(index)
    rows = []
    for col, v in _series(frame, sheet, columns).items():
        v0, t0 = _point(index, v, years, start, sheet, col)
        v1, t1 = _point(index, v, years, end, sheet, col)
        if t1 <= t0:
            raise BadInput(f"The end period '{end}' must come after the start '{start}'.")
        if v0 <= 0 or v1 <= 0:
            raise Unprocessable(f"Column '{col}' is not positive at {start} or {end}; a "
                                "compound growth rate needs positive values.")
        with np.errstate(over="ignore"):
            rate = float(np.expm1(np.log(v1 / v0) / (t1 - t0))) * 100.0
        if not np.isfinite(rate):
            raise Unprocessable(f"Column '{col}' grows too fast between {start} and {end} for "
                                "its annual rate to be a finite number.")
        rows.append({"column": col, "start_value": v0, "end_value": v1, "years": t1 - t0,
                     "cagr_percent": rate})
    return RowsResult(kind="cagr", sheet=sheet, rows=tuple(json_safe(rows)),
                      meta={"start": str(start), "end": str(end), "unit": "percent per year"})


def _aligned(a: pd.DataFrame, b: pd.DataFrame, sheet_a: str, sheet_b: str, columns
             ) -> tuple[pd.Index, dict[str, tuple[np.ndarray, np.ndarray]]]:
    ia, ib = period_index(a, sheet_a), period_index(b, sheet_b)
    if type(ia) is not type(ib) or getattr(ia, "freq", None) != getattr(ib, "freq", None):
        raise BadInput(f"Sheets '{sheet_a}' and '{sheet_b}' have different kinds of period "
                       "index and cannot be aligned.")
    common = ia.intersection(ib).sort_values()
    if not len(common):
        raise Unprocessable(f"Sheets '{sheet_a}' ({data_range(ia)}) and '{sheet_b}' "
                            f"({data_range(ib)}) share no period.")
    if columns is None or columns == []:
        columns = [c for c in numeric_columns(a, sheet_a, None) if c in b.columns]
        if not columns:
            raise BadInput(f"Sheets '{sheet_a}' and '{sheet_b}' share no numeric column.")
    names = numeric_columns(a, sheet_a, columns)
    numeric_columns(b, sheet_b, names)
    pos_a, pos_b = ia.get_indexer(common), ib.get_indexer(common)
    return common, {c: (numeric_column(a, sheet_a, c).to_numpy()[pos_a],
                        numeric_column(b, sheet_b, c).to_numpy()[pos_b]) for c in names}


def ratio_frame(a: pd.DataFrame, b: pd.DataFrame, sheet_a: str, sheet_b: str,
                columns=None) -> pd.DataFrame:
    """a / b on the periods and numeric columns both sheets have (HPI / PDI: price-to-income),
    as a frame with the common period index; a zero divisor gives a missing value."""
    common, pairs = _aligned(a, b, sheet_a, sheet_b, columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = {c: np.where(y != 0, x / np.where(y != 0, y, 1.0), np.nan)
                for c, (x, y) in pairs.items()}
    return pd.DataFrame(data, index=common)


def _ratio(kind, a, b, sheet_a, sheet_b, columns, scale, meta) -> SeriesResult:
    common, pairs = _aligned(a, b, sheet_a, sheet_b, columns)
    out, notes = {}, []
    for col, (x, y) in pairs.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            out[col] = _clean(scale * x / y)
        notes += _zero_note(col, y, f"value in sheet '{sheet_b}'")
    return SeriesResult(kind=kind, sheet=sheet_a, index=_labels(common), series=out,
                        meta={"other_sheet": sheet_b, **meta, "notes": notes})


def implied_deflator(nominal: pd.DataFrame, real: pd.DataFrame, columns=None,
                     sheet: str = "HPI", real_sheet: str = "RHPI") -> SeriesResult:
    """100 × nominal / real on the periods both sheets have (HPI / RHPI: the implied deflator)."""
    return _ratio("deflator", nominal, real, sheet, real_sheet, columns, 100.0,
                  {"real_sheet": real_sheet, "formula": "100 × nominal / real"})


def price_to_income(price: pd.DataFrame, income: pd.DataFrame, columns=None,
                    sheet: str = "HPI", income_sheet: str = "PDI",
                    scale: float = 1.0) -> SeriesResult:
    """scale × price / income per period; use scale=100 when both are indices (HPI / PDI)."""
    return _ratio("price_to_income", price, income, sheet, income_sheet, columns, scale,
                  {"income_sheet": income_sheet, "scale": scale,
                   "formula": f"{scale:g} × price / income"})


def drawdowns(frame: pd.DataFrame, sheet: str, columns=None, start=None, end=None
              ) -> RowsResult:
    """Largest peak-to-trough fall inside [start, end], and when the peak level came back.

    The drawdown is the minimum over the window of value / running maximum - 1, in percent (≤ 0);
    the peak is the running maximum's period before the trough. Recovery is the first period
    after the trough, searched to the end of the data, whose value is at least the peak's.
    """
    index = period_index(frame, sheet)
    lo = int(np.argmax(select_rows(index, start, sheet))) if start is not None else 0
    hi = (len(index) - 1 - int(np.argmax(select_rows(index, end, sheet)[::-1]))
          if end is not None else len(index) - 1)
    if hi <= lo:
        raise BadInput(f"The window {start or label(index[lo])}–{end or label(index[hi])} of "
                       f"sheet '{sheet}' must span at least two periods (data: "
                       f"{data_range(index)}).")
    rows = []
    for col, v in _series(frame, sheet, columns).items():
        pos = np.arange(lo, hi + 1)[np.isfinite(v[lo:hi + 1])]
        if len(pos) < 2:
            raise Unprocessable(f"Column '{col}' has fewer than two values in the window.")
        w = v[pos]
        if (w <= 0).any():
            raise Unprocessable(f"Column '{col}' has values ≤ 0; a percent drawdown needs "
                                "positive levels.")
        dd = w / np.maximum.accumulate(w) - 1.0
        trough = int(np.argmin(dd))
        peak = int(np.argmax(w[:trough + 1]))
        after = np.nonzero(v[pos[trough] + 1:] >= w[peak])[0] if dd[trough] < 0 else []
        recovery = label(index[pos[trough] + 1 + after[0]]) if len(after) else None
        rows.append({"column": col, "peak_period": label(index[pos[peak]]),
                     "peak_value": w[peak], "trough_period": label(index[pos[trough]]),
                     "trough_value": w[trough], "drawdown_percent": dd[trough] * 100.0,
                     "recovery_period": recovery})
    return RowsResult(kind="drawdown", sheet=sheet, rows=tuple(json_safe(rows)),
                      meta={"start": label(index[lo]), "end": label(index[hi])})
