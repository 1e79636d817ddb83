"""Entry points for the web layer: validate in the server, compute in the solver's workers.

Every input is parsed here first (microseconds; hostile text is refused without touching a
worker), then the work runs in a warm pool of processes with CPU, memory and wall-clock limits:
a runaway `solve` costs a worker, which is replaced, never the server.
"""

from __future__ import annotations

import math
import os

from analysis.equations import actions
from analysis.equations.parser import parse
from errors import BadInput
from sandbox import LimitedPool, Limits

MAX_EQUATIONS = 10
MAX_SPAN = 1e6
LIMITS = Limits(
    wall_seconds=float(os.environ.get("QUARTILE_SOLVER_SECONDS", "5")),
    cpu_seconds=int(float(os.environ.get("QUARTILE_SOLVER_SECONDS", "5"))),
    memory_bytes=1536 * 1024 * 1024,
)
POOL = LimitedPool(
    "equation solver",
    size=2,
    limits=LIMITS,
    preload=(
        "sympy",
        "numpy",
        "matplotlib",
        "analysis.equations.actions",
        "rendition.equation_plot",
    ),
)
ACTIONS = ("simplify", "expand", "factor", "differentiate", "integrate")


def evaluate_expression(expression: str, values: dict, pool: LimitedPool = POOL) -> dict:
    parsed = parse(expression)
    if not isinstance(values, dict):
        raise BadInput("'values' maps variable names to numbers.", code="bad_values")
    clean = {}
    names = {s.name for s in parsed.as_sympy().free_symbols}
    for name, value in values.items():
        if name not in names:
            raise BadInput(
                f"The expression has no variable named {name!r}.", code="unknown_variable"
            )
        clean[name] = _finite_number(value, f"the value of {name}")
    return pool.run(actions.evaluate, expression, clean)


def transform_expression(
    action: str,
    expression: str,
    variable: str | None = None,
    order: int = 1,
    lower: str | None = None,
    upper: str | None = None,
    pool: LimitedPool = POOL,
) -> dict:
    if action not in ACTIONS:
        raise BadInput(
            f"Unknown action {action!r}. Choose one of {', '.join(ACTIONS)}.", code="unknown_action"
        )
    parse(expression)
    for limit in (lower, upper):
        if limit is not None:
            parse(limit, what="integration limit")
    if not isinstance(order, int) or not 1 <= order <= 10:
        raise BadInput(
            "The order of a derivative is a whole number from 1 to 10.", code="bad_order"
        )
    return pool.run(actions.transform, action, expression, variable, order, lower, upper)


def solve_equations(
    equations: list, variables: list | None = None, domain: str = "real", pool: LimitedPool = POOL
) -> dict:
    _check_equations(equations)
    if domain not in ("real", "complex"):
        raise BadInput("'domain' is 'real' or 'complex'.", code="bad_domain")
    if variables is not None and (
        not isinstance(variables, list) or not all(isinstance(v, str) for v in variables)
    ):
        raise BadInput("'variables' is a list of names.", code="bad_variables")
    return pool.run(actions.solve, equations, variables or None, domain)


def numeric_solve(
    equations: list, variables: list | None, start: dict, pool: LimitedPool = POOL
) -> dict:
    _check_equations(equations)
    clean = {str(k): _finite_number(v, f"the start value of {k}") for k, v in (start or {}).items()}
    return pool.run(actions.numeric_solve, equations, variables or None, clean)


def plot_equations(
    equations: list, x_range: list, width: int = 800, height: int = 500, pool: LimitedPool = POOL
) -> bytes:
    from rendition.equation_plot import plot_equations_png

    _check_equations(equations)
    if not isinstance(x_range, (list, tuple)) or len(x_range) != 2:
        raise BadInput("'x_range' is two numbers [a, b].", code="bad_range")
    a, b = (_finite_number(v, "the x range") for v in x_range)
    if not a < b:
        raise BadInput("The x range needs a < b.", code="bad_range")
    if b - a > MAX_SPAN:
        raise BadInput(f"The x range may span at most {MAX_SPAN:g}.", code="bad_range")
    width = min(max(int(width), 200), 2000)
    height = min(max(int(height), 150), 2000)
    return pool.run(plot_equations_png, equations, (a, b), width, height)


def _check_equations(equations) -> None:
    if not isinstance(equations, list) or not equations:
        raise BadInput("Give at least one equation.", code="no_equations")
    if len(equations) > MAX_EQUATIONS:
        raise BadInput(f"At most {MAX_EQUATIONS} equations at once.", code="too_many")
    for number, text in enumerate(equations, start=1):
        parse(text, what=f"equation {number}")


def _finite_number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{what.capitalize()} must be a number.", code="not_a_number")
    if not math.isfinite(value):
        raise BadInput(f"{what.capitalize()} must be finite.", code="not_a_number")
    return value
