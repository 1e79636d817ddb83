"""What the equation form can do. These run inside the solver's worker processes.

Each action takes plain text and numbers (validated once already in the server by
parser.check, and checked again here by build.parse) and returns a plain, JSON-safe dict, so a
worker can be killed at any moment without losing anything. An input without `=` means
"= 0" when solved; for the other actions an equation `lhs = rhs` stands for lhs - rhs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy
from sympy.solvers.solveset import NonlinearError

from analysis.equations.build import Parsed, parse, symbol
from analysis.equations.values import is_real, mathml, sort_key, value_dict
from errors import BadInput, Unprocessable

TRANSFORMS = ("simplify", "expand", "factor", "differentiate", "integrate")
NSOLVE_PRECISION = 30  # digits mpmath works to; results are reported to 15


def evaluate(expression: str, values: Mapping[str, int | float]) -> dict:
    """The value of `expression` at `values` (exact when the inputs are), e.g. x=2, y=0.5."""
    typed = parse(expression)
    unknown = sorted(set(values) - typed.names)
    if unknown:
        raise BadInput(
            f"The expression has no variable named {unknown[0]!r}.", code="unknown_variable"
        )
    result = parse(expression, values=values).as_expression()
    out = {"value": value_dict(result), **_echo([typed], many=False)}
    if typed.is_equation:
        out["note"] = "The value given is lhs - rhs: 0 means the equation holds."
    return out


def transform(
    action: str,
    expression: str,
    variable: str | None = None,
    order: int = 1,
    lower: str | None = None,
    upper: str | None = None,
) -> dict:
    """simplify, expand, factor, differentiate (order 1-10) or integrate (limits optional)."""
    parsed = parse(expression)
    expr = parsed.as_expression()
    var = _variable_for(action, variable, parsed)
    note = None
    if action == "simplify":
        result = sympy.simplify(expr)
    elif action == "expand":
        result = sympy.expand(expr)
    elif action == "factor":
        result = sympy.factor(expr)
    elif action == "differentiate":
        result = sympy.diff(expr, var, order)
    elif action == "integrate":
        result, note = _integrate(expr, var, lower, upper)
    else:
        raise BadInput(
            f"Unknown action {action!r}. Choose one of {', '.join(TRANSFORMS)}.",
            code="unknown_action",
        )
    out = {"value": value_dict(result), **_echo([parsed], many=False), "variable": _name(var)}
    if parsed.is_equation:
        note = ((note + " ") if note else "") + f"Applied to lhs - rhs of {parsed.text!r}."
    if note:
        out["note"] = note
    return out


def _integrate(expr, var, lower, upper) -> tuple[sympy.Expr, str | None]:
    if (lower is None) != (upper is None):
        raise BadInput("Give both limits for a definite integral, or neither.", code="bad_limits")
    if lower is None:
        result = sympy.integrate(expr, var)
        if result.has(sympy.Integral):
            raise Unprocessable(
                "No closed form was found for this integral.", code="no_closed_form"
            )
        return result, "Add an arbitrary constant C."
    a, b = (_limit(text, what) for text, what in ((lower, "lower limit"), (upper, "upper limit")))
    result = sympy.integrate(expr, (var, a, b))
    if not result.has(sympy.Integral):
        return result, None
    numeric = sympy.Integral(expr, (var, a, b)).evalf(15)
    if numeric.is_number and not numeric.has(sympy.Integral, sympy.nan, sympy.zoo):
        return numeric, "No closed form was found; the value is a numeric approximation."
    raise Unprocessable("No closed form was found for this integral.", code="no_closed_form")


def _limit(text: str, what: str) -> sympy.Expr:
    parsed = parse(text, what=what)
    if parsed.is_equation:
        raise BadInput(f"The {what} is a value, not an equation.", code="bad_limits")
    return parsed.lhs


def solve(
    equations: Sequence[str],
    variables: Sequence[str] | None = None,
    domain: str = "real",
    start: Mapping[str, int | float] | None = None,
) -> dict:
    """Exact solutions of one equation or a system, one mapping per solution, sorted.

    More unknowns than independent equations gives the parametric solution (the unknowns left
    free are listed in "free"). With no closed form: a numeric solve from `start` when given,
    else a 422 asking for a starting point.
    """
    parsed = _parse_all(equations)
    unknowns = _unknowns(variables, parsed)
    try:
        raw = solve_exact([p.as_expression() for p in parsed], unknowns, real=domain == "real")
    except NotImplementedError:
        if start:
            out = numeric_solve(equations, variables, start)
            out["note"] = "No closed form was found; this is a numeric solution from the start."
            return out
        names = ", ".join(u.name for u in unknowns)
        raise Unprocessable(
            f"No closed-form solution was found for {names}. Give a starting point for a "
            f"numeric solve (for example {unknowns[0].name} = 1).",
            code="no_closed_form",
        ) from None
    kept = [s for s in raw if domain == "complex" or all(is_real(v) for v in s.values())]
    kept.sort(key=lambda s: [sort_key(s.get(u)) for u in unknowns])
    out = {
        "solutions": [{k.name: value_dict(v) for k, v in s.items()} for s in kept],
        "variables": [u.name for u in unknowns],
        "domain": domain,
        "method": "exact",
        **_echo(parsed, many=True),
    }
    free = [u.name for u in unknowns if raw and all(u not in s for s in raw)]
    notes = []
    if free:
        out["free"] = free
        notes.append(
            "There are more unknowns than independent equations: the solution is given in "
            f"terms of {', '.join(free)}, which may take any value."
        )
    if not kept:
        notes.append(
            "No real solution was found (try the complex domain)."
            if domain == "real"
            else "No solution was found: the equations may be inconsistent."
        )
    if kept and any(p.as_expression().has(sympy.sin, sympy.cos, sympy.tan) for p in parsed):
        notes.append(
            "Periodic functions: the solutions listed are those in one period; adding whole "
            "periods gives the others."
        )
    if notes:
        out["note"] = " ".join(notes)
    return out


def solve_exact(
    exprs: list[sympy.Expr], unknowns: list[sympy.Symbol], *, real: bool = False
) -> list[dict]:
    """sympy.solve(..., dict=True) → [{symbol: value}]; NotImplementedError when sympy has none.

    `real`: solve with every variable declared real, so sympy can use it (|x| = 2 is solvable
    only then) and drops complex roots itself; the answer is given in the plain symbols.
    One equation goes in alone, not in a list: sympy's system path returns [] for a quintic
    that its single-equation path answers with CRootOf roots.
    """
    swap: dict[sympy.Symbol, sympy.Symbol] = {}
    if real:
        names = set().union(*(e.free_symbols for e in exprs)) | set(unknowns)
        swap = {s: sympy.Symbol(s.name, real=True) for s in names}
    back = {v: k for k, v in swap.items()}
    system = [e.xreplace(swap) for e in exprs]
    targets = [swap.get(u, u) for u in unknowns]
    solutions = _unique_linear_solution(system, targets)
    if solutions is None:
        solutions = sympy.solve(system[0] if len(system) == 1 else system, targets, dict=True)
    return [
        {back.get(k, k): v.xreplace(back) for k, v in solution.items()}
        for solution in solutions
        if not any(v.has(sympy.nan, sympy.zoo) for v in solution.values())
    ]


def _unique_linear_solution(
    system: list[sympy.Expr], targets: list[sympy.Symbol]
) -> list[dict] | None:
    """The one rational solution of a linear system with numeric coefficients, by Gaussian
    elimination (sympy.linsolve: a tenth of sympy.solve's time). A unique rational answer is
    the same exact value whichever way it is found; anything else (nonlinear, symbolic or float
    coefficients, irrational values, no solution or infinitely many) gives None, and
    sympy.solve answers as before."""
    if any(e.free_symbols - set(targets) or e.has(sympy.Float) for e in system):
        return None
    try:
        found = sympy.linsolve(system, targets)
    except NonlinearError:
        return None
    if len(found.args) != 1 or not all(v.is_Rational for v in found.args[0]):
        return None
    return [dict(zip(targets, found.args[0], strict=True))]


def numeric_solve(
    equations: Sequence[str],
    variables: Sequence[str] | None = None,
    start: Mapping[str, int | float] | None = None,
) -> dict:
    """One numeric root near `start` (mpmath's findroot through sympy.nsolve)."""
    parsed = _parse_all(equations)
    unknowns = _unknowns(variables, parsed)
    start = dict(start or {})
    if len(unknowns) != len(parsed):
        raise BadInput(
            f"A numeric solve needs as many equations as unknowns: {len(parsed)} equation(s), "
            f"{len(unknowns)} unknown(s) ({', '.join(u.name for u in unknowns)}).",
            code="not_square",
        )
    stray = sorted(set(start) - {u.name for u in unknowns})
    if stray:
        raise BadInput(f"{stray[0]!r} is not one of the unknowns.", code="unknown_variable")
    guesses = [start.get(u.name, 1) for u in unknowns]
    exprs = [p.as_expression() for p in parsed]
    try:
        if len(unknowns) == 1:
            found = [sympy.nsolve(exprs[0], unknowns[0], guesses[0], prec=NSOLVE_PRECISION)]
        else:
            found = list(sympy.nsolve(exprs, unknowns, guesses, prec=NSOLVE_PRECISION))
    except (ValueError, ZeroDivisionError, TypeError) as exc:
        raise Unprocessable(
            "The numeric solver did not converge from that starting point; try another "
            f"({str(exc).splitlines()[0][:120]}).",
            code="no_convergence",
        ) from None
    out = {
        "solutions": [{u.name: _numeric_value(v) for u, v in zip(unknowns, found, strict=True)}],
        "variables": [u.name for u in unknowns],
        "method": "nsolve",
        "start": {u.name: g for u, g in zip(unknowns, guesses, strict=True)},
        **_echo(parsed, many=True),
    }
    missing = [u.name for u in unknowns if u.name not in start]
    if missing:
        out["note"] = f"Started from {', '.join(missing)} = 1 (no starting point given)."
    return out


def _numeric_value(value: sympy.Expr) -> dict:
    """Text to 15 significant digits; the float from all NSOLVE_PRECISION digits."""
    return value_dict(value.evalf(15), approx_from=value)


def _parse_all(equations: Sequence[str]) -> list[Parsed]:
    return [parse(text, what=f"equation {n}") for n, text in enumerate(equations, start=1)]


def _unknowns(variables: Sequence[str] | None, parsed: list[Parsed]) -> list[sympy.Symbol]:
    names = set().union(*(p.names for p in parsed))
    if variables:
        missing = [v for v in variables if v not in names]
        if missing:
            raise BadInput(
                f"No equation contains the variable {missing[0]!r}.", code="unknown_variable"
            )
        return [symbol(v) for v in variables]
    if not names:
        raise BadInput("There is no variable to solve for.", code="no_variable")
    return [symbol(name) for name in sorted(names)]


def _variable_for(action: str, variable: str | None, parsed: Parsed) -> sympy.Symbol | None:
    if action not in ("differentiate", "integrate"):
        return None
    if variable:
        if variable not in parsed.names:
            raise BadInput(
                f"The expression has no variable named {variable!r}.", code="unknown_variable"
            )
        return symbol(variable)
    if len(parsed.names) == 1:
        return symbol(next(iter(parsed.names)))
    if "x" in parsed.names:
        return symbol("x")
    if not parsed.names:
        return symbol("x")  # the derivative of a constant is 0, its integral c*x
    raise BadInput(
        f"Name the variable to {action} with respect to ({', '.join(sorted(parsed.names))}).",
        code="variable_needed",
    )


def _echo(parsed: list[Parsed], *, many: bool) -> dict:
    """The input as typeset math: one string (evaluate, transform) or a list (solve)."""
    latex = [sympy.latex(p.as_sympy()) for p in parsed]
    markup = [mathml(p.as_sympy()) for p in parsed]
    if many:
        return {"input_latex": latex, "input_mathml": markup}
    return {"input_latex": latex[0], "input_mathml": markup[0]}


def _name(var: sympy.Symbol | None) -> str | None:
    return None if var is None else var.name
