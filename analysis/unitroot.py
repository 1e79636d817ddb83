"""Unit-root tests (ADF, KPSS) and autocorrelations (ACF/PACF with bands) of period series.

The statistics are statsmodels' (a well-kept reference implementation); this module chooses
and states the options (lag rule, deterministic terms), checks the input with messages a
person understands, and shapes the result for the API, the page, its chart and the report.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import acf as sm_acf
from statsmodels.tsa.stattools import adfuller
from statsmodels.tsa.stattools import kpss as sm_kpss
from statsmodels.tsa.stattools import pacf as sm_pacf

from analysis.results import json_safe, label, table
from analysis.series_input import chosen_columns, clean_series
from analysis.timeseries import RowsResult
from errors import BadInput

ADF_REGRESSIONS = {"c": "constant", "ct": "constant and trend", "n": "none"}
LAG_RULES = ("AIC", "BIC", "fixed")
KPSS_REGRESSIONS = {"c": "level stationary", "ct": "trend stationary"}


def schwert_maxlag(n: int) -> int:
    """Schwert's rule, statsmodels' default maximum lag: ⌈12·(n/100)^¼⌉."""
    return int(math.ceil(12.0 * (n / 100.0) ** 0.25))


def adf_test(frame: pd.DataFrame, sheet: str, columns=None, regression: str = "c",
             lag_rule: str = "AIC", maxlag: int | None = None) -> RowsResult:
    """Augmented Dickey–Fuller: H0 unit root. `lag_rule` AIC/BIC picks the lag up to `maxlag`
    (Schwert's rule when None); "fixed" uses `maxlag` lags (required)."""
    if regression not in ADF_REGRESSIONS:
        raise BadInput(f"'regression' must be one of {', '.join(ADF_REGRESSIONS)}.")
    if lag_rule not in LAG_RULES:
        raise BadInput(f"'lag_rule' must be one of {', '.join(LAG_RULES)}.")
    if lag_rule == "fixed" and maxlag is None:
        raise BadInput("A fixed lag rule needs 'maxlag', the number of lagged differences.")
    if maxlag is not None and maxlag < 0:
        raise BadInput("'maxlag' must be 0 or more.")
    rows = []
    for name in chosen_columns(frame, sheet, columns):
        series = clean_series(frame, sheet, name, 10, "an ADF test")
        n = len(series)
        top = schwert_maxlag(n) if maxlag is None else maxlag
        if top > n // 2 - 2:
            raise BadInput(f"Column '{name}' has {n} observations: at most {n // 2 - 2} lags "
                           f"fit in an ADF regression, not {top}.")
        stat, pvalue, used, nobs, crit, *_ = adfuller(
            series.to_numpy(), maxlag=top, regression=regression,
            autolag=None if lag_rule == "fixed" else lag_rule, result_object=False)
        rows.append({"column": name, "statistic": stat, "p_value": pvalue, "lags": used,
                     "lag_rule": f"{lag_rule} (max {top})" if lag_rule != "fixed" else
                     f"fixed ({top})",
                     "nobs": nobs, "cv_1%": crit["1%"], "cv_5%": crit["5%"],
                     "cv_10%": crit["10%"],
                     "unit_root_rejected_5%": bool(pvalue < 0.05),
                     "start": label(series.index[0]), "end": label(series.index[-1])})
    return RowsResult(kind="adf", sheet=sheet, rows=tuple(json_safe(rows)), meta={
        "regression": ADF_REGRESSIONS[regression], "null": "a unit root",
        "reading": "A p-value below 0.05 rejects a unit root (the series looks stationary "
                   "around the deterministic terms)."})


def kpss_test(frame: pd.DataFrame, sheet: str, columns=None, regression: str = "c",
              nlags: str | int = "auto") -> RowsResult:
    """KPSS: H0 stationarity. Bandwidth `nlags`: "auto" (Hobijn et al.), "legacy" or a number.

    statsmodels tabulates p-values between 0.01 and 0.10 only; beyond, the bound is given and
    `p_value_bound` says which side it is on.
    """
    if regression not in KPSS_REGRESSIONS:
        raise BadInput(f"'regression' must be one of {', '.join(KPSS_REGRESSIONS)}.")
    rows = []
    for name in chosen_columns(frame, sheet, columns):
        series = clean_series(frame, sheet, name, 10, "a KPSS test")
        lags = int(nlags) if str(nlags).isdigit() else nlags
        if isinstance(lags, int) and lags >= len(series):
            raise BadInput(f"'nlags' must be below the {len(series)} observations of "
                           f"'{name}'.")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InterpolationWarning)
            stat, pvalue, used, crit = sm_kpss(series.to_numpy(), regression=regression,
                                               nlags=lags, result_object=False)
        bound = None
        if any(issubclass(w.category, InterpolationWarning) for w in caught):
            bound = "smaller" if pvalue <= 0.01 else "greater"
        rows.append({"column": name, "statistic": stat, "p_value": pvalue,
                     "p_value_bound": bound, "lags": used, "nobs": len(series),
                     "cv_10%": crit["10%"], "cv_5%": crit["5%"], "cv_1%": crit["1%"],
                     "stationarity_rejected_5%": bool(pvalue < 0.05)})
    return RowsResult(kind="kpss", sheet=sheet, rows=tuple(json_safe(rows)), meta={
        "regression": KPSS_REGRESSIONS[regression], "null": "stationarity",
        "bandwidth": str(nlags),
        "reading": "A p-value below 0.05 rejects stationarity (a unit root is likely)."})


@dataclass(frozen=True)
class Correlogram:
    """ACF and PACF of one series with 1 - alpha bands (Bartlett for the ACF, ±z/√n for PACF)."""

    sheet: str
    column: str
    nobs: int
    alpha: float
    lags: tuple[int, ...]
    acf: tuple[float, ...]
    acf_band: tuple[float, ...]     # half-widths around 0
    pacf: tuple[float, ...]
    pacf_band: tuple[float, ...]

    kind = "acf"

    def rows(self) -> list[dict]:
        return [{"lag": k, "acf": a, "acf_band": ab, "pacf": p, "pacf_band": pb}
                for k, a, ab, p, pb in zip(self.lags, self.acf, self.acf_band, self.pacf,
                                           self.pacf_band, strict=True)]

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "column": self.column,
                          "nobs": self.nobs, "confidence": 1 - self.alpha,
                          "lags": self.rows()})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [(f"ACF and PACF of {self.column} ({self.sheet})", table(self.rows()))]


def correlogram(frame: pd.DataFrame, sheet: str, column: str, nlags: int | None = None,
                alpha: float = 0.05) -> Correlogram:
    """Autocorrelations up to `nlags` (default min(10·log10(n), n/2 - 1)), PACF by Yule–Walker
    with bias correction ("ywadjusted", statsmodels' default)."""
    series = clean_series(frame, sheet, column, 8, "an autocorrelation")
    n = len(series)
    top = n // 2 - 1
    if nlags is None:
        nlags = min(int(10 * np.log10(n)), top)
    if not 1 <= nlags <= top:
        raise BadInput(f"'nlags' must be from 1 to {top} for {n} observations.")
    values = series.to_numpy()
    a, a_ci = sm_acf(values, nlags=nlags, alpha=alpha, fft=True, result_object=False)
    p, p_ci = sm_pacf(values, nlags=nlags, alpha=alpha, result_object=False)
    return Correlogram(sheet=sheet, column=column, nobs=n, alpha=alpha,
                       lags=tuple(range(1, nlags + 1)), acf=tuple(a[1:]),
                       acf_band=tuple(a_ci[1:, 1] - a[1:]), pacf=tuple(p[1:]),
                       pacf_band=tuple(p_ci[1:, 1] - p[1:]))
