"""Accuracy judged as statistical software is judged: the log relative error (LRE, the number of
correct significant digits) of every estimate, standard error, residual SD and R² against NIST
StRD certified values and against exact rational least squares (tests/nist_fixtures.py)."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from analysis.describe import describe_sheet
from analysis.ols import ols_fit
from errors import Unprocessable
from tests.nist_fixtures import exact_ols, longley, noint, read, wampler

POWERS = {1: "x", 2: "x + I(x^2)", 5: " + ".join(["x"] + [f"I(x^{p})" for p in range(2, 6)]),
          10: " + ".join(["x"] + [f"I(x**{p})" for p in range(2, 11)])}
LONGLEY = ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]
# NIST's certified values as published (estimates, standard errors, residual SD, R²)
CERTIFIED = {
    "norris": ([-0.262323073774029, 1.00211681802045],
               [0.232818234301152, 0.429796848199937e-3], 0.884796396144373,
               0.999993745883712),
    "pontius": ([0.673565789473684e-3, 0.732059160401003e-6, -0.316081871345029e-14],
                [0.107938612033077e-3, 0.157817399981659e-9, 0.486652849992036e-16],
                0.205177424076185e-3, 0.999999900178537),
    "filip": ([-1467.48961422980, -2772.17959193342, -2316.37108160893, -1127.97394098372,
               -354.478233703349, -75.1242017393757, -10.8753180355343, -1.06221498588947,
               -0.670191154593408e-1, -0.246781078275479e-2, -0.402962525080404e-4],
              [298.084530995537, 559.779865474950, 466.477572127796, 227.204274477751,
               71.6478660875927, 15.2897178747400, 2.23691159816033, 0.221624321934227,
               0.142363763154724e-1, 0.535617408889821e-3, 0.896632837373868e-5],
              0.334801051324544e-2, 0.996727416185620),
    "wampler5": ([1.0] * 6, [21523262.4678170, 23635517.3469681, 7793435.24331583,
                             1014755.07550350, 56456.6512170752, 1123.24854679312],
                 23601450.2379268, 0.224668921574940e-2),
}


def lre(value: float, certified: float) -> float:
    """Correct significant digits (absolute digits when the certified value is 0)."""
    if value == certified:
        return 15.0
    if certified == 0:
        return float(-np.log10(abs(value)))
    return float(min(15.0, -np.log10(abs(value - certified) / abs(certified))))


def dataset(name: str) -> tuple[pd.DataFrame, str, list[list[str]], bool]:
    """The frame, our formula, the regressor columns as exact decimals and the intercept."""
    if name == "longley":
        text = longley()
        formula = "TOTEMP ~ " + " + ".join(LONGLEY)
        return text.astype(float), formula, [list(text[c]) for c in LONGLEY], True
    text = {"norris": lambda: read("norris"), "pontius": lambda: read("pontius"),
            "filip": lambda: read("filip"), "noint1": lambda: noint(1),
            "noint2": lambda: noint(2)}.get(name) or (lambda: wampler(int(name[-1])))
    text = text()
    degree = {"norris": 1, "pontius": 2, "filip": 10, "noint1": 1, "noint2": 1}.get(name, 5)
    columns = [[Fraction(v) ** p for v in text["x"]] for p in range(1, degree + 1)]
    intercept = not name.startswith("noint")
    formula = f"y ~ {POWERS[degree]}" + ("" if intercept else " - 1")
    return text.astype(float), formula, columns, intercept


NAMES = ["norris", "pontius", "noint1", "noint2", "longley", "filip",
         "wampler1", "wampler2", "wampler3", "wampler4", "wampler5"]


@pytest.mark.parametrize("name", NAMES)
def test_nist_strd_every_number_has_seven_correct_digits(name):
    frame, formula, columns, intercept = dataset(name)
    response = "TOTEMP" if name == "longley" else "y"
    exact = exact_ols(columns, [str(v) for v in (longley()[response] if name == "longley"
                                                  else read_y(name))], intercept)
    result = ols_fit(frame, name, formula).to_dict()
    estimates = [c["estimate"] for c in result["coefficients"]]
    errors = [c["std_error"] for c in result["coefficients"]]
    sd = result["diagnostics"]["residual_std"]
    digits = [lre(v, c) for v, c in zip(estimates, exact["beta"], strict=True)]
    digits += [lre(v, c) for v, c in zip(errors, exact["se"], strict=True)]
    digits += [lre(sd, exact["sd"]), lre(result["r_squared"], exact["r2"])]
    assert min(digits) >= 7, (name, digits)
    if name in CERTIFIED:  # the published certificate agrees as well
        beta, se, sd_c, r2 = CERTIFIED[name]
        published = [lre(v, c) for v, c in zip(estimates + errors, beta + se, strict=True)]
        assert min(published + [lre(sd, sd_c), lre(result["r_squared"], r2)]) >= 7
    if name in ("wampler1", "wampler2"):  # exact fits are answered, not refused
        assert errors == [0.0] * 6 and sd == 0 and result["r_squared"] == 1
        assert any("Exact fit" in note for note in result["notes"])


def read_y(name: str) -> list[str]:
    if name.startswith("wampler"):
        return list(wampler(int(name[-1]))["y"])
    if name.startswith("noint"):
        return list(noint(int(name[-1]))["y"])
    return list(read(name)["y"])


def test_filip_reports_its_condition_number_and_estimated_digits():
    frame, formula, _, _ = dataset("filip")
    result = ols_fit(frame, "filip", formula).to_dict()
    assert 1e9 < result["condition_number"] < 1e11  # of the column-scaled design
    assert 7 <= result["accuracy_digits"] < 12


def test_degree_ten_polynomial_keeps_its_digits():
    rng = np.random.default_rng(3)
    x = np.arange(1.0, 41.0)
    y = np.round(1 + 0.5 * x - 0.01 * x**2 + rng.normal(size=40), 3)
    result = ols_fit(pd.DataFrame({"x": x, "y": y}), "S", f"y ~ {POWERS[10]}").to_dict()
    exact = exact_ols([[Fraction(v) ** p for v in x] for p in range(1, 11)], list(y), True)
    digits = [lre(c["estimate"], b) for c, b in zip(result["coefficients"], exact["beta"],
                                                    strict=True)]
    digits += [lre(c["std_error"], s) for c, s in zip(result["coefficients"], exact["se"],
                                                      strict=True)]
    assert min(digits) >= 7, digits


def test_degree_two_with_tiny_coefficients_keeps_its_digits():
    rng = np.random.default_rng(4)
    x = np.arange(1, 31) * 1e5
    y = np.round(2e-3 + 3e-8 * x + 4e-15 * x**2 + 1e-5 * rng.normal(size=30), 8)
    result = ols_fit(pd.DataFrame({"x": x, "y": y}), "S", "y ~ x + I(x^2)").to_dict()
    exact = exact_ols([[Fraction(v) for v in x], [Fraction(v) ** 2 for v in x]], list(y), True)
    got = [c["estimate"] for c in result["coefficients"]] + [
        c["std_error"] for c in result["coefficients"]]
    digits = [lre(v, c) for v, c in zip(got, exact["beta"] + exact["se"], strict=True)]
    assert min(digits) >= 7, digits


def test_near_collinear_design_is_refused_with_columns_and_condition_number():
    rng = np.random.default_rng(5)
    a = rng.normal(size=50)
    frame = pd.DataFrame({"a": a, "b": a + 1e-12 * rng.normal(size=50), "c": rng.normal(size=50),
                          "y": a + rng.normal(size=50)})
    with pytest.raises(Unprocessable) as info:
        ols_fit(frame, "S", "y ~ c + a + b")
    message = info.value.message
    assert "condition number" in message and "Columns involved: " in message
    involved = message.split("Columns involved: ")[1].split(".")[0].split(", ")
    assert sorted(involved) == ["a", "b"]


def test_exact_fit_is_answered_with_a_note():
    x = np.arange(10.0)
    frame = pd.DataFrame({"x": x, "z": np.sin(x), "y": 3 + 2 * x - 0.5 * np.sin(x)})
    result = ols_fit(frame, "S", "y ~ x + z").to_dict()
    assert [c["estimate"] for c in result["coefficients"]] == pytest.approx([3, 2, -0.5],
                                                                           rel=1e-13)
    assert [c["std_error"] for c in result["coefficients"]] == [0, 0, 0]
    assert result["r_squared"] == 1 and result["coefficients"][0]["t"] is None
    assert any("Exact fit" in n for n in result["notes"])


def num_acc(base: str) -> np.ndarray:
    """NIST NumAcc2-4: base.2 then 500 pairs base.1, base.3 (mean base.2, SD 0.1 exactly)."""
    return np.array([float(f"{base}.2")] + [float(f"{base}.{d}") for d in "13"] * 500)


@pytest.mark.parametrize("values, mean, sd, digits", [
    (np.array([10000001.0, 10000003.0, 10000002.0]), 10000002.0, 1.0, 15),  # NumAcc1
    (num_acc("1"), 1.2, 0.1, 14),
    (num_acc("1000000"), 1000000.2, 0.1, 9),
    (num_acc("10000000"), 10000000.2, 0.1, 8),  # the data's own rounding allows ~8.3
])
def test_describe_keeps_digits_on_nist_numacc(values, mean, sd, digits):
    column = describe_sheet(pd.DataFrame({"x": values}), "S").to_dict()["columns"][0]
    assert lre(column["mean"], mean) >= 14
    assert lre(column["std"], sd) >= digits


def test_describe_on_1e8_plus_small_increments_against_exact_rationals():
    """Mean and SD of the floats themselves, computed exactly with Fractions."""
    values = 1e8 + np.random.default_rng(7).integers(0, 1000, 2000) * 0.001
    exact = [Fraction(v) for v in values]
    mean = sum(exact) / len(exact)
    var = sum((v - mean) ** 2 for v in exact) / (len(exact) - 1)
    column = describe_sheet(pd.DataFrame({"x": values}), "S").to_dict()["columns"][0]
    assert lre(column["mean"], float(mean)) >= 15
    assert lre(column["std"], float(var) ** 0.5) >= 12


def test_degree_ten_in_years_is_refused_and_poly_answers_it():
    """x = 1990..2020: raw powers are collinear to rounding (a 422 with κ), poly(x, 10) is fine
    and its fitted values equal numpy's Polynomial.fit (scaled domain)."""
    x = np.arange(1990.0, 2021.0)
    y = np.sin(x / 3) + x / 100
    frame = pd.DataFrame({"x": x, "y": y})
    with pytest.raises(Unprocessable) as info:
        ols_fit(frame, "S", f"y ~ {POWERS[10].replace('**', '^')}")
    assert "condition number" in info.value.message and "poly(x, k)" in info.value.message
    result = ols_fit(frame, "S", "y ~ poly(x, 10)")
    reference = np.polynomial.Polynomial.fit(x, y, 10)(x)
    assert result.fit["fitted"] == pytest.approx(reference, rel=1e-9)
