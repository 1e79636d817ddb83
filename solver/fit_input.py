"""Check a fit request against its sheet in the server (no sympy), then fit in a worker.

Names in the model (issue 18):
- a name that is a column of the sheet is data; the left side is the response (columns only);
- `t` (when the sheet has no column t) is the sheet's period index in decimal years since its
  first period (1975Q1 → 0, 1975Q2 → 0.25, …); needs a period index;
- a column whose name is not a plain identifier (letters then letters or digits), or that
  clashes with a function or constant name, is written in backquotes: `S. Korea`,
  `Aggregate - Dynamic Weights` — replaced by a stand-in identifier before the parser sees
  the text, and shown under its own name in the answer;
- every other name is a parameter.
In a solve equation, `US(2000Q1)` (the response with a period, or a number for a non-time x)
is the *fitted* value there, not the observed one.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.equations.fit_periods import period_timing, time_of, years_since_start
from analysis.equations.fit_problem import PLOT_TASKS, FitProblem
from analysis.equations.parser import Checked, check
from analysis.equations.tokens import CONSTANT_NAMES, FUNCTION_ARITIES
from analysis.results import label, numeric_column
from analysis.timeseries import parse_period
from errors import BadInput, Unprocessable
from sandbox import LimitedPool
from solver import worker

MAX_PARAMETERS = 20
MAX_ROWS = 100_000
MAX_DERIVED = 10
MAX_AT = 20
MAX_NUMBER = 1e300
BODY = ("sheet", "model", "start", "x", "bounds", "weights", "solve", "solve_for", "value",
        "derived", "at", "plot", "width", "height")
_BACKQUOTED = re.compile(r"`([^`]*)`")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def fit_sheet(frame: pd.DataFrame, sheet: str, body: Mapping[str, Any], *,
              pool: LimitedPool | None = None) -> tuple[dict, bytes | dict | None]:
    """(result dict, plot): the plot is PNG/SVG bytes, the "lines" dict, or None."""
    from solver.service import POOL

    problem, context = prepare(frame, sheet, body)
    answer = (pool or POOL).run(worker.run, "fit", problem)
    result = answer["result"]
    result.update(context)
    if "solve" in result and body.get("solve") is not None:
        result["solve"]["equation"] = body["solve"]  # as typed, not with its stand-ins
    return result, answer["plot"]


def prepare(frame: pd.DataFrame, sheet: str, body: Mapping[str, Any]) -> tuple[FitProblem, dict]:
    """The FitProblem for a worker and the request's context for the answer ("sheet", "t")."""
    unknown = sorted(set(body) - set(BODY))
    if unknown:
        raise BadInput(f"Unknown field(s) for a fit: {', '.join(unknown)}. Accepted: "
                       f"{', '.join(BODY)}.", code="bad_field")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadInput("Give a model such as \"US = a*exp(b*t)\" in 'model'.", code="no_model")
    columns = [str(c) for c in frame.columns]
    text, names = _stand_ins(model, columns, "model")
    checked = check(text, what="model")
    if not checked.is_equation:
        raise BadInput("Write the model as response = formula, e.g. US = a*exp(b*t): the left "
                       "side is the column being fitted.", code="not_an_equation")
    time_index = isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)) and len(frame)
    data_names = {n for n in checked.names if n in names or n in columns}
    if "t" in checked.names and "t" not in columns:
        if not time_index:
            raise BadInput(f"t is the period index in years, but sheet '{sheet}' has no period "
                           "index (dates or quarters as rows); name a column instead.",
                           code="no_period_index")
        data_names.add("t")
    left, right = (_side_names(side) for side in checked.sides)
    parameters = tuple(sorted(checked.names - data_names))
    _check_roles(sheet, columns, names, left, data_names, parameters)
    names.update({n: n for n in data_names if n not in names})
    x = _choose_x(body.get("x"), right, data_names, names)
    data, labels, weights = _columns(frame, sheet, data_names, names, body.get("weights"))
    if len(labels) <= len(parameters):
        raise Unprocessable(
            f"The model has {len(parameters)} parameter{'s' if len(parameters) > 1 else ''} "
            f"but only {len(labels)} row{'s' if len(labels) != 1 else ''} with values in "
            f"{', '.join(sorted(names[n] for n in data_names))}; a fit needs more rows than "
            "parameters.", code="too_few_rows")
    timing = period_timing(frame) if "t" in data_names else None
    response = next(iter(left)) if len(left) == 1 and _is_name(checked.sides[0]) else None
    solve, points = _solve_text(body.get("solve"), response, names, columns, x, timing)
    solve_for, value = _solve_for(body, x, response, solve)
    at, at_labels = _at(body.get("at"), x, timing)
    plot, width, height = _plot(body)
    problem = FitProblem(
        model=text, parameters=parameters, data=data, labels=labels, names=names,
        response=response, x=x, x_offset=timing["origin_year"] if timing and x == "t" else 0.0,
        weights=weights, start=_numbers(body.get("start"), "start", parameters, columns),
        bounds=_bounds(body.get("bounds"), parameters, columns), solve=solve,
        solve_points=points, solve_for=solve_for, value=value,
        derived=_derived(body.get("derived")), at=at, at_labels=at_labels, plot=plot,
        width=width, height=height,
        x_label="year" if x == "t" else names.get(x, x or "x"),
        periods=timing["periods"] if timing else None,
    )
    context = {"kind": "fit", "sheet": sheet, "model": model, "parameter_names": list(parameters),
               "data": {k: names[k] for k in sorted(data_names)}, "x": x,
               "response": names.get(response) if response else None}
    if timing:
        context["t"] = {"origin": timing["origin"], "unit": "years",
                        "description": f"t is the time in years since {timing['origin']} "
                                       f"(the first period of sheet '{sheet}'): "
                                       f"{timing['origin']} is t = 0."}
    return problem, context


# -- names -----------------------------------------------------------------------------------
def _stand_ins(text: str, columns: list[str], what: str,
               known: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """`odd name` → a fresh identifier; {identifier: column} for every stand-in.

    `known` ({identifier: column}, the model's): a column already named keeps its identifier.
    """
    taken = set(_WORD.findall(text)) | set(columns) | set(FUNCTION_ARITIES) | CONSTANT_NAMES
    names: dict[str, str] = dict(known or {})
    by_column: dict[str, str] = {column: name for name, column in names.items()}
    taken |= set(names)

    def replace(match: re.Match) -> str:
        column = match.group(1)
        if column not in columns:
            raise BadInput(f"The {what} names the column `{column}`, which sheet has not. "
                           f"Columns: {_listed(columns)}.", code="unknown_column")
        if column not in by_column:
            if known is not None:
                raise BadInput(f"The {what} names `{column}`, which the model does not use.",
                               code="unknown_column")
            number = len(by_column) + 1
            while f"col{number}" in taken:
                number += 1
            by_column[column] = f"col{number}"
            taken.add(f"col{number}")
            names[by_column[column]] = column
        return f" {by_column[column]} "

    return _BACKQUOTED.sub(replace, text), names


def _side_names(side) -> set[str]:
    return {node.id for node in ast.walk(side.tree) if isinstance(node, ast.Name)
            and node.id not in CONSTANT_NAMES and node.id not in FUNCTION_ARITIES}


def _is_name(side) -> bool:
    return isinstance(side.tree, ast.Name)


def _check_roles(sheet, columns, names, left, data_names, parameters) -> None:
    if not data_names:
        raise BadInput(f"The model uses no column of sheet '{sheet}': the left side must be "
                       f"a column (the response). Columns: {_listed(columns)}; odd names in "
                       "backquotes, e.g. `S. Korea`.", code="no_data")
    in_left = left & set(parameters)
    if in_left:
        raise BadInput(f"The left side of the model is the response and may use columns only; "
                       f"'{sorted(in_left)[0]}' is not a column of sheet '{sheet}'. "
                       f"Columns: {_listed(columns)}.", code="bad_response")
    if not left & data_names:
        raise BadInput("The left side of the model must be a column (the response).",
                       code="no_response")
    if not parameters:
        raise BadInput("The model has no parameter to fit: every name in it is a column or t. "
                       "Parameters are the other names, as a and b in US = a*exp(b*t).",
                       code="no_parameters")
    if len(parameters) > MAX_PARAMETERS:
        raise BadInput(f"At most {MAX_PARAMETERS} parameters; the model has {len(parameters)}.",
                       code="too_many")
    lowered = {c.lower(): c for c in columns}
    for name in parameters:
        if name.lower() in lowered:
            raise BadInput(f"The parameter '{name}' is named like the column "
                           f"'{lowered[name.lower()]}'; rename the parameter (names are "
                           "case-sensitive, and a column's own name makes it data).",
                           code="parameter_like_column")


def _choose_x(given, right: set[str], data_names: set[str], names: dict[str, str]) -> str | None:
    inputs = sorted(right & data_names)
    if given is None:
        return "t" if "t" in inputs else (inputs[0] if len(inputs) == 1 else None)
    chosen = next((k for k, v in names.items() if v == given and k in inputs), None)
    if chosen is None:
        raise BadInput(f"'x' must be a column or t used on the right side of the model; "
                       f"{given!r} is not.", code="bad_x")
    return chosen


# -- data ------------------------------------------------------------------------------------
def _columns(frame, sheet, data_names, names, weights_name):
    if len(frame) > MAX_ROWS:
        raise Unprocessable(f"A fit takes at most {MAX_ROWS:,} rows; sheet '{sheet}' has "
                            f"{len(frame):,}.", code="too_large")
    arrays: dict[str, np.ndarray] = {}
    for symbol in sorted(data_names):
        if symbol == "t" and "t" not in frame.columns:
            arrays[symbol] = years_since_start(frame.index)
        else:
            arrays[symbol] = numeric_column(frame, sheet, names[symbol]).to_numpy()
    keep = np.logical_and.reduce([np.isfinite(a) for a in arrays.values()])
    weights = None
    if weights_name is not None:
        if not isinstance(weights_name, str):
            raise BadInput("'weights' is the name of a column.", code="bad_weights")
        weights = numeric_column(frame, sheet, weights_name).to_numpy()
        keep &= np.isfinite(weights)
        if (weights[keep] <= 0).any():
            raise BadInput(f"Weights must be positive; column '{weights_name}' has a value "
                           "≤ 0.", code="bad_weights")
        weights = weights[keep]
    labels = tuple(label(v) for v in frame.index[keep])
    return {k: np.ascontiguousarray(v[keep]) for k, v in arrays.items()}, labels, weights


# -- solve, derived, at, plot ----------------------------------------------------------------
def _solve_text(solve, response, names, columns, x, timing):
    if solve is None:
        return None, {}
    if not isinstance(solve, str) or not solve.strip():
        raise BadInput("'solve' is an equation such as \"US = 2*US(2000Q1)\".", code="bad_solve")
    if response is None:
        raise BadInput("Solving needs a model whose left side is one column.", code="bad_solve")
    odd = {k: v for k, v in names.items() if k != v}
    text, _ = _stand_ins(solve, columns, "solve equation", known=odd)
    points: dict[str, float] = {}
    taken = set(_WORD.findall(text)) | set(columns)

    def at_period(match: re.Match) -> str:
        inner = match.group(1).strip()
        if x == "t":
            value = time_of(inner, timing)
        else:
            value = _float(inner, f"the value in {names[response]}({inner})")
        number = len(points) + 1
        while f"at{number}" in taken:
            number += 1
        taken.add(f"at{number}")
        points[f"at{number}"] = float(value)
        return f" at{number} "

    text = re.sub(rf"\b{re.escape(response)}\s*\(([^()]*)\)", at_period, text)
    checked: Checked = check(text, what="solve equation")
    if not checked.is_equation:
        raise BadInput("Write the solve equation with '=', e.g. US = 200.", code="bad_solve")
    return text, points


def _solve_for(body, x, response, solve):
    solve_for, value = body.get("solve_for"), body.get("value")
    if value is not None:
        value = _number(value, "'value'")
        if solve is not None:
            raise BadInput("Give either 'solve' or 'value', not both.", code="bad_solve")
        if response is None:
            raise BadInput("Solving needs a model whose left side is one column.",
                           code="bad_solve")
    if solve_for is not None and solve_for != x and solve_for != "t":
        raise BadInput(f"'solve_for' is the model's variable along the data ({x}).",
                       code="bad_solve")
    if solve_for is not None and solve is None and value is None:
        raise BadInput("'solve_for' needs 'value': the response value to solve for.",
                       code="bad_solve")
    if (solve is not None or value is not None) and x is None:
        raise BadInput("Say along which column to solve with 'x'.", code="bad_x")
    return (x if solve_for is None else solve_for), value


def _derived(derived) -> tuple[str, ...]:
    if derived is None:
        return ()
    if isinstance(derived, str):
        derived = [derived]
    if not isinstance(derived, Sequence) or not all(isinstance(d, str) for d in derived):
        raise BadInput("'derived' is a list of expressions such as \"log(2)/b\".",
                       code="bad_derived")
    if len(derived) > MAX_DERIVED:
        raise BadInput(f"At most {MAX_DERIVED} derived quantities.", code="too_many")
    for text in derived:
        check(text, what="derived quantity")
    return tuple(derived)


def _at(at, x, timing) -> tuple[tuple[float, ...], tuple[str, ...]]:
    if at is None:
        return (), ()
    items = at if isinstance(at, list) else [at]
    if len(items) > MAX_AT:
        raise BadInput(f"At most {MAX_AT} points in 'at'.", code="too_many")
    if x is None:
        raise BadInput("Say along which column 'at' runs with 'x'.", code="bad_x")
    if x == "t":
        values = tuple(time_of(item, timing) for item in items)
        return values, tuple(str(parse_period(item)) for item in items)
    values = tuple(float(_number(item, "a value in 'at'")) for item in items)
    return values, tuple(f"{v:g}" for v in values)


def _plot(body) -> tuple[str | None, int, int]:
    plot = body.get("plot")
    if plot is not None and plot not in ("png", "svg", "plotly", "bokeh"):
        raise BadInput(f"'plot' is png, svg, plotly or bokeh, not {str(plot)[:20]!r}.",
                       code="bad_format")
    width = _whole(body.get("width", 800), "width", 200, 2000)
    height = _whole(body.get("height", 500), "height", 150, 2000)
    task = "lines" if plot in ("plotly", "bokeh") else plot
    assert task is None or task in PLOT_TASKS
    return task, width, height


# -- numbers ---------------------------------------------------------------------------------
def _numbers(mapping, field, parameters, columns) -> dict[str, float]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise BadInput(f"'{field}' maps parameter names to numbers.", code="bad_values")
    return {_parameter(name, field, parameters, columns): float(_number(v, f"'{field}' of {name}"))
            for name, v in mapping.items()}


def _bounds(mapping, parameters, columns) -> dict[str, tuple[float, float]]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise BadInput("'bounds' maps parameter names to [low, high].", code="bad_bounds")
    out = {}
    for name, pair in mapping.items():
        _parameter(name, "bounds", parameters, columns)
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise BadInput(f"The bounds of {name} are [low, high] (null for none).",
                           code="bad_bounds")
        low = -math.inf if pair[0] is None else float(_number(pair[0], f"the bound of {name}"))
        high = math.inf if pair[1] is None else float(_number(pair[1], f"the bound of {name}"))
        if not low < high:
            raise BadInput(f"The bounds of {name} need low < high.", code="bad_bounds")
        out[name] = (low, high)
    return out


def _parameter(name, field, parameters, columns) -> str:
    if name in parameters:
        return name
    if name in columns or name == "t":
        raise BadInput(f"'{field}' names {name!r}, which is data (a column or t), not a "
                       "parameter.", code="parameter_like_column")
    raise BadInput(f"'{field}' names {str(name)[:40]!r}, which is not a parameter of the model "
                   f"({', '.join(parameters)}).", code="unknown_variable")


def _number(value, what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{what} must be a number.", code="not_a_number")
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise BadInput(f"{what} must be a finite number.", code="not_a_number")
    return value


def _float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{what} must be a number.", code="not_a_number") from None
    return float(_number(value, what))


def _whole(value, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"The {what} is a whole number of pixels from {low} to {high}.",
                       code="bad_size")
    return value


def _listed(columns: list[str]) -> str:
    shown = ", ".join(f"'{c}'" for c in columns[:12])
    return shown + (f" and {len(columns) - 12} more" if len(columns) > 12 else "")
