"""Describe every column of a sheet (and every sheet of a workbook).

Numeric columns: count, missing, mean, std (ddof=1), min, quartiles (linear interpolation, as
`DataFrame.describe`), max, skew and kurtosis. Skew is the bias-corrected Fisher-Pearson G1 and
kurtosis the bias-corrected *excess* kurtosis G2 — the same as pandas `Series.skew()`/`.kurt()` and
`scipy.stats.skew/kurtosis(bias=False)`; they are None when undefined (fewer than 3 resp. 4 values,
or a constant column) rather than pandas' 0 or NaN. `count` is the number of finite values,
`missing` the empty cells and `infinite` the ±inf cells (left out of every statistic), so
count + missing + infinite = n_rows. Text columns: count, missing, unique, top, freq.
Each numeric column also gets its histogram (analysis.histograms), drawn beside the table.

All numeric columns of a sheet are computed at once on one 2-D array, which keeps the whole
2020Q1 workbook (four 180×27 sheets) well under 50 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.histograms import column_histograms
from analysis.results import is_numeric, json_safe, label, table

NUMERIC_KEYS = ("mean", "std", "min", "q25", "median", "q75", "max", "skew", "kurtosis")
CATEGORICAL_KEYS = ("unique", "top", "freq")
# The headers of the tables (page, CSV, Markdown, LaTeX): words a reader knows, as in the PDF.
HEADERS = {"name": "Column", "dtype": "Type", "count": "n", "missing": "Missing",
           "infinite": "Infinite", "mean": "Mean", "std": "Std. dev.", "min": "Min",
           "q25": "25 %", "median": "Median", "q75": "75 %", "max": "Max", "skew": "Skewness",
           "kurtosis": "Excess kurtosis", "unique": "Distinct", "top": "Most frequent",
           "freq": "Its count"}


@dataclass(frozen=True)
class Description:
    sheet: str
    n_rows: int
    columns: tuple[dict, ...]
    index: dict | None = None
    histograms: dict | None = None  # numeric column -> {"edges", "counts", "rule"}
    kind: str = "describe"

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "n_rows": self.n_rows,
                          "index": self.index, "columns": list(self.columns),
                          "histograms": self.histograms or {}})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        numeric = [c for c in self.columns if c["type"] == "numeric"]
        text = [c for c in self.columns if c["type"] == "categorical"]
        out = []
        if numeric:
            # the statistics first, so that a narrow screen shows them beside the names
            keys = ["name", "count", "missing", *NUMERIC_KEYS, "infinite", "dtype"]
            out.append((f"{self.sheet}: numeric columns", _labelled(numeric, keys)))
        if text:
            keys = ["name", "count", "missing", *CATEGORICAL_KEYS, "dtype"]
            out.append((f"{self.sheet}: text columns", _labelled(text, keys)))
        return out


def _labelled(columns: list[dict], keys: list[str]) -> pd.DataFrame:
    return table([{HEADERS[k]: c[k] for k in keys} for c in columns], [HEADERS[k] for k in keys])


@dataclass(frozen=True)
class WorkbookDescription:
    sheets: tuple[Description, ...]
    kind: str = "describe_workbook"

    @property
    def by_sheet(self) -> dict[str, Description]:
        """Sheet name -> its Description, in workbook order."""
        return {d.sheet: d for d in self.sheets}

    def __getitem__(self, sheet: str) -> Description:
        return self.by_sheet[sheet]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "sheet": None,
                "sheets": [d.to_dict() for d in self.sheets]}

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [t for d in self.sheets for t in d.tables()]


def _numeric_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Column-wise statistics of a 2-D float array (NaN = missing), without warnings.

    Infinite values are counted apart (`infinite`) and left out of every statistic. Each column
    is first divided by the power of two just above its largest |value|: exact in floating point
    (barring subnormal numbers the results are those of the unscaled formulas to the last bit),
    yet no square or fourth power can overflow, whatever the magnitudes in the sheet.
    """
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    out: dict[str, np.ndarray] = {"count": count,
                                  "infinite": np.isinf(values).sum(axis=0)}
    nan = np.full(values.shape[1], np.nan)
    for key in NUMERIC_KEYS:
        out[key] = nan.copy()
    has = count > 0
    if not has.any():
        return out
    p = finite[:, has]
    biggest = np.where(p, np.abs(values[:, has]), 0.0).max(axis=0)
    exponent = np.frexp(np.where(biggest > 0, biggest, 1.0))[1]
    scale = np.ldexp(1.0, np.clip(exponent, -1021, 1023))  # |x| / scale < 2, never inf
    x = np.where(p, values[:, has], np.nan) / scale
    n = count[has].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(p, x, 0.0).sum(axis=0) / n
        dev = np.where(p, x - mean, 0.0)
        dev2 = dev * dev
        m2 = dev2.sum(axis=0) / n
        m3 = (dev2 * dev).sum(axis=0) / n
        m4 = (dev2 * dev2).sum(axis=0) / n
        std = np.where(n > 1, np.sqrt(m2 * n / (n - 1)), np.nan)
        varies = m2 > (np.finfo(float).eps * np.maximum(np.abs(mean), 1.0)) ** 2
        g1 = m3 / m2**1.5
        skew = np.where((n > 2) & varies, np.sqrt(n * (n - 1)) / (n - 2) * g1, np.nan)
        g2 = m4 / (m2 * m2) - 3.0
        kurt = np.where((n > 3) & varies,
                        ((n + 1) * g2 + 6.0) * (n - 1) / ((n - 2) * (n - 3)), np.nan)
        quartiles = np.nanpercentile(x, [0, 25, 50, 75, 100], axis=0)
        for key, arr in (("mean", mean * scale), ("std", std * scale), ("skew", skew),
                         ("kurtosis", kurt), ("min", quartiles[0] * scale),
                         ("q25", quartiles[1] * scale), ("median", quartiles[2] * scale),
                         ("q75", quartiles[3] * scale), ("max", quartiles[4] * scale)):
            out[key][has] = arr
    return out


def _categorical(series: pd.Series) -> dict:
    counts = series.value_counts(dropna=True)
    top = counts.index[0] if len(counts) else None
    return {"unique": int(len(counts)), "top": None if top is None else str(top),
            "freq": int(counts.iloc[0]) if len(counts) else None}


def _index_info(index: pd.Index) -> dict | None:
    if isinstance(index, (pd.PeriodIndex, pd.DatetimeIndex)) and len(index):
        freq = index.freqstr if index.freq is not None else None
        return {"type": "period" if isinstance(index, pd.PeriodIndex) else "datetime",
                "freq": freq, "first": label(index[0]), "last": label(index[-1])}
    return None


def describe_sheet(frame: pd.DataFrame, sheet: str) -> Description:
    """Describe every column of one cleaned sheet, in the sheet's column order."""
    n_rows = len(frame)
    numeric = [c for c in frame.columns if is_numeric(frame[c])]
    stats: dict[str, dict] = {}
    histograms: dict[str, dict] = {}
    if numeric:
        block = np.column_stack(
            [frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in numeric]
        ) if n_rows else np.empty((0, len(numeric)))
        computed = _numeric_stats(block)
        histograms = column_histograms(block, [str(c) for c in numeric])
        for j, name in enumerate(numeric):
            stats[name] = {key: computed[key][j] for key in computed}
    columns = []
    for name in frame.columns:
        series = frame[name]
        base = {"name": str(name), "dtype": str(series.dtype)}
        if name in stats:
            s = stats[name]
            count, infinite = int(s["count"]), int(s["infinite"])
            entry = {**base, "type": "numeric", "count": count,
                     "missing": n_rows - count - infinite, "infinite": infinite,
                     **{k: s[k] for k in NUMERIC_KEYS},
                     **dict.fromkeys(CATEGORICAL_KEYS)}
        else:
            count = int(series.notna().sum())
            entry = {**base, "type": "categorical", "count": count, "missing": n_rows - count,
                     "infinite": None, **dict.fromkeys(NUMERIC_KEYS), **_categorical(series)}
        columns.append(entry)
    return Description(sheet=sheet, n_rows=n_rows, columns=tuple(json_safe(columns)),
                       index=_index_info(frame.index), histograms=histograms)


def describe_workbook(frames: dict[str, pd.DataFrame]) -> WorkbookDescription:
    """Describe every sheet of a workbook, in the workbook's sheet order."""
    return WorkbookDescription(
        sheets=tuple(describe_sheet(frame, name) for name, frame in frames.items())
    )
