"""Ordinary least squares from a formula, with the standard errors an economist asks for.

The formula is parsed by `analysis.formula` (our own parser; the text is never evaluated), the
design built by `analysis.design`, and solved by `analysis.lstsq` (scaled Householder QR with
extended-precision refinement; a 422 when the design cannot give 7 correct digits). Standard
errors, t, p and the 95% interval follow `cov_type` (`analysis.covariance`: classical, HC0–HC3,
Newey–West HAC, clustered); the HC3 columns are always reported beside them. The F-test is the
classical one.

Models without an intercept ('- 1', '+ 0') report the *uncentered* R² and an F-test against the
zero model, as R does. An exact fit (every residual zero to rounding) is answered with R² = 1,
standard errors 0 and a note. Predictions give the 95% interval for the mean response
(`ci_low`/`ci_high`) and for a new observation (`pi_low`/`pi_high`), in the response's units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.stattools import durbin_watson, jarque_bera

from analysis import covariance as cov
from analysis.design import Design, build_design, category_strings, prediction_values
from analysis.formula import Formula, parse_formula
from analysis.labels import OLS_DIAGNOSTICS, OLS_MODEL, SIGNIFICANCE_LEGEND, stars, term_label
from analysis.lstsq import LeastSquares, solve
from analysis.results import json_safe, number, table
from errors import BadInput, Unprocessable

COEF_KEYS = ("term", "estimate", "std_error", "t", "p_value", "ci_low", "ci_high",
             "std_error_hc3", "t_hc3", "p_value_hc3")
SUMMARY_KEYS = ("n", "df_model", "df_resid", "r_squared", "adj_r_squared", "f_statistic",
                "f_p_value", "aic", "bic", "log_likelihood", "cov_type")
MAX_PREDICTIONS = 100
COV_LABELS = {"classical": "classical (homoskedastic)", "HC0": "HC0 (White)",
              "HC1": "HC1 (White, n/(n-k))", "HC2": "HC2", "HC3": "HC3 (MacKinnon-White)",
              "HAC": "Newey-West HAC", "cluster": "clustered (CR1)"}


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
    fit: dict | None = None  # fitted, actual, residual and row labels for the charts
    regressors: tuple[dict, ...] = ()  # {"column", "levels" (None for numbers)}: Predict form
    reference_levels: tuple[tuple[str, str], ...] = ()  # (factor column, its reference level)
    kind: str = "ols"

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "formula": self.formula,
                          "response": self.response, **self.summary,
                          "n_dropped": self.n_dropped,
                          "coefficients": list(self.coefficients),
                          "diagnostics": self.diagnostics,
                          "predictions": list(self.predictions), "notes": list(self.notes),
                          "reference_levels": dict(self.reference_levels)})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The exports' tables, labelled as on the page: coefficients with significance marks,
        the model and the residual diagnostics as (statistic, value), then the notes."""
        coefficients = [{label: stars(c["p_value"]) if key == "stars"
                         else term_label(c[key]) if key == "term" else c[key]
                         for key, label in COEF_LABELS} for c in self.coefficients]
        summary = {**self.summary, "n_dropped": self.n_dropped or None,
                   "cov_type": COV_LABELS.get(self.summary.get("cov_type"),
                                              self.summary.get("cov_type"))}
        notes = [SIGNIFICANCE_LEGEND, *(f"Reference level of {c}: {lv}."
                                        for c, lv in self.reference_levels), *self.notes]
        out = [(f"OLS {self.formula}: coefficients", table(coefficients)),
               ("Model", _statistics(OLS_MODEL, summary)),
               ("Residual diagnostics", _statistics(OLS_DIAGNOSTICS, self.diagnostics)),
               ("Notes", table([{"Note": n} for n in notes]))]
        if self.predictions:
            rows = [{**p["inputs"], **{k: v for k, v in p.items() if k != "inputs"}}
                    for p in self.predictions]
            out.append(("Predictions", table(rows)))
        return out


COEF_LABELS = (("term", "Term"), ("estimate", "Coefficient"), ("std_error", "Std. error"),
               ("t", "t"), ("p_value", "p"), ("stars", "Significance"),
               ("ci_low", "95% CI low"), ("ci_high", "95% CI high"),
               ("std_error_hc3", "Std. error (HC3)"), ("t_hc3", "t (HC3)"),
               ("p_value_hc3", "p (HC3)"))


def _statistics(labels: tuple[tuple[str, str], ...], values: dict) -> pd.DataFrame:
    return table([{"Statistic": label, "Value": values[key]} for key, label in labels
                  if values.get(key) is not None])


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
        raise Unprocessable(f"The response '{formula.response.label}' is constant over the "
                            f"{n} rows used; there is no variation to explain.")
    for j, (name, term) in enumerate(zip(design.names, design.term_names, strict=True)):
        if formula.intercept and name == term and term != "Intercept" \
                and np.ptp(design.X[:, j]) == 0:
            raise Unprocessable(f"Column '{name}' is constant (every used row is "
                                f"{design.X[0, j]:g}); it cannot be estimated beside the "
                                "intercept.")


def _cluster_labels(frame: pd.DataFrame, sheet: str, cluster: str | None) -> np.ndarray | None:
    if cluster is None:
        return None
    if cluster not in frame.columns:
        raise BadInput(f"The cluster column '{cluster}' is not a column of sheet '{sheet}'.")
    return category_strings(frame[cluster], sheet).to_numpy(dtype=object, na_value=None)


def _covariances(ls: LeastSquares, Q: np.ndarray, cov_type: str, lags: int | None,
                 groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int, int | None]:
    """(chosen covariance, HC3 covariance, leverage-1 count, clusters) of the estimates."""
    n, k = Q.shape
    T = ls.r_inv / ls.scale[:, None]
    h = np.einsum("ij,ij->i", Q, Q)
    e = ls.resid
    hc3, at_one = cov.hc(T, Q, e, h, "HC3")
    clusters = None
    if cov_type == "classical":
        chosen = ls.ssr / (n - k) * (T @ T.T)
    elif cov_type.startswith("HC"):
        chosen = hc3 if cov_type == "HC3" else cov.hc(T, Q, e, h, cov_type)[0]
    elif cov_type == "HAC":
        chosen = cov.hac(T, Q, e, lags)
    else:
        chosen, clusters = cov.clustered(T, Q, e, groups)
    return chosen, hc3, at_one, clusters


def _inference(beta: np.ndarray, covariance: np.ndarray, df: float, exact: bool):
    with np.errstate(all="ignore"):
        se = np.zeros_like(beta) if exact else np.sqrt(np.diag(covariance))
        t = np.where(se > 0, beta / np.where(se > 0, se, 1), np.nan)
        p = 2 * stats.t.sf(np.abs(t), df)
    return se, t, p


def ols_fit(frame: pd.DataFrame, sheet: str, formula: str,
            predict: list[dict] | dict | None = None, cov_type: str = "classical",
            hac_lags: int | None = None, cluster: str | None = None) -> OLSResult:
    """Fit `formula` by OLS on the rows of `sheet` where every used column is present."""
    parsed = parse_formula(formula, frame, sheet)
    cov.check_options(cov_type, hac_lags, cluster, len(frame))
    groups = _cluster_labels(frame, sheet, cluster)
    present = None if groups is None else np.array([g is not None for g in groups])
    design = build_design(parsed, frame, sheet, extra=present)
    _check_estimable(parsed, design, sheet)
    X, y = design.X, design.y
    n, k = X.shape
    ls = solve(X, y, design.names)
    lags = None
    if cov_type == "HAC":
        lags = cov.newey_west_lags(n) if hac_lags is None else hac_lags
        if lags >= n:
            raise BadInput(f"hac_lags must be below the {n} rows used, not {lags}.")
    Q = ls.q(X)  # orthonormal basis of the columns, shared by every sandwich and Breusch-Pagan
    chosen, cov_hc3, at_one, clusters = _covariances(
        ls, Q, cov_type, lags, None if groups is None else groups[design.keep])
    df_resid = n - k
    df_inf = clusters - 1 if clusters else df_resid
    se, t, p = _inference(ls.beta, chosen, df_inf, ls.exact)
    se3, t3, p3 = _inference(ls.beta, cov_hc3, df_resid, ls.exact)
    crit = stats.t.ppf(0.975, df_inf)
    coefficients = tuple(
        {"term": name, "estimate": ls.beta[j], "std_error": se[j], "t": t[j],
         "p_value": p[j], "ci_low": ls.beta[j] - crit * se[j],
         "ci_high": ls.beta[j] + crit * se[j], "std_error_hc3": se3[j], "t_hc3": t3[j],
         "p_value_hc3": p3[j]}
        for j, name in enumerate(design.names))
    summary = _summary(ls, y, n, k, parsed.intercept)
    summary.update(cov_type=cov_type, hac_lags=lags, clusters=clusters,
                   condition_number=ls.condition_number, accuracy_digits=ls.digits)
    references = _reference_levels(design)
    notes = list(parsed.notes) + _notes(parsed, ls, cov_type, lags, at_one, clusters, cluster)
    fitted = y - ls.resid
    rows = frame.index[design.keep]
    return OLSResult(sheet=sheet, formula=parsed.text, response=parsed.response.label,
                     summary=json_safe(summary), coefficients=json_safe(coefficients),
                     diagnostics=_diagnostics(ls, X, Q, parsed.intercept),
                     predictions=_predictions(ls, parsed, design, predict, df_resid),
                     n_dropped=design.n_dropped, notes=tuple(notes),
                     fit={"actual": y, "fitted": fitted, "residual": ls.resid, "rows": rows},
                     regressors=tuple(_regressor(frame, c, design)
                                      for c in parsed.regressor_columns),
                     reference_levels=references)


def _regressor(frame: pd.DataFrame, column: str, design: Design) -> dict:
    """A column of the Predict form: a factor's levels, or a number's median as an example."""
    levels = design.levels.get(column)
    example = None if levels else float(pd.to_numeric(frame[column], errors="coerce").median())
    return {"column": column, "levels": levels, "example": example}


def _reference_levels(design: Design) -> tuple[tuple[str, str], ...]:
    """(column, level) for each factor coded against its first level (treatment coding)."""
    return tuple((column, levels[0]) for column, levels in design.levels.items()
                 if any(name.endswith(f"[T.{level}]") for level in levels[1:]
                        for name in design.names))


def _summary(ls: LeastSquares, y: np.ndarray, n: int, k: int, intercept: bool) -> dict:
    yl = y.astype(np.longdouble)
    centred = yl - yl.mean() if intercept else yl
    sst = float(np.sum(centred * centred))
    df_model, df_resid = (k - 1 if intercept else k), n - k
    r2 = 1.0 - ls.ssr / sst
    with np.errstate(all="ignore"):
        f = (sst - ls.ssr) / df_model / (ls.ssr / df_resid) if df_model > 0 and ls.ssr > 0 \
            else None
        llf = -n / 2 * (np.log(2 * np.pi) + np.log(ls.ssr / n) + 1) if ls.ssr > 0 else np.nan
    return {"n": n, "df_model": df_model, "df_resid": df_resid, "r_squared": r2,
            "adj_r_squared": 1 - (1 - r2) * (n - (1 if intercept else 0)) / df_resid,
            "f_statistic": f,
            "f_p_value": None if f is None else stats.f.sf(f, df_model, df_resid),
            "aic": 2 * k - 2 * llf, "bic": k * np.log(n) - 2 * llf, "log_likelihood": llf}


def _notes(parsed: Formula, ls: LeastSquares, cov_type: str, lags, at_one: int, clusters,
           cluster) -> list[str]:
    notes = []
    if ls.exact:
        notes.append("Exact fit: the regressors explain the response exactly (every residual "
                     "is zero to rounding), so R² = 1, the standard errors are 0 and t, p and F "
                     "are not defined. Check that the response is not computed from the "
                     "regressors.")
    if cov_type == "HAC":
        notes.append(f"Newey-West standard errors with {lags} lag(s) (Bartlett kernel; "
                     "default rule floor(4·(n/100)^(2/9)) unless hac_lags is set), rows in the "
                     "sheet's order.")
    elif cov_type == "cluster":
        notes.append(f"Standard errors clustered by '{cluster}' ({clusters} clusters, CR1 "
                     f"small-sample factor); t and intervals use {clusters - 1} degrees of "
                     "freedom.")
    elif cov_type != "classical":
        notes.append(f"Standard errors, t, p and intervals are {COV_LABELS[cov_type]}; the "
                     "F-test is the classical one.")
    if at_one:
        notes.append(f"{at_one} observation(s) have leverage 1 (e.g. a category with a single "
                     "row); HC3 standard errors are undefined and shown as null.")
    if not parsed.intercept:
        notes.append("No intercept: R² is uncentered and the F-test is against the zero model.")
    if parsed.response.expr[0] == "fn" and parsed.response.expr[1] == "log":
        notes.append("The response is log-transformed; estimates and predictions are in log "
                     "units.")
    return notes


def _diagnostics(ls: LeastSquares, X: np.ndarray, Q: np.ndarray, intercept: bool) -> dict:
    resid = ls.resid
    n, k = X.shape
    with np.errstate(all="ignore"):
        jb, jb_p, _, _ = jarque_bera(resid)
        bp, bp_p = _breusch_pagan(ls.resid, X, Q, intercept)
        out = {"jarque_bera": jb, "jarque_bera_p_value": jb_p,
               "durbin_watson": durbin_watson(resid) if not ls.exact else None,
               "breusch_pagan": bp, "breusch_pagan_p_value": bp_p,
               "condition_number": ls.condition_number,
               "accuracy_digits": ls.digits,
               "residual_std": np.sqrt(ls.ssr / (n - k))}
    return json_safe(out)


def _breusch_pagan(resid: np.ndarray, X: np.ndarray, Q: np.ndarray, intercept: bool
                   ) -> tuple[float | None, float | None]:
    """Koenker's studentised Breusch-Pagan LM = n·R² of e² on [1, X] (statsmodels' default),
    with df = rank([1, X]) - 1. With an intercept the fit's QR is reused (fitted = QQᵀe²);
    without one, [1, X] may already contain the constant (y ~ C(g) - 1), so the auxiliary fit
    uses an SVD-based lstsq and its rank."""
    e2 = resid**2
    if intercept:
        fitted, df = Q @ (Q.T @ e2), X.shape[1] - 1
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


def _prediction_inputs(parsed: Formula, design: Design, predict: list[dict]
                       ) -> tuple[dict[str, np.ndarray], list[dict]]:
    columns = parsed.regressor_columns
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
                row[col] = str(value)
            else:
                x = number(value) if not isinstance(value, (str, bool)) else None
                if x is None:
                    raise BadInput(f"Prediction {i}: the value for column '{col}' must be a "
                                   f"finite number, not {value!r}.")
                row[col] = x
            raw[col].append(row[col])
        inputs.append(row)
    arrays = {c: np.asarray(v, dtype=object if c in cats else "float64") for c, v in raw.items()}
    return arrays, inputs


def _predictions(ls: LeastSquares, parsed: Formula, design: Design, predict, df_resid: int
                 ) -> tuple[dict, ...]:
    if predict is None:
        return ()
    if isinstance(predict, dict):
        predict = [predict]
    if not isinstance(predict, list) or len(predict) > MAX_PREDICTIONS:
        raise BadInput(f"'predict' must be a list of at most {MAX_PREDICTIONS} objects of "
                       "column values.")
    if not predict:
        return ()
    arrays, inputs = _prediction_inputs(parsed, design, predict)
    if not arrays:
        arrays = {"": np.zeros(len(predict))}
    X_new, problems = prediction_values(parsed, design, arrays)
    if problems:
        i, message = problems[0]
        raise BadInput(f"Prediction {i + 1}: {message}.")
    value = X_new @ ls.beta
    s2 = ls.ssr / df_resid
    v = X_new @ (ls.r_inv / ls.scale[:, None])
    se_mean = np.sqrt(s2 * np.einsum("ij,ij->i", v, v))
    se_obs = np.sqrt(s2 + se_mean**2)
    crit = stats.t.ppf(0.975, df_resid)
    return tuple(json_safe({"inputs": inputs[i], "value": value[i],
                            "ci_low": value[i] - crit * se_mean[i],
                            "ci_high": value[i] + crit * se_mean[i],
                            "pi_low": value[i] - crit * se_obs[i],
                            "pi_high": value[i] + crit * se_obs[i]})
                 for i in range(len(inputs)))
