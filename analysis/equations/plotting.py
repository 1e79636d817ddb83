"""Numbers to draw for typed equations: explicit curves, implicit curves, crossing points.

Runs in the solver's workers. Curves are sampled with numpy through `sympy.lambdify`, which
does `exec` — but of code that sympy *generates* from an object our own parser built and
checked (names are ASCII letters and digits, functions come from an allow-list); the user's text
never reaches it. That is the sanctioned way to evaluate a sympy object on an array.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy
from contourpy import LineType, contour_generator
from scipy.optimize import brentq
from scipy.special import gamma

from analysis.equations.actions import solve_exact
from analysis.equations.build import Parsed, parse, symbol
from analysis.equations.values import approximate, is_real_number
from errors import BadInput, Unprocessable

SAMPLES = 801
GRID = 241
MAX_POINTS = 20
MAX_EXACT_DEGREE = 4
X, Y = symbol("x"), symbol("y")
_NUMPY_EXTRA = {"factorial": lambda a: gamma(np.asarray(a, dtype=float) + 1)}


@dataclass(frozen=True)
class Curve:
    """One explicit branch y = f(x); `group` is the index of the input it came from."""

    label: str
    group: int
    x: np.ndarray
    y: np.ndarray  # NaN where undefined, at poles and where not real


@dataclass(frozen=True)
class ImplicitCurve:
    label: str
    group: int
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray  # lhs - rhs on the grid; the curve is its zero contour


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class PlotData:
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    labels: tuple[str, ...]  # one per input, as typed
    curves: list[Curve] = field(default_factory=list)
    implicit: list[ImplicitCurve] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)


def plot_data(equations: list[str], x_range: tuple[float, float]) -> PlotData:
    """Sample every input over `x_range`; mark the real solutions of the system inside it."""
    a, b = x_range
    xs = np.linspace(a, b, SAMPLES)
    parsed = [parse(text, what=f"equation {n}") for n, text in enumerate(equations, start=1)]
    curves: list[Curve] = []
    pending: list[tuple[int, Parsed]] = []
    branches_of: list[list[sympy.Expr] | None] = []
    for group, item in enumerate(parsed):
        extra = sorted(item.names - {"x", "y"})
        if extra:
            raise BadInput(
                f"Plots use the variables x and y; equation {group + 1} also has {extra[0]}.",
                code="plot_variables",
            )
        branches = explicit_branches(item)
        branches_of.append(branches)
        if branches is None:
            pending.append((group, item))
            continue
        ends = branch_ends(item, (a, b))
        for branch in branches:
            curves.append(_sampled_branch(item.text, group, branch, xs, ends))
    points = crossings(parsed, branches_of, (a, b)) if len(parsed) >= 2 else []
    y_range = y_limits(curves, points, (a, b))
    implicit = [implicit_curve(group, item, (a, b), y_range) for group, item in pending]
    labels = tuple(item.text for item in parsed)
    return PlotData((a, b), y_range, labels, curves, implicit, points)


def curve_expression(parsed: Parsed) -> sympy.Expr:
    """The curve as g(x, y) = 0: an expression in x alone, f(x), means y = f(x)."""
    if not parsed.is_equation and Y not in parsed.lhs.free_symbols:
        return Y - parsed.lhs
    return parsed.as_expression()


def explicit_branches(parsed: Parsed) -> list[sympy.Expr] | None:
    """y as functions of x, or None (draw implicitly).

    An expression in x alone means y = f(x); otherwise lhs - rhs = 0 is solved for y when it is
    a polynomial of degree 1 or 2 in y (fast, exact, at most two branches).
    """
    if not parsed.is_equation and Y not in parsed.lhs.free_symbols:
        return [parsed.lhs]
    expr = parsed.as_expression()
    poly = expr.as_poly(Y) if Y in expr.free_symbols else None
    if poly is None or poly.degree() > 2 or poly.free_symbols_in_domain - {X}:
        return None
    solutions = sympy.solve(expr, Y)
    real = [s for s in solutions if not s.has(sympy.I)]
    return real or None


def branch_ends(parsed: Parsed, x_range: tuple[float, float]) -> list[tuple[float, float]]:
    """Where the two branches of a quadratic in y meet, (x, y), inside `x_range`.

    For a y² + b y + c = 0 they meet where b² − 4ac = 0, at y = −b / 2a, with a vertical
    tangent: evenly spaced samples stop short of it and a circle is drawn with gaps at its
    sides. Only for a discriminant that is a polynomial in x (its real roots are exact)."""
    if not parsed.is_equation and Y not in parsed.lhs.free_symbols:
        return []
    poly = parsed.as_expression().as_poly(Y)
    if poly is None or poly.degree() != 2:
        return []
    a, b, c = poly.all_coeffs()
    discriminant = sympy.expand(b**2 - 4 * a * c)
    if not discriminant.is_polynomial(X) or X not in discriminant.free_symbols:
        return []
    low, high = x_range
    ends = []
    for root in sympy.Poly(discriminant, X).real_roots():
        x0 = float(root)
        vertex = approximate((-b / (2 * a)).subs(X, root))
        if low <= x0 <= high and vertex is not None and is_real_number(vertex):
            ends.append((x0, vertex.real))
    return ends


def _sampled_branch(label: str, group: int, branch: sympy.Expr, xs: np.ndarray,
                    ends: list[tuple[float, float]]) -> Curve:
    """A branch sampled on `xs` plus, close to each end, steps shrinking towards it."""
    if not ends:
        return Curve(label, group, xs, sample(branch, xs, label))
    step = (xs[-1] - xs[0]) / (len(xs) - 1)
    near = step * np.array([-0.5, -0.2, -0.05, -0.01, 0.01, 0.05, 0.2, 0.5])
    extra = np.concatenate([x0 + np.append(near, 0.0) for x0, _ in ends])
    dense = np.unique(np.concatenate([xs, extra[(extra >= xs[0]) & (extra <= xs[-1])]]))
    ys = sample(branch, dense, label)
    for x0, y0 in ends:  # exactly: rounding can make the discriminant there a little negative
        ys[dense == x0] = y0
    return Curve(label, group, dense, ys)


def sample(expr: sympy.Expr, xs: np.ndarray, label: str) -> np.ndarray:
    """expr at xs as floats; NaN where undefined or not real, and across poles."""
    function = _lambdify((X,), expr, label)
    with np.errstate(all="ignore"):
        ys = _real_part(function(xs), xs.shape)
    jumps = np.abs(np.diff(ys))
    finite = np.isfinite(ys)
    if finite.sum() > 2:
        scale = np.nanpercentile(np.abs(ys[finite]), 90)
        ys[1:][jumps > 40 * max(scale, 1e-9)] = np.nan  # do not join the two sides of a pole
    return ys


def implicit_curve(
    group: int, parsed: Parsed, x_range: tuple[float, float], y_range: tuple[float, float]
) -> ImplicitCurve:
    gx, gy = np.meshgrid(np.linspace(*x_range, GRID), np.linspace(*y_range, GRID))
    function = _lambdify((X, Y), parsed.as_expression(), parsed.text)
    with np.errstate(all="ignore"):
        z = _real_part(function(gx, gy), gx.shape)
    return ImplicitCurve(parsed.text, group, gx, gy, z)


def zero_contour(curve: ImplicitCurve) -> list[np.ndarray]:
    """The implicit curve as polylines: (n, 2) arrays of (x, y) where its z-grid crosses 0.

    Grid cells with an undefined corner (NaN) are left out, so no line runs through a region
    where the equation has no real value. A closed loop ends on its first point.
    """
    z = np.ma.masked_invalid(curve.z)
    if not z.count() or not z.min() <= 0 <= z.max():
        return []
    generator = contour_generator(curve.x, curve.y, z, line_type=LineType.Separate)
    return [line for line in generator.lines(0.0) if len(line) >= 2]


def crossings(parsed: list[Parsed], branches_of: list, x_range: tuple[float, float]) -> list[Point]:
    """Real solutions (x, y) of the system inside the x range.

    Polynomial systems of low degree are solved exactly with the solver (quick, and every
    crossing is found, also of implicit curves); anything else would let sympy search for
    seconds before giving up, so two curves y = f(x), y = g(x) are crossed numerically instead.
    """
    exprs = [curve_expression(p) for p in parsed]
    if not all(_low_degree_polynomial(e) for e in exprs):
        return _numeric_crossings(parsed, branches_of, x_range)
    try:
        solutions = solve_exact(exprs, [X, Y], real=True)
    except NotImplementedError:
        return _numeric_crossings(parsed, branches_of, x_range)
    points = []
    for solution in solutions:
        x, y = approximate(solution.get(X, X)), approximate(solution.get(Y, Y))
        if x is None or y is None or not (is_real_number(x) and is_real_number(y)):
            continue
        if x_range[0] <= x.real <= x_range[1]:
            points.append(Point(x.real, y.real, f"({x.real:.4g}, {y.real:.4g})"))
    return sorted(points, key=lambda p: (p.x, p.y))[:MAX_POINTS]


def _low_degree_polynomial(expr: sympy.Expr) -> bool:
    poly = expr.as_poly(X, Y)
    return poly is not None and poly.total_degree() <= MAX_EXACT_DEGREE


def _numeric_crossings(parsed, branches_of, x_range) -> list[Point]:
    """Two curves y = f(x), y = g(x) with no closed-form crossing: sign changes of f - g."""
    if len(parsed) != 2 or any(b is None or len(b) != 1 for b in branches_of):
        return []
    f = _lambdify((X,), branches_of[0][0] - branches_of[1][0], parsed[0].text)
    first = _lambdify((X,), branches_of[0][0], parsed[0].text)
    xs = np.linspace(*x_range, SAMPLES)
    with np.errstate(all="ignore"):
        d = _real_part(f(xs), xs.shape)
    points: list[Point] = []
    for i in np.flatnonzero(np.isfinite(d[:-1]) & np.isfinite(d[1:]) & (d[:-1] * d[1:] <= 0)):
        root = float(xs[i]) if d[i] == 0 else brentq(lambda t: float(f(t)), xs[i], xs[i + 1])
        with np.errstate(all="ignore"):
            gap = abs(float(f(root)))
            y = float(first(root))
        close = points and abs(points[-1].x - root) < 1e-9 * max(1.0, abs(root))
        if np.isfinite(y) and gap < 1e-6 * max(1.0, abs(y)) and not close:  # poles flip too
            points.append(Point(root, y, f"({root:.4g}, {y:.4g})"))
    return points[:MAX_POINTS]


def y_limits(
    curves: list[Curve], points: list[Point], x_range: tuple[float, float]
) -> tuple[float, float]:
    """The bulk of the values (2nd to 98th percentile) and every marked point, padded."""
    values = [c.y[np.isfinite(c.y)] for c in curves]
    values = [v for v in values if v.size]
    if values:
        low, high = (float(v) for v in np.percentile(np.concatenate(values), [2, 98]))
    elif points:
        low, high = points[0].y, points[0].y
    else:
        low, high = x_range
    for point in points:
        low, high = min(low, point.y), max(high, point.y)
    if high - low < 1e-9 * max(1.0, abs(low)):
        low, high = low - 1, high + 1
    pad = 0.08 * (high - low)
    return low - pad, high + pad


def _lambdify(args: tuple, expr: sympy.Expr, label: str):
    """A numpy function of `args` (factorial drawn as gamma(x + 1), defined between integers).

    Failures when called (a function numpy cannot apply elementwise) become a clear 422.
    """
    try:
        function = sympy.lambdify(args, expr, modules=[_NUMPY_EXTRA, "numpy"])
    except (NameError, TypeError, KeyError) as exc:
        raise _not_plottable(label, exc) from None

    def sampled(*values):
        try:
            return function(*values)
        except (NameError, TypeError, ValueError, AttributeError) as exc:
            raise _not_plottable(label, exc) from None

    return sampled


def _not_plottable(label: str, exc: Exception) -> Unprocessable:
    return Unprocessable(
        f"{label!r} cannot be drawn: {type(exc).__name__}: {str(exc)[:100]}.",
        code="not_plottable",
    )


def _real_part(values, shape) -> np.ndarray:
    array = np.broadcast_to(np.asarray(values, dtype=complex), shape)
    real = np.where(
        np.abs(array.imag) <= 1e-9 * np.maximum(1.0, np.abs(array.real)), array.real, np.nan
    )
    real[~np.isfinite(real)] = np.nan
    return real
