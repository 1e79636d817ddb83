"""Fits against the NIST StRD certified values, from both published start vectors.

Every problem goes the whole way a request goes (a sheet, our parser, the sandboxed pool);
the floor is 6 correct significant digits for the estimates and 4 for the standard errors
(the certified values have 11). Then solving along a data column rather than t, in closed
form and numerically.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq, curve_fit

from solver.fit_input import fit_sheet
from tests.equations_fixtures import solver_pool
from tests.nist_nls import MODELS, lre, read_problem

ESTIMATE_DIGITS = 6
SE_DIGITS = 4


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


@pytest.mark.parametrize("start", [0, 1], ids=["start1", "start2"])
@pytest.mark.parametrize("name", list(MODELS))
def test_certified_digits(pool, name, start):
    problem = read_problem(name)
    frame = pd.DataFrame({"x": problem.x, "y": problem.y})
    body = {"sheet": name, "model": problem.model,
            "start": dict(zip(problem.names, problem.starts[start], strict=True))}
    result, _ = fit_sheet(frame, name, body, pool=pool)
    got = {p["name"]: p for p in result["parameters"]}
    estimate_digits = [lre(got[n]["estimate"], c)
                       for n, c in zip(problem.names, problem.certified, strict=True)]
    se_digits = [lre(got[n]["std_error"], c)
                 for n, c in zip(problem.names, problem.certified_se, strict=True)]
    assert min(estimate_digits) >= ESTIMATE_DIGITS, estimate_digits
    assert min(se_digits) >= SE_DIGITS, se_digits
    assert result["dof"] == len(problem.y) - len(problem.names)


def test_solve_and_growth_along_a_column(pool):
    """x is a column (Misra1a's pressure): y(100) is the fitted value at x = 100."""
    problem = read_problem("Misra1a")
    frame = pd.DataFrame({"x": problem.x, "y": problem.y})
    body = {"model": problem.model, "start": {"b1": 500, "b2": 1e-4},
            "solve": "y = 2*y(100)", "at": [100, 300], "derived": ["b1*b2"]}
    result, _ = fit_sheet(frame, "Misra1a", body, pool=pool)
    b1, b2 = problem.certified
    f = lambda x: b1 * (1 - math.exp(-b2 * x))  # noqa: E731
    (solution,) = result["solve"]["solutions"]
    expected = -math.log(1 - 2 * f(100) / b1) / b2
    assert result["x"] == "x" and "t" not in result
    assert solution["value"] == pytest.approx(expected, rel=1e-6)
    assert solution["label"] == f"{expected:.6g}" and solution["fitted"] == pytest.approx(
        2 * f(100), rel=1e-6)
    for point, x0 in zip(result["at"], (100, 300), strict=True):
        assert point["fitted"] == pytest.approx(f(x0), rel=1e-6)
        assert point["derivative"] == pytest.approx(b1 * b2 * math.exp(-b2 * x0), rel=1e-6)
    assert result["derived"][0]["value"] == pytest.approx(b1 * b2, rel=1e-6)


def test_numeric_solution_when_there_is_no_closed_form(pool):
    x = np.linspace(0, 10, 60)
    y = 2 * x + 3 * np.sin(x) + 0.05 * np.cos(7 * x)
    frame = pd.DataFrame({"x": x, "y": y})
    result, _ = fit_sheet(frame, "s", {"model": "y = a*x + b*sin(x)", "solve": "y = 10"},
                          pool=pool)
    (a, b), _ = curve_fit(lambda x, a, b: a * x + b * np.sin(x), x, y)
    expected = brentq(lambda u: a * u + b * np.sin(u) - 10, 0, 10)
    assert result["start_method"] == "linear least squares"
    assert result["solve"]["method"] == "numeric"
    (solution,) = result["solve"]["solutions"]
    assert solution["value"] == pytest.approx(expected, rel=1e-6) and solution["exact"] is None
