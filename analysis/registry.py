"""Every analysis by kind: its title, its parameters (for the form and OpenAPI) and how to run it.

The web layer calls `ANALYSES[kind].run(load_sheet, params)` with the JSON body (or query) as
`params` and a `load_sheet(name) -> DataFrame` of its own; `spec.parameters` describe the form
fields (`Parameter.to_dict()`), and a missing, unknown or mistyped parameter is a BadInput naming
it. Column parameters are checked against the sheet by the analysis itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.correlation import METHODS, correlation
from analysis.covariance import COV_TYPES
from analysis.describe import describe_sheet
from analysis.exuberance import exuberance
from analysis.exuberance_cv import DEFAULT_REPS
from analysis.filters import hp_filter, stl_decompose, window_statistics
from analysis.groups import group_summary
from analysis.hypothesis import anova_oneway, chi2_independence, mann_whitney, welch_ttest
from analysis.labels import PARAMETER_LABELS
from analysis.ols import ols_fit
from analysis.price_index import price_index
from analysis.timeseries import (
    cagr,
    drawdowns,
    growth,
    implied_deflator,
    price_to_income,
    ratio_frame,
    rebase,
    rolling_mean,
)
from analysis.unitroot import adf_test, correlogram, kpss_test
from errors import BadInput

TYPES = ("sheet", "column", "numeric_column", "categorical_column", "columns", "numeric_columns",
         "int", "number", "string", "period", "choice", "formula", "values")
LoadSheet = Callable[[str], pd.DataFrame]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool = True
    default: Any = None
    choices: tuple | None = None
    help: str = ""
    label: str = ""  # the form's label when PARAMETER_LABELS' word for the name does not fit

    @property
    def heading(self) -> str:
        """The parameter in words for a form ("Standard errors", not "Cov type")."""
        return self.label or PARAMETER_LABELS.get(self.name) \
            or self.name.replace("_", " ").capitalize()

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.heading, "type": self.type,
                "required": self.required, "default": self.default,
                "choices": list(self.choices) if self.choices else None, "help": self.help}

    def coerce(self, value: Any) -> Any:
        """The value in the type the analysis expects, or BadInput naming the parameter."""
        kind = self.type
        if kind in ("sheet", "column", "numeric_column", "categorical_column", "string",
                    "formula"):
            if isinstance(value, str) and value.strip():
                return value
            if kind == "string" and isinstance(value, (int, float)) and not isinstance(value,
                                                                                      bool):
                return str(value)
            raise BadInput(f"Parameter '{self.name}' must be a non-empty string.")
        if kind == "period":
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
            if isinstance(value, str) and value.strip():
                return value.strip()
            raise BadInput(f"Parameter '{self.name}' must be a period like '2010Q1' or '2010'.")
        if kind in ("columns", "numeric_columns"):
            if isinstance(value, str) and value:
                return [value]
            if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
                return value
            raise BadInput(f"Parameter '{self.name}' must be a list of column names.")
        if kind == "int":
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise BadInput(f"Parameter '{self.name}' must be a whole number.")
        if kind == "number":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise BadInput(f"Parameter '{self.name}' must be a number.") from None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                    math.isfinite(value):
                return float(value)
            raise BadInput(f"Parameter '{self.name}' must be a finite number.")
        if kind == "choice":
            for choice in self.choices or ():
                if value == choice or str(value) == str(choice):
                    return choice
            raise BadInput(f"Parameter '{self.name}' must be one of "
                           f"{', '.join(str(c) for c in self.choices or ())}, not {value!r}.")
        if kind == "values":
            if isinstance(value, dict):
                return [value]
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                return value
            raise BadInput(f"Parameter '{self.name}' must be a list of objects of column "
                           "values.")
        raise AssertionError(f"unknown parameter type {kind}")


@dataclass(frozen=True)
class AnalysisSpec:
    kind: str
    title: str
    parameters: tuple[Parameter, ...]
    compute: Callable[..., Any]
    sheets: tuple[str, ...] = ("sheet",)
    uses_context: bool = False  # compute(frames, values, context): services the caller gives

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title,
                "parameters": [p.to_dict() for p in self.parameters]}

    def validate(self, params: dict | None) -> dict:
        """Known parameters only, each coerced; defaults filled in for the optional ones."""
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise BadInput("Parameters must be a JSON object.")
        known = {p.name for p in self.parameters}
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadInput(f"Unknown parameter(s) for {self.kind}: {', '.join(unknown)}. "
                           f"Accepted: {', '.join(p.name for p in self.parameters)}.")
        out = {}
        for p in self.parameters:
            value = params.get(p.name)
            if value is None or value == "" or value == []:
                if p.required:
                    raise BadInput(f"Parameter '{p.name}' is required for {self.kind}.")
                out[p.name] = p.default
            else:
                out[p.name] = p.coerce(value)
        return out

    def run(self, load_sheet: LoadSheet, params: dict | None, context: dict | None = None
            ) -> Any:
        """Validate `params`, load the sheet(s) they name, and compute the result.

        `context` carries what an analysis needs from outside (the exuberance test's
        `critical_values(t, window, lag, reps)` lookup); without one it looks up nothing.
        """
        values = self.validate(params)
        frames = {name: load_sheet(values[name]) for name in self.sheets
                  if values.get(name) is not None}  # an optional second sheet may be absent
        if self.uses_context:
            return self.compute(frames, values, context or {})
        return self.compute(frames, values)


SHEET = Parameter("sheet", "sheet", help="The sheet to analyse.")
COLUMNS = Parameter("columns", "numeric_columns", required=False,
                    help="Numeric columns; all numeric columns when omitted.")


def _describe(f, v):
    return describe_sheet(f["sheet"], v["sheet"])


def _two(fn):
    return lambda f, v: fn(f["sheet"], v["sheet"], v["value"], v["group"], v["a"], v["b"])


def _exuberance(f, v, context):
    frame, sheet = f["sheet"], v["sheet"]
    if v["divide_by"] is not None:
        frame = ratio_frame(frame, f["divide_by"], sheet, v["divide_by"], v["columns"])
        sheet = f"{sheet} / {v['divide_by']}"
    return exuberance(frame, sheet, v["columns"],
                      context.get("critical_values", lambda *key: None), v["lag"], v["r0"],
                      v["replications"], v["significance"], v["min_duration"])


def _yes_no(name: str, help: str) -> Parameter:
    return Parameter(name, "choice", False, "no", ("no", "yes"), help)


def _on_series(fn, *names):
    """compute(frames, values) for fn(frame, sheet, column, *values of `names`); a yes/no
    choice arrives as a bool."""
    def compute(f, v):
        args = [v[n] == "yes" if n in ("robust", "expanding") else v[n] for n in names]
        return fn(f["sheet"], v["sheet"], v["column"], *args)
    return compute


COLUMN = Parameter("column", "numeric_column", help="The series (a column of the sheet).")
TIME_SERIES = (
    AnalysisSpec("adf", "Unit-root test (augmented Dickey–Fuller)", (
        SHEET, COLUMNS,
        Parameter("regression", "choice", False, "c", ("c", "ct", "n"),
                  "Deterministic terms: c = constant, ct = constant and trend, n = none."),
        Parameter("lag_rule", "choice", False, "AIC", ("AIC", "BIC", "fixed"),
                  "How the number of lagged differences is chosen."),
        Parameter("maxlag", "int", False, None,
                  help="Largest lag tried (AIC/BIC; Schwert's rule when empty), or the lag "
                       "used (fixed)."),
    ), lambda f, v: adf_test(f["sheet"], v["sheet"], v["columns"], v["regression"],
                             v["lag_rule"], v["maxlag"])),
    AnalysisSpec("kpss", "Stationarity test (KPSS)", (
        SHEET, COLUMNS,
        Parameter("regression", "choice", False, "c", ("c", "ct"),
                  "c = level stationary, ct = trend stationary."),
        Parameter("nlags", "string", False, "auto",
                  help="Bandwidth: auto (Hobijn et al. 1998), legacy, or a number."),
    ), lambda f, v: kpss_test(f["sheet"], v["sheet"], v["columns"], v["regression"],
                              v["nlags"])),
    AnalysisSpec("acf", "Autocorrelations (ACF and PACF)", (
        SHEET, COLUMN,
        Parameter("nlags", "int", False, None,
                  help="Number of lags; min(10·log10(n), n/2 - 1) when empty."),
    ), _on_series(correlogram, "nlags")),
    AnalysisSpec("hp_filter", "Hodrick–Prescott trend and cycle", (
        SHEET, COLUMN,
        Parameter("lamb", "number", False, None,
                  help="Smoothing λ; 1600 for quarters, 129600 for months when empty."),
    ), _on_series(hp_filter, "lamb")),
    AnalysisSpec("stl", "Seasonal decomposition (STL)", (
        SHEET, COLUMN,
        Parameter("period", "int", False, None,
                  help="Season length; 12 for months, 4 for quarters when empty."),
        _yes_no("robust", "Robust LOESS (down-weights outliers)."),
    ), _on_series(stl_decompose, "period", "robust")),
    AnalysisSpec("rolling_stats", "Rolling or expanding mean, sd, min and max", (
        SHEET, COLUMN,
        Parameter("window", "int", False, 4, help="Periods in the trailing window."),
        _yes_no("expanding", "yes = from the first period on (the window is ignored)."),
    ), _on_series(window_statistics, "window", "expanding")),
    AnalysisSpec("exuberance", "Exuberance (bubble) test: GSADF with date-stamping", (
        SHEET, COLUMNS,
        Parameter("lag", "int", False, 1, help="Lagged differences in each ADF regression."),
        Parameter("r0", "number", False, None,
                  help="Minimum window as a fraction of the sample; 0.01 + 1.8/√T when empty."),
        Parameter("replications", "int", False, DEFAULT_REPS,
                  help="Monte-Carlo replications for the critical values (100 to 100,000)."),
        Parameter("significance", "choice", False, "95", ("90", "95", "99"),
                  "Level of the BSADF critical values that date the episodes."),
        Parameter("min_duration", "int", False, None,
                  help="Shortest episode in periods; log(T) rounded when empty."),
        Parameter("divide_by", "sheet", False, None,
                  help="Test the ratio to this sheet instead (e.g. HPI / PDI: price-to-income)."),
    ), _exuberance, sheets=("sheet", "divide_by"), uses_context=True),
)

ANALYSES: dict[str, AnalysisSpec] = {s.kind: s for s in (
    AnalysisSpec("describe", "Describe every column", (SHEET,), _describe),
    AnalysisSpec("groups", "Group summary", (
        SHEET, Parameter("value", "numeric_column", help="The numeric column to summarise."),
        Parameter("by", "categorical_column", help="The column whose values form the groups."),
    ), lambda f, v: group_summary(f["sheet"], v["sheet"], v["value"], v["by"])),
    AnalysisSpec("correlation", "Correlation matrix", (
        SHEET, COLUMNS,
        Parameter("method", "choice", False, "pearson", tuple(METHODS),
                  "Pearson (linear), Spearman (rank) or Kendall (rank concordance)."),
    ), lambda f, v: correlation(f["sheet"], v["sheet"], v["columns"], v["method"])),
    AnalysisSpec("ols", "Linear regression (OLS)", (
        SHEET, Parameter("formula", "formula",
                         help="Like Price ~ Area + Bedrooms + C(FurnishingStatus); also I(x^2), "
                              "poly(x, 3), log(x), lag(x, 1), diff(x, 4), pct(x, 4), center(x); "
                              "odd names in `backquotes`."),
        Parameter("predict", "values", required=False,
                  help="Values of the regressors to predict at, e.g. [{\"Area\": 5000}]."),
        Parameter("cov_type", "choice", False, "classical", COV_TYPES,
                  help="Classical; HC0-HC3 robust to heteroskedasticity "
                       "(HC3 best in small samples); HAC = Newey-West, robust to "
                       "autocorrelation too (time series); cluster = clustered by a column."),
        Parameter("hac_lags", "int", required=False,
                  help="HAC only; floor(4·(n/100)^(2/9)) when empty."),
        Parameter("cluster", "column", required=False,
                  help="Cluster only: the column whose values define the clusters."),
    ), lambda f, v: ols_fit(f["sheet"], v["sheet"], v["formula"], v["predict"],
                            v["cov_type"], v["hac_lags"], v["cluster"])),
    AnalysisSpec("ttest", "Welch two-sample t-test", (
        SHEET, Parameter("value", "numeric_column", help="The numeric column compared."),
        Parameter("group", "categorical_column", help="The column that splits the rows."),
        Parameter("a", "string", help="First group (a value of the group column)."),
        Parameter("b", "string", help="Second group."),
    ), _two(welch_ttest)),
    AnalysisSpec("mannwhitney", "Mann-Whitney U test", (
        SHEET, Parameter("value", "numeric_column", help="The numeric column compared."),
        Parameter("group", "categorical_column", help="The column that splits the rows."),
        Parameter("a", "string", help="First group (a value of the group column)."),
        Parameter("b", "string", help="Second group."),
    ), _two(mann_whitney)),
    AnalysisSpec("anova", "One-way ANOVA", (
        SHEET, Parameter("value", "numeric_column", help="The numeric column compared."),
        Parameter("group", "categorical_column", help="The column that splits the rows."),
    ), lambda f, v: anova_oneway(f["sheet"], v["sheet"], v["value"], v["group"])),
    AnalysisSpec("chi2", "Chi-square test of independence", (
        SHEET, Parameter("a", "categorical_column", help="First categorical column.",
                         label="First column"),
        Parameter("b", "categorical_column", help="Second categorical column.",
                  label="Second column"),
    ), lambda f, v: chi2_independence(f["sheet"], v["sheet"], v["a"], v["b"])),
    AnalysisSpec("growth", "Growth rates (percent)", (
        SHEET, COLUMNS,
        Parameter("periods", "int", False, 1,
                  help="Rows to compare over: 1 = the period before; a year is 4 for quarters, "
                       "12 for months."),
    ), lambda f, v: growth(f["sheet"], v["sheet"], v["columns"], v["periods"])),
    AnalysisSpec("rebase", "Rebase to a period = 100", (
        SHEET, COLUMNS,
        Parameter("base_period", "period",
                  help="A period like 2010Q1, or a year like 2010 (the year's mean = 100)."),
    ), lambda f, v: rebase(f["sheet"], v["sheet"], v["columns"], v["base_period"])),
    AnalysisSpec("cagr", "Compound annual growth rate", (
        SHEET, COLUMNS,
        Parameter("start", "period", help="Start period (2000Q1) or year (2000)."),
        Parameter("end", "period", help="End period or year."),
    ), lambda f, v: cagr(f["sheet"], v["sheet"], v["columns"], v["start"], v["end"])),
    AnalysisSpec("rolling", "Rolling mean", (
        SHEET, COLUMNS,
        Parameter("window", "int", False, 4, help="Number of rows in the trailing window."),
    ), lambda f, v: rolling_mean(f["sheet"], v["sheet"], v["columns"], v["window"])),
    AnalysisSpec("deflator", "Implied deflator (nominal / real)", (
        Parameter("sheet", "sheet", help="The nominal sheet (e.g. HPI)."),
        Parameter("real_sheet", "sheet", help="The real sheet (e.g. RHPI)."), COLUMNS,
    ), lambda f, v: implied_deflator(f["sheet"], f["real_sheet"], v["columns"], v["sheet"],
                                     v["real_sheet"]), sheets=("sheet", "real_sheet")),
    AnalysisSpec("price_to_income", "Price-to-income ratio", (
        Parameter("sheet", "sheet", help="The price sheet (e.g. HPI)."),
        Parameter("income_sheet", "sheet", help="The income sheet (e.g. PDI)."), COLUMNS,
        Parameter("scale", "choice", False, 1, (1, 100),
                  help="Multiply the ratio: 100 when both sheets are indices."),
    ), lambda f, v: price_to_income(f["sheet"], f["income_sheet"], v["columns"], v["sheet"],
                                    v["income_sheet"], float(v["scale"])),
        sheets=("sheet", "income_sheet")),
    AnalysisSpec("drawdown", "Peak-to-trough drawdowns", (
        SHEET, COLUMNS,
        Parameter("start", "period", required=False, help="Window start (e.g. 2007)."),
        Parameter("end", "period", required=False, help="Window end (e.g. 2012)."),
    ), lambda f, v: drawdowns(f["sheet"], v["sheet"], v["columns"], v["start"], v["end"])),
    AnalysisSpec("price_index", "Laspeyres, Paasche and Fisher price indices", (
        SHEET, Parameter("p0", "numeric_column", help="Base-period prices."),
        Parameter("q0", "numeric_column", help="Base-period quantities."),
        Parameter("p1", "numeric_column", help="Current prices."),
        Parameter("q1", "numeric_column", required=False,
                  help="Current quantities (for Paasche and Fisher)."),
    ), lambda f, v: price_index(f["sheet"], v["sheet"], v["p0"], v["q0"], v["p1"], v["q1"])),
    *TIME_SERIES,
)}
