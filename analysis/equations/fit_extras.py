"""What a fitted model answers besides its estimates (in a solver worker, after fitting.fit).

- **solve**: an equation in the response, x and the parameters, `US(2000Q1)` meaning the
  *fitted* value there (already a stand-in from the server) — solved by sympy with the
  parameters as symbols (the exact answer, e.g. t = 25 + log(2)/b), then with the estimates put
  in (the number). When sympy finds no closed form, the roots of the fitted curve are bracketed
  on a grid around the data and polished with brentq.
- **derived**: expressions in the parameters (log(2)/b, the doubling time), with delta-method
  standard errors from the parameters' covariance.
- **at**: the fitted value, its derivative along x (the growth per unit of x) and the relative
  growth f′/f at given points.
- **plot data**: observations, the fitted curve over the data (and any solution), its 95 %
  confidence band by the delta method, and the solution markers.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy
from scipy.optimize import brentq

from analysis.equations.build import _exact, build, symbol
from analysis.equations.fit_problem import FitProblem
from analysis.equations.fitting import MODULES
from analysis.equations.parser import check
from analysis.equations.values import approximate, is_real_number, mathml, value_dict
from errors import BadInput, Unprocessable

MAX_SOLUTIONS = 10
GRID = 2000
BAND_POINTS = 300
DIGITS = 6  # significant digits of the estimates in the typeset fitted model


@dataclass(frozen=True)
class Context:
    problem: FitProblem
    compiled: object  # fitting.Compiled
    theta: np.ndarray
    cov: np.ndarray | None
    t_quantile: float

    def estimates(self, digits: int = 17) -> dict:
        return {s: sympy.Float(repr(float(v)), digits)
                for s, v in zip(self.compiled.parameters, self.theta, strict=True)}

    def x_symbol(self) -> sympy.Symbol:
        return symbol(self.problem.x)

    def curve(self) -> sympy.Expr:
        """The right side with the estimates in: a function of x alone."""
        return self.compiled.rhs.xreplace(self.estimates())

    def shown(self, expr: sympy.Expr, markup: bool = False) -> sympy.Expr:
        """Stand-in names of odd columns replaced by the columns' names, for printing.

        `markup`: names HTML-escaped, for MathML (sympy's printer puts a name in `<mi>` as it
        is, and a column may be called `<img src=x onerror=...>`).
        """
        return expr.xreplace({symbol(k): sympy.Symbol(html.escape(v) if markup else v)
                              for k, v in self.problem.names.items() if k != v})


def typeset(context: Context) -> dict:
    """The model as typed and with the estimates (6 digits) substituted, as text and MathML."""
    estimates = context.estimates(DIGITS)
    out = {}
    for markup in (False, True):
        lhs = context.shown(context.compiled.lhs, markup)
        rhs = context.shown(context.compiled.rhs, markup)
        model = sympy.Eq(lhs, rhs, evaluate=False)
        fitted = sympy.Eq(lhs, rhs.xreplace(estimates), evaluate=False)
        if markup:
            out.update(model_mathml=mathml(model), fitted_mathml=mathml(fitted))
        else:
            out.update(model_text=f"{sympy.sstr(lhs)} = {sympy.sstr(rhs)}",
                       fitted_text=f"{sympy.sstr(lhs)} = {sympy.sstr(fitted.rhs)}")
    return out


def extras(context: Context) -> dict:
    problem = context.problem
    out: dict = {}
    if problem.solve is not None or problem.value is not None:
        out["solve"] = solve(context)
    if problem.derived:
        out["derived"] = [derived(context, text) for text in problem.derived]
    if problem.at:
        out["at"] = [at_point(context, x0, label)
                     for x0, label in zip(problem.at, problem.at_labels, strict=True)]
    return out


# -- solve -------------------------------------------------------------------------------------
def solve(context: Context) -> dict:
    problem, compiled = context.problem, context.compiled
    x = context.x_symbol()
    unknown = symbol(problem.solve_for or problem.x)
    if problem.solve is not None:
        parsed = build(check(problem.solve, what="solve equation"))
        equation = parsed.as_expression()
    else:
        equation = symbol(problem.response) - _exact(problem.value)
    replace = {symbol(problem.response): compiled.rhs} if problem.response else {}
    for stand_in, x0 in problem.solve_points.items():
        replace[symbol(stand_in)] = compiled.rhs.xreplace({x: _exact(x0)})
    equation = equation.xreplace(replace)
    extra = equation.free_symbols - set(compiled.parameters) - {unknown}
    if extra:
        raise BadInput(
            f"The solve equation has {sorted(map(str, extra))[0]!r}, which is neither "
            f"the response, {problem.x} nor a parameter.", code="unknown_variable")
    if not equation.has(unknown):
        raise BadInput(f"The solve equation does not depend on {unknown}.", code="bad_solve")
    estimates = context.estimates()
    exact = _closed_forms(equation, unknown)
    solutions = []
    for form in exact:
        number = approximate(form.xreplace(estimates))
        if number is None or not is_real_number(number):
            continue
        solutions.append({"exact": value_dict(context.shown(form)), "value": number.real,
                          "mathml": mathml(sympy.Eq(context.shown(unknown, markup=True),
                                                    context.shown(form, markup=True),
                                                    evaluate=False))})
    method = "exact"
    if not solutions:
        method = "numeric"
        solutions = [{"exact": None, "value": v} for v in _numeric_roots(context, equation,
                                                                          unknown)]
    solutions.sort(key=lambda s: s["value"])
    for item in solutions:
        along_x = unknown == x
        item["fitted"] = _curve_value(context, item["value"]) if along_x else None
        item["label"] = problem.label(item["value"]) if along_x else f"{item['value']:.6g}"
        if along_x and problem.x == "t":
            item["year"] = item["value"] + problem.x_offset  # decimal calendar year
    return {"variable": str(unknown), "equation": problem.solve or
            f"{problem.names.get(problem.response, problem.response)} = {problem.value:g}",
            "method": method, "solutions": solutions[:MAX_SOLUTIONS]}


@lru_cache(maxsize=64)  # the same model and equation again (a page reloaded) skip sympy.solve
def _closed_forms(equation: sympy.Expr, unknown: sympy.Symbol) -> tuple[sympy.Expr, ...]:
    """Solved with every symbol real (data and estimates are): t = 25 + log(2)/b rather
    than log(2·exp(25b))/b."""
    reals = {s: sympy.Symbol(s.name, real=True) for s in equation.free_symbols}
    try:
        found = sympy.solve(equation.xreplace(reals), reals[unknown], dict=False)
    except (NotImplementedError, ValueError, TypeError):
        return ()
    back = {v: k for k, v in reals.items()}
    return tuple(f.xreplace(back) for f in found if isinstance(f, sympy.Expr))[:MAX_SOLUTIONS]


def _numeric_roots(context: Context, equation: sympy.Expr, unknown: sympy.Symbol) -> list[float]:
    if unknown != context.x_symbol():
        raise Unprocessable(f"No closed form for {unknown}; numeric solving is along "
                            f"{context.problem.x} only.", code="no_closed_form")
    g = sympy.lambdify([unknown], equation.xreplace(context.estimates()), modules=MODULES)
    low, high = _x_span(context, 1.0)
    grid = np.linspace(low, high, GRID)
    with np.errstate(all="ignore"):
        values = np.asarray(g(grid), dtype=float) * np.ones_like(grid)
    roots = []
    for k in np.flatnonzero(np.isfinite(values[:-1]) & np.isfinite(values[1:]) &
                            (np.sign(values[:-1]) != np.sign(values[1:]))):
        with np.errstate(all="ignore"):
            roots.append(float(brentq(lambda u: float(g(u)), grid[k], grid[k + 1],
                                      xtol=1e-14, rtol=4 * np.finfo(float).eps)))
    if not roots:
        raise Unprocessable(
            f"The fitted model has no solution for {unknown} between {low:.4g} and "
            f"{high:.4g} (the data's range and as much again on either side).",
            code="no_solution")
    return roots[:MAX_SOLUTIONS]


# -- derived quantities and values along x ---------------------------------------------------------
def derived(context: Context, text: str) -> dict:
    parsed = build(check(text, what="derived quantity"))
    expr = parsed.as_expression()
    thetas = context.compiled.parameters
    extra = expr.free_symbols - set(thetas)
    if extra:
        raise BadInput(f"A derived quantity uses the parameters only; {text!r} also has "
                       f"{sorted(map(str, extra))[0]!r}.", code="unknown_variable")
    estimates = context.estimates()
    number = approximate(expr.xreplace(estimates))
    value = number.real if number is not None and is_real_number(number) else None
    gradient = [approximate(sympy.diff(expr, t).xreplace(estimates)) for t in thetas]
    se = _delta_se(context, [g.real if g is not None else math.nan for g in gradient])
    q = context.t_quantile
    return {"expression": text, "exact": value_dict(context.shown(expr)), "value": value,
            "std_error": se,
            "ci_low": None if se is None or value is None else value - q * se,
            "ci_high": None if se is None or value is None else value + q * se}


def at_point(context: Context, x0: float, label: str) -> dict:
    x = context.x_symbol()
    curve = context.curve()
    value = approximate(curve.xreplace({x: _exact(x0)}))
    slope = approximate(sympy.diff(curve, x).xreplace({x: _exact(x0)}))
    value = value.real if value is not None else None
    slope = slope.real if slope is not None else None
    band = _band(context, np.array([x0]))
    return {"label": label, "x": x0, "fitted": value, "std_error": band[1][0],
            "derivative": slope,
            "relative_growth": slope / value if value and slope is not None else None}


def _delta_se(context: Context, gradient: list[float]) -> float | None:
    if context.cov is None or not np.isfinite(gradient).all():
        return None
    g = np.asarray(gradient)
    return float(math.sqrt(max(g @ context.cov @ g, 0.0)))


def _curve_value(context: Context, x0: float) -> float | None:
    values, _ = _band(context, np.array([x0]))
    return float(values[0]) if math.isfinite(values[0]) else None


def _band(context: Context, xs: np.ndarray) -> tuple[np.ndarray, list[float | None]]:
    """The fitted curve at xs and its delta-method standard error (other inputs absent)."""
    compiled = context.compiled
    columns = [xs if s == context.x_symbol() else np.full_like(xs, np.nan)
               for s in compiled.inputs]
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(compiled.model(*context.theta, *columns),
                                            dtype=float), xs.shape)
        parts = compiled.gradient(*context.theta, *columns)
        jac = np.column_stack([np.broadcast_to(np.asarray(g, dtype=float), xs.shape)
                               for g in parts])
    if context.cov is None:
        return values, [None] * len(xs)
    with np.errstate(all="ignore"):
        var = np.einsum("ij,jk,ik->i", jac, context.cov, jac)
    return values, [float(math.sqrt(v)) if math.isfinite(v) and v >= 0 else None for v in var]


def _x_span(context: Context, extend: float) -> tuple[float, float]:
    data = context.problem.data[context.problem.x]
    low, high = float(np.min(data)), float(np.max(data))
    span = (high - low) or 1.0
    return low - extend * span, high + extend * span


# -- plot data ---------------------------------------------------------------------------------
def plot_data(context: Context, answer: dict) -> dict:
    """{"points", "curve", "band", "markers", "references", labels}: what rendition.fit_plot
    draws. Markers are the solutions; references the fitted values a solve equation names
    (US(2000Q1)); both only within the data's range and as much again on either side."""
    problem = context.problem
    inputs = context.compiled.rhs.free_symbols & set(context.compiled.inputs)
    if problem.x is None or inputs - {context.x_symbol()}:
        raise BadInput("A plot needs a model along one data variable (such as t); this one "
                       "has several inputs.", code="plot_variables")
    offset = problem.x_offset
    near_low, near_high = _x_span(context, 1.0)  # solutions far away would squash the data
    markers = [s for s in answer.get("solve", {}).get("solutions", [])
               if s.get("fitted") is not None and near_low <= s["value"] <= near_high]
    references = [{"x": x0, "y": _curve_value(context, x0), "label": problem.label(x0)}
                  for x0 in problem.solve_points.values() if near_low <= x0 <= near_high]
    references = [r for r in references if r["y"] is not None]
    xs = [float(v) for v in problem.data[problem.x]] + [m["value"] for m in markers] + [
        r["x"] for r in references]
    low, high = min(xs), max(xs)
    grid = np.linspace(low, high, BAND_POINTS)
    values, se = _band(context, grid)
    q = context.t_quantile
    has_band = all(s is not None for s in se)
    return {
        "points": {"x": [v + offset for v in problem.data[problem.x].tolist()],
                   "y": [row["observed"] for row in answer["fitted"]]},
        "curve": {"x": (grid + offset).tolist(), "y": _clean(values)},
        "band": {"low": _clean(values - q * np.asarray(se, dtype=float)),
                 "high": _clean(values + q * np.asarray(se, dtype=float))} if has_band else None,
        "markers": [{"x": m["value"] + offset, "y": m["fitted"], "label": m.get("label", "")}
                    for m in markers],
        "references": [{**r, "x": r["x"] + offset} for r in references],
        "x_label": problem.x_label,
        "y_label": answer["model_text"].split(" = ")[0],
        "fitted_label": answer["fitted_text"].split(" = ", 1)[1][:60],
    }


def _clean(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]
