"""The formula grammar: I(), products, poly (orthogonal as R / raw), lag/diff/pct by period,
log/exp/sqrt, center/scale, text columns as categories — each against numpy/pandas by hand."""

import numpy as np
import pandas as pd
import pytest

from analysis.ols import ols_fit
from errors import BadInput, Unprocessable
from tests.stats_fixtures import housing


def lstsq(columns, y):
    X = np.column_stack([np.ones(len(y)), *columns])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return beta, X @ beta


def estimates(result):
    return [c["estimate"] for c in result["coefficients"]]


def sample(n=60, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(1, 10, n)
    z = rng.uniform(1, 5, n)
    y = 2 + 0.5 * x - 0.3 * x**2 + 0.1 * x * z + rng.normal(size=n)
    return pd.DataFrame({"x": x, "z": z, "y": y})


def test_powers_and_products_inside_i():
    frame = sample()
    x, z, y = frame["x"].to_numpy(), frame["z"].to_numpy(), frame["y"].to_numpy()
    caret = ols_fit(frame, "S", "y ~ x + I(x^2) + I(x*z/10)").to_dict()
    stars = ols_fit(frame, "S", "y ~ x + I(x**2) + I(x*z/10)").to_dict()
    beta, _ = lstsq([x, x**2, x * z / 10], y)
    assert estimates(caret) == pytest.approx(beta, rel=1e-10)
    assert estimates(stars) == estimates(caret)
    assert [c["term"] for c in caret["coefficients"]] == ["Intercept", "x", "I(x^2)",
                                                          "I(x*z/10)"]


def test_star_expands_to_main_effects_and_interaction():
    frame = sample()
    result = ols_fit(frame, "S", "y ~ x*z").to_dict()
    x, z = frame["x"].to_numpy(), frame["z"].to_numpy()
    beta, _ = lstsq([x, z, x * z], frame["y"].to_numpy())
    assert [c["term"] for c in result["coefficients"]] == ["Intercept", "x", "z", "x:z"]
    assert estimates(result) == pytest.approx(beta, rel=1e-10)


def orthonormal_poly(x, k):
    """R's construction: QR of the centred powers, signs so each leading coefficient is > 0."""
    q, r = np.linalg.qr(np.vander(x - x.mean(), k + 1, increasing=True))
    q = q * np.sign(np.diag(r))
    return q[:, 1:]


def test_orthogonal_poly_matches_the_qr_construction_and_raw_fit():
    frame = sample()
    x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
    result = ols_fit(frame, "S", "y ~ poly(x, 3)").to_dict()
    basis = orthonormal_poly(x, 3)
    beta, fitted = lstsq([basis[:, j] for j in range(3)], y)
    assert [c["term"] for c in result["coefficients"]] == [
        "Intercept", "poly(x, 3)1", "poly(x, 3)2", "poly(x, 3)3"]
    assert estimates(result) == pytest.approx(beta, rel=1e-9)
    assert estimates(result)[1:] == pytest.approx(basis.T @ y, rel=1e-9)  # orthonormal: Qᵀy
    raw = ols_fit(frame, "S", "y ~ poly(x, 3, raw = TRUE)").to_dict()
    beta_raw, fitted_raw = lstsq([x, x**2, x**3], y)
    assert estimates(raw) == pytest.approx(beta_raw, rel=1e-9)
    assert raw["coefficients"][3]["term"] == "poly(x, 3, raw = TRUE)3"
    assert raw["r_squared"] == pytest.approx(result["r_squared"], rel=1e-12)
    assert fitted == pytest.approx(fitted_raw, rel=1e-9)


def test_poly_first_column_is_the_standardised_x_as_in_r():
    """R: poly(1:10, 1) = (x - 5.5) / sqrt(82.5); predictions use the stored recurrence."""
    x = np.arange(1.0, 11.0)
    frame = pd.DataFrame({"x": x, "y": 3 + 2 * x + np.sin(x)})
    result = ols_fit(frame, "S", "y ~ poly(x, 2)", predict=[{"x": 4.0}]).to_dict()
    y = frame["y"].to_numpy()
    assert result["coefficients"][1]["estimate"] == pytest.approx(
        ((x - 5.5) / np.sqrt(82.5)) @ y, rel=1e-12)
    beta, _ = lstsq([x, x**2], y)
    assert result["predictions"][0]["value"] == pytest.approx(
        beta @ [1, 4.0, 16.0], rel=1e-10)


def quarterly(gap: bool):
    index = pd.period_range("2000Q1", periods=24, freq="Q")
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=24).cumsum() + 50,
                          "y": rng.normal(size=24).cumsum() + 80}, index=index)
    return frame.drop(index[10]) if gap else frame


def test_lags_and_differences_move_by_periods_and_respect_gaps():
    frame = quarterly(gap=True)
    result = ols_fit(frame, "Q", "diff(y) ~ lag(x, 1) + diff(x, 4) + pct(x, 4)").to_dict()
    s = frame.reindex(pd.period_range(frame.index[0], frame.index[-1], freq="Q"))  # gap: NaN
    manual = pd.DataFrame({"dy": s["y"] - s["y"].shift(1), "lx": s["x"].shift(1),
                           "d4": s["x"] - s["x"].shift(4),
                           "p4": 100 * (s["x"] / s["x"].shift(4) - 1)}).dropna()
    beta, _ = lstsq([manual["lx"], manual["d4"], manual["p4"]], manual["dy"].to_numpy())
    assert result["n"] == len(manual) == 23 - 4 - 2  # 4 lost at the start, 2 after the gap
    assert estimates(result) == pytest.approx(beta, rel=1e-9)
    assert [c["term"] for c in result["coefficients"]][1:] == [
        "lag(x, 1)", "diff(x, 4)", "pct(x, 4)"]


def test_lagged_response_is_allowed_and_rows_shift_without_period_index():
    frame = quarterly(gap=False).reset_index(drop=True)
    result = ols_fit(frame, "Q", "y ~ lag(y, 2)").to_dict()
    y = frame["y"].to_numpy()
    beta, _ = lstsq([y[:-2]], y[2:])
    assert estimates(result) == pytest.approx(beta, rel=1e-9)


def test_log_exp_sqrt_center_and_scale():
    frame = sample()
    x, z, y = frame["x"].to_numpy(), frame["z"].to_numpy(), frame["y"].to_numpy()
    result = ols_fit(frame, "S", "y ~ log(x) + sqrt(z) + exp(z/5)").to_dict()
    beta, _ = lstsq([np.log(x), np.sqrt(z), np.exp(z / 5)], y)
    assert estimates(result) == pytest.approx(beta, rel=1e-9)
    centred = ols_fit(frame, "S", "y ~ center(x) + scale(z)").to_dict()
    beta, _ = lstsq([x - x.mean(), (z - z.mean()) / z.std(ddof=1)], y)
    assert estimates(centred) == pytest.approx(beta, rel=1e-9)
    assert estimates(centred)[0] == pytest.approx(y.mean(), rel=1e-12)  # centred regressors
    assert [c["term"] for c in centred["coefficients"]] == ["Intercept", "center(x)",
                                                            "scale(z)"]


def test_text_regressor_is_categorical_with_a_note():
    frame = housing()
    plain = ols_fit(frame, "H", "Price ~ Area + FurnishingStatus").to_dict()
    written = ols_fit(frame, "H", "Price ~ Area + C(FurnishingStatus)").to_dict()
    assert plain["coefficients"] == written["coefficients"]
    assert any("treated as categorical" in n for n in plain["notes"])


@pytest.mark.parametrize("formula, error, fragment", [
    ("y ~ frobnicate(x)", BadInput, "'frobnicate' is not supported"),
    ("y ~ lag(x, 30)", Unprocessable, "beyond the data"),
    ("y ~ log(x - 500)", Unprocessable, "log(x-500): values ≤ 0"),
    ("y ~ I(x/(z-z))", Unprocessable, "I(x/(z-z))"),
    ("y ~ poly(x, 2, raw = maybe)", BadInput, "TRUE or FALSE"),
    ("y ~ log(center(x))", BadInput, "must stand alone"),
    ("y ~ poly(x, 40)", BadInput, "degree k from 1 to 20"),
])
def test_bad_formula_functions(formula, error, fragment):
    frame = quarterly(gap=False).assign(z=1.0)
    with pytest.raises(error) as info:
        ols_fit(frame, "Q", formula)
    assert fragment in info.value.message


def test_predictions_reuse_the_fits_transforms():
    frame = sample()
    x, z, y = frame["x"].to_numpy(), frame["z"].to_numpy(), frame["y"].to_numpy()
    result = ols_fit(frame, "S", "y ~ center(x) + log(z) + I(x^2)",
                     predict=[{"x": 3.0, "z": 2.0}]).to_dict()
    beta, _ = lstsq([x - x.mean(), np.log(z), x**2], y)
    row = np.array([1, 3.0 - x.mean(), np.log(2.0), 9.0])
    assert result["predictions"][0]["value"] == pytest.approx(row @ beta, rel=1e-10)
    with pytest.raises(BadInput, match=r"Prediction 1: log\(z\) has values ≤ 0"):
        ols_fit(frame, "S", "y ~ log(z)", predict=[{"z": -1}])
    with pytest.raises(BadInput, match="predictions are not available for formulas with lag"):
        ols_fit(frame, "S", "y ~ lag(x, 1)", predict=[{"x": 1}])
