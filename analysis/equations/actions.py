"""What the equation form can do. These run inside the solver's worker processes.

Each action takes plain text and numbers (picklable, already validated once in the server) and
returns plain dicts, so a worker can be killed at any moment without losing anything.
"""

from __future__ import annotations

import math

import sympy

from analysis.equations.parser import Parsed, parse
from errors import BadInput, Unprocessable


def value_dict(value: sympy.Expr) -> dict:
    """{"text", "latex", "numeric"}: exact forms and, when it is a finite real number, a float."""
    numeric = None
    imag = None
    if value.is_number:
        approx = complex(value.evalf(30))
        if math.isfinite(approx.real) and math.isfinite(approx.imag):
            if abs(approx.imag) <= 1e-12 * max(1.0, abs(approx.real)):
                numeric = approx.real
            else:
                imag = approx.imag
                numeric = None
    out = {
        "text": sympy.sstr(value),
        "latex": sympy.latex(value),
        "numeric": numeric,
        "mathml": mathml(value),
    }
    if imag is not None:
        out["numeric_real"] = complex(value.evalf(30)).real
        out["numeric_imag"] = imag
    return out


def mathml(expr) -> str:
    """Presentation MathML (Chromium renders it natively: no script, works offline).

    Built by sympy from a validated object whose names are ASCII identifiers, so it holds no
    user markup.
    """
    return sympy.mathml(expr, printer="presentation")


def symbol_map(parsed: list[Parsed]) -> dict[str, sympy.Symbol]:
    names: dict[str, sympy.Symbol] = {}
    for item in parsed:
        for symbol in item.as_sympy().free_symbols:
            names[symbol.name] = symbol
    return names


def evaluate(expression: str, values: dict[str, float]) -> dict:
    parsed = parse(expression)
    symbols = symbol_map([parsed])
    unknown = sorted(set(values) - set(symbols))
    if unknown:
        raise BadInput(
            f"The expression has no variable named {unknown[0]!r}.", code="unknown_variable"
        )
    substitutions = {
        symbols[name]: sympy.Rational(repr(float(v))) if isinstance(v, float) else sympy.Integer(v)
        for name, v in values.items()
    }
    if parsed.is_equation:
        result = parsed.lhs.subs(substitutions) - parsed.rhs.subs(substitutions)
    else:
        result = parsed.lhs.subs(substitutions)
    result = sympy.nsimplify(result) if result.is_Float else sympy.simplify(result)
    return {
        "value": value_dict(result),
        "input_latex": sympy.latex(parsed.as_sympy()),
        "input_mathml": mathml(parsed.as_sympy()),
    }


def transform(
    action: str,
    expression: str,
    variable: str | None = None,
    order: int = 1,
    lower: str | None = None,
    upper: str | None = None,
) -> dict:
    parsed = parse(expression)
    expr = parsed.as_expression()
    symbols = symbol_map([parsed])
    var = _pick_variable(variable, symbols, action)
    if action == "simplify":
        result = sympy.simplify(expr)
    elif action == "expand":
        result = sympy.expand(expr)
    elif action == "factor":
        result = sympy.factor(expr)
    elif action == "differentiate":
        result = sympy.diff(expr, var, order)
    elif action == "integrate":
        if (lower is None) != (upper is None):
            raise BadInput(
                "Give both limits for a definite integral, or neither.", code="bad_limits"
            )
        if lower is None:
            result = sympy.integrate(expr, var)
        else:
            a, b = parse(lower, what="lower limit").lhs, parse(upper, what="upper limit").lhs
            result = sympy.integrate(expr, (var, a, b))
        if result.has(sympy.Integral):
            raise Unprocessable(
                "No closed form was found for this integral.", code="no_closed_form"
            )
    else:
        raise BadInput(f"Unknown action {action!r}.", code="unknown_action")
    return {
        "value": value_dict(result),
        "input_latex": sympy.latex(parsed.as_sympy()),
        "input_mathml": mathml(parsed.as_sympy()),
        "variable": str(var) if var is not None else None,
    }


def _pick_variable(variable, symbols, action):
    if action not in ("differentiate", "integrate"):
        return None
    if variable:
        if variable not in symbols:
            raise BadInput(
                f"The expression has no variable named {variable!r}.", code="unknown_variable"
            )
        return symbols[variable]
    if len(symbols) == 1:
        return next(iter(symbols.values()))
    if "x" in symbols:
        return symbols["x"]
    raise BadInput("Name the variable to " + action + " with respect to.", code="variable_needed")


def solve(equations: list[str], variables: list[str] | None, domain: str) -> dict:
    parsed = [parse(text, what="equation") for text in equations]
    symbols = symbol_map(parsed)
    unknowns = _unknowns(variables, symbols)
    exprs = [p.as_expression() for p in parsed]
    try:
        raw = sympy.solve(exprs, unknowns, dict=True)
    except NotImplementedError:
        raise Unprocessable(
            "No closed-form solution was found. Try a numeric solve with a starting point.",
            code="no_closed_form",
        ) from None
    solutions = []
    for solution in raw:
        if domain == "real" and not all(_is_real(v) for v in solution.values()):
            continue
        solutions.append(solution)
    solutions.sort(key=lambda s: [_sort_key(s.get(u)) for u in unknowns])
    free = sorted({str(u) for u in unknowns if raw and all(u not in s for s in raw)})
    out = {
        "solutions": [{str(k): value_dict(v) for k, v in s.items()} for s in solutions],
        "variables": [str(u) for u in unknowns],
        "domain": domain,
        "input_latex": [sympy.latex(p.as_sympy()) for p in parsed],
        "input_mathml": [mathml(p.as_sympy()) for p in parsed],
    }
    if free:
        out["free"] = free
        out["note"] = (
            f"There are more unknowns than independent equations: the solution is "
            f"given in terms of {', '.join(free)}."
        )
    elif not solutions:
        out["note"] = (
            "No solution in the real numbers."
            if domain == "real" and raw
            else "No closed-form solution was found; try a numeric solve with a starting point."
        )
    return out


def numeric_solve(
    equations: list[str], variables: list[str] | None, start: dict[str, float]
) -> dict:
    parsed = [parse(text, what="equation") for text in equations]
    symbols = symbol_map(parsed)
    unknowns = _unknowns(variables, symbols)
    if len(unknowns) != len(parsed):
        raise BadInput("A numeric solve needs as many equations as unknowns.", code="not_square")
    guesses = [float(start.get(str(u), 1.0)) for u in unknowns]
    exprs = [p.as_expression() for p in parsed]
    try:
        result = sympy.nsolve(
            exprs if len(exprs) > 1 else exprs[0],
            unknowns if len(unknowns) > 1 else unknowns[0],
            guesses if len(guesses) > 1 else guesses[0],
        )
    except (ValueError, ZeroDivisionError) as exc:
        raise Unprocessable(
            f"The numeric solver did not converge from that start ({exc}).", code="no_convergence"
        ) from None
    values = list(result) if hasattr(result, "__len__") else [result]
    return {
        "solutions": [
            {str(u): value_dict(sympy.Float(v, 15)) for u, v in zip(unknowns, values, strict=True)}
        ],
        "variables": [str(u) for u in unknowns],
        "method": "nsolve",
    }


def _unknowns(variables, symbols) -> list[sympy.Symbol]:
    if variables:
        missing = [v for v in variables if v not in symbols]
        if missing:
            raise BadInput(
                f"No equation contains the variable {missing[0]!r}.", code="unknown_variable"
            )
        return [symbols[v] for v in variables]
    if not symbols:
        raise BadInput("There is no variable to solve for.", code="no_variable")
    return [symbols[name] for name in sorted(symbols)]


def _is_real(value: sympy.Expr) -> bool:
    if value.is_real is not None:
        return bool(value.is_real)
    if value.is_number:
        return abs(complex(value.evalf()).imag) < 1e-12
    return True  # parametric: depends on the free variables


def _sort_key(value):
    if value is None or not value.is_number:
        return (1, 0.0, 0.0)
    approx = complex(value.evalf())
    return (0, approx.real, approx.imag)
