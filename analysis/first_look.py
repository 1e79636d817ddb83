"""First look at a cleaned sheet: what a person should know before analysing it.

Like ydata-profiling's alerts, on the stored (cleaned) sheet: missing values, constant or nearly
constant columns, very highly correlated pairs, extreme outliers, and on time-series sheets the
series that start late, stop early or have gaps. Each alert names its columns, says how many,
and carries links (an analysis or a chart, with its parameters) that show it.

Fast on a million rows: every check is one vectorised pass per column; the top value is
screened on a sample and counted exactly only when the sample says it may matter; the
correlation matrix is computed on at most `SAMPLE_ROWS` rows (the result says when).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.first_look_series import series_alerts
from analysis.first_look_text import (
    Alert,
    Link,
    count_text,
    names_text,
    number_text,
    percent_text,
)
from analysis.results import is_numeric, json_safe

MISSING_SHARE = 0.05
"""A column with at least 5 % of its cells empty is flagged: below that, dropping the rows
rarely moves an estimate (the usual rule of thumb); above it the reader should decide."""

NEAR_CONSTANT_SHARE = 0.95
"""The top value filling 95 % of a column's values leaves too little variation for a mean,
a correlation or a regressor to say much (ydata-profiling calls this imbalance)."""

MIN_VALUES = 20
"""Shares, quartiles and correlations on fewer values are noise, not findings."""

HIGH_CORRELATION = 0.9
"""|r| ≥ 0.9 (Pearson): ydata-profiling's default; two such columns in one regression make
its coefficients unstable (variance inflation ≥ 5.3)."""

OUTLIER_IQR = 3.0
"""Tukey's "far out" fences: beyond 3 × IQR from the quartiles. A normal sample has about
2 such values per million, so what is flagged is rarely chance (1.5 × IQR flags 0.7 %)."""

OUTLIER_CHANCE_SHARE = 1e-5
"""…but a normal sample of a million rows has 2 or 3 of them by chance: on big sheets they are
flagged only when more than 10 per million, or when one lies beyond twice the fence distance
(9.4 standard deviations of a normal sample: never chance)."""

SAMPLE_ROWS = 100_000
"""The correlation matrix uses at most this many rows (a fixed random sample): the standard
error of r near 0.9 is then below 0.001, and a million rows take well under a second."""

SCREEN_ROWS = 10_000
SCREEN_SHARE = 0.9  # a sample this far below NEAR_CONSTANT_SHARE never hides a real one
MAX_PAIRS = 5
"""Correlated pairs listed one by one; the rest are counted in one alert."""

MAX_CORRELATION_COLUMNS = 200
SEVERITY_ORDER = {"warning": 0, "note": 1}
KIND_ORDER = ("missing", "constant", "stops_early", "gaps", "outliers", "near_constant",
              "starts_late", "correlation")


@dataclass(frozen=True)
class FirstLook:
    sheet: str
    n_rows: int
    n_columns: int
    alerts: tuple[Alert, ...]
    correlation_rows: int = 0  # rows the correlation matrix used (a sample when < n_rows)
    time_series: bool = False
    thresholds: dict = field(default_factory=dict)
    kind: str = "first_look"

    def to_dict(self) -> dict:
        return json_safe({
            "kind": self.kind, "sheet": self.sheet, "n_rows": self.n_rows,
            "n_columns": self.n_columns, "time_series": self.time_series,
            "correlation_rows": self.correlation_rows, "thresholds": self.thresholds,
            "alerts": [a.to_dict() for a in self.alerts]})


def first_look(frame: pd.DataFrame, sheet: str) -> FirstLook:
    """Every alert of one sheet: warnings first, by kind (KIND_ORDER), each kind in column
    order (correlated pairs strongest first)."""
    time_series = isinstance(frame.index, pd.PeriodIndex | pd.DatetimeIndex) and len(frame) > 1
    if time_series and not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    numeric = [c for c in frame.columns if is_numeric(frame[c])]
    alerts: list[Alert] = []
    varying: list[str] = []
    for name in frame.columns:
        column_alerts, varies = _column_alerts(frame[name], sheet, name,
                                               time_series and name in numeric)
        alerts.extend(column_alerts)
        if varies and name in numeric:
            varying.append(name)
    alerts = _grouped_missing(alerts)
    if time_series:
        alerts.extend(series_alerts(frame, sheet, numeric))
    pairs, used = correlated_pairs(frame, varying)
    alerts.extend(_correlation_alerts(pairs, sheet, used, len(frame), time_series))
    alerts.sort(key=lambda a: (SEVERITY_ORDER[a.severity], KIND_ORDER.index(a.kind)))
    return FirstLook(sheet, len(frame), frame.shape[1], tuple(alerts), used, time_series,
                     THRESHOLDS)


THRESHOLDS = {"missing_share": MISSING_SHARE, "near_constant_share": NEAR_CONSTANT_SHARE,
              "high_correlation": HIGH_CORRELATION, "outlier_iqr": OUTLIER_IQR,
              "min_values": MIN_VALUES}


def _column_alerts(series: pd.Series, sheet: str, name: str,
                   as_series: bool) -> tuple[list[Alert], bool]:
    """Missing, constant and outlier alerts of one column; and whether it varies."""
    n = len(series)
    numeric = is_numeric(series)
    values = series.to_numpy(dtype="float64", na_value=np.nan) if numeric else None
    present_mask = np.isfinite(values) if numeric else series.notna().to_numpy()
    present = int(present_mask.sum())  # ±inf is no value to count on, nor a missing one
    missing = int(np.isnan(values).sum()) if numeric else n - present
    describe = Link("describe the sheet", "analysis", {"kind": "describe", "sheet": sheet})
    out = []
    if n and present == 0:
        return [Alert("missing", "warning", "Empty column", (name,),
                      f"{name}: no values in {count_text(n, 'row')}.",
                      {"missing": missing, "n": n, "share": 1.0}, (describe,))], False
    if n and missing / n >= MISSING_SHARE and not as_series:
        out.append(Alert("missing", "warning", "Missing values", (name,),
                         f"{name}: {missing:,} of {n:,} values missing "
                         f"({percent_text(missing / n)}).",
                         {"missing": missing, "n": n, "share": missing / n}, (describe,)))
    kept = values[present_mask] if numeric else series[present_mask]
    value, count = _top_value(kept, numeric)
    if count == present:
        if present >= 2:
            out.append(Alert("constant", "warning", "Constant column", (name,),
                             f"{name}: every one of its {count_text(present, 'value')} is "
                             f"{_shown(value)}.",
                             {"value": value, "count": count, "n": present}, (describe,)))
        return out, False
    if present >= MIN_VALUES and count / present >= NEAR_CONSTANT_SHARE:
        out.append(Alert("near_constant", "note", "Nearly constant", (name,),
                         f"{name}: {_shown(value)} in {count:,} of {present:,} values "
                         f"({percent_text(count / present)}).",
                         {"value": value, "count": count, "n": present,
                          "share": count / present}, (describe,)))
    if numeric and present >= MIN_VALUES:
        outliers = outlier_alert(kept, sheet, name)
        if outliers is not None:
            out.append(outliers)
    return out, True


def _grouped_missing(alerts: list[Alert]) -> list[Alert]:
    """Columns missing the same number of values share one alert: on a wide sheet (one column
    per period) they are usually the same rows."""
    groups: dict[int, list[Alert]] = {}
    for alert in alerts:
        if alert.title == "Missing values":
            groups.setdefault(alert.figures["missing"], []).append(alert)
    out = []
    for alert in alerts:
        group = groups.get(alert.figures.get("missing"), []) if alert.title == \
            "Missing values" else [alert]
        if len(group) == 1:
            out.append(alert)
        elif group and group[0] is alert:
            names = tuple(a.columns[0] for a in group)
            figures = alert.figures
            out.append(Alert("missing", "warning", "Missing values", names,
                             f"{names_text(names)}: {figures['missing']:,} of {figures['n']:,} "
                             f"values missing in each ({percent_text(figures['share'])}).",
                             figures, alert.links))
    return out


def _top_value(kept, numeric: bool) -> tuple[object, int]:
    """(most frequent value, its count) when it may fill NEAR_CONSTANT_SHARE of the column;
    (None, 0) when a sample shows it cannot, which spares counting a million distinct values
    (or when there are no values)."""
    n = len(kept)
    if n == 0:
        return None, 0
    if numeric and kept.min() == kept.max():
        return float(kept[0]), n
    if n > SCREEN_ROWS:
        rows = np.random.default_rng(0).integers(0, n, SCREEN_ROWS)
        sample = kept[rows] if numeric else kept.iloc[rows]
        if pd.Series(sample).value_counts().iloc[0] < SCREEN_SHARE * SCREEN_ROWS:
            return None, 0
    counts = pd.Series(kept).value_counts()
    value = counts.index[0]
    return (value.item() if hasattr(value, "item") else value), int(counts.iloc[0])


def outlier_alert(values: np.ndarray, sheet: str, name: str) -> Alert | None:
    """Values beyond OUTLIER_IQR × IQR from the quartiles (linear interpolation, as
    `describe`); none when the quartiles coincide (the constant checks speak for those)."""
    q1, q3 = np.quantile(values, [0.25, 0.75])
    iqr = q3 - q1
    if not iqr > 0:
        return None
    low, high = q1 - OUTLIER_IQR * iqr, q3 + OUTLIER_IQR * iqr
    below, above = int((values < low).sum()), int((values > high).sum())
    smallest, largest = float(values.min()), float(values.max())
    extreme = largest if largest - high >= low - smallest else smallest
    far = max(largest - high, low - smallest) > OUTLIER_IQR * iqr
    if not below + above or (below + above <= OUTLIER_CHANCE_SHARE * len(values) and not far):
        return None
    sides = [f"{below:,} below {number_text(low)}" if below else "",
             f"{above:,} above {number_text(high)}" if above else ""]
    return Alert("outliers", "warning", "Extreme outliers", (name,),
                 f"{name}: {' and '.join(s for s in sides if s)} (more than {OUTLIER_IQR:g} × "
                 f"IQR beyond the quartiles); the most extreme is {number_text(extreme)}.",
                 {"count": below + above, "below": below, "above": above, "n": len(values),
                  "q1": q1, "q3": q3, "low": low, "high": high, "most_extreme": extreme},
                 (Link("describe the sheet", "analysis", {"kind": "describe", "sheet": sheet}),
                  Link("box plot", "chart", {"kind": "box", "sheet": sheet, "y": [name]})))


def correlated_pairs(frame: pd.DataFrame, columns: list[str]
                     ) -> tuple[list[tuple[str, str, float, int]], int]:
    """(a, b, r, n) for |r| ≥ HIGH_CORRELATION, strongest first, on pairwise-complete rows of
    at most SAMPLE_ROWS sampled rows; and the number of rows used."""
    columns = columns[:MAX_CORRELATION_COLUMNS]
    if len(columns) < 2:
        return [], 0
    rows = slice(None)
    if len(frame) > SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(frame), SAMPLE_ROWS, replace=False))
    values = np.column_stack([frame[c].to_numpy(dtype="float64", na_value=np.nan)[rows]
                              for c in columns])
    r, n = pairwise_pearson(values)
    a, b = np.nonzero(np.triu((np.abs(r) >= HIGH_CORRELATION) & (n >= MIN_VALUES), k=1))
    pairs = sorted(((columns[i], columns[j], float(r[i, j]), int(n[i, j]))
                    for i, j in zip(a, b, strict=True)), key=lambda p: -abs(p[2]))
    return pairs, len(values)


def pairwise_pearson(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of every pair of columns over the rows where both are present, and those row
    counts, by matrix products (BLAS) instead of a loop over pairs. Columns are centred and
    scaled first, so the sums do not cancel catastrophically on large values."""
    present = np.isfinite(values)
    mask = present.astype("float64")
    centre = np.nanmean(np.where(present, values, np.nan), axis=0)
    spread = np.nanstd(np.where(present, values, np.nan), axis=0)
    spread[~(spread > 0)] = 1.0
    x = np.where(present, (values - centre) / spread, 0.0)
    n = mask.T @ mask
    sum_x = x.T @ mask                    # [i, j]: sum of column i where j is present too
    sum_xx = (x * x).T @ mask
    sum_xy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sum_xy - sum_x * sum_x.T / n
        var_i = sum_xx - sum_x * sum_x / n
        r = cov / np.sqrt(var_i * var_i.T)
    return np.clip(np.nan_to_num(r, nan=0.0), -1.0, 1.0), n


def _correlation_alerts(pairs, sheet: str, used: int, n_rows: int,
                        time_series: bool) -> list[Alert]:
    sampled = f" (on a sample of {used:,} rows)" if used < n_rows else ""
    out = [Alert("correlation", "note", "Highly correlated", (a, b),
                 f"{a} and {b}: r = {r:.3f}{sampled}.",
                 {"r": r, "n": n, "sampled": used < n_rows},
                 (Link("correlation", "analysis",
                       {"kind": "correlation", "sheet": sheet, "columns": [a, b]}),
                  Link("scatter plot", "chart",
                       {"kind": "scatter", "sheet": sheet, "x": a, "y": [b]})))
           for a, b, r, n in pairs[:MAX_PAIRS]]
    rest = pairs[MAX_PAIRS:]
    if rest:
        names = list(dict.fromkeys(c for a, b, *_ in rest for c in (a, b)))
        links = [Link("correlation matrix", "analysis", {"kind": "correlation", "sheet": sheet})]
        hint = ""
        if time_series:  # trending levels correlate whatever drives them
            hint = " Series that trend correlate in levels; their growth rates tell more."
            links.append(Link("growth rates", "analysis", {"kind": "growth", "sheet": sheet}))
        out.append(Alert("correlation", "note", "Highly correlated",
                         tuple(names),
                         f"{len(rest):,} more pairs with |r| ≥ {HIGH_CORRELATION:g}, among "
                         f"{count_text(len(names), 'column')}{sampled}.{hint}",
                         {"pairs": len(rest), "sampled": used < n_rows}, tuple(links)))
    return out


def _shown(value) -> str:
    return number_text(value) if isinstance(value, int | float) and not isinstance(
        value, bool) else repr(str(value))
