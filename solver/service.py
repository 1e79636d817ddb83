"""Entry points for the web layer: validate in the server, compute in the solver's workers.

Every input is checked here first (parser.check: microseconds, pure Python, no sympy), so
hostile text is refused without touching a worker and no sympy object is ever built from user
text in the server. Only then does the work go to a warm pool of processes with CPU, memory
and wall-clock limits: a runaway `solve` costs a worker, which is replaced, never the server.
Each function returns the JSON-safe dict of the API contract (issue 8); plots are image bytes
or a Plotly / Bokeh figure dict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.equations.parser import Checked, check
from errors import BadInput
from sandbox import LimitedPool, Limits
from solver import worker

MAX_EQUATIONS = 10
MAX_VALUES = 20
MAX_NUMBER = 1e300
MAX_ORDER = 10
MAX_COORDINATE = 1e6
PLOT_WIDTH = (200, 2000)
PLOT_HEIGHT = (150, 2000)
ACTIONS = ("simplify", "expand", "factor", "differentiate", "integrate")
DOMAINS = ("real", "complex")
PLOT_VARIABLES = frozenset({"x", "y"})
PLOT_FORMATS = ("png", "svg", "plotly", "bokeh")

LIMITS = Limits(wall_seconds=5.0, cpu_seconds=5, memory_bytes=512 * 1024 * 1024)
PRELOAD = (
    "sympy",
    "numpy",
    "matplotlib",
    "analysis.equations.actions",
    "rendition.equation_plot",
    "scipy.optimize",
    "analysis.equations.fitting",
    "rendition.fit_plot",
    "solver.warmup",
)
POOL = LimitedPool("equation solver", size=2, limits=LIMITS, preload=PRELOAD)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def evaluate_expression(
    expression: str, values: Mapping[str, float] | None = None, *, pool: LimitedPool = POOL
) -> dict:
    """{"value": <value>, ...}: the expression at the given values (exact when they are)."""
    checked = check(expression)
    clean = _numbers(values, "values", allowed=checked.names, what="the expression")
    return pool.run(worker.run, "evaluate", expression, clean)


def transform_expression(
    action: str,
    expression: str,
    variable: str | None = None,
    order: int = 1,
    lower: str | None = None,
    upper: str | None = None,
    *,
    pool: LimitedPool = POOL,
) -> dict:
    """{"value": <value>, ...}: simplify, expand, factor, differentiate or integrate."""
    if action not in ACTIONS:
        raise BadInput(
            f"Unknown action {action!r}. Choose one of {', '.join(ACTIONS)}.",
            code="unknown_action",
        )
    checked = check(expression)
    if variable is not None:
        _names([variable], "variable", allowed=checked.names, what="the expression")
    for limit, what in ((lower, "lower limit"), (upper, "upper limit")):
        if limit is not None and check(limit, what=what).is_equation:
            raise BadInput(f"The {what} is a value, not an equation.", code="bad_limits")
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise BadInput(
            f"The order of a derivative is a whole number from 1 to {MAX_ORDER}.",
            code="bad_order",
        )
    return pool.run(worker.run, "transform", action, expression, variable, order, lower, upper)


def solve_equations(
    equations: Sequence[str],
    variables: Sequence[str] | None = None,
    domain: str = "real",
    start: Mapping[str, float] | None = None,
    *,
    pool: LimitedPool = POOL,
) -> dict:
    """{"solutions": [{name: <value>}], "variables", "domain", "free"?, "note"?, ...}.

    An input without `=` means "= 0". With no closed form, a numeric solve from `start` when
    given, else a 422 "no_closed_form" asking for one.
    """
    checked = _equations(equations)
    names = frozenset().union(*(c.names for c in checked))
    if domain not in DOMAINS:
        raise BadInput("'domain' is 'real' or 'complex'.", code="bad_domain")
    chosen = _names(variables, "variables", allowed=names, what="the equations")
    starts = _numbers(start, "start", allowed=names, what="the equations")
    return pool.run(worker.run, "solve", list(equations), chosen, domain, starts or None)


def numeric_solve(
    equations: Sequence[str],
    variables: Sequence[str] | None = None,
    start: Mapping[str, float] | None = None,
    *,
    pool: LimitedPool = POOL,
) -> dict:
    """One numeric root near `start` (default 1 for each unknown), same shape as solve."""
    checked = _equations(equations)
    names = frozenset().union(*(c.names for c in checked))
    chosen = _names(variables, "variables", allowed=names, what="the equations")
    starts = _numbers(start, "start", allowed=names, what="the equations")
    return pool.run(worker.run, "nsolve", list(equations), chosen, starts)


def plot_equations(
    equations: Sequence[str],
    x_range: Sequence[float],
    width: int = 800,
    height: int = 500,
    format: str = "png",
    *,
    pool: LimitedPool = POOL,
) -> bytes | dict:
    """The curves in x and y, crossings of a two-equation system marked, as `format`:

    "png" or "svg": the image's bytes. "plotly": a Plotly figure {"data", "layout"}. "bokeh":
    a `bokeh.embed.json_item`. The worker samples and contours (sympy, numpy); for the two
    interactive formats it sends back compact lines, drawn here (Bokeh would not fit in a
    worker's memory limit; this process has it loaded for the charts already).
    """
    if format not in PLOT_FORMATS:
        raise BadInput(
            f"Unknown plot format {str(format)[:40]!r}. Choose one of {', '.join(PLOT_FORMATS)}.",
            code="bad_format",
        )
    checked = _equations(equations)
    for number, item in enumerate(checked, start=1):
        extra = sorted(item.names - PLOT_VARIABLES)
        if extra:
            raise BadInput(
                f"Plots use the variables x and y; equation {number} also has {extra[0]}.",
                code="plot_variables",
            )
    if isinstance(x_range, (str, bytes)) or not isinstance(x_range, Sequence) or len(x_range) != 2:
        raise BadInput("'x_range' is two numbers [a, b].", code="bad_range")
    a, b = (_number(v, "the x range", limit=MAX_COORDINATE) for v in x_range)
    if not a < b:
        raise BadInput(f"The x range needs a < b; got [{a:g}, {b:g}].", code="bad_range")
    width = _whole(width, "width", *PLOT_WIDTH)
    height = _whole(height, "height", *PLOT_HEIGHT)
    task = format if format in ("png", "svg") else "lines"
    x_range = (float(a), float(b))
    result = pool.run(worker.run, "plot", list(equations), x_range, width, height, task)
    if task == "png" or task == "svg":
        return result
    from rendition import equation_plot_interactive as draw  # imports Bokeh: only when asked

    if format == "plotly":
        return draw.render_plot_plotly(result, width, height)
    return draw.render_plot_bokeh(result, width, height)


# The names the brief uses for the same entry points.
transform = transform_expression
plot_equations_png = plot_equations


def _equations(equations: Any) -> list[Checked]:
    if isinstance(equations, (str, bytes)) or not isinstance(equations, Sequence):
        raise BadInput("'equations' is a list of texts.", code="no_equations")
    if not equations:
        raise BadInput("Give at least one equation.", code="no_equations")
    if len(equations) > MAX_EQUATIONS:
        raise BadInput(
            f"At most {MAX_EQUATIONS} equations at once; got {len(equations)}.", code="too_many"
        )
    return [check(text, what=f"equation {n}") for n, text in enumerate(equations, start=1)]


def _names(names: Any, field: str, *, allowed: frozenset[str], what: str) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise BadInput(f"'{field}' is a list of variable names.", code="bad_variables")
    if len(names) > MAX_EQUATIONS:
        raise BadInput(f"At most {MAX_EQUATIONS} {field} at once.", code="too_many")
    for name in names:
        _name(name, field)
        if name not in allowed:
            raise _no_variable(what, name)
    if len(set(names)) != len(names):
        raise BadInput(f"'{field}' names a variable twice.", code="bad_variables")
    return list(names) or None


def _name(name: Any, field: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadInput(
            f"{name!r} in '{field}' is not a variable name (letters, then letters or digits).",
            code="bad_variables",
        )
    return name


def _numbers(
    mapping: Any, field: str, *, allowed: frozenset[str], what: str
) -> dict[str, int | float]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise BadInput(f"'{field}' maps variable names to numbers.", code="bad_values")
    if len(mapping) > MAX_VALUES:
        raise BadInput(f"At most {MAX_VALUES} entries in '{field}'.", code="too_many")
    clean = {}
    for name, value in mapping.items():
        _name(name, field)
        if name not in allowed:
            raise _no_variable(what, name)
        clean[name] = _number(value, f"the value of {name}", limit=MAX_NUMBER)
    return clean


def _no_variable(what: str, name: str) -> BadInput:
    verb = "has" if what == "the expression" else "have"
    return BadInput(
        f"{what.capitalize()} {verb} no variable named {name!r}.", code="unknown_variable"
    )


def _number(value: Any, what: str, *, limit: float) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{what.capitalize()} must be a number.", code="not_a_number")
    finite = isinstance(value, int) or math.isfinite(value)  # math.isfinite(10**400) overflows
    if not finite or abs(value) > limit:
        raise BadInput(
            f"{what.capitalize()} must be a finite number between -{limit:g} and {limit:g}.",
            code="not_a_number",
        )
    return value


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(
            f"The {what} is a whole number of pixels from {low} to {high}.", code="bad_size"
        )
    return value
