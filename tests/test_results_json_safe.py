"""json_safe: every value a result holds becomes what JSON can carry, whichever path it takes."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.results import json_safe


class Text(str):
    pass


class Real(float):
    pass


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), (1.5, 1.5), (float("nan"), None), (float("inf"), None), (-math.inf, None),
    (True, True), (None, None), ("a", "a"), (Text("b"), "b"), (Real(2.0), 2.0),
    (Real("nan"), None), (np.float64("nan"), None), (np.float32(1.5), 1.5), (np.int64(3), 3),
    (np.bool_(True), True), (pd.NA, None), (pd.NaT, None), ((1, float("nan")), [1, None]),
    (np.array([1.0, np.nan]), [1.0, None]), (pd.Period("2020Q1", "Q"), "2020Q1"),
    (pd.Timestamp("2020-03-31"), "2020-03-31"),
    ({1: np.float64(2.5), "x": [np.nan, (1, 2)], Text("k"): {"deep": -np.inf}},
     {"1": 2.5, "x": [None, [1, 2]], "k": {"deep": None}}),
])
def test_values_become_json(value, expected):
    out = json_safe(value)
    assert out == expected
    if not isinstance(value, str):  # a str subclass is JSON text as it is
        assert type(out) is type(expected)  # plain Python types: no numpy scalar slips through
    json.dumps(out, allow_nan=False)  # strict JSON: raises on NaN or infinity
