"""Nonlinear least squares of a typed model, run in a solver worker (sympy, numpy, scipy).

The model text was checked in the server (parser.check); here build.py turns the same tree
into sympy objects, sympy differentiates the right side by each parameter (the exact
Jacobian), and `lambdify` compiles both for numpy — from our own expression tree, whose names
are ASCII identifiers, never from user text. `scipy.optimize.least_squares` (trust-region
reflective, bounds honoured) minimises Σ wᵢ (yᵢ − f(xᵢ; θ))².

Standard errors are √diag(s² (JᵀJ)⁻¹) with J the (weighted) Jacobian at the solution and
s² = SSR / (n − p), as in R's nls and the NIST StRD certified values; intervals use Student's
t with n − p degrees of freedom. AIC counts σ as a parameter (R's logLik.nls):
AIC = 2(p + 1) − 2 log L, log L = ½(Σ log wᵢ − n(log 2π + 1 − log n + log SSR)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy
from scipy.optimize import least_squares
from scipy.special import stdtrit

from analysis.equations.build import build, symbol
from analysis.equations.fit_problem import FitProblem
from analysis.equations.parser import check
from errors import Unprocessable

TOLERANCE = 1e-15  # ftol, xtol, gtol: converge as far as float64 allows (NIST StRD digits)
MAX_EVALUATIONS = 400  # per parameter
LEVEL = 0.95
MODULES = ["scipy", "numpy"]  # scipy.special for factorial and the polygamma of its derivative


@dataclass(frozen=True)
class Compiled:
    """The model's sympy form and its numpy functions (arguments: parameters, then inputs)."""

    lhs: sympy.Expr
    rhs: sympy.Expr
    parameters: tuple[sympy.Symbol, ...]
    inputs: tuple[sympy.Symbol, ...]
    model: object  # f(θ..., inputs...) → rhs values
    gradient: object  # (θ..., inputs...) → [∂rhs/∂θₖ]
    response: object  # (inputs...) → lhs values


@lru_cache(maxsize=32)  # the same model again (another sheet, a new solve) skips sympy
def compile_model(text: str, parameters: tuple[str, ...], inputs: tuple[str, ...]) -> Compiled:
    parsed = build(check(text, what="model"))
    thetas = tuple(symbol(name) for name in parameters)
    columns = tuple(symbol(name) for name in inputs)
    arguments = (*thetas, *columns)
    rhs = parsed.rhs
    derivatives = [sympy.diff(rhs, theta) for theta in thetas]
    for theta, derivative in zip(thetas, derivatives, strict=True):
        if derivative.has(sympy.Derivative):  # floor, ceiling, abs, min, max of a parameter
            raise Unprocessable(
                f"The model has no derivative by {theta} that can be computed (floor, "
                "ceiling, abs, min and max of a parameter have none); least squares needs "
                "one. Write the model without them around a parameter.", code="no_derivative")
    return Compiled(
        lhs=parsed.lhs,
        rhs=rhs,
        parameters=thetas,
        inputs=columns,
        model=sympy.lambdify(arguments, rhs, modules=MODULES),
        gradient=sympy.lambdify(arguments, derivatives, modules=MODULES),
        response=sympy.lambdify(columns, parsed.lhs, modules=MODULES),
    )


def fit(problem: FitProblem) -> dict:
    """The fit's JSON-safe dict, plus solve/derived/at parts when the problem asks for them."""
    from analysis.equations import fit_extras  # solve, derived quantities, growth, plot data

    inputs = tuple(sorted(problem.data))
    compiled = compile_model(problem.model, problem.parameters, inputs)
    columns = [problem.data[name] for name in inputs]
    n = len(problem.labels)
    with np.errstate(all="ignore"):
        y = _broadcast(compiled.response(*columns), n)
    if not np.isfinite(y).all():
        row = problem.labels[int(np.argmin(np.isfinite(y)))]
        raise Unprocessable(
            f"The left side of the model is not a finite number at row {row}.", code="not_finite"
        )
    root_w = np.sqrt(problem.weights) if problem.weights is not None else np.ones(n)
    start, start_method = starting_values(compiled, problem, columns, y)
    low, high = _bounds(problem)
    start = _inside(start, low, high)

    def residuals(theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return root_w * (y - _broadcast(compiled.model(*theta, *columns), n))

    def jacobian(theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            parts = compiled.gradient(*theta, *columns)
        jac = -root_w[:, None] * np.column_stack([_broadcast(g, n) for g in parts])
        # 0·∞ where the limit is 0: ∂(a·t^b)/∂b = a·t^b·log t at t = 0
        return np.where(np.isnan(jac), 0.0, jac)

    try:
        first, first_jacobian = residuals(start), jacobian(start)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise Unprocessable(f"The model cannot be evaluated on the data: {exc}.",
                            code="not_finite") from None
    if not np.isfinite(first).all() or not np.isfinite(first_jacobian).all():
        raise _not_finite(problem, first, start)
    p = len(problem.parameters)
    result = least_squares(
        residuals, start, jac=jacobian, bounds=(low, high), method="trf", x_scale="jac",
        ftol=TOLERANCE, xtol=TOLERANCE, gtol=TOLERANCE, max_nfev=MAX_EVALUATIONS * p,
    )
    if result.status <= 0 or not np.isfinite(result.x).all():
        raise _no_convergence(problem, result, start)
    stats = statistics(result.x, residuals(result.x), jacobian(result.x), y, problem)
    with np.errstate(all="ignore"):
        fitted = _broadcast(compiled.model(*result.x, *columns), n)
    answer = {
        "parameters": [
            {"name": name, "estimate": float(value), "std_error": stats["se"][k],
             "ci_low": stats["ci"][k][0], "ci_high": stats["ci"][k][1],
             "start": float(start[k])}
            for k, (name, value) in enumerate(zip(problem.parameters, result.x, strict=True))
        ],
        "n": n,
        "dof": n - p,
        "ssr": stats["ssr"],
        "residual_sd": stats["residual_sd"],
        "r_squared": stats["r_squared"],
        "aic": stats["aic"],
        "log_likelihood": stats["log_likelihood"],
        "evaluations": int(result.nfev),
        "jacobian_evaluations": int(result.njev or 0),
        "converged": True,
        "message": str(result.message),
        "start_method": start_method,
        "confidence_level": LEVEL,
        "fitted": [
            {"label": label, "observed": float(obs), "fitted": _finite(fit_value)}
            for label, obs, fit_value in zip(problem.labels, y, fitted, strict=True)
        ],
    }
    if stats["note"]:
        answer["note"] = stats["note"]
    context = fit_extras.Context(problem, compiled, result.x, stats["cov"], stats["t_quantile"])
    answer.update(fit_extras.typeset(context))
    answer.update(fit_extras.extras(context))
    plot = fit_extras.plot_data(context, answer) if problem.plot else None
    return {"result": answer, "plot": plot}


def statistics(theta, residuals, jacobian, y, problem: FitProblem) -> dict:
    """SSR, s, R², AIC, the covariance s² (JᵀJ)⁻¹ (via the SVD of J) and t-intervals."""
    n, p = len(residuals), len(theta)
    dof = n - p
    ssr = float(residuals @ residuals)
    s2 = ssr / dof
    weights = problem.weights if problem.weights is not None else np.ones(n)
    mean = float(np.sum(weights * y) / np.sum(weights))
    sst = float(np.sum(weights * (y - mean) ** 2))
    _, singular, vt = np.linalg.svd(jacobian, full_matrices=False)
    note = ""
    if singular[-1] <= singular[0] * max(jacobian.shape) * np.finfo(float).eps:
        cov = None
        note = ("The parameters are not identified at the solution (the Jacobian is singular): "
                "no standard errors. Remove a parameter or fix it as a number.")
    else:
        cov = s2 * (vt.T / singular**2) @ vt
    quantile = float(stdtrit(dof, 0.5 + LEVEL / 2))
    se = [None] * p if cov is None else [float(math.sqrt(max(v, 0.0))) for v in np.diag(cov)]
    ci = [
        (None, None) if s is None else (float(t - quantile * s), float(t + quantile * s))
        for t, s in zip(theta, se, strict=True)
    ]
    log_l = 0.5 * (float(np.sum(np.log(weights))) - n * (
        math.log(2 * math.pi) + 1 - math.log(n) + math.log(ssr))) if ssr > 0 else None
    return {
        "ssr": ssr,
        "residual_sd": math.sqrt(s2),
        "r_squared": 1 - ssr / sst if sst > 0 else None,
        "log_likelihood": log_l,
        "aic": None if log_l is None else 2 * (p + 1) - 2 * log_l,
        "cov": cov,
        "se": se,
        "ci": ci,
        "t_quantile": quantile,
        "note": note,
    }


# -- start values ----------------------------------------------------------------------------
def starting_values(compiled: Compiled, problem: FitProblem, columns, y) -> tuple[np.ndarray, str]:
    """The user's start values; the missing ones from a linear or log-linear least-squares fit
    where the model is one (a + b·t, a·exp(b·t), a·t^b, …), else 1."""
    names = problem.parameters
    given = problem.start
    if len(given) == len(names):
        return np.array([given[n] for n in names], dtype=float), "given"
    guess = _linear_guess(compiled, columns, y) or _log_linear_guess(compiled, columns, y)
    method = "ones"
    values = np.ones(len(names))
    if guess is not None:
        values, method = guess
    for k, name in enumerate(names):
        if name in given:
            values[k] = given[name]
    if given:
        method = f"given, others {method}" if len(given) < len(names) else "given"
    return values, method


def _linear_guess(compiled: Compiled, columns, y):
    """Exact when the model is linear in its parameters: one linear least-squares solve."""
    rhs, thetas = compiled.rhs, compiled.parameters
    terms = [sympy.diff(rhs, theta) for theta in thetas]
    if any(term.free_symbols & set(thetas) for term in terms):
        return None
    offset = rhs.xreplace(dict.fromkeys(thetas, sympy.Integer(0)))
    values = _least_squares_design(compiled.inputs, [offset, *terms], columns, y)
    return None if values is None else (values, "linear least squares")


def _log_linear_guess(compiled: Compiled, columns, y):
    """log(rhs) = Σ (θ or log θ)·(a function of the data): a linear fit of log y."""
    if not (np.all(y > 0)):
        return None
    thetas = compiled.parameters
    logged = sympy.expand_log(sympy.log(compiled.rhs), force=True)
    stand_ins = {theta: sympy.Dummy(f"log_{theta}") for theta in thetas}
    logged = logged.xreplace({sympy.log(t): u for t, u in stand_ins.items()})
    unknowns = []
    for theta in thetas:
        uses_log = logged.has(stand_ins[theta])
        uses_plain = logged.has(theta)
        if uses_log == uses_plain:  # both, or neither: not log-linear in it
            return None
        unknowns.append(stand_ins[theta] if uses_log else theta)
    terms = [sympy.diff(logged, u) for u in unknowns]
    if any(term.free_symbols & set(unknowns) for term in terms):
        return None
    offset = logged.xreplace(dict.fromkeys(unknowns, sympy.Integer(0)))
    values = _least_squares_design(compiled.inputs, [offset, *terms], columns, np.log(y))
    if values is None:
        return None
    for k, theta in enumerate(thetas):
        if unknowns[k] is stand_ins[theta]:
            values[k] = math.exp(min(values[k], 700.0))
    return values, "log-linear least squares"


def _least_squares_design(inputs, parts, columns, y):
    n = len(y)
    with np.errstate(all="ignore"):
        evaluated = [_broadcast(sympy.lambdify(inputs, part, modules=MODULES)(*columns), n)
                     for part in parts]
    design = np.column_stack(evaluated[1:])
    target = y - evaluated[0]
    rows = np.isfinite(design).all(axis=1) & np.isfinite(target)
    if rows.sum() <= design.shape[1]:
        return None
    values, _, rank, _ = np.linalg.lstsq(design[rows], target[rows], rcond=None)
    if rank < design.shape[1] or not np.isfinite(values).all():
        return None
    return values


# -- helpers ---------------------------------------------------------------------------------
def _broadcast(value, n: int) -> np.ndarray:
    """A column of n floats (a derivative such as ∂(a + b·t)/∂a is the scalar 1)."""
    array = np.asarray(value)
    if np.iscomplexobj(array):
        array = np.where(np.abs(array.imag) > 0, np.nan, array.real)
    return np.broadcast_to(array.astype(float), (n,)).copy()


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _bounds(problem: FitProblem) -> tuple[np.ndarray, np.ndarray]:
    low = np.array([problem.bounds.get(n, (-np.inf, np.inf))[0] for n in problem.parameters])
    high = np.array([problem.bounds.get(n, (-np.inf, np.inf))[1] for n in problem.parameters])
    return low, high


def _inside(start: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Start values strictly inside the bounds (trust-region reflective needs that)."""
    out = start.copy()
    for k, (lo, hi) in enumerate(zip(low, high, strict=True)):
        if out[k] <= lo or out[k] >= hi:
            span = (hi - lo) if np.isfinite(hi - lo) else max(1.0, abs(out[k]))
            out[k] = lo + 1e-3 * span if out[k] <= lo else hi - 1e-3 * span
            out[k] = min(max(out[k], lo + 1e-10 * span), hi - 1e-10 * span)
    return out


def _start_text(problem: FitProblem, start: np.ndarray) -> str:
    return ", ".join(f'"{n}": {v:.4g}' for n, v in zip(problem.parameters, start, strict=True))


def _not_finite(problem: FitProblem, residuals: np.ndarray, start: np.ndarray) -> Unprocessable:
    bad = ~np.isfinite(residuals)
    where = f" (first at row {problem.labels[int(np.argmax(bad))]})" if bad.any() else ""
    return Unprocessable(
        "The model cannot be evaluated at the start values: it overflows or leaves a "
        f"function's domain{where}, with {{{_start_text(problem, start)}}}. Give start values "
        "(\"start\") near the answer, or bounds, or rescale the data.",
        code="not_finite",
    )


def _no_convergence(problem: FitProblem, result, start: np.ndarray) -> Unprocessable:
    return Unprocessable(
        f"The fit did not converge after {result.nfev} evaluations of the model "
        f"({result.message}). It started from {{{_start_text(problem, start)}}}: give start "
        "values near the answer in \"start\" (read them off a plot of the data), or bounds.",
        code="no_convergence",
    )
