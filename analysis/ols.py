"""Ordinary least squares from a formula, with classical and HC3 standard errors.

The formula is parsed by `analysis.formula` (our own parser; the text is never evaluated), the
design matrix is built with numpy, and statsmodels fits `OLS(y, X)` on plain arrays. HC3 standard
errors (MacKinnon & White 1985) are computed here from the leverages, which stays linear in the
number of rows (statsmodels' own HC3 is too, but we also need h for the notes).

Models without an intercept ('- 1', '+ 0') report the *uncentered* R² and an F-test against the
zero model, as R does. Confidence intervals are 95% (t distribution). Predictions give the 95%
interval for the mean response (`ci_low`/`ci_high`) and for a new observation (`pi_low`/`pi_high`),
in the response's units (log units for `log(y) ~ ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.stattools import durbin_watson, jarque_bera

from analysis.formula import Design, Formula, build_design, encode, parse_formula
from analysis.results import json_safe, number, table
from errors import BadInput, Unprocessable

COEF_KEYS = ("term", "estimate", "std_error", "t", "p_value", "ci_low", "ci_high",
             "std_error_hc3", "t_hc3", "p_value_hc3")
SUMMARY_KEYS = ("n", "df_model", "df_resid", "r_squared", "adj_r_squared", "f_statistic",
                "f_p_value", "aic", "bic", "log_likelihood")
MAX_PREDICTIONS = 100


@dataclass(frozen=True)
class OLSResult:
    sheet: str
    formula: str
    response: str
    summary: dict
    coefficients: tuple[dict, ...]
    diagnostics: dict
    predictions: tuple[dict, ...]
    n_dropped: int
    notes: tuple[str, ...] = ()
    kind: str = "ols"

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "formula": self.formula,
                          "response": self.response, **self.summary,
                          "n_dropped": self.n_dropped,
                          "coefficients": list(self.coefficients),
                          "diagnostics": self.diagnostics,
                          "predictions": list(self.predictions), "notes": list(self.notes)})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        out = [(f"OLS {self.formula}: coefficients", table(list(self.coefficients),
                                                          list(COEF_KEYS))),
               ("Model", table([{"statistic": k, "value": self.summary[k]}
                                for k in SUMMARY_KEYS])),
               ("Residual diagnostics", table([{"statistic": k, "value": v}
                                               for k, v in self.diagnostics.items()]))]
        if self.predictions:
            rows = [{**p["inputs"], **{k: v for k, v in p.items() if k != "inputs"}}
                    for p in self.predictions]
            out.append(("Predictions", table(rows)))
        return out


def _check_estimable(formula: Formula, design: Design, sheet: str) -> None:
    """Clear 4xx errors for the cases where OLS numbers would be nan or meaningless."""
    n, k = design.X.shape
    if n <= k:
        rows = f"1 row of sheet '{sheet}' has" if n == 1 else (
            f"{n} rows of sheet '{sheet}' have")
        raise Unprocessable(f"Too few rows: {rows} all of "
                            f"{', '.join(formula.columns)}, but the model has {k} coefficients; "
                            "it needs more rows than coefficients.")
    if np.ptp(design.y) == 0:
        raise Unprocessable(f"The response '{formula.response.name}' is constant over the "
                            f"{n} rows used; there is no variation to explain.")
    for j, (name, term) in enumerate(zip(design.names, design.term_names, strict=True)):
        if formula.intercept and name == term and term != "Intercept" \
                and np.ptp(design.X[:, j]) == 0:
            raise Unprocessable(f"Column '{name}' is constant (every used row is "
                                f"{design.X[0, j]:g}); it cannot be estimated beside the "
                                "intercept.")


def _locate_collinearity(design: Design) -> None:
    """Name the first column that is an exact combination of the ones before it.

    Without pivoting, R[j, j] of X = QR is the distance of column j from the span of the columns
    before it, so a (relatively) zero R[j, j] pins the culprit.
    """
    r = np.linalg.qr(design.X, mode="r")
    norms = np.linalg.norm(design.X, axis=0)
    for j in range(design.X.shape[1]):
        if norms[j] == 0 or abs(r[j, j]) <= 1e-10 * norms[j]:
            before = ", ".join(design.names[:j]) or "nothing"
            raise Unprocessable(f"Perfect collinearity: term '{design.names[j]}' is an exact "
                                f"linear combination of the terms before it ({before}); "
                                "remove it or one of those.")


def _check_not_exact(res, y: np.ndarray, formula: Formula) -> None:
    """An exact fit leaves zero residual variance: standard errors are 0 and t, F infinite."""
    scale = float(y @ y) if not formula.intercept else float(((y - y.mean()) ** 2).sum())
    if res.ssr <= 1e-20 * scale:
        raise Unprocessable(f"The regressors explain '{formula.response.name}' exactly (every "
                            "residual is zero), so standard errors, t and F are undefined; "
                            "check that the response is not computed from the regressors.")


def _hc3(X: np.ndarray, resid: np.ndarray, xtx_inv: np.ndarray) -> tuple[np.ndarray, int]:
    """HC3 covariance (X'X)^-1 X' diag(e²/(1-h)²) X (X'X)^-1 and the count of h == 1 points."""
    h = ((X @ xtx_inv) * X).sum(axis=1)
    at_one = int((h >= 1 - 1e-10).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        w = resid**2 / (1.0 - h) ** 2
    if at_one:
        return np.full((X.shape[1], X.shape[1]), np.nan), at_one
    meat = (X * w[:, None]).T @ X
    return xtx_inv @ meat @ xtx_inv, 0


def _prediction_rows(formula: Formula, design: Design, predict: list[dict]
                     ) -> tuple[np.ndarray, list[dict]]:
    columns = formula.regressor_columns
    cats = set(design.levels)
    raw: dict[str, list] = {c: [] for c in columns}
    inputs = []
    for i, values in enumerate(predict, start=1):
        if not isinstance(values, dict):
            raise BadInput(f"Prediction {i} must be an object of column values, like "
                           '{"Area": 5000}.')
        row = {}
        for col in columns:
            if col not in values:
                raise BadInput(f"Prediction {i} has no value for column '{col}'.")
            value = values[col]
            if col in cats:
                if str(value) not in design.levels[col]:
                    raise BadInput(f"Prediction {i}: '{value}' is not a level of '{col}' in the "
                                   f"rows used ({', '.join(design.levels[col])}).")
                raw[col].append(str(value))
                row[col] = str(value)
            else:
                x = number(value) if not isinstance(value, (str, bool)) else None
                if x is None:
                    raise BadInput(f"Prediction {i}: the value for column '{col}' must be a "
                                   f"finite number, not {value!r}.")
                logged = any(f.kind == "log" and f.column == col
                             for t in formula.terms for f in t)
                if logged and x <= 0:
                    raise BadInput(f"Prediction {i}: log({col}) needs a value > 0.")
                raw[col].append(x)
                row[col] = x
        inputs.append(row)
    arrays = {c: np.asarray(v, dtype=object if c in cats else "float64") for c, v in raw.items()}
    if not columns:  # intercept-only model
        arrays = {"_": np.zeros(len(predict))}
    X, _, _ = encode(formula, arrays, design.levels, design.codings)
    return X, inputs


def ols_fit(frame: pd.DataFrame, sheet: str, formula: str,
            predict: list[dict] | dict | None = None) -> OLSResult:
    """Fit `formula` by OLS on the rows of `sheet` where every used column is present."""
    parsed = parse_formula(formula, frame, sheet)
    design = build_design(parsed, frame, sheet)
    _check_estimable(parsed, design, sheet)
    _locate_collinearity(design)
    X, y = design.X, design.y
    n, k = X.shape
    with np.errstate(all="ignore"):
        res = sm.OLS(y, X, hasconst=parsed.intercept).fit()
        _check_not_exact(res, y, parsed)
        xtx_inv = res.normalized_cov_params
        cov_hc3, at_one = _hc3(X, res.resid, xtx_inv)
        se_hc3 = np.sqrt(np.diag(cov_hc3))
        t_hc3 = res.params / se_hc3
        p_hc3 = 2 * stats.t.sf(np.abs(t_hc3), res.df_resid)
    ci = res.conf_int(alpha=0.05)
    coefficients = tuple(
        {"term": name, "estimate": res.params[j], "std_error": res.bse[j],
         "t": res.tvalues[j], "p_value": res.pvalues[j], "ci_low": ci[j, 0],
         "ci_high": ci[j, 1], "std_error_hc3": se_hc3[j], "t_hc3": t_hc3[j],
         "p_value_hc3": p_hc3[j]}
        for j, name in enumerate(design.names))
    notes = []
    if at_one:
        notes.append(f"{at_one} observation(s) have leverage 1 (e.g. a category with a single "
                     "row); HC3 standard errors are undefined and shown as null.")
    if not parsed.intercept:
        notes.append("No intercept: R² is uncentered and the F-test is against the zero model.")
    if parsed.response.kind == "log":
        notes.append("The response is log-transformed; estimates and predictions are in log "
                     "units.")
    summary = {"n": n, "df_model": int(round(res.df_model)),
               "df_resid": int(round(res.df_resid)),
               "r_squared": res.rsquared, "adj_r_squared": res.rsquared_adj,
               "f_statistic": res.fvalue if res.df_model > 0 else None,
               "f_p_value": res.f_pvalue if res.df_model > 0 else None,
               "aic": res.aic, "bic": res.bic, "log_likelihood": res.llf}
    return OLSResult(sheet=sheet, formula=parsed.text, response=parsed.response.name,
                     summary=json_safe(summary), coefficients=json_safe(coefficients),
                     diagnostics=_diagnostics(res, X, parsed.intercept),
                     predictions=_predictions(res, parsed, design, predict),
                     n_dropped=design.n_dropped, notes=tuple(notes))


def _diagnostics(res, X: np.ndarray, intercept: bool) -> dict:
    resid = res.resid
    with np.errstate(all="ignore"):
        jb, jb_p, _, _ = jarque_bera(resid)
        bp, bp_p = _breusch_pagan(res, X, intercept)
        out = {"jarque_bera": jb, "jarque_bera_p_value": jb_p,
               "durbin_watson": durbin_watson(resid),
               "breusch_pagan": bp, "breusch_pagan_p_value": bp_p,
               "condition_number": res.condition_number,
               "residual_std": np.sqrt(res.scale)}
    return json_safe(out)


def _breusch_pagan(res, X: np.ndarray, intercept: bool) -> tuple[float | None, float | None]:
    """Koenker's studentised Breusch-Pagan LM = n·R² of e² on [1, X] (statsmodels' default),
    with df = rank([1, X]) - 1. With an intercept the fit's pseudo-inverse is reused, so a
    million rows cost two matrix-vector products; without one, [1, X] may already contain the
    constant (y ~ C(g) - 1), so the auxiliary fit uses lstsq and its rank."""
    e2 = res.resid**2
    if intercept:
        fitted, df = X @ (res.model.pinv_wexog @ e2), X.shape[1] - 1
    else:
        aux = np.column_stack([np.ones(len(X)), X])
        coef, _, rank, _ = np.linalg.lstsq(aux, e2, rcond=None)
        fitted, df = aux @ coef, int(rank) - 1
    centered = e2 - e2.mean()
    total = float(centered @ centered)
    if df < 1 or total == 0:
        return None, None
    lm = len(e2) * (1.0 - float(((e2 - fitted) ** 2).sum()) / total)
    return lm, stats.chi2.sf(lm, df)


def _predictions(res, parsed: Formula, design: Design, predict) -> tuple[dict, ...]:
    if predict is None:
        return ()
    if isinstance(predict, dict):
        predict = [predict]
    if not isinstance(predict, list) or len(predict) > MAX_PREDICTIONS:
        raise BadInput(f"'predict' must be a list of at most {MAX_PREDICTIONS} objects of "
                       "column values.")
    if not predict:
        return ()
    X_new, inputs = _prediction_rows(parsed, design, predict)
    frame = res.get_prediction(X_new).summary_frame(alpha=0.05)
    return tuple(json_safe({"inputs": inputs[i], "value": frame["mean"].iloc[i],
                            "ci_low": frame["mean_ci_lower"].iloc[i],
                            "ci_high": frame["mean_ci_upper"].iloc[i],
                            "pi_low": frame["obs_ci_lower"].iloc[i],
                            "pi_high": frame["obs_ci_upper"].iloc[i]})
                 for i in range(len(inputs)))
