"""Awkward data through every analysis: a result or a QuartileError, never a warning or a crash.

pytest turns warnings into errors (pyproject.toml), so a RuntimeWarning from numpy, a scipy
precision warning or a statsmodels ModelWarning fails these tests. Each frame is built to hit one
trap: a single row, constants, all-missing, zeros, infinities, huge magnitudes, near-constants,
booleans, nullable integers, exact fits, an empty sheet, month-end dates.
"""

import json

import numpy as np
import pandas as pd
import pytest

from analysis.registry import ANALYSES
from errors import QuartileError

Q = "2000Q1"


def _quarters(n):
    return pd.period_range(Q, periods=n, freq="Q")


FRAMES = {
    "one_row": pd.DataFrame({"x": [1.0], "y": [2.0], "g": ["a"]}, index=_quarters(1)),
    "constant": pd.DataFrame({"x": [1.0] * 6, "y": [1.0, 2, 3, 4, 5, 7], "g": list("aaabbb")},
                             index=_quarters(6)),
    "all_missing": pd.DataFrame({"x": [np.nan] * 6, "y": [1.0, 2, 3, 4, 5, 7], "g": [None] * 6},
                                index=_quarters(6)),
    "zeros": pd.DataFrame({"x": [0.0, 0, 1, 0, 2, 0], "y": [0.0] * 6, "g": list("ababab")},
                          index=_quarters(6)),
    "exact_fit": pd.DataFrame({"x": [-1.0, 2, -3, 4, -5, 6], "y": [1.0, -2, 3, -4, 5, -6],
                               "g": list("ababab")},
                              index=pd.date_range("2000-01-31", periods=6, freq="ME")),
    "nullable_int": pd.DataFrame({"x": pd.array([1, 2, None, 4, 5, 6], dtype="Int64"),
                                  "y": pd.array([1, 1, 2, 2, 3, None], dtype="Int64"),
                                  "g": pd.array(["a", "b", None, "a", "b", "a"],
                                                dtype="string")}),
    "all_ties": pd.DataFrame({"x": [3.0] * 8, "y": [3.0] * 8, "g": list("abababab")},
                             index=pd.period_range("2000", periods=8, freq="Y")),
    "empty": pd.DataFrame({"x": pd.Series([], dtype=float), "y": pd.Series([], dtype=float),
                           "g": pd.Series([], dtype=object)}, index=pd.PeriodIndex([], freq="Q")),
    "infinite": pd.DataFrame({"x": [1.0, np.inf, 3, 4, 5, 6], "y": [1.0, 2, 3, 4, 5, -np.inf],
                              "g": list("ababab")}, index=_quarters(6)),
    "huge": pd.DataFrame({"x": [1e308, 1e308, -1e308, 2, 3, 4], "y": [1e-300, 2e-300, 3, 4, 5, 6],
                          "g": list("ababab")}, index=_quarters(6)),
    "booleans": pd.DataFrame({"x": [True, False] * 3, "y": [1.0, 2, 3, 4, 5, 6],
                              "g": [True, False, True, True, False, False]}, index=_quarters(6)),
    "near_constant": pd.DataFrame({"x": [1.0, 1 + 1e-15, 1, 1, 1, 1], "y": [1.0, 2, 3, 4, 5, 6],
                                   "g": list("ababab")}, index=_quarters(6)),
}

PARAMS = {
    "describe": [{}],
    "groups": [{"value": "y", "by": "g"}, {"value": "x", "by": "g"}, {"value": "y", "by": "x"}],
    "correlation": [{"columns": ["x", "y"], "method": m} for m in ("pearson", "spearman",
                                                                 "kendall")],
    "ols": [{"formula": f} for f in ("y ~ x", "y ~ C(g)", "y ~ x + C(g)", "log(y) ~ x",
                                     "y ~ x:C(g) - 1", "y ~ 1", "x ~ y", "y ~ C(x)")]
    + [{"formula": "y ~ x", "predict": [{"x": 1}]}],
    "ttest": [{"value": "y", "group": "g", "a": "a", "b": "b"},
              {"value": "x", "group": "g", "a": "a", "b": "b"}],
    "mannwhitney": [{"value": "y", "group": "g", "a": "a", "b": "b"},
                    {"value": "x", "group": "g", "a": "a", "b": "b"}],
    "anova": [{"value": "y", "group": "g"}, {"value": "x", "group": "g"}],
    "chi2": [{"a": "g", "b": "x"}, {"a": "g", "b": "y"}],
    "growth": [{"columns": ["x", "y"], "periods": 1}],
    "rebase": [{"columns": ["x", "y"], "base_period": "2000"},
               {"columns": ["y"], "base_period": "2000Q2"}, {"base_period": "2000-03"}],
    "cagr": [{"columns": ["x", "y"], "start": "2000", "end": "2001"},
             {"columns": ["y"], "start": "2000Q1", "end": "2000Q3"}],
    "rolling": [{"columns": ["x", "y"], "window": 2}],
    "deflator": [{"real_sheet": "S"}],
    "price_to_income": [{"income_sheet": "S"}],
    "drawdown": [{"columns": ["x", "y"]}, {"columns": ["y"], "start": "2000"}],
    "price_index": [{"p0": "x", "q0": "y", "p1": "y", "q1": "x"},
                    {"p0": "y", "q0": "y", "p1": "x"}],
}


@pytest.mark.parametrize("frame_name", sorted(FRAMES))
def test_every_analysis_answers_or_refuses_clearly(frame_name):
    frame = FRAMES[frame_name]
    before = frame.copy()
    answered = refused = 0
    for kind, variants in PARAMS.items():
        for params in variants:
            try:
                result = ANALYSES[kind].run(lambda _name: frame, {"sheet": "S", **params})
            except QuartileError as exc:
                assert 400 <= exc.status < 500, (kind, params, exc.message)
                assert len(exc.message) > 20, (kind, params, exc.message)
                refused += 1
                continue
            body = result.to_dict()
            json.dumps(body, allow_nan=False)
            assert body["kind"] == kind and body["sheet"] == "S"
            assert all(isinstance(t, pd.DataFrame) for _, t in result.tables())
            answered += 1
    assert answered >= 1 and refused >= 1  # "describe" answers; something always refuses
    pd.testing.assert_frame_equal(frame, before)  # no analysis changes its input


@pytest.mark.parametrize("frame_name, kind, params, fragment", [
    ("infinite", "ols", {"formula": "y ~ x"}, "'y' in sheet 'S' has an infinite value at row "
                                              "2001Q2"),
    ("huge", "correlation", {"columns": ["x", "y"]}, "'x' in sheet 'S' has a value beyond"),
    ("near_constant", "correlation", {"columns": ["x", "y"]}, "'x' of sheet 'S' is nearly "
                                                              "constant"),
    ("constant", "ols", {"formula": "y ~ x"}, "Column 'x' is constant"),
    ("all_missing", "groups", {"value": "x", "by": "g"}, "'x' in sheet 'S' has no values"),
    ("nullable_int", "growth", {"columns": ["x"]}, "Sheet 'S' has no period index"),
])
def test_refusals_name_the_column(frame_name, kind, params, fragment):
    with pytest.raises(QuartileError) as info:
        ANALYSES[kind].run(lambda _name: FRAMES[frame_name], {"sheet": "S", **params})
    assert fragment in info.value.message


def test_exact_fit_is_answered_not_refused():
    """y = -x exactly: coefficients are defined, so OLS answers R² = 1, SE 0 and a note."""
    result = ANALYSES["ols"].run(lambda _name: FRAMES["exact_fit"],
                                 {"sheet": "S", "formula": "y ~ x"}).to_dict()
    assert [c["estimate"] for c in result["coefficients"]] == pytest.approx([0, -1], abs=1e-14)
    assert result["r_squared"] == 1 and result["coefficients"][1]["std_error"] == 0
    assert any("Exact fit" in note for note in result["notes"])
