"""Words for people in place of identifiers, shared by the pages and the PDF: the labels of a
regression's statistics and terms, and the significance marks with their legend (R's codes)."""

from __future__ import annotations

import re

SIGNIFICANCE = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "·"))
SIGNIFICANCE_LEGEND = "Significance: *** p < 0.001, ** p < 0.01, * p < 0.05, · p < 0.1."

OLS_MODEL = (("n", "Observations"), ("n_dropped", "Rows left out (missing values)"),
             ("r_squared", "R²"), ("adj_r_squared", "Adjusted R²"),
             ("f_statistic", "F statistic"), ("f_p_value", "p of F"),
             ("df_model", "Model df"), ("df_resid", "Residual df"),
             ("log_likelihood", "Log-likelihood"), ("aic", "AIC"), ("bic", "BIC"),
             ("cov_type", "Standard errors"), ("hac_lags", "HAC lags"),
             ("clusters", "Clusters"))
OLS_DIAGNOSTICS = (("residual_std", "Residual std. error"), ("durbin_watson", "Durbin–Watson"),
                   ("jarque_bera", "Jarque–Bera"), ("jarque_bera_p_value", "p of Jarque–Bera"),
                   ("breusch_pagan", "Breusch–Pagan"),
                   ("breusch_pagan_p_value", "p of Breusch–Pagan"),
                   ("condition_number", "Condition number"),
                   ("accuracy_digits", "Correct digits of the solution"))


def stars(p: object) -> str:
    """'***', '**', '*', '·' or '' for a p-value (nothing for a missing one)."""
    if not isinstance(p, int | float) or p != p:
        return ""
    return next((mark for bound, mark in SIGNIFICANCE if p < bound), "")


# A level of a factor coded against its reference level, as the formula engine names it:
# "C(FurnishingStatus)[T.unfurnished]" (or without the C() of a text column).
FACTOR_LEVEL = re.compile(r"(?:C\((?P<wrapped>[^(),]+)\)|(?P<bare>[^()\[\]:]+))"
                          r"\[T\.(?P<level>[^\]]*)\]")


def term_label(term: object) -> str:
    """'C(FurnishingStatus)[T.unfurnished]' → 'FurnishingStatus: unfurnished', read beside
    the reference level named under the table; any other term (interactions included) as
    written, so that it can still be matched against the formula."""
    text = "" if term is None else str(term)
    match = FACTOR_LEVEL.fullmatch(text)
    if match is None:
        return text
    return f"{(match['wrapped'] or match['bare']).strip().strip('`')}: {match['level']}"


def dtype_word(dtype: object) -> str:
    """What a column of this pandas dtype holds, in a word a reader knows: 'numbers' for
    float64 or Int64, 'dates', 'periods', 'yes/no', else 'text'."""
    name = str(dtype).lower()
    if name.startswith(("float", "int", "uint", "decimal")):
        return "numbers"
    if name.startswith(("datetime", "date")):
        return "dates"
    if name.startswith("period"):
        return "periods"
    return "yes/no" if name.startswith(("bool", "boolean")) else "text"

PARAMETER_LABELS = {
    "sheet": "Sheet", "columns": "Columns", "column": "Column", "value": "Value column",
    "by": "Group by", "group": "Group column", "a": "First group", "b": "Second group",
    "formula": "Formula", "predict": "Predict at", "cov_type": "Standard errors",
    "hac_lags": "Newey–West lags", "cluster": "Cluster by", "method": "Method",
    "regression": "Deterministic terms", "lag_rule": "Lag selection", "maxlag": "Largest lag",
    "nlags": "Lags", "lamb": "Smoothing λ", "period": "Season length",
    "window": "Window (rows)", "robust": "Robust fit", "expanding": "Expanding window",
    "lag": "ADF lags", "r0": "Minimum window (r₀)", "replications": "Replications",
    "significance": "Confidence level (%)", "min_duration": "Shortest episode (periods)",
    "divide_by": "Divide by sheet", "periods": "Periods", "base_period": "Base period",
    "start": "Start", "end": "End", "real_sheet": "Real sheet", "income_sheet": "Income sheet",
    "scale": "Scale", "p0": "Base prices (p₀)", "q0": "Base quantities (q₀)",
    "p1": "Current prices (p₁)", "q1": "Current quantities (q₁)",
}
