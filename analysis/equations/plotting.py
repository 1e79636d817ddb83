"""Numbers to draw for typed equations: explicit curves, implicit curves, crossing points.

`lambdify` compiles *sympy-generated* code for an already validated sympy object (never the user's
text), which is the sanctioned way to sample it with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy

from analysis.equations.parser import parse
from errors import BadInput

SAMPLES = 800
GRID = 300
X, Y = sympy.Symbol("x"), sympy.Symbol("y")


@dataclass(frozen=True)
class Curve:
    label: str
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class ImplicitCurve:
    label: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray  # lhs - rhs on the grid; the curve is its zero contour


@dataclass(frozen=True)
class PlotData:
    x_range: tuple[float, float]
    curves: list[Curve] = field(default_factory=list)
    implicit: list[ImplicitCurve] = field(default_factory=list)
    points: list[tuple[float, float, str]] = field(default_factory=list)


def plot_data(equations: list[str], x_range: tuple[float, float]) -> PlotData:
    a, b = x_range
    xs = np.linspace(a, b, SAMPLES)
    curves, implicit, exprs = [], [], []
    for text in equations:
        parsed = parse(text, what="equation")
        extra = parsed.as_sympy().free_symbols - {X, Y}
        if extra:
            names = ", ".join(sorted(s.name for s in extra))
            raise BadInput(
                f"Plots use the variables x and y; {text!r} also has {names}.",
                code="plot_variables",
            )
        expr = parsed.as_expression()
        exprs.append(expr)
        branches = _explicit_branches(parsed)
        if branches is None:
            implicit.append(_implicit(text, expr, xs))
            continue
        for branch in branches:
            curves.append(Curve(_label(text, branch, len(branches)), xs, _sample(branch, xs)))
    points = _crossings(exprs, (a, b)) if len(exprs) == 2 else []
    return PlotData((a, b), curves, implicit, points)


def _explicit_branches(parsed) -> list[sympy.Expr] | None:
    """y as functions of x: `f(x)` means y = f(x); an equation in y is solved for y."""
    if not parsed.is_equation and Y not in parsed.lhs.free_symbols:
        return [parsed.lhs]
    if parsed.is_equation and parsed.lhs == Y and Y not in parsed.rhs.free_symbols:
        return [parsed.rhs]
    expr = parsed.as_expression()
    if Y not in expr.free_symbols:
        return None
    try:
        solutions = sympy.solve(expr, Y)
    except (NotImplementedError, ValueError):
        return None
    real = [s for s in solutions if not s.has(sympy.I)]
    return real if 0 < len(real) <= 4 else None


def _sample(expr: sympy.Expr, xs: np.ndarray) -> np.ndarray:
    function = sympy.lambdify(X, expr, modules="numpy")
    with np.errstate(all="ignore"):
        ys = np.asarray(function(xs), dtype=complex) * np.ones_like(xs)
    ys = np.where(np.abs(ys.imag) < 1e-9, ys.real, np.nan).astype(float)
    ys[~np.isfinite(ys)] = np.nan
    jumps = np.abs(np.diff(ys))
    if np.isfinite(jumps).any():
        scale = np.nanpercentile(np.abs(ys), 95) if np.isfinite(ys).any() else 1.0
        ys[1:][jumps > 50 * max(scale, 1e-9)] = np.nan  # break the line at poles
    return ys


def _implicit(text: str, expr: sympy.Expr, xs: np.ndarray) -> ImplicitCurve:
    span = xs[-1] - xs[0]
    ys = np.linspace(-span / 2, span / 2, GRID)
    gx, gy = np.meshgrid(np.linspace(xs[0], xs[-1], GRID), ys)
    function = sympy.lambdify((X, Y), expr, modules="numpy")
    with np.errstate(all="ignore"):
        z = np.asarray(function(gx, gy), dtype=float) * np.ones_like(gx)
    return ImplicitCurve(text, gx, gy, z)


def _crossings(exprs, x_range) -> list[tuple[float, float, str]]:
    if not all(e.free_symbols <= {X, Y} for e in exprs):
        return []
    try:
        solutions = sympy.solve(exprs, [X, Y], dict=True)
    except (NotImplementedError, ValueError):
        return []
    points = []
    for solution in solutions:
        if X not in solution or Y not in solution:
            continue
        x, y = complex(solution[X].evalf()), complex(solution[Y].evalf())
        if abs(x.imag) < 1e-9 and abs(y.imag) < 1e-9 and x_range[0] <= x.real <= x_range[1]:
            points.append((x.real, y.real, f"({x.real:.4g}, {y.real:.4g})"))
    return points


def _label(text: str, branch: sympy.Expr, count: int) -> str:
    return text if count == 1 else f"{text}  [y = {sympy.sstr(branch)}]"
