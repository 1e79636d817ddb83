"""Fits against the NIST StRD certified values, from both published start vectors.

Every problem goes the whole way a request goes (a sheet, our parser, the sandboxed pool);
the floor is 6 correct significant digits for the estimates and 4 for the standard errors
(the certified values have 11).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.equations.fit_input import fit_sheet
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
